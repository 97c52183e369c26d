"""The protocol channel and the capture of user output.

The protocol owns the process's original stdout; file descriptors 1 and 2 are
pointed at append-only temporary files, so nothing the user's code prints (from
Python, from C, or from a process-pool child that inherits the descriptors) can
corrupt a JSON line. Temporary files rather than pipes: draining a pipe would need
a reader thread, and a thread competing for the GIL would perturb the measurement.
"""
import json
import os
import sys
import tempfile
import threading


class Channel:
    """Writes JSON lines on a private duplicate of the original stdout."""

    def __init__(self):
        self._fd = os.dup(1)
        self._lock = threading.Lock()

    def send(self, message):
        data = (json.dumps(message, separators=(",", ":"), allow_nan=False) + "\n").encode("utf-8")
        with self._lock:
            view = memoryview(data)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]


class _Stream:
    def __init__(self, fd):
        self.fd = fd
        handle, self.path = tempfile.mkstemp(prefix="looplag-out-%d-" % fd)
        os.close(handle)
        self.writer = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        self.reader = open(self.path, "rb")
        self.offset = 0
        try:  # POSIX lets us unlink at once; Windows keeps the path until close().
            os.unlink(self.path)
            self.path = None
        except OSError:
            pass
        os.dup2(self.writer, fd)

    def take(self, cap):
        """Bytes written since the last take: head and tail kept when over `cap`."""
        size = os.fstat(self.writer).st_size
        total = size - self.offset
        self.reader.seek(self.offset)
        if total <= cap:
            data = self.reader.read(total)
            truncated = False
        else:
            head = self.reader.read(cap * 3 // 4)
            tail_len = cap - len(head)
            self.reader.seek(size - tail_len)
            tail = self.reader.read(tail_len)
            data = head + (b"\n... [%d bytes omitted by Loop Lag] ...\n" % (total - len(head) - len(tail))) + tail
            truncated = True
        self.offset = size
        return data.decode("utf-8", errors="replace"), truncated, total


class OutputCapture:
    """Redirects fds 1 and 2 for the life of the sidecar; `take()` per window."""

    def __init__(self, cap_bytes):
        self.cap = cap_bytes
        flush_std()
        self.streams = (_Stream(1), _Stream(2))

    def take(self):
        flush_std()
        out, out_trunc, out_bytes = self.streams[0].take(self.cap)
        err, err_trunc, err_bytes = self.streams[1].take(self.cap)
        return {"stdout": out, "stderr": err, "truncated": out_trunc or err_trunc,
                "stdoutBytes": out_bytes, "stderrBytes": err_bytes}


def flush_std():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # a user may have replaced or closed them
            pass


def start_stdin_reader(on_message, on_eof):
    """Read host messages on a daemon thread: it sleeps in read() without the GIL,
    so it costs the measurement nothing until the host speaks."""
    stdin = os.fdopen(os.dup(0), "rb", buffering=0)

    def run():
        buffer = b""
        while True:
            try:
                chunk = stdin.read(65536)
            except OSError:
                chunk = b""
            if not chunk:
                on_eof()
                return
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                if line.strip():
                    on_message(json.loads(line.decode("utf-8")))

    thread = threading.Thread(target=run, name="looplag-stdin", daemon=True)
    thread.start()
    return thread
