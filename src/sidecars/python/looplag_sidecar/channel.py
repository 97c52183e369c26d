"""The protocol channel and the cuts that split user output into windows.

The protocol has a descriptor of its own, given by the host at a high number
(LOOPLAG_PROTOCOL_FD) so that user code writing to the low numbers cannot reach it, and
every line starts with the run's nonce (LOOPLAG_NONCE), so a line that user code wrote
there anyway is recognised as such. Both are taken out of the environment at once.

File descriptors 1 and 2 stay the host's pipes: the host reads what user code prints
(from Python, from C, from pool children that inherit them), keeps a capped head and
tail per window, and counts the bytes. No reader thread here competes for the GIL, and
nothing grows in memory or on disk. At a window's end the sidecar writes a cut marker
on both, before it sends the window; the host splits the streams there.
"""
import json
import os
import sys
import threading

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

# Private descriptors go at or above this number, out of the way of user code.
_HIGH_FD = 64


def private_dup(fd):
    """A non-inheritable duplicate of `fd` at a high number (where the platform allows)."""
    if fcntl is not None:
        return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, _HIGH_FD)
    return os.dup(fd)


def take_protocol_env():
    """The protocol descriptor and the nonce from the environment, removed from it so
    that user code and pool children do not see them. Run by hand (no host): stdout."""
    fd = os.environ.pop("LOOPLAG_PROTOCOL_FD", None)
    nonce = os.environ.pop("LOOPLAG_NONCE", "")
    if fd is None or not fd.isdigit():
        return private_dup(1), nonce
    fd = int(fd)
    try:
        os.set_inheritable(fd, False)  # not passed on to programs user code starts
        os.set_blocking(fd, True)  # libuv may hand it over non-blocking: a full pipe must wait, not raise
    except (OSError, AttributeError):  # AttributeError: os.set_blocking is POSIX-only before 3.12
        pass
    return fd, nonce


class Channel:
    """Writes JSON lines, each after the run's nonce, on the protocol descriptor."""

    def __init__(self, fd, nonce):
        self._fd = fd
        self._prefix = (nonce + " ").encode("ascii")
        self._lock = threading.Lock()

    def send(self, message):
        data = self._prefix + (json.dumps(message, separators=(",", ":"), allow_nan=False) + "\n").encode("utf-8")
        with self._lock:
            view = memoryview(data)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]


EMPTY_OUTPUT = {"stdout": "", "stderr": "", "truncated": False, "stdoutBytes": 0, "stderrBytes": 0}


class OutputCuts:
    """Writes the cut markers that end each window's output on fds 1 and 2.

    Written on private duplicates of the two descriptors, taken at start: the same
    pipes, so a marker follows whatever was written before it, and it still reaches the
    host if user code closed fd 1 or pointed it elsewhere (its output then goes there).
    """

    def __init__(self, nonce):
        self._nonce = nonce
        self._fds = []
        for fd in (1, 2):
            try:
                self._fds.append(private_dup(fd))
            except OSError:  # started without it: the host then waits for the process's end
                pass
        self._next = 0
        # The cancel thread can send a cut window while the loop sends its own: each cut and
        # its message go out together, so marks reach the host in the order of the messages.
        self._lock = threading.RLock()

    def cut(self):
        """End the current output segment; returns its number, for the window message."""
        with self._lock:
            flush_std()
            n = self._next
            self._next += 1
            marker = ("\0looplag-cut:%s:%d\0" % (self._nonce, n)).encode("ascii")
            for fd in self._fds:
                try:
                    os.write(fd, marker)
                except OSError:
                    pass
            return n

    def send_window(self, channel, window):
        """Send a window message ending at a new cut (the host fills its output in up to it)."""
        with self._lock:
            window["output"] = dict(EMPTY_OUTPUT)
            channel.send({"type": "window", "window": window, "outputMark": self.cut()})


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
