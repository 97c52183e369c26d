"""One server process: the user's app under the user's uvicorn on a socket we bound, the
probes in its loop, and the host's (or the parent harness's) `measure` and `stop`.

uvicorn is given the listening socket (`Server.serve(sockets=[sock])`, in uvicorn since
0.13 and still its signature), so the port is ours to choose and N processes can share it.
"""
import asyncio
import os
import socket

from ..clock import perf_counter, use_private_clock
from ..protocol import error
from .app import AppError, RouteNames, import_uvicorn, list_routes, load_app
from .middleware import HarnessApp, LifespanWatch, Recorder
from .window import ProcessWindowProbe

LISTEN_BACKLOG = 2048
STARTED_POLL_S = 0.01
# How long uvicorn may take to close connections and run the lifespan shutdown after `stop`.
SHUTDOWN_TIMEOUT_S = 5.0


def bind(port):
    """The listening socket, on 127.0.0.1 only (port 0: a free one)."""
    # IPPROTO_TCP said outright: asyncio sets TCP_NODELAY on accepted connections only when the
    # socket's proto is TCP, and with proto 0 every keep-alive response waited 40 ms for the
    # client's delayed ACK (Nagle), as uvicorn's own bind (getaddrinfo's proto) does not.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
        sock.listen(LISTEN_BACKLOG)
    except OSError as e:
        sock.close()
        raise AppError(error("internal-error", "cannot listen on 127.0.0.1:%d: %s" % (port, e.strerror or e)))
    return sock


class Inbox:
    """Host messages, from the stdin thread to the loop (queued until the loop attaches)."""

    def __init__(self):
        self._loop = None
        self._queue = None
        self._pending = []
        self._sink = None
        # Called with each message on the reading thread before it is queued (the window's t0).
        self.on_arrival = None

    def put(self, item):
        if self.on_arrival is not None:
            self.on_arrival(item)
        loop = self._loop
        if self._sink is not None:
            self._sink(item)
        elif loop is None:
            self._pending.append(item)
        else:
            loop.call_soon_threadsafe(self._queue.put_nowait, item)

    def forward(self, sink):
        """No loop (the parent harness): every message, pending ones first, to `sink(item)` (thread-safe)."""
        for item in self._pending:
            sink(item)
        self._pending = []
        self._sink = sink

    def attach(self, loop):
        self._queue = asyncio.Queue()
        for item in self._pending:
            self._queue.put_nowait(item)
        self._pending = []
        self._loop = loop

    async def get(self):
        return await self._queue.get()


def _set_thread_tokens(tokens):
    try:
        from anyio import to_thread
    except ImportError:
        raise AppError(error("unsupported-mode", "the thread-limit variant sets AnyIO's default thread limiter, and "
                             "AnyIO is not installed for this interpreter"))
    to_thread.current_default_thread_limiter().total_tokens = tokens


class ServerProcess:
    """Serve `plan` on `sock`; `send` takes the messages for whoever started this process."""

    def __init__(self, plan, sock, send, inbox, planned_at):
        self.plan, self.sock, self.send, self.inbox = plan, sock, send, inbox
        self.planned_at = planned_at
        self.app_spec = plan["app"]

    async def run(self):
        loop = asyncio.get_running_loop()
        use_private_clock(loop)
        self.inbox.attach(loop)
        try:
            server, serve_task, recorder = await self._start()
        except AppError as e:
            self.send({"type": "error", "error": e.error})
            return 1
        return await self._serve(server, serve_task, recorder)

    async def _start(self):
        plan, spec = self.plan, self.app_spec
        uvicorn = import_uvicorn()
        app = load_app(spec["target"], spec["appDir"])
        routes = list_routes(app, spec["appDir"])
        recorder, watch = Recorder(), LifespanWatch()
        harness = HarnessApp(app, plan["pingPath"], RouteNames(app), recorder, watch, spec["appDir"])
        if plan["threadTokens"] is not None:
            _set_thread_tokens(plan["threadTokens"])
        config = uvicorn.Config(harness, host="127.0.0.1", port=self.sock.getsockname()[1], lifespan=spec["lifespan"],
                                log_level="warning", access_log=False, loop="asyncio", interface="asgi3")
        server = uvicorn.Server(config)
        serve_task = asyncio.ensure_future(server.serve(sockets=[self.sock]))
        deadline = perf_counter() + plan["startTimeoutS"]
        while not server.started:
            if serve_task.done():
                raise AppError(self._startup_error(serve_task, watch))
            if perf_counter() >= deadline:
                server.should_exit = True
                raise AppError(error("timeout", "the app did not start within %g s (import, lifespan startup, listen)"
                                     % plan["startTimeoutS"]))
            await asyncio.sleep(STARTED_POLL_S)
        self.send({"type": "ready", "port": self.sock.getsockname()[1], "pids": [os.getpid()], "routes": routes,
                   "server": "uvicorn %s" % getattr(uvicorn, "__version__", "?"),
                   "startupMs": round((perf_counter() - self.planned_at) * 1000.0, 3)})
        return server, serve_task, recorder

    def _startup_error(self, serve_task, watch):
        """uvicorn returned before listening: the lifespan startup failed (it logs why; we say it)."""
        if watch.failure is not None:
            message, detail = watch.failure
            file, line = watch.where
            return error("crashed", "the app's lifespan startup failed: %s" % (message.strip().splitlines() or [""])[-1],
                         detail=detail or message or None, file=file, line=line)
        exc = serve_task.exception() if not serve_task.cancelled() else None
        if exc is not None:
            return error("crashed", "uvicorn failed to start the app: %s: %s" % (type(exc).__name__, exc))
        return error("crashed", "uvicorn stopped before listening (see the server's output)")

    async def _serve(self, server, serve_task, recorder):
        probe = ProcessWindowProbe(self.plan, self.app_spec["appDir"], recorder)
        began = []  # appended once, by the reading thread or here

        def on_arrival(message):
            if message["type"] == "measure" and not began:
                began.append(True)
                probe.begin()

        self.inbox.on_arrival = on_arrival
        measuring = False
        while True:
            get = asyncio.ensure_future(self.inbox.get())
            await asyncio.wait({get, serve_task}, return_when=asyncio.FIRST_COMPLETED)
            if not get.done():
                get.cancel()
                self.send({"type": "error", "error": error("crashed", "the server stopped by itself (see its output)")})
                return 1
            message = get.result()
            if message["type"] == "measure" and not measuring:
                on_arrival(message)  # a `measure` queued before the server was ready
                probe.start()
                measuring = True
            elif message["type"] in ("stop", "eof"):
                if message["type"] == "stop" and measuring:
                    window = await probe.finish()
                    self.send({"type": "window", "processes": [window]})
                code = 0 if message["type"] == "stop" else 1
                break
        server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(serve_task), SHUTDOWN_TIMEOUT_S)
        except asyncio.TimeoutError:
            server.force_exit = True
        except Exception:  # noqa: BLE001 - a lifespan shutdown that raised: uvicorn logged it
            pass
        if message["type"] == "stop":
            self.send({"type": "done"})
        return code
