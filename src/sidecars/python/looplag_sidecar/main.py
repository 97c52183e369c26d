"""Session driver: hello, read the plan, load the target, measure each mode, done.

The process always ends with os._exit: worker threads stuck in user code must not
keep it alive (ThreadPoolExecutor joins its threads at interpreter exit).
"""
import asyncio
import faulthandler
import os
import platform
import sys
import threading
import traceback

from . import clock
from . import modes
from . import orphan
from . import outline
from . import target as target_mod
from .calls import fmt_s
from .channel import EMPTY_OUTPUT, Channel, OutputCuts, private_dup, start_stdin_reader, take_protocol_env
from .protocol import PROTOCOL_VERSION, ProtocolError, error, validate_host_message
from .threads import run_diagnostic
from .warmup import warm_up
from .window import run_baseline, skipped

CANCEL_GRACE_S = 0.5


def runtime_info():
    gil = getattr(sys, "_is_gil_enabled", None)
    return {
        "name": "python",
        "version": platform.python_version(),
        "executable": sys.executable or "",
        "implementation": platform.python_implementation(),
        "gilEnabled": bool(gil()) if gil else True,
        "cpuCount": os.cpu_count() or 1,
        "platform": sys.platform,
        "switchIntervalS": sys.getswitchinterval(),
    }


class Context:
    """What every mode needs: the plan's settings and the session's callbacks."""

    def __init__(self, plan, channel, cancelled):
        self.plan = plan
        self.spec = plan["target"]
        self.channel = channel
        self.cancelled = cancelled
        # The error kind an interrupted window reports: the host says why it cancels.
        self.cancel_kind = "cancelled"
        self.concurrency = plan["concurrency"]
        self.workers = plan["workers"] or None
        self.switch_interval_s = plan["switchIntervalS"]
        self.heartbeat_s = plan["heartbeatMs"] / 1000.0
        self.gil_probe = plan["gilProbe"]
        # In the measured windows the probe is one more thread wanting the GIL, which
        # inflates the lag they report: there it runs only when asked.
        self.gil_probe_in_window = self.gil_probe and plan.get("gilProbeInWindow", False)
        self.warmup = plan.get("warmup", True)
        # Seconds a call may run before its window is cut (None: no limit).
        self.call_timeout_s = plan.get("callTimeoutS") or None
        spec = plan["target"]
        self.function_name = spec.get("qualname") or (
            "lines %d-%d" % (spec["lines"]["start"], spec["lines"]["end"]) if spec.get("lines") else "the target")
        # The window measuring now (read by the cancel thread), and when a call last finished.
        self.current_window = None
        self.last_done_at = 0.0
        # A warm-up call that did not finish within the call timeout: the diagnostic is skipped.
        self.warmup_cut = False
        self.warmup_cut_mode = None
        self.discard_output = lambda: None  # set once output is captured
        self.note_warmup = lambda mode, warmup_ms: None  # set by the session: put on the mode's first window
        self.baseline_s = plan["baselineMs"] / 1000.0
        self.cpu_count = os.cpu_count() or 1
        self.pools = []
        self.workers_seen = []
        self.oom_before = None  # OOM-kill counters read as a pool starts (crash.read_oom_kills)
        self._mode = None
        self._done = 0
        self._last_progress = 0.0

    def probe_in(self, window_mode):
        """Whether the GIL-wait probe runs in this window: always in the baseline and
        diagnostic windows (which report GIL waits, not the lag users act on), in a
        measured window only as an opt-in."""
        if window_mode in ("baseline", "diagnostic"):
            return self.gil_probe
        return self.gil_probe_in_window

    def progress(self, mode, phase, done=0):
        self.channel.send({"type": "progress", "mode": mode, "phase": phase, "done": done,
                           "total": self.concurrency})

    def begin(self, mode):
        """A mode starts: count its calls from zero (the window says `running` when it opens)."""
        self._mode, self._done = mode, 0

    def task_done(self):
        self.last_done_at = clock.perf_counter()
        self._done += 1
        # A sweep's rounds run many more calls than `concurrency`: a message per call
        # would flood the pipe, so past that at most ten a second.
        now = clock.monotonic()
        if self._done <= self.concurrency or now - self._last_progress >= 0.1:
            self._last_progress = now
            self.progress(self._mode, "running", self._done)

    def register_pool(self, pool):
        self.pools.append(pool)

    def unregister_pool(self, pool):
        if pool in self.pools:
            self.pools.remove(pool)
        _kill_pool(pool)

    def remember_workers(self, pool):
        """Keep the pool's process handles: once a pool breaks, it forgets its workers,
        and their exit codes are what explain the crash."""
        self.workers_seen.extend(p for p in (getattr(pool, "_processes", None) or {}).values()
                                 if p not in self.workers_seen)

    def pool_exitcodes(self):
        for pool in self.pools:
            self.remember_workers(pool)
        codes = []
        for proc in self.workers_seen:
            if proc.exitcode is None:
                proc.join(0.2)  # a worker that just died may not be reaped yet
            codes.append(proc.exitcode)
        return codes

    def kill_pools(self):
        for pool in list(self.pools):
            _kill_pool(pool)


def _kill_pool(pool):
    """Shut a pool down without waiting; kill process workers (they may be mid-call)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for proc in processes:
        try:
            proc.kill()
        except Exception:
            pass
    try:
        pool.shutdown(wait=False, cancel_futures=True)
    except Exception:
        pass
    for proc in processes:
        try:
            proc.join(1)
        except Exception:
            pass


# The diagnostic costs one more call; past this (measured inline) it is skipped and the
# advice falls back on thread mode's GIL waits.
DIAGNOSTIC_MAX_CALL_S = 5.0


def _median_call_s(window):
    runs = sorted(t["endMs"] - t["startMs"] for t in window["tasks"]
                  if t["startMs"] is not None and t["endMs"] is not None)
    return runs[len(runs) // 2] / 1000.0 if runs else None


def _too_long_for_diagnostic(call_s):
    return call_s is not None and call_s > DIAGNOSTIC_MAX_CALL_S


async def session(plan, channel, cuts, ctx):
    if plan["switchIntervalS"]:
        sys.setswitchinterval(plan["switchIntervalS"])
    spec = plan["target"]
    if spec.get("qualname") and not spec.get("lines"):
        # Before importing anything: a route whose defaults are FastAPI markers would be
        # measured on marker objects, so every call would take the error path.
        try:
            problem = outline.markers_problem(spec["file"], spec["qualname"], spec["args"])
        except (OSError, SyntaxError, ValueError):
            problem = None  # loading the target reports these properly
        if problem:
            channel.send({"type": "error", "error": error("bad-arguments", problem, file=spec["file"])})
            return
    try:
        tgt = target_mod.resolve(plan["target"])
    except target_mod.TargetError as e:
        channel.send({"type": "error", "error": e.error})
        return
    described = tgt.describe()
    gil = getattr(sys, "_is_gil_enabled", None)
    if gil is not None:
        # After the import: on a free-threaded build, importing a C extension that does
        # not declare free-threading support turns the GIL back on.
        described["gilEnabled"] = bool(gil())
    channel.send({"type": "target", "target": described})

    if plan["baselineMs"] > 0:  # 0: the host measured it in another sidecar of the session
        ctx.progress("baseline", "running")
        baseline = await run_baseline(ctx)
        baseline["output"] = dict(EMPTY_OUTPUT)
        channel.send({"type": "window", "window": baseline})

    sweep = plan.get("sweepWorkers")
    inline_call_s = None

    # id -> window: holding each window keeps its id from being reused by a later one
    # (a set of bare ids once dropped the interpreter window as "already sent").
    emitted = {}

    warmups = {}  # mode -> warm-up durations, put on the mode's first window

    def emit_window(window):
        if id(window) in emitted:
            return
        emitted[id(window)] = window
        if window["mode"] in warmups and window.get("warmupMs") is None:
            window["warmupMs"] = warmups.pop(window["mode"])
        if ctx.warmup_cut and window["mode"] == ctx.warmup_cut_mode:
            window.setdefault("notes", []).append(
                "the unmeasured warm-up call did not finish within %s s (--call-timeout): the window ran without "
                "waiting for it" % fmt_s(ctx.call_timeout_s))
        send_window(window)

    def send_window(window):
        cuts.send_window(channel, window)

    ctx.emit_window = emit_window
    ctx.discard_output = cuts.cut
    ctx.note_warmup = warmups.__setitem__

    async def fresh_args():
        """Fresh argument objects, so a call that mutates them cannot skew the next window."""
        try:
            return target_mod.parse_args(plan["target"]["args"], tgt)
        except target_mod.TargetError as e:
            channel.send({"type": "error", "error": e.error})
            return None

    for mode in plan["modes"]:
        if ctx.cancelled.is_set():  # e.g. a cancel during the baseline window
            channel.send({"type": "error", "error": error(ctx.cancel_kind, "cancelled by the host")})
            return
        runner = modes.RUNNERS.get(mode)
        ctx.warmup_cut, ctx.warmup_cut_mode = False, mode
        if runner is None:
            window = skipped(mode, "unsupported-mode", "mode %r does not apply to Python" % mode)
        else:
            ctx.progress(mode, "starting")
            # The argument text is evaluated once per window that runs calls (the diagnostic
            # is one), plus once for the mode's warm-up calls when warm-up is on: fresh
            # values each time, so a call that mutates them cannot skew the next window.
            pool_warm = None
            if ctx.warmup:
                parsed = await fresh_args()
                if parsed is None:
                    return
                if mode in ("inline", "thread"):
                    ctx.progress(mode, "warming")
                    warm = await warm_up(ctx, mode, tgt, *parsed)
                    ctx.note_warmup(mode, warm)
                    if inline_call_s is None:
                        # Thread mode's sidecar has no inline window: its warm-up call
                        # (an upper bound, one-time costs included) sizes the diagnostic.
                        inline_call_s = warm[0] / 1000.0
                else:  # pool modes warm each member up as the pool starts
                    pool_warm = parsed
            parsed = await fresh_args()
            if parsed is None:
                return
            args, kwargs = parsed
            pool_args = {"warm": pool_warm} if mode in modes.POOL_MODES else {}
            if sweep:
                # A worker sweep: one pool per mode, a window per count, each sent as it ends.
                ctx.begin(mode)
                result = await runner(ctx, tgt, args, kwargs, sweep, **pool_args) if mode in ("thread", "process", "interpreter") else None
                if isinstance(result, dict):  # skipped before any window (e.g. no InterpreterPoolExecutor)
                    emit_window(result)
                elif isinstance(result, list):  # a pool that failed before or between windows
                    for window in result:
                        emit_window(window)
                elif result is None:
                    emit_window(skipped(mode, "unsupported-mode", "a worker sweep measures pool modes, not %s" % mode))
                ctx.progress(mode, "done", ctx.concurrency)
                if ctx.cancelled.is_set():
                    channel.send({"type": "error", "error": error(ctx.cancel_kind, "cancelled by the host")})
                    return
                continue
            if (mode == "thread" and plan.get("diagnostic", True) and not _too_long_for_diagnostic(inline_call_s)
                    and not ctx.warmup_cut):
                ctx.progress("diagnostic", "running")
                diagnostic = await run_diagnostic(ctx, tgt, args, kwargs)
                send_window(diagnostic)
                if ctx.cancelled.is_set():
                    channel.send({"type": "error", "error": error(ctx.cancel_kind, "cancelled by the host")})
                    return
                parsed = await fresh_args()
                if parsed is None:
                    return
                args, kwargs = parsed
            ctx.begin(mode)
            window = await runner(ctx, tgt, args, kwargs, **pool_args)
        emit_window(window)
        if mode == "inline":
            inline_call_s = _median_call_s(window)
        ctx.progress(mode, "done", ctx.concurrency)
        if ctx.cancelled.is_set():
            channel.send({"type": "error", "error": error(ctx.cancel_kind, "cancelled by the host")})
            return


def main():
    # First: from here on a host killed outright takes this process with it, even if a
    # call later holds the GIL (stdin EOF, below, needs a thread that gets the GIL).
    orphan.die_with_parent(orphan.parent_pid_from_env())
    clock.shield_pool_modules()  # before user code can patch the time module
    protocol_fd, nonce = take_protocol_env()
    channel = Channel(protocol_fd, nonce)
    cuts = OutputCuts(nonce)
    diag = private_dup(2)  # faulthandler's, out of user code's way (a traceback on a crash)
    faulthandler.enable(file=os.fdopen(diag, "w", closefd=False), all_threads=True)
    channel.send({"type": "hello", "protocol": PROTOCOL_VERSION, "sidecar": "python", "runtime": runtime_info()})

    started = threading.Event()
    cancelled = threading.Event()
    state = {"plan": None, "loop": None, "task": None, "ctx": None}

    def hard_exit(code):
        ctx = state["ctx"]
        if ctx is not None:
            ctx.kill_pools()
        os._exit(code)

    def on_message(message):
        try:
            validate_host_message(message)
        except ProtocolError as e:
            channel.send({"type": "error", "error": error("protocol-error", str(e))})
            hard_exit(2)
        if message["type"] == "start" and state["plan"] is None:
            state["plan"] = message["plan"]
            started.set()
        elif message["type"] == "cancel":
            if state["ctx"] is not None and message.get("reason") in ("timeout", "call-timeout"):
                state["ctx"].cancel_kind = message["reason"]
            cancelled.set()
            loop, task = state["loop"], state["task"]
            if loop is not None and task is not None:
                loop.call_soon_threadsafe(task.cancel)
            # If a native call holds the GIL the loop cannot react; this thread then
            # only runs when it gets the GIL, so exit hard after a short grace. A call that
            # blocks the loop but lets threads run (time.sleep, pure Python) leaves the
            # window to be sent from here: what it measured up to the cut, the stall included.
            timer = threading.Timer(CANCEL_GRACE_S, lambda: (send_cut_window(), channel.send(
                {"type": "error", "error": error("cancelled", "cancelled by the host")}), hard_exit(130)))
            timer.daemon = True
            timer.start()

    def send_cut_window():
        ctx = state["ctx"]
        window = ctx.current_window if ctx is not None else None
        if window is None:
            return
        try:
            cuts.send_window(channel, window.snapshot())
        except Exception:  # noqa: BLE001 - the exit below must happen whatever this does
            pass

    def on_eof():
        # The host is gone (or closed stdin): nobody will read a report.
        hard_exit(1 if not cancelled.is_set() else 130)

    start_stdin_reader(on_message, on_eof)
    # User code must not read our protocol input.
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    started.wait()
    plan = state["plan"]
    ctx = Context(plan, channel, cancelled)
    state["ctx"] = ctx

    async def run():
        state["loop"] = asyncio.get_running_loop()
        clock.use_private_clock(state["loop"])
        state["task"] = asyncio.current_task()
        try:
            await session(plan, channel, cuts, ctx)
        except asyncio.CancelledError:
            channel.send({"type": "error", "error": error("cancelled", "cancelled by the host")})

    code = 0
    try:
        asyncio.run(run())
        channel.send({"type": "done"})
    except BaseException as e:  # noqa: B036 - report, never die silently
        code = 1
        channel.send({"type": "error", "error": error(
            "internal-error", "Loop Lag's sidecar failed: %s: %s" % (type(e).__name__, e),
            detail="".join(traceback.format_exception(type(e), e, e.__traceback__)))})
    ctx.kill_pools()
    os._exit(code)
