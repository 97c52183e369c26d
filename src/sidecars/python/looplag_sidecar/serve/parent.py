"""N > 1 server processes on one listening socket: this process binds it and only
coordinates; each child is this harness again (serve/main.py) with the socket's
descriptor, instrumented on its own, reporting to us over a pipe as we report to the host.

Every child dies with us: the kernel's parent-death signal (orphan.py, armed by the child
against our pid), its stdin's EOF, and a kill from here whenever we end first.
"""
import json
import os
import queue
import subprocess
import sys
import threading

from ..clock import perf_counter
from ..crash import describe_exit
from ..orphan import PARENT_PID_ENV
from ..protocol import error
from .protocol import SERVE_PROTOCOL_VERSION

_ENTRY = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__)))), "run_serve.py")
# Beyond the children's own start timeout: their interpreter's start and their ready on the pipe.
START_SLACK_S = 10.0
# A stopped child sends its window at once; uvicorn's shutdown (serve/server.py) gets 5 s more.
STOP_TIMEOUT_S = 30.0


class _Child:
    def __init__(self, index, sock, nonce, events):
        self.index = index
        read_fd, write_fd = os.pipe()
        env = dict(os.environ, LOOPLAG_PROTOCOL_FD=str(write_fd), LOOPLAG_NONCE=nonce,
                   LOOPLAG_SERVE_SOCKET_FD=str(sock.fileno()), **{PARENT_PID_ENV: str(os.getpid())})
        # stdout and stderr stay the host's: what the app prints is captured as the single process's is.
        self.proc = subprocess.Popen([sys.executable, _ENTRY], stdin=subprocess.PIPE, env=env,
                                     pass_fds=(write_fd, sock.fileno()), close_fds=True)
        os.close(write_fd)
        self.prefix = (nonce + " ").encode("ascii")
        self.pid = self.proc.pid
        thread = threading.Thread(target=self._read, args=(read_fd, events), name="looplag-serve-child", daemon=True)
        thread.start()

    def _read(self, fd, events):
        with os.fdopen(fd, "rb") as lines:
            for line in lines:
                if line.startswith(self.prefix):
                    try:
                        events.put(("child", self.index, json.loads(line[len(self.prefix):])))
                    except ValueError:
                        pass
        events.put(("exit", self.index, self.proc.wait()))

    def tell(self, message):
        try:
            self.proc.stdin.write((json.dumps(message) + "\n").encode("utf-8"))
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # it died: its exit event says so

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def run_parent(plan, planned_at, channel, inbox, sock):
    events = queue.Queue()
    inbox.forward(lambda message: events.put(("host", None, message)))
    nonce = os.urandom(12).hex()
    port = sock.getsockname()[1]
    child_plan = dict(plan, processes=1, port=port)
    children = []
    try:
        for i in range(plan["processes"]):
            children.append(_Child(i, sock, nonce, events))
            children[-1].tell({"type": "start", "protocol": SERVE_PROTOCOL_VERSION, "plan": child_plan})
        return _coordinate(plan, planned_at, channel, children, events, port)
    finally:
        for child in children:
            child.kill()


def _coordinate(plan, planned_at, channel, children, events, port):
    ready, windows, done = {}, {}, set()
    stopping = False
    deadline = perf_counter() + plan["startTimeoutS"] + START_SLACK_S
    while True:
        timeout = deadline - perf_counter() if deadline is not None else None
        try:
            source, index, message = events.get(timeout=max(0.0, timeout) if timeout is not None else None)
        except queue.Empty:
            what = "start" if len(ready) < len(children) else "stop"
            channel.send({"type": "error", "error": error("timeout", "%d of %d server processes did not %s in time"
                                                          % (len(children) - (len(ready) if what == "start" else len(done)),
                                                             len(children), what))})
            return 1
        if source == "host":
            if message["type"] == "eof":
                return 1
            if message["type"] == "stop":
                stopping = True
                deadline = perf_counter() + STOP_TIMEOUT_S
            for child in children:
                child.tell(message)
            if stopping and len(ready) < len(children):  # stopped while starting: nothing was measured
                channel.send({"type": "done"})
                return 0
        elif source == "exit":
            if index not in done:
                child = children[index]
                channel.send({"type": "error", "error": error(
                    "crashed", "server process %d (pid %d) %s" % (index + 1, child.pid, describe_exit(message, None)))})
                return 1
        elif message["type"] == "error":
            channel.send(message)
            return 1
        elif message["type"] == "ready":
            ready[index] = message
            if len(ready) == len(children):
                deadline = None
                first = ready[0]
                channel.send({"type": "ready", "port": port, "pids": [c.pid for c in children],
                              "routes": first["routes"], "server": first["server"],
                              "startupMs": round((perf_counter() - planned_at) * 1000.0, 3)})
        elif message["type"] == "window":
            windows[index] = message["processes"]
            if len(windows) == len(children):
                channel.send({"type": "window", "processes": [w for i in sorted(windows) for w in windows[i]]})
        elif message["type"] == "done":
            done.add(index)
            if len(done) == len(children):
                channel.send({"type": "done"})
                return 0
