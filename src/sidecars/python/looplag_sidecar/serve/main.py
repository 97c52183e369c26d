"""The server harness's session: hello, the plan, then one server process here (N = 1, or a
child of a parent harness) or N children sharing one listening socket (N > 1).

A child is this same program with the parent as its host: the parent passes it the
socket's descriptor (LOOPLAG_SERVE_SOCKET_FD), a pipe as its protocol descriptor, its own
pid as the parent to die with, and the plan on stdin. The process always ends with
os._exit: worker threads stuck in user code must not keep it alive.
"""
import asyncio
import faulthandler
import os
import socket
import sys
import threading
import traceback

from .. import clock, orphan
from ..channel import Channel, private_dup, start_stdin_reader, take_protocol_env
from ..clock import perf_counter
from ..main import runtime_info
from ..protocol import error
from .app import AppError
from .protocol import SERVE_PROTOCOL_VERSION, ProtocolError, validate_host_message
from .server import Inbox, ServerProcess, bind

SOCKET_FD_ENV = "LOOPLAG_SERVE_SOCKET_FD"
# After stdin's EOF (the host is gone) the server gets this long to shut down, then the process ends.
EOF_GRACE_S = 3.0


def _hard_exit_later(code, delay_s):
    timer = threading.Timer(delay_s, os._exit, (code,))
    timer.daemon = True
    timer.start()


def main():
    # First: a host killed outright takes this process with it, even while user code holds the GIL.
    orphan.die_with_parent(orphan.parent_pid_from_env())
    clock.shield_pool_modules()
    protocol_fd, nonce = take_protocol_env()
    channel = Channel(protocol_fd, nonce)
    diag = private_dup(2)
    faulthandler.enable(file=os.fdopen(diag, "w", closefd=False), all_threads=True)
    channel.send({"type": "hello", "protocol": SERVE_PROTOCOL_VERSION, "sidecar": "python", "runtime": runtime_info()})
    socket_fd = os.environ.pop(SOCKET_FD_ENV, "")

    inbox = Inbox()
    first = threading.Event()
    state = {"start": None}

    def on_message(message):
        try:
            validate_host_message(message)
            if (message["type"] == "start") != (state["start"] is None):
                raise ProtocolError("%s %s the plan" % (message["type"], "before" if state["start"] is None else "after"))
        except ProtocolError as e:
            channel.send({"type": "error", "error": error("protocol-error", str(e))})
            os._exit(2)
        if message["type"] == "start":
            state["start"] = (message["plan"], perf_counter())
            first.set()
        else:
            inbox.put(message)

    def on_eof():
        inbox.put({"type": "eof"})
        first.set()
        _hard_exit_later(1, EOF_GRACE_S)

    start_stdin_reader(on_message, on_eof)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # the app must not read our protocol input
    first.wait()
    if state["start"] is None:
        os._exit(1)
    plan, planned_at = state["start"]
    code = 1
    try:
        code = _run(plan, planned_at, channel, inbox, socket_fd)
    except BaseException as e:  # noqa: B036 - report, never die silently
        channel.send({"type": "error", "error": error(
            "internal-error", "Loop Lag's server harness failed: %s: %s" % (type(e).__name__, e),
            detail="".join(traceback.format_exception(type(e), e, e.__traceback__)))})
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _run(plan, planned_at, channel, inbox, socket_fd):
    if plan["app"]["type"] != "asgi":
        channel.send({"type": "error", "error": error(
            "unsupported-target", "the Python server harness serves ASGI apps, not %r" % plan["app"]["type"])})
        return 2
    if socket_fd.isdigit():
        sock = socket.socket(fileno=int(socket_fd))
    else:
        try:
            sock = bind(plan["port"])
        except AppError as e:
            channel.send({"type": "error", "error": e.error})
            return 1
        if plan["processes"] > 1:
            from .parent import run_parent

            return run_parent(plan, planned_at, channel, inbox, sock)
    return asyncio.run(ServerProcess(plan, sock, channel.send, inbox, planned_at).run())
