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
from . import framework
from . import modes
from . import orphan
from . import outline
from . import target as target_mod
from .calls import fmt_s
from .channel import EMPTY_OUTPUT, Channel, OutputCuts, private_dup, start_stdin_reader, take_protocol_env
from .context import Context
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


# The diagnostic costs one more call; past this (measured inline) it is skipped and the
# advice falls back on thread mode's GIL waits.
DIAGNOSTIC_MAX_CALL_S = 5.0


def _median_call_s(window):
    runs = sorted(t["endMs"] - t["startMs"] for t in window["tasks"]
                  if t["startMs"] is not None and t["endMs"] is not None)
    return runs[len(runs) // 2] / 1000.0 if runs else None


def _too_long_for_diagnostic(call_s):
    return call_s is not None and call_s > DIAGNOSTIC_MAX_CALL_S


class _Ended(Exception):
    """A step ended the session; its last message is sent."""


def _cancel_error(kind):
    return error(kind, "cancelled by the host")


class _Session:
    """One measuring session as a sequence of steps, and what the steps share: the target,
    the windows sent, the warm-up durations waiting for their mode's first window, and how
    long one call takes (which decides whether the diagnostic runs). A step that ends the
    session sends its error and raises _Ended."""

    def __init__(self, plan, channel, cuts, ctx):
        self.plan, self.channel, self.cuts, self.ctx = plan, channel, cuts, ctx
        self.tgt = None
        self.sweep = plan.get("sweepWorkers")
        self.inline_call_s = None
        # id -> window: holding each window keeps its id from being reused by a later one
        # (a set of bare ids once dropped the interpreter window as "already sent").
        self.emitted = {}
        self.warmups = {}  # mode -> warm-up durations, put on the mode's first window

    async def run(self):
        self.set_switch_interval()
        self.check_markers()
        self.load_target()
        if self.plan["baselineMs"] > 0:  # 0: the host measured it in another sidecar of the session
            await self.measure_baseline()
        self.wire_windows()
        for mode in self.plan["modes"]:
            self.stop_if_cancelled()  # e.g. a cancel during the baseline window
            await self.measure_mode(mode)
            self.stop_if_cancelled()

    def end_with(self, err):
        self.channel.send({"type": "error", "error": err})
        raise _Ended()

    def stop_if_cancelled(self):
        """Between steps: the host's cancel ends the session, with the kind it gave (timeout, call-timeout)."""
        if self.ctx.cancelled.is_set():
            self.end_with(_cancel_error(self.ctx.cancel_kind))

    def set_switch_interval(self):
        if self.plan["switchIntervalS"]:
            sys.setswitchinterval(self.plan["switchIntervalS"])

    def check_markers(self):
        spec = self.plan["target"]
        if not spec.get("qualname") or spec.get("lines"):
            return
        # Before importing anything: a route whose defaults are FastAPI markers would be
        # measured on marker objects, so every call would take the error path.
        try:
            problem = outline.markers_problem(spec["file"], spec["qualname"], spec["args"])
        except (OSError, SyntaxError, ValueError):
            problem = None  # loading the target reports these properly
        if problem:
            self.end_with(error("bad-arguments", problem, file=spec["file"]))

    def load_target(self):
        try:
            self.tgt = target_mod.resolve(self.plan["target"])
        except target_mod.TargetError as e:
            self.end_with(e.error)
        described = self.tgt.describe()
        gil = getattr(sys, "_is_gil_enabled", None)
        if gil is not None:
            # After the import: on a free-threaded build, importing a C extension that does
            # not declare free-threading support turns the GIL back on.
            described["gilEnabled"] = bool(gil())
        if self.tgt.kind == "function":
            served_by = framework.detect(self.tgt.fn, self.tgt.module)
            if served_by:
                described["framework"] = served_by
                if served_by["runsIn"] == "threadpool":
                    self.ctx.framework_threads = served_by.get("threadpoolSize")
        self.channel.send({"type": "target", "target": described})

    async def measure_baseline(self):
        self.ctx.progress("baseline", "running")
        baseline = await run_baseline(self.ctx)
        baseline["output"] = dict(EMPTY_OUTPUT)
        self.channel.send({"type": "window", "window": baseline})

    def wire_windows(self):
        """From here on the modes send their windows through emit_window and cut output."""
        self.ctx.emit_window = self.emit_window
        self.ctx.discard_output = self.cuts.cut
        self.ctx.note_warmup = self.warmups.__setitem__

    def emit_window(self, window):
        """A mode's window, once, with its warm-up's durations and notes."""
        ctx = self.ctx
        if id(window) in self.emitted:
            return
        self.emitted[id(window)] = window
        if window["mode"] in self.warmups and window.get("warmupMs") is None:
            window["warmupMs"] = self.warmups.pop(window["mode"])
        if ctx.warmup_cut and window["mode"] == ctx.warmup_cut_mode:
            window.setdefault("notes", []).append(
                "the unmeasured warm-up call did not finish within %s s (--call-timeout): the window ran without "
                "waiting for it" % fmt_s(ctx.call_timeout_s))
        self.send_window(window)

    def send_window(self, window):
        self.cuts.send_window(self.channel, window)

    def fresh_args(self):
        """Fresh argument objects, so a call that mutates them cannot skew the next window."""
        try:
            return target_mod.parse_args(self.plan["target"]["args"], self.tgt)
        except target_mod.TargetError as e:
            self.end_with(e.error)

    async def measure_mode(self, mode):
        """One mode: its warm-up, the diagnostic before thread mode, then its window (a
        window per worker count in a sweep)."""
        ctx = self.ctx
        runner = modes.RUNNERS.get(mode)
        ctx.warmup_cut, ctx.warmup_cut_mode = False, mode
        if runner is None:
            window = skipped(mode, "unsupported-mode", "mode %r does not apply to Python" % mode)
        else:
            ctx.progress(mode, "starting")
            # The argument text is evaluated once per window that runs calls (the diagnostic
            # is one), plus once for the mode's warm-up calls when warm-up is on: fresh
            # values each time, so a call that mutates them cannot skew the next window.
            pool_warm = await self.warm_up(mode, runner) if ctx.warmup else None
            args, kwargs = self.fresh_args()
            pool_args = {"warm": pool_warm} if runner.warm == "members" else {}
            if self.sweep:
                await self.measure_sweep(mode, runner, args, kwargs, pool_args)
                return
            if self.wants_diagnostic(runner):
                await self.measure_diagnostic(args, kwargs)
                args, kwargs = self.fresh_args()
            ctx.begin(mode)
            window = await runner.run(ctx, self.tgt, args, kwargs, **pool_args)
        self.emit_window(window)
        if mode == "inline":
            self.inline_call_s = _median_call_s(window)
        ctx.progress(mode, "done", ctx.concurrency)

    async def warm_up(self, mode, runner):
        """Inline and thread modes make their unmeasured call here; a pool mode gets the
        arguments its members' warm-up calls use as the pool starts (returned)."""
        ctx = self.ctx
        parsed = self.fresh_args()
        if runner.warm != "here":
            return parsed
        ctx.progress(mode, "warming")
        warm = await warm_up(ctx, mode, self.tgt, *parsed)
        ctx.note_warmup(mode, warm)
        if self.inline_call_s is None:
            # Thread mode's sidecar has no inline window: its warm-up call
            # (an upper bound, one-time costs included) sizes the diagnostic.
            self.inline_call_s = warm[0] / 1000.0
        return None

    async def measure_sweep(self, mode, runner, args, kwargs, pool_args):
        """A worker sweep: one pool per mode, a window per count, each sent as it ends."""
        ctx = self.ctx
        ctx.begin(mode)
        result = await runner.run(ctx, self.tgt, args, kwargs, self.sweep, **pool_args) if runner.sweeps else None
        if isinstance(result, dict):  # skipped before any window (e.g. no InterpreterPoolExecutor)
            self.emit_window(result)
        elif isinstance(result, list):  # a pool that failed before or between windows
            for window in result:
                self.emit_window(window)
        elif result is None:
            self.emit_window(skipped(mode, "unsupported-mode", "a worker sweep measures pool modes, not %s" % mode))
        ctx.progress(mode, "done", ctx.concurrency)

    def wants_diagnostic(self, runner):
        return (runner.diagnostic and self.plan.get("diagnostic", True) and not _too_long_for_diagnostic(self.inline_call_s)
                and not self.ctx.warmup_cut)

    async def measure_diagnostic(self, args, kwargs):
        self.ctx.progress("diagnostic", "running")
        diagnostic = await run_diagnostic(self.ctx, self.tgt, args, kwargs)
        self.send_window(diagnostic)
        self.stop_if_cancelled()


async def session(plan, channel, cuts, ctx):
    """Hello is sent and the plan read: load the target, measure the baseline and each mode."""
    try:
        await _Session(plan, channel, cuts, ctx).run()
    except _Ended:
        pass


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
                {"type": "error", "error": _cancel_error("cancelled")}), hard_exit(130)))
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
            # The cancel reached the session outside a window (a warm-up call, a pool
            # starting); the host has already recorded why it cancelled.
            channel.send({"type": "error", "error": _cancel_error("cancelled")})

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
