"""The ASGI wrapper around the user's app: it answers the probe route itself, records each
request of the app during the measured window, and watches the lifespan's startup.

The probe's path carries the run's nonce, so answering it ahead of the app never shadows
a user route; probe requests are not the app's and are not recorded.
"""
from ..clock import perf_counter
from .app import innermost_user_line, is_asgi3, user_traceback

MAX_SPANS_PER_ROUTE = 20_000
# Distinct route names kept per window: raw paths of unmatched requests (404s) could be endless.
MAX_ROUTES = 500
OTHER_ROUTE = "(other paths)"


class Recorder:
    """Request spans per (route, method) on the window's clock, between `open(t0)` and `close()`."""

    def __init__(self):
        self.t0 = None
        self._open = False
        self.routes = {}  # (route, method) -> [spans, dropped]

    def open(self, t0):
        self.t0, self._open, self.routes = t0, True, {}

    def close(self):
        self._open = False

    def add(self, route, method, start, end):
        if not self._open or start < self.t0:
            return
        key = (route, method)
        entry = self.routes.get(key)
        if entry is None:
            if len(self.routes) >= MAX_ROUTES:
                key = (OTHER_ROUTE, method)
                entry = self.routes.get(key)
            if entry is None:
                entry = self.routes[key] = [[], 0]
        if len(entry[0]) >= MAX_SPANS_PER_ROUTE:
            entry[1] += 1
            return
        t0 = self.t0
        entry[0].append([round((start - t0) * 1000.0, 3), round((end - t0) * 1000.0, 3)])

    def requests(self):
        return [{"route": route, "method": method, "spans": spans, "dropped": dropped}
                for (route, method), (spans, dropped) in self.routes.items()]


class LifespanWatch:
    """What the app said or raised in its lifespan startup (uvicorn logs it; the host needs it)."""

    def __init__(self):
        self.failure = None  # (message, detail)
        self.where = (None, None)  # the innermost line of the app's (workspace-relative) that raised
        self.started = False


class HarnessApp:
    """ASGI 3 callable uvicorn serves: the probe route, then the user's app (ASGI 3 or 2)."""

    def __init__(self, app, ping_path, route_names, recorder, lifespan, app_dir):
        self.app = app
        self.app_dir = app_dir
        self.asgi3 = is_asgi3(app)
        self.ping_path = ping_path
        self.route_names = route_names
        self.recorder = recorder
        self.lifespan = lifespan

    async def _call_app(self, scope, receive, send):
        if self.asgi3:
            await self.app(scope, receive, send)
        else:
            await self.app(scope)(receive, send)

    async def __call__(self, scope, receive, send):
        kind = scope["type"]
        if kind == "http" and scope["path"] == self.ping_path:
            await _answer_ping(scope, send)
            return
        if kind == "lifespan":
            await self._lifespan(scope, receive, send)
            return
        if kind != "http":
            await self._call_app(scope, receive, send)
            return
        start = perf_counter()
        raw_path = scope["path"]
        try:
            await self._call_app(scope, receive, send)
        finally:
            self.recorder.add(self.route_names.name(scope, raw_path), scope.get("method", "GET"), start, perf_counter())

    async def _lifespan(self, scope, receive, send):
        watch = self.lifespan

        async def watched_send(message):
            if message.get("type") == "lifespan.startup.failed" and watch.failure is None:
                watch.failure = (message.get("message") or "", None)
            elif message.get("type") == "lifespan.startup.complete":
                watch.started = True
            await send(message)

        try:
            await self._call_app(scope, receive, watched_send)
        except BaseException as e:  # noqa: B036 - recorded, then uvicorn handles it as ever
            if not watch.started:
                said = watch.failure[0] if watch.failure else ""
                watch.failure = ("%s: %s" % (type(e).__name__, e), user_traceback(e) or said)
                watch.where = innermost_user_line(e, self.app_dir)
            raise


async def _answer_ping(scope, send):
    ok = scope.get("method") in ("GET", "HEAD")
    body = b"ok" if ok else b"method not allowed"
    await send({"type": "http.response.start", "status": 200 if ok else 405,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body if scope.get("method") != "HEAD" else b""})
