"""Python mirror of src/shared/protocol.ts (host ⇄ sidecar messages).

Both test suites check the shared fixtures in test/fixtures/protocol against their
own copy of the schema, so the two definitions cannot drift apart silently.
The records the sidecar builds and sends (a window, its calls, an error) are also
TypedDicts here, key for key the tables' (test_protocol checks both agree): type hints
for readers and checkers, plain dicts at run time, so json.dumps sends them as they are.
"""
from typing import List, Optional, TypedDict

PROTOCOL_VERSION = 1

ERROR_KINDS = (
    "syntax-error", "import-error", "target-not-found", "unsupported-target", "bad-arguments",
    "interpreter-not-found", "not-picklable", "not-transferable", "timeout", "crashed", "cancelled", "unsupported-mode",
    "protocol-error", "internal-error",
    "call-timeout",
)
MODES = ("inline", "thread", "process", "interpreter", "worker", "free-threaded")
WINDOW_MODES = ("baseline", "diagnostic") + MODES
PHASES = ("starting", "warming", "running", "draining", "done")

NUM = (int, float)
OPT = "optional"


class ProtocolError(ValueError):
    pass


def _nullable(t):
    return ("nullable", t)


ERROR = {"kind": ERROR_KINDS, "message": str, "detail": _nullable(str),
         "file": (OPT, _nullable(str)), "line": (OPT, _nullable(int))}
# Where the loop was blocked (src/shared/protocol/attribution.ts).
FRAME_KINDS = ("user", "library", "stdlib", "runtime", "tool")
SAMPLE_THREADS = ("loop", "worker", "main", "pool-manager", "other")
ATTRIBUTION_METHODS = ("current-frames", "v8-cpu-profiler", "spans")
RAW_FRAME = {"file": _nullable(str), "line": _nullable(int), "function": str, "kind": FRAME_KINDS,
             "source": (OPT, _nullable(str)), "lineIsDefinition": (OPT, bool)}
RAW_SAMPLE = {"tMs": NUM, "dump": int, "thread": SAMPLE_THREADS, "stack": int, "cpuMs": (OPT, _nullable(NUM))}
RAW_SPAN = {"step": ("serialize-args", "deserialize-result"), "startMs": NUM, "endMs": NUM}
RAW_ATTRIBUTION = {"method": ATTRIBUTION_METHODS, "intervalMs": NUM, "frames": ["list", RAW_FRAME],
                   "stacks": ["list", ["list", int]], "samples": ["list", RAW_SAMPLE],
                   "spans": (OPT, ["list", RAW_SPAN]), "droppedSamples": (OPT, int),
                   "notes": (OPT, ["list", str]), "error": (OPT, str), "unavailable": (OPT, str)}
ATTRIBUTION_PLAN = {"enabled": bool, "intervalMs": NUM, "rearmMs": (OPT, NUM)}
TARGET_SPEC = {"file": str, "qualname": _nullable(str),
               "lines": _nullable({"start": int, "end": int}), "args": str,
               "workspaceRoot": _nullable(str)}
PLAN = {"target": TARGET_SPEC, "modes": ["list", MODES], "concurrency": int,
        "workers": _nullable(int), "switchIntervalS": _nullable(NUM), "heartbeatMs": int,
        "gilProbe": bool, "baselineMs": int, "outputCapBytes": int,
        "diagnostic": (OPT, bool), "sweepWorkers": (OPT, ["list", int]), "warmup": (OPT, bool),
        "gilProbeInWindow": (OPT, bool), "callTimeoutS": (OPT, _nullable(NUM)),
        "sweepRounds": (OPT, {"minRepeats": int, "minWindowMs": NUM, "maxWindowMs": NUM, "callsPerWorker": int}),
        "attribution": (OPT, ATTRIBUTION_PLAN)}
RUNTIME = {"name": str, "version": str, "executable": str, "implementation": str,
           "gilEnabled": bool, "cpuCount": int, "platform": str, "switchIntervalS": NUM,
           "heapLimitMb": (OPT, int)}  # Node only: V8's heap limit, MB
# Mirrors FRAMEWORKS in src/shared/frameworks.ts: the web framework serving the target.
FRAMEWORK = {"name": ("fastapi", "starlette", "express"), "route": (OPT, str),
             "runsIn": ("loop", "threadpool"), "threadpoolSize": (OPT, int)}
RESOLVED_TARGET = {"kind": ("function", "snippet"), "qualname": _nullable(str), "line": int,
                   "endLine": int, "isAsync": bool, "module": str, "gilEnabled": (OPT, bool),
                   "definedIn": (OPT, {"file": str, "line": int}),
                   "moduleFormat": (OPT, ("esm", "cjs")),
                   "framework": (OPT, FRAMEWORK)}
TRANSFER = {"argsBytes": int, "argsWriteMs": NUM, "argsReadMs": _nullable(NUM),
            "resultBytes": _nullable(int), "resultWriteMs": _nullable(NUM), "resultReadMs": _nullable(NUM),
            "argsKind": (OPT, str), "resultKind": (OPT, _nullable(str))}
TASK = {"id": int, "queuedMs": NUM, "startMs": _nullable(NUM), "endMs": _nullable(NUM),
        "worker": _nullable(str), "cpuMs": (OPT, _nullable(NUM)),
        "error": _nullable({"type": str, "message": str, "traceback": _nullable(str),
                            "fullMessage": (OPT, str)}),
        "transfer": (OPT, _nullable(TRANSFER)), "round": (OPT, _nullable(int)),
        "status": (OPT, ("ok", "raised", "unfinished", "crashed"))}
# Node only (the Node sidecar shares the TypeScript types; mirrored so the fixtures agree).
LOOP_DELAY = {"minMs": NUM, "maxMs": NUM, "meanMs": NUM, "p50Ms": NUM, "p99Ms": NUM, "count": int,
              "resolutionMs": NUM}
THREADPOOL = {"probesMs": ["list", NUM], "idleMs": _nullable(NUM)}
OUTPUT = {"stdout": str, "stderr": str, "truncated": bool, "stdoutBytes": int, "stderrBytes": int}
WINDOW = {"mode": WINDOW_MODES, "status": ("ok", "failed", "skipped"), "error": _nullable(ERROR),
          "wallMs": NUM, "t0EpochMs": (OPT, NUM), "startupMs": _nullable(NUM), "workers": _nullable(int),
          "workersRequested": (OPT, int), "tasks": ["list", TASK], "samples": ["list", ("pair",)],
          "gilWaitsMs": _nullable(["list", NUM]), "cpu": {"userMs": NUM, "systemMs": NUM},
          "backgroundCpuFrac": _nullable(NUM), "elu": (OPT, _nullable(NUM)),
          "eventLoopDelay": (OPT, _nullable(LOOP_DELAY)), "warmupMs": (OPT, _nullable(["list", NUM])),
          "threadpool": (OPT, _nullable(THREADPOOL)), "notes": (OPT, ["list", str]), "partial": (OPT, bool),
          "attribution": (OPT, _nullable(RAW_ATTRIBUTION)), "output": OUTPUT}

HOST_MESSAGES = {
    "start": {"type": str, "protocol": int, "plan": PLAN},
    "cancel": {"type": str, "reason": (OPT, ("user", "timeout", "call-timeout"))},
}
SIDECAR_MESSAGES = {
    "hello": {"type": str, "protocol": int, "sidecar": ("python", "node"), "runtime": RUNTIME},
    "target": {"type": str, "target": RESOLVED_TARGET},
    "progress": {"type": str, "mode": str, "phase": PHASES, "done": int, "total": int},
    "window": {"type": str, "window": WINDOW, "outputMark": (OPT, int)},
    "error": {"type": str, "error": ERROR},
    "done": {"type": str},
}

# The one-shot tools (`run_sidecar.py outline FILE`, `check-args -`): one message on stdout.
OUTLINE_KINDS = ("function", "staticmethod", "classmethod", "method", "nested")
OUTLINE_PARAM = {"name": str, "required": bool, "marker": (OPT, str), "keywordOnly": (OPT, bool)}
OUTLINE_FUNCTION = {"qualname": str, "kind": OUTLINE_KINDS, "line": int, "defLine": int, "endLine": int,
                    "isAsync": bool, "isGenerator": bool, "exported": (OPT, bool),
                    "params": ["list", OUTLINE_PARAM], "aliases": (OPT, ["list", str])}
REEXPORT = {"name": str, "as": str, "from": str}  # Node only, mirrored so the fixtures agree
TOOL_MESSAGES = {
    "outline": {"type": str, "functions": ["list", OUTLINE_FUNCTION], "reexports": (OPT, ["list", REEXPORT])},
    "args-check": {"type": str, "problem": _nullable(str)},
    "error": {"type": str, "error": ERROR},
}



# --------------------------------------------------------------------------- typed records
# Python 3.9 has no NotRequired: each record's optional keys are a total=False subclass.

class _RunErrorKeys(TypedDict):
    kind: str  # one of ERROR_KINDS
    message: str
    detail: Optional[str]


class RunError(_RunErrorKeys, total=False):
    """ERROR."""
    file: Optional[str]
    line: Optional[int]


class _TaskErrorKeys(TypedDict):
    type: str
    message: str
    traceback: Optional[str]


class TaskError(_TaskErrorKeys, total=False):
    """TASK["error"]: what a call raised (`message` cut, then whole in `fullMessage`)."""
    fullMessage: str


class _TransferKeys(TypedDict):
    argsBytes: int
    argsWriteMs: float
    argsReadMs: Optional[float]
    resultBytes: Optional[int]
    resultWriteMs: Optional[float]
    resultReadMs: Optional[float]


class Transfer(_TransferKeys, total=False):
    """TRANSFER: moving a process-pool call's arguments and result (ms on each side)."""
    argsKind: str  # Node only
    resultKind: Optional[str]  # Node only


class _TaskRecordKeys(TypedDict):
    id: int
    queuedMs: float  # ms since the window started, like startMs and endMs
    startMs: Optional[float]
    endMs: Optional[float]
    worker: Optional[str]
    error: Optional[TaskError]


class TaskRecord(_TaskRecordKeys, total=False):
    """TASK: one call of a window."""
    cpuMs: Optional[float]
    transfer: Optional[Transfer]
    round: Optional[int]
    status: str  # set by the host


class Cpu(TypedDict):
    userMs: float
    systemMs: float


class CapturedOutput(TypedDict):
    """OUTPUT."""
    stdout: str
    stderr: str
    truncated: bool
    stdoutBytes: int
    stderrBytes: int


class _RawAttributionKeys(TypedDict):
    method: str  # one of ATTRIBUTION_METHODS
    intervalMs: float
    frames: List[dict]  # RAW_FRAME
    stacks: List[List[int]]  # indexes into frames, innermost first
    samples: List[dict]  # RAW_SAMPLE


class RawAttribution(_RawAttributionKeys, total=False):
    """RAW_ATTRIBUTION: the stacks sampled during a window's stalls."""
    spans: List[dict]  # RAW_SPAN
    droppedSamples: int
    notes: List[str]
    error: str
    unavailable: str


class _RawWindowKeys(TypedDict):
    mode: str  # one of WINDOW_MODES
    status: str  # ok, failed, skipped
    error: Optional[RunError]
    wallMs: float
    startupMs: Optional[float]
    workers: Optional[int]
    tasks: List[TaskRecord]
    samples: List[List[float]]  # [tMs, lagMs] pairs
    gilWaitsMs: Optional[List[float]]
    cpu: Cpu
    backgroundCpuFrac: Optional[float]
    # None until the channel fills it from the captured fds (Channel.send_window).
    output: Optional[CapturedOutput]


class RawWindow(_RawWindowKeys, total=False):
    """WINDOW: what one measured window sends."""
    t0EpochMs: float
    workersRequested: int
    warmupMs: Optional[List[float]]
    notes: List[str]
    partial: bool
    elu: Optional[float]  # Node only
    eventLoopDelay: Optional[dict]  # Node only
    threadpool: Optional[dict]  # Node only
    attribution: Optional[RawAttribution]

def _check(value, spec, path):
    if isinstance(spec, tuple) and spec and spec[0] == OPT:
        return _check(value, spec[1], path)
    if isinstance(spec, tuple) and spec and spec[0] == "nullable":
        if value is None:
            return
        return _check(value, spec[1], path)
    if isinstance(spec, tuple) and spec == ("pair",):
        if not (isinstance(value, list) and len(value) == 2
                and all(isinstance(x, NUM) and not isinstance(x, bool) for x in value)):
            raise ProtocolError("%s: expected [number, number]" % path)
        return
    if isinstance(spec, tuple) and all(isinstance(s, str) for s in spec):
        if value not in spec:
            raise ProtocolError("%s: expected one of %s, got %r" % (path, spec, value))
        return
    if isinstance(spec, list):
        if not isinstance(value, list):
            raise ProtocolError("%s: expected a list" % path)
        for i, item in enumerate(value):
            _check(item, spec[1], "%s[%d]" % (path, i))
        return
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            raise ProtocolError("%s: expected an object" % path)
        for key, sub in spec.items():
            optional = isinstance(sub, tuple) and sub and sub[0] == OPT
            if key not in value:
                if optional:
                    continue
                raise ProtocolError("%s.%s: missing" % (path, key))
            _check(value[key], sub, "%s.%s" % (path, key))
        return
    if spec is bool:
        ok = isinstance(value, bool)
    elif spec is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif spec == NUM:
        ok = isinstance(value, NUM) and not isinstance(value, bool)
    else:
        ok = isinstance(value, spec)
    if not ok:
        raise ProtocolError("%s: expected %s, got %r" % (path, getattr(spec, "__name__", spec), value))


def validate(message, table):
    """Raise ProtocolError unless `message` is a valid message of `table`."""
    if not isinstance(message, dict) or message.get("type") not in table:
        raise ProtocolError("unknown message type %r" % (message.get("type") if isinstance(message, dict) else message))
    _check(message, table[message["type"]], message["type"])


def validate_sidecar_message(message):
    validate(message, SIDECAR_MESSAGES)


def validate_tool_message(message):
    validate(message, TOOL_MESSAGES)


def validate_host_message(message):
    validate(message, HOST_MESSAGES)
    if message["type"] == "start" and message["protocol"] != PROTOCOL_VERSION:
        raise ProtocolError("host speaks protocol %r, sidecar speaks %d" % (message["protocol"], PROTOCOL_VERSION))


def error(kind, message, detail=None, file=None, line=None) -> RunError:
    """An error object as the protocol defines it."""
    assert kind in ERROR_KINDS, kind
    out: RunError = {"kind": kind, "message": message, "detail": detail}
    if file is not None:
        out["file"] = file
    if line is not None:
        out["line"] = line
    return out
