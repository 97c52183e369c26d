"""Why Python attribution did not land (issue 13): faulthandler's watchdog reading the
frames of threads that are running Python crashes the interpreter. 8 long-lived threads
run recursive fib while dump_traceback_later(0.002, repeat=True) dumps: SIGSEGV (exit
139) within 400 rounds on CPython 3.9.18, 3.10.13, 3.11.7, 3.12.1, 3.13.0 and Debian's
3.11.2 (2026-11-30). No thread starts or ends during the dumps. Run: python3 faulthandler_segv.py 400
"""
import faulthandler, os, sys, threading, time
def fib(n): return n if n < 2 else fib(n - 1) + fib(n - 2)
fd = os.memfd_create("d")
go = threading.Event(); stop = threading.Event(); n = [0]
def work():
    while not stop.is_set():
        go.wait(); fib(18); n[0] += 1
ts = [threading.Thread(target=work) for _ in range(8)]
for t in ts: t.start()
for rnd in range(int(sys.argv[1])):
    # Same dumping, same work, but the threads live across every dump: none starts or ends.
    faulthandler.dump_traceback_later(0.002, repeat=True, file=fd)
    go.set(); time.sleep(0.01); go.clear()
    faulthandler.cancel_dump_traceback_later()
    os.ftruncate(fd, 0); os.lseek(fd, 0, os.SEEK_SET)
stop.set(); go.set()
for t in ts: t.join()
print("ok", n[0])
