"""Python mirror of src/shared/protocol/serve.ts (host ⇄ server-harness messages).

Checked against the shared fixtures test/fixtures/protocol/serve-*.jsonl by both test
suites, as the function protocol is (looplag_sidecar/protocol.py), with its validator.
"""
from typing import List, Optional, TypedDict

from ..protocol import ATTRIBUTION_PLAN, ERROR, NUM, OPT, RAW_ATTRIBUTION, RUNTIME, ProtocolError, _check, _nullable

SERVE_PROTOCOL_VERSION = 1

ASGI_APP = {"type": ("asgi",), "target": str, "appDir": str, "lifespan": ("auto", "on", "off")}
NODE_APP = {"type": ("node",), "script": str, "args": ["list", str]}
PLAN = {"app": ("app",), "processes": int, "threadTokens": _nullable(int), "port": int, "pingPath": str,
        "heartbeatMs": int, "attribution": ATTRIBUTION_PLAN, "startTimeoutS": NUM}
ROUTE = {"methods": ["list", str], "path": str, "handler": _nullable(str), "file": _nullable(str),
         "line": _nullable(int), "isAsync": _nullable(bool)}
REQUESTS = {"route": str, "method": str, "spans": ["list", ("pair",)], "dropped": int}
PROCESS_WINDOW = {"pid": int, "t0EpochMs": NUM, "wallMs": NUM, "samples": ["list", ("pair",)],
                  "cpu": {"userMs": NUM, "systemMs": NUM}, "requests": ["list", REQUESTS],
                  "attribution": _nullable(RAW_ATTRIBUTION), "threadTokens": (OPT, _nullable(int)),
                  "notes": (OPT, ["list", str])}

HOST_MESSAGES = {
    "start": {"type": str, "protocol": int, "plan": PLAN},
    "measure": {"type": str, "t0EpochMs": (OPT, NUM)},
    "stop": {"type": str},
}
SIDECAR_MESSAGES = {
    "hello": {"type": str, "protocol": int, "sidecar": ("python", "node"), "runtime": RUNTIME},
    "ready": {"type": str, "port": int, "pids": ["list", int], "routes": ["list", ROUTE], "server": str,
              "startupMs": NUM},
    "window": {"type": str, "processes": ["list", PROCESS_WINDOW]},
    "error": {"type": str, "error": ERROR},
    "done": {"type": str},
}


def _check_app(app, path):
    """ServeApp is tagged by `type`: each tag has its own fields."""
    tables = {"asgi": ASGI_APP, "node": NODE_APP}
    if not isinstance(app, dict) or app.get("type") not in tables:
        raise ProtocolError("%s.type: expected one of %s, got %r"
                            % (path, tuple(tables), app.get("type") if isinstance(app, dict) else app))
    _check(app, tables[app["type"]], path)


def _validate(message, table):
    if not isinstance(message, dict) or message.get("type") not in table:
        raise ProtocolError("unknown message type %r" % (message.get("type") if isinstance(message, dict) else message))
    spec = table[message["type"]]
    if message["type"] == "start":
        plan = message.get("plan")
        if not isinstance(plan, dict) or "app" not in plan:
            raise ProtocolError("start.plan.app: missing")
        _check_app(plan["app"], "start.plan.app")
        spec = dict(spec, plan={k: v for k, v in PLAN.items() if k != "app"})
    _check(message, spec, message["type"])


def validate_host_message(message):
    _validate(message, HOST_MESSAGES)
    if message["type"] == "start" and message["protocol"] != SERVE_PROTOCOL_VERSION:
        raise ProtocolError("host speaks serve protocol %r, harness speaks %d"
                            % (message["protocol"], SERVE_PROTOCOL_VERSION))


def validate_sidecar_message(message):
    _validate(message, SIDECAR_MESSAGES)


# --------------------------------------------------------------------------- typed records

class Route(TypedDict):
    """ROUTE: a route the app declares."""
    methods: List[str]
    path: str
    handler: Optional[str]
    file: Optional[str]
    line: Optional[int]
    isAsync: Optional[bool]


class RouteRequests(TypedDict):
    """REQUESTS: one route's requests in the window."""
    route: str
    method: str
    spans: List[List[float]]
    dropped: int


class _ProcessWindowKeys(TypedDict):
    pid: int
    t0EpochMs: float
    wallMs: float
    samples: List[List[float]]
    cpu: dict
    requests: List[RouteRequests]
    attribution: Optional[dict]  # RAW_ATTRIBUTION


class ProcessWindow(_ProcessWindowKeys, total=False):
    """PROCESS_WINDOW: one server process's loop over the measured window."""
    threadTokens: Optional[int]
    notes: List[str]
