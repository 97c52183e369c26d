"""Driving the server harness (run_serve.py) as the host does: the protocol on a high
descriptor with a nonce, host messages on stdin, real HTTP requests with http.client."""
import http.client
import json
import os
import select
import subprocess
import sys
import time

from support import FIXTURES, SIDECAR
from looplag_sidecar.serve import protocol

SERVE_PYTHON = os.environ.get("LOOPLAG_SERVE_PYTHON", "/usr/bin/python3")
APP_DIR = os.path.join(FIXTURES, "serve", "python")
PING = "/__looplag/ping-n0nce"
NONCE = "n0nce"
PROTOCOL_FD = 63


def uvicorn_missing():
    """Why the serve tests cannot run here, or None (they need uvicorn and FastAPI in SERVE_PYTHON)."""
    try:
        out = subprocess.run([SERVE_PYTHON, "-c", "import uvicorn, fastapi"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return "%s cannot run: %s" % (SERVE_PYTHON, e)
    if out.returncode:
        return "%s has no uvicorn/fastapi (apt install python3-uvicorn python3-fastapi): %s" % (
            SERVE_PYTHON, out.stderr.decode(errors="replace").strip().splitlines()[-1:])
    return None


def plan(target="app:app", processes=1, thread_tokens=None, lifespan="auto", attribution=True, start_timeout_s=20.0):
    return {"app": {"type": "asgi", "target": target, "appDir": APP_DIR, "lifespan": lifespan},
            "processes": processes, "threadTokens": thread_tokens, "port": 0, "pingPath": PING, "heartbeatMs": 1,
            "attribution": {"enabled": attribution, "intervalMs": 10}, "startTimeoutS": start_timeout_s}


class Harness:
    """One harness process: `send` host messages, `next()` its messages, `get` HTTP."""

    def __init__(self, serve_plan, python=SERVE_PYTHON, env=None):
        r, w = os.pipe()
        os.dup2(w, PROTOCOL_FD)
        os.close(w)
        self.proc = subprocess.Popen(
            [python, os.path.join(SIDECAR, "run_serve.py")], pass_fds=(PROTOCOL_FD,), cwd=APP_DIR,
            env=dict(env or os.environ, LOOPLAG_PROTOCOL_FD=str(PROTOCOL_FD), LOOPLAG_NONCE=NONCE,
                     LOOPLAG_PARENT_PID=str(os.getpid())),
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        os.close(PROTOCOL_FD)
        self.reader = os.fdopen(r, "rb")
        self.messages = []
        self.port = None
        self.send({"type": "start", "protocol": 1, "plan": serve_plan})

    def send(self, message):
        self.proc.stdin.write((json.dumps(message) + "\n").encode())
        self.proc.stdin.flush()

    def next(self, timeout_s=30.0):
        ready, _, _ = select.select([self.reader], [], [], timeout_s)
        if not ready:
            raise AssertionError("no message within %s s; so far: %r" % (timeout_s, [m["type"] for m in self.messages]))
        line = self.reader.readline()
        if not line:
            raise AssertionError("the harness closed its protocol; stderr: %s" % self.stderr())
        assert line.startswith(NONCE.encode() + b" "), line[:100]
        message = json.loads(line[len(NONCE) + 1:])
        protocol.validate_sidecar_message(message)  # whatever the harness sends speaks the protocol
        self.messages.append(message)
        return message

    def until(self, kind, timeout_s=30.0):
        while True:
            m = self.next(timeout_s)
            if m["type"] == kind:
                return m
            if m["type"] == "error":
                raise AssertionError("harness error: %r" % (m["error"],))

    def error(self, timeout_s=30.0):
        """The next error message's error, whatever comes before it."""
        while True:
            m = self.next(timeout_s)
            if m["type"] == "error":
                return m["error"]

    def ready(self):
        self.until("hello")
        ready = self.until("ready")
        self.port = ready["port"]
        return ready

    def get(self, path, timeout_s=30.0):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout_s)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def stderr(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        return self.proc.stderr.read().decode(errors="replace")[-3000:]

    def close(self):
        for f in (self.proc.stdin,):
            try:
                f.close()
            except OSError:
                pass
        if self.proc.poll() is None:
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.reader.close()
        self.proc.stderr.close()


def pid_alive(pid):
    """True while `pid` runs (a zombie, already dead, counts as gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def wait_gone(pids, timeout_s=10.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        alive = [p for p in pids if pid_alive(p)]
        if not alive:
            return []
        time.sleep(0.05)
    return [p for p in pids if pid_alive(p)]
