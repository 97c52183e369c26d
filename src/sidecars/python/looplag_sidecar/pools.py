"""The execution strategies. Each mode runs N concurrent calls of the target in its
own measured window, with the heartbeat running throughout. The GIL-wait probe is a
thread that wants the GIL: it runs in the baseline and diagnostic windows, and in a
measured window only when asked (plan.gilProbeInWindow), since there it would be one
more contender inflating the lag the window reports."""
import asyncio
import concurrent.futures
import os
import pickle
import signal
import sys
import threading
import traceback
from typing import List, Optional, Tuple, TypedDict

from . import crash
from . import orphan
from . import target as target_mod
from .channel import flush_std
from . import clock
from .clock import perf_counter, sleep, thread_time
from .probes import CpuMeter, GilProbe, Heartbeat, cpu_times
from .protocol import RawWindow, TaskError, TaskRecord, Transfer, error


# A task error's message is shown in tables and one-line errors: cut there, and kept
# whole (up to FULL_MESSAGE_CHARS) in the record's fullMessage. Same caps in the Node sidecar.
MESSAGE_CHARS = 2000
FULL_MESSAGE_CHARS = 65536


def cut_text(text, limit):
    """`text` up to `limit` characters, with a visible mark saying how much was cut."""
    return text if len(text) <= limit else "%s… [cut: %d more characters]" % (text[:limit], len(text) - limit)


def _exc_info(e) -> TaskError:
    tb = "".join(traceback.format_exception(type(e), e, e.__traceback__))
    if len(tb) > 8000:
        tb = tb[:2000] + "\n...\n" + tb[-6000:]
    message = str(e)
    info: TaskError = {"type": type(e).__name__, "message": cut_text(message, MESSAGE_CHARS), "traceback": tb}
    if len(message) > MESSAGE_CHARS:
        info["fullMessage"] = cut_text(message, FULL_MESSAGE_CHARS)
    return info


# --------------------------------------------------------------------------- calls

class _CallRecordKeys(TypedDict):
    id: int
    queued: float  # perf_counter() seconds, like start and end
    start: Optional[float]
    end: Optional[float]
    worker: Optional[str]
    cpu: Optional[float]  # seconds of CPU the call used (its thread's, or its pool child's)
    error: Optional[TaskError]


class CallRecord(_CallRecordKeys, total=False):
    """One call while its window runs, filled in place (by the loop, a pool thread, or the
    loop from a pool child's answer); Window._build turns it into the protocol's TaskRecord."""
    transfer: Transfer
    round: int  # the sweep round it belongs to


def _call(fn, is_async, args, kwargs):
    if is_async:
        return asyncio.run(fn(*args, **kwargs))
    return fn(*args, **kwargs)


def _thread_call(fn, is_async, args, kwargs, rec: CallRecord):
    """Runs in a pool thread: the record is filled in place (threads share memory)."""
    rec["worker"] = threading.current_thread().name
    cpu0 = thread_time()
    rec["start"] = perf_counter()
    try:
        _call(fn, is_async, args, kwargs)
    except BaseException as e:  # noqa: B036 - user code may raise SystemExit too
        rec["error"] = _exc_info(e)
    finally:
        rec["end"] = perf_counter()
        rec["cpu"] = thread_time() - cpu0


class ChildCall(TypedDict):
    """A pool child's timings of one call (perf_counter and CPU seconds), sent back with the pickled result."""
    start: float
    end: float
    worker: str
    user: float
    system: float
    error: Optional[TaskError]
    resultBytes: int
    resultWriteMs: float


def child_call(spec, args, kwargs) -> Tuple[ChildCall, bytes]:
    """Runs in a pool process or interpreter: loads the target the parent's way and
    returns its timings along with the result (whose transfer is part of the cost)."""
    target = target_mod.resolve_cached(spec)
    t0 = cpu_times()
    start = perf_counter()
    err, result = None, None
    try:
        result = _call(target.fn, target.is_async, args, kwargs)
    except BaseException as e:  # noqa: B036
        err = _exc_info(e)
    end = perf_counter()
    t1 = cpu_times()
    flush_std()
    # The result is pickled here, timed, and sent as bytes the parent unpickles (timed) on
    # the loop, where the executor's thread would have, holding the GIL: which side of the
    # transfer costs is then measured, not guessed. A result that cannot be pickled raises
    # here, as it would in the executor.
    w0 = perf_counter()
    blob = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
    meta: ChildCall = {"start": start, "end": end, "worker": "pid %d" % os.getpid(), "user": t1[0] - t0[0],
                       "system": t1[1] - t0[1], "error": err, "resultBytes": len(blob),
                       "resultWriteMs": (perf_counter() - w0) * 1000.0}
    return meta, blob


def _watch_parent(started_under):
    """Pool children end themselves if their parent dies (a SIGKILL cannot clean up):
    they are reparented, so the parent pid changes. The pid they started under, not the
    sidecar's: under forkserver (Python 3.14's default) a child's parent is the server.
    Needs the GIL: without the parent-death signal (not Linux), a child stuck in a
    GIL-holding call notices only once the call ends."""
    while True:
        sleep(0.5)
        if os.getppid() != started_under:
            os._exit(1)


def child_init(spec, switch_interval_s, parent_pid):
    if switch_interval_s:
        sys.setswitchinterval(switch_interval_s)
    if parent_pid is not None:  # a process-pool child (interpreters share the sidecar's process)
        clock.shield_pool_modules()  # a spawned child imports the target below
        orphan.die_with_parent(parent_pid)
        threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    target_mod.resolve_cached(spec)


def child_warm(hold_s, call=None):
    """Pool warm-up task: keeps this worker busy for `hold_s` so the pool starts the
    next one, then, given `call` = (spec, args, kwargs), makes this process's one
    unmeasured warm-up call (once per process). Returns the pid and the call's
    duration in seconds (None when no call was made here)."""
    sleep(hold_s)
    took = None
    if call is not None:
        spec, args, kwargs = call
        target = target_mod.resolve_cached(spec)
        if not getattr(target, "warmed", False):
            target.warmed = True
            took = _timed_call(target.fn, target.is_async, args, kwargs)
            flush_std()
    return os.getpid(), took


def _timed_call(fn, is_async, args, kwargs):
    """One unmeasured call; its errors are the window's to report, not the warm-up's."""
    start = perf_counter()
    try:
        _call(fn, is_async, args, kwargs)
    except BaseException:  # noqa: B036 - user code may raise SystemExit too
        pass
    return perf_counter() - start


# --------------------------------------------------------------------------- windows

class Window:
    """Probes around one measured window; produces the protocol's RawWindow."""

    def __init__(self, ctx, mode):
        self.ctx = ctx
        self.mode = mode
        self.records: List[CallRecord] = []
        self.child_user = 0.0
        self.child_system = 0.0

    def new_record(self, i) -> CallRecord:
        rec: CallRecord = {"id": i, "queued": perf_counter(), "start": None, "end": None, "worker": None,
                           "cpu": None, "error": None}
        self.records.append(rec)
        return rec

    async def measure(self, body):
        ctx = self.ctx
        heartbeat = Heartbeat(ctx.heartbeat_s)
        probe = GilProbe(ctx.heartbeat_s) if ctx.probe_in(self.mode) else None
        cpu = CpuMeter()
        if probe:
            probe.start()
        if self.mode != "baseline":  # after any pool warm-up: the calls start now
            ctx.progress(self.mode, "running", 0)
        # Last before t0: starting the probe thread is our own cost, not the target's lag.
        heartbeat.start()
        self.t0 = t0 = perf_counter()
        self.heartbeat, self.cpu, self.probe = heartbeat, cpu, probe
        # A session cancel that the blocked loop cannot see is answered from a thread
        # with what this window measured so far (see snapshot).
        ctx.current_window = self
        ctx.last_done_at = t0
        status, err, partial = "ok", None, False
        limit = ctx.call_timeout_s if self.mode != "baseline" else None
        work = asyncio.ensure_future(body(self))
        watch = asyncio.ensure_future(self._watch_calls(limit)) if limit else None
        try:
            try:
                if watch is not None:
                    await asyncio.wait({work, watch}, return_when=asyncio.FIRST_COMPLETED)
                if watch is not None and watch.done() and not work.done():
                    # Stop waiting for the calls (a thread or pool member keeps running
                    # its call; the host ends this sidecar after the window).
                    work.cancel()
                    status, err, partial = "failed", watch.result(), True
                else:
                    await work
            finally:
                if watch is not None:
                    watch.cancel()
                if not work.done():
                    work.cancel()
        except asyncio.CancelledError:
            status, err, partial = "failed", self._cut_error(""), True
        except target_mod.TargetError as e:
            status, err = "failed", e.error
        except concurrent.futures.process.BrokenProcessPool as e:
            status, err = "failed", error("crashed", "a %s worker died while running the target: %s"
                                          % (self.mode, _worker_fate(ctx)),
                                          detail=_crash_detail(ctx.pool_exitcodes, e))
        ctx.current_window = None
        t_end = perf_counter()
        if status == "ok":
            await heartbeat.stop()
        else:
            heartbeat.cancel()
        if probe:
            probe.stop()
            # The next window (thread mode's, after the diagnostic) must not have it running.
            probe.join(0.2)
        window = self._build(t_end)
        window["status"], window["error"] = status, err
        if partial:
            window["partial"] = True
        return window

    async def _watch_calls(self, limit_s):
        """Returns the window's error once a call has run `limit_s` without finishing.
        A call's start is its own when known (inline, thread), else the later of its
        submission and the last call that finished (when a pool member came free for it)."""
        ctx = self.ctx
        first_open = 0
        poll_s = max(0.02, min(0.25, limit_s / 10.0))
        while True:
            await asyncio.sleep(poll_s)
            now = perf_counter()
            records = self.records
            while first_open < len(records) and _finished(records[first_open]):
                first_open += 1
            over = [r for r in records[first_open:] if not _finished(r)
                    and now - (r["start"] if r["start"] is not None else max(r["queued"], ctx.last_done_at)) >= limit_s]
            if over:
                open_ids = [r["id"] for r in records[first_open:] if not _finished(r)]
                return error("call-timeout", "%s in %s did not finish within %s s (--call-timeout): the window was cut "
                             "there" % (calls_phrase(open_ids, ctx.function_name), self.mode, _fmt_s(limit_s)))

    def snapshot(self):
        """The window so far, built off the loop (from the cancel thread) when the loop is
        blocked at a session cut: the samples up to the cut plus the open gap since the
        last heartbeat, which is the stall the loop is in (a lag lasting at least that long)."""
        now = perf_counter()
        window = self._build(now, open_gap_at=now)
        window["status"] = "failed"
        window["error"] = self._cut_error(" (the loop was blocked at the cut)")
        window["partial"] = True
        return window

    def _cut_error(self, how):
        """The error of a window the host cut: its timeout, a cancel, or its watchdog
        finding this sidecar silent past the call timeout (a call blocked the loop)."""
        kind = self.ctx.cancel_kind
        if kind == "call-timeout":
            open_ids = [r["id"] for r in list(self.records) if not _finished(r)]
            return error(kind, "%s in %s did not finish within %s s (--call-timeout): the window was cut there%s"
                         % (calls_phrase(open_ids, self.ctx.function_name), self.mode,
                            _fmt_s(self.ctx.call_timeout_s or 0), how))
        return error(kind, "%s while measuring %s%s" % ("timed out" if kind == "timeout" else "cancelled", self.mode, how))

    def _build(self, t_end, open_gap_at=None) -> RawWindow:
        ctx, t0 = self.ctx, self.t0
        heartbeat, probe = self.heartbeat, self.probe
        wall_s = t_end - t0
        user, system, background = self.cpu.finish(wall_s, self.child_user + self.child_system, ctx.cpu_count)
        ms = lambda t: None if t is None else round((t - t0) * 1000.0, 4)  # noqa: E731
        tasks: List[TaskRecord] = []
        for r in list(self.records):
            tasks.append({"id": r["id"], "queuedMs": ms(r["queued"]), "startMs": ms(r["start"]), "endMs": ms(r["end"]),
                          "worker": r["worker"], "cpuMs": None if r["cpu"] is None else round(r["cpu"] * 1000.0, 3),
                          "error": r["error"], **({"transfer": r["transfer"]} if r.get("transfer") else {})})
            if "round" in r:
                tasks[-1]["round"] = r["round"]
        beats = list(heartbeat.samples)
        if open_gap_at is not None and heartbeat.last_beat is not None:
            gap = open_gap_at - heartbeat.last_beat - heartbeat.interval_s
            if gap > 0:
                beats.append((open_gap_at, gap))
        samples = [[round((t - t0) * 1000.0, 4), round(lag * 1000.0, 4)] for t, lag in beats if t >= t0]
        gil = None
        if probe:
            gil = [round(w * 1000.0, 4) for t, w in list(probe.waits) if t0 <= t <= t_end]
        return {"mode": self.mode, "status": "ok", "error": None, "wallMs": round(wall_s * 1000.0, 4),
                "startupMs": None, "workers": None, "tasks": tasks, "samples": samples, "gilWaitsMs": gil,
                "cpu": {"userMs": round((user + self.child_user) * 1000.0, 3),
                        "systemMs": round((system + self.child_system) * 1000.0, 3)},
                "backgroundCpuFrac": None if background is None else round(background, 4),
                "output": None}


def _finished(rec: CallRecord):
    # A pool call whose result could not come back has an error and no end.
    return rec["end"] is not None or rec["error"] is not None


def _fmt_s(seconds):
    return ("%.3f" % seconds).rstrip("0").rstrip(".")


def calls_phrase(ids, function_name):
    """`call 3 of f` / `calls 1–10 of f` / `calls 1, 4, 7 of f` (1-based, as people count)."""
    numbers = [i + 1 for i in sorted(ids)]
    if len(numbers) == 1:
        which = "call %d" % numbers[0]
    elif numbers == list(range(numbers[0], numbers[-1] + 1)):
        which = "calls %d–%d" % (numbers[0], numbers[-1])
    else:
        which = "calls %s" % ", ".join(str(n) for n in numbers[:20]) + (", …" if len(numbers) > 20 else "")
    return "%s of %s" % (which, function_name)


def _crash_detail(exitcodes, e=None):
    codes = [c for c in exitcodes() if c not in (None, 0)]
    lines = ["worker exit codes: %s" % ", ".join(_describe_exit(c) for c in codes)] if codes else []
    if e is not None:
        lines.append("%s: %s" % (type(e).__name__, e))
    return "\n".join(lines) or None


def _worker_fate(ctx):
    """The first dead worker's fate in words ("pid 12 was killed by SIGSEGV, …"): what the
    executor's "terminated abruptly" leaves out."""
    ctx.pool_exitcodes()  # reaps the workers that just died
    dead = [p for p in ctx.workers_seen if p.exitcode not in (None, 0)]
    if not dead:
        return "a pool process ended abruptly (its exit code is unknown)"
    # Once one worker dies the executor terminates the others (SIGTERM): the one that
    # died otherwise is the cause.
    dead.sort(key=lambda p: p.exitcode == -signal.SIGTERM)
    oom = crash.oom_evidence(ctx.oom_before, crash.read_oom_kills()) if ctx.oom_before is not None else None
    return "pid %d %s" % (dead[0].pid, crash.describe_exit(dead[0].exitcode, oom))


def _moved_or_deleted(ctx, mode):
    """A pool whose members could not load a target the sidecar had loaded: the file was
    moved or deleted during the run (the executor only says its pool broke)."""
    path = ctx.spec["file"]
    if os.path.exists(path):
        return None
    window = skipped(mode, "target-not-found", "the target file %s was moved or deleted during the run: the %s "
                     "pool's workers could not load it" % (path, mode))
    window["error"]["file"] = path
    window["status"] = "failed"
    return window


def _describe_exit(code):
    if code < 0:
        try:
            return "killed by %s" % signal.Signals(-code).name
        except ValueError:
            return "killed by signal %d" % -code
    return "exit code %d" % code


def skipped(mode, kind, message) -> RawWindow:
    return {"mode": mode, "status": "skipped", "error": error(kind, message), "wallMs": 0, "startupMs": None,
            "workers": None, "tasks": [], "samples": [], "gilWaitsMs": None, "cpu": {"userMs": 0, "systemMs": 0},
            "backgroundCpuFrac": None, "output": None}


async def run_baseline(ctx):
    """An idle window: the probes' own floor on this machine."""
    async def body(w):
        await asyncio.sleep(ctx.baseline_s)
    return await Window(ctx, "baseline").measure(body)


async def _call_on_loop(tgt, args, kwargs):
    """One call on the event loop itself (awaited when async); the exception it raised
    as the report records it, or None. A cancel of the session is not the call's."""
    try:
        if tgt.is_async:
            await tgt.fn(*args, **kwargs)
        else:
            tgt.fn(*args, **kwargs)
    except asyncio.CancelledError:
        raise
    except BaseException as e:  # noqa: B036 - user code may raise SystemExit too
        return _exc_info(e)
    return None


async def run_inline(ctx, tgt, args, kwargs):
    """N calls scheduled at once on the loop, like N requests to an `async def`
    endpoint that calls the function without offloading."""
    loop = asyncio.get_running_loop()

    async def one(rec):
        rec["worker"] = "event loop"
        cpu0 = thread_time()
        rec["start"] = perf_counter()
        rec["error"] = await _call_on_loop(tgt, args, kwargs)
        rec["end"] = perf_counter()
        rec["cpu"] = thread_time() - cpu0
        ctx.task_done()

    async def body(w):
        tasks = [loop.create_task(one(w.new_record(i))) for i in range(ctx.concurrency)]
        await asyncio.gather(*tasks)

    window = await Window(ctx, "inline").measure(body)
    window["workers"] = 1
    return window


async def _gated(sem, make):
    if sem is None:
        return await make()
    async with sem:
        return await make()


def _sweep_size(ctx, counts, default):
    """One pool for the whole sweep: as many workers as the largest count can use
    (never more than the calls in flight); each window then admits only W calls at a
    time, which is what a W-worker pool does, without starting a pool per W."""
    return max(1, min(max(counts), ctx.concurrency)) if counts else default


def _executor_default(mode):
    """The pool size the executor picks for max_workers=None (as its own code does:
    thread and interpreter pools cpu+4 up to 32, process pools one per CPU, at most 61
    on Windows, where more raises ValueError)."""
    cpus = (getattr(os, "process_cpu_count", os.cpu_count)() or 1)
    if mode in ("thread", "interpreter"):
        return min(32, cpus + 4)
    return min(cpus, 61) if sys.platform == "win32" else cpus


def _pool_size(ctx, counts, mode):
    """(pool size, the --workers asked for when the pool is smaller). A pool never has
    more members than calls in flight: the extra ones would only cost start-up time
    and memory (64 processes for 2 calls). The executor's default is capped too, but
    only a W the user asked for is worth a note."""
    if counts:
        return _sweep_size(ctx, counts, None), None
    size = min(ctx.workers or _executor_default(mode), ctx.concurrency)
    return size, (ctx.workers if ctx.workers and ctx.workers > size else None)


def _mark_capped(window, requested, concurrency):
    """Say in the window that W was capped to the calls in flight."""
    if requested:
        window["workersRequested"] = requested
        window.setdefault("notes", []).append(
            "the pool started %d workers, not the %d asked for: only %d calls run at once"
            % (window["workers"] or concurrency, requested, concurrency))


async def _window_per_count(ctx, mode, counts, workers, startup_ms, windows, measure):
    """One window per pool size of a sweep (one window when `counts` is None), each
    admitting only that many calls at a time; appended to `windows` as they end, and
    sent at once in a sweep. Stops at the first failed window or a cancel."""
    for count in (counts or [None]):
        ctx.begin(mode)
        window = await measure(count)
        window["workers"] = count or workers
        window["startupMs"] = round(startup_ms, 3) if not windows else None
        windows.append(window)
        if counts:
            ctx.emit_window(window)
        if window["status"] != "ok" or ctx.cancelled.is_set():
            break


async def _admit(ctx, w, count, one):
    """The calls of one window. `one(rec)` runs a call to its end. Without a sweep's
    rounds: `concurrency` calls, at most `count` at a time (all at once when None)."""
    rounds = ctx.plan.get("sweepRounds")
    if count and rounds:
        return await _rounds(ctx, w, min(count, ctx.concurrency), rounds, one)
    sem = asyncio.Semaphore(min(count, ctx.concurrency)) if count else None
    await asyncio.gather(*(_gated(sem, lambda rec=w.new_record(i): one(rec)) for i in range(ctx.concurrency)))


# A round of a fast function would otherwise hold tens of thousands of calls (and task records).
_MAX_ROUND_CALLS = 5000


async def _rounds(ctx, w, inflight, plan, one):
    """A sweep window as repeated rounds, each one throughput measurement: a round keeps
    `inflight` calls running (a W-worker pool under steady load) until it has admitted
    callsPerWorker × W calls and run minWindowMs / minRepeats, then waits for its calls.
    Rounds repeat until the window has minRepeats of them and minWindowMs; at maxWindowMs
    no new round starts and the round running admits no more (the host's time budget)."""
    min_calls = max(inflight, plan["callsPerWorker"] * inflight)
    min_round_s = plan["minWindowMs"] / 1000.0 / max(1, plan["minRepeats"])
    max_s = plan["maxWindowMs"] / 1000.0
    t_window = perf_counter()
    n = 0
    r = 0
    while True:
        t_round = perf_counter()
        admitted = 0
        pending = set()
        while True:
            now = perf_counter()
            wanted = admitted < min_calls or now - t_round < min_round_s
            out_of_time = now - t_window >= max_s or ctx.cancelled.is_set()
            if admitted >= inflight and (not wanted or out_of_time or admitted >= _MAX_ROUND_CALLS):
                break
            if len(pending) >= inflight:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for d in done:
                    d.result()  # a broken pool ends the window
                continue
            rec = w.new_record(n)
            rec["round"] = r
            n += 1
            admitted += 1
            pending.add(asyncio.ensure_future(one(rec)))
        if pending:
            await asyncio.gather(*pending)
        r += 1
        elapsed = perf_counter() - t_window
        if ctx.cancelled.is_set() or elapsed >= max_s or (r >= plan["minRepeats"] and elapsed >= plan["minWindowMs"] / 1000.0):
            return


async def run_thread(ctx, tgt, args, kwargs, counts=None):
    loop = asyncio.get_running_loop()
    size, requested = _pool_size(ctx, counts, "thread")
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=size, thread_name_prefix="looplag-worker")
    workers = pool._max_workers
    t = perf_counter()
    ctx.progress("thread", "warming")
    # Start every worker thread before the window, as in a server that has been up a while.
    barrier = threading.Barrier(workers + 1)
    warm = [pool.submit(barrier.wait, 10) for _ in range(workers)]
    barrier.wait(10)
    concurrent.futures.wait(warm)
    startup_ms = (perf_counter() - t) * 1000.0

    async def one(rec):
        try:
            await loop.run_in_executor(pool, _thread_call, tgt.fn, tgt.is_async, args, kwargs, rec)
        finally:
            ctx.task_done()

    async def measure(count):
        return await Window(ctx, "thread").measure(lambda w: _admit(ctx, w, count, one))

    windows = []
    try:
        await _window_per_count(ctx, "thread", counts, workers, startup_ms, windows, measure)
        _mark_capped(windows[0], requested, ctx.concurrency)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return windows if counts else windows[0]


async def run_diagnostic(ctx, tgt, args, kwargs):
    """One call on a one-thread pool, before thread mode: the signature that tells GIL
    behaviours apart. Pure Python is time-sliced, so the loop still wakes every switch
    interval or so; a native call that holds the GIL stalls the loop for its whole
    length (one late wake-up); GIL-releasing work leaves the loop on time. With many
    threads these blur (ten pure-Python threads also starve the loop), one thread does not."""
    loop = asyncio.get_running_loop()
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="looplag-diagnostic")
    barrier = threading.Barrier(2)
    warm = pool.submit(barrier.wait, 10)
    barrier.wait(10)
    warm.result()

    async def body(w):
        await loop.run_in_executor(pool, _thread_call, tgt.fn, tgt.is_async, args, kwargs, w.new_record(0))

    try:
        window = await Window(ctx, "diagnostic").measure(body)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    window["workers"] = 1
    return window


async def run_pool(ctx, mode, tgt, args, kwargs, make_pool, counts=None, requested=None, warm_call=None):
    """Process or interpreter pool: created and warmed before the window (for a sweep,
    once, with a window per worker count). `warm_call`: the warm-up calls' own (args, kwargs)."""
    loop = asyncio.get_running_loop()
    try:
        # Also what sending the arguments costs per call (the executor pickles them per call).
        a0 = perf_counter()
        args_cost = (len(pickle.dumps((args, kwargs))), (perf_counter() - a0) * 1000.0)
    except Exception as e:
        window = _not_picklable(mode, "the call arguments can't be sent to another %s: %s: %s"
                                % ("process" if mode == "process" else "interpreter", type(e).__name__, e))
        return [window] if counts else window
    t = perf_counter()
    ctx.progress(mode, "warming")
    warmup_ms = None
    ctx.oom_before = crash.read_oom_kills()  # a worker's SIGKILL is then told apart from an OOM kill
    placeholders = _reserve_low_fds() if mode == "process" else []
    try:
        pool = make_pool()
    except BaseException:
        _release(placeholders)
        raise
    ctx.register_pool(pool)
    windows = []
    try:
        workers = pool._max_workers
        # Occupy every worker at once so the pool starts all of them (and each loads
        # the target) before the window opens.
        warm = [pool.submit(child_warm, 0.05) for _ in range(workers)]
        try:
            await asyncio.gather(*(asyncio.wrap_future(f) for f in warm))
        finally:
            _release(placeholders)
        ctx.remember_workers(pool)
        startup_ms = (perf_counter() - t) * 1000.0
        if ctx.warmup:
            warmup_ms = _WARMING
            warm_args, warm_kwargs = warm_call if warm_call is not None else (args, kwargs)
            try:
                # A member whose warm-up call never ends keeps it; the window's calls
                # queue for the others and are cut by the same limit.
                warmup_ms = await asyncio.wait_for(_warm_pool(pool, workers, (ctx.spec, warm_args, warm_kwargs)),
                                                   ctx.call_timeout_s + 0.1 if ctx.call_timeout_s else None)
            except asyncio.TimeoutError:
                ctx.warmup_cut = True
                warmup_ms = None
            ctx.discard_output()  # the warm-up calls' prints are not the window's
            ctx.note_warmup(mode, warmup_ms)
        await _window_per_count(ctx, mode, counts, workers, startup_ms, windows,
                                lambda count: _pool_window(ctx, mode, pool, loop, count, args, kwargs, args_cost))
        _mark_capped(windows[0], requested, ctx.concurrency)
    except concurrent.futures.process.BrokenProcessPool as e:
        if warmup_ms is _WARMING:  # the target itself killed a worker, in its warm-up call
            window = skipped(mode, "crashed", "a %s worker died while running the target (its unmeasured warm-up "
                             "call): %s" % (mode, _worker_fate(ctx)))
            window["error"]["detail"] = _crash_detail(ctx.pool_exitcodes, e)
        else:
            window = _moved_or_deleted(ctx, mode) or skipped(
                mode, "crashed", "the %s pool broke while starting: %s" % (mode, _worker_fate(ctx)))
            if window["error"]["kind"] == "crashed":
                window["error"]["detail"] = _crash_detail(ctx.pool_exitcodes, e)
        window["status"] = "failed"
        windows.append(window)
    except target_mod.TargetError as e:
        window = skipped(mode, e.error["kind"], e.error["message"])
        window["status"] = "failed"
        windows.append(window)
    finally:
        _release(placeholders)  # if submitting failed before the members started
        ctx.unregister_pool(pool)
    return windows if counts else windows[0]


# Descriptors below this are held while a process pool is built and starts its members.
_LOW_FDS_END = 64


def _reserve_low_fds():
    """Fill the free descriptors from 3 up to _LOW_FDS_END with read-only /dev/null while
    a process pool is built and starts its members: the pool's pipes (call queue, result
    queue, each member's sentinel) then get high numbers, and the members inherit the
    placeholders at the low ones. User code in a member that writes to fd 3-10 (a guessed
    or leaked number) then gets EBADF instead of writing into the result pipe, where
    garbage hangs the pool. Returns the placeholders, for _release."""
    held = []
    try:
        while True:
            fd = os.open(os.devnull, os.O_RDONLY)
            if fd >= _LOW_FDS_END:
                os.close(fd)
                break
            held.append(fd)
    except OSError:  # out of descriptors: the pool gets what is left
        pass
    return held


def _release(fds):
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass
    del fds[:]


# Marks a pool whose warm-up calls are running: a worker dying then is the target's doing.
_WARMING = object()


async def _warm_pool(pool, workers, call):
    """One unmeasured call per pool member, during pool warm-up. Each task holds its
    worker briefly before calling, so N tasks land on N workers; a worker that got
    none (another took two) gets another round. Returns each call's duration, ms."""
    warmed, took = set(), []
    for _round in range(3):
        futures = [pool.submit(child_warm, 0.05, call) for _ in range(workers - len(warmed))]
        for pid, seconds in await asyncio.gather(*(asyncio.wrap_future(f) for f in futures)):
            if seconds is not None:
                warmed.add(pid)
                took.append(round(seconds * 1000.0, 3))
        if len(warmed) >= workers:
            break
    return took


async def _within_call_timeout(ctx, awaitable):
    """Await a warm-up call up to the call timeout; past it, stop waiting (cancelled, not
    awaited: a coroutine may swallow the cancel) and mark the warm-up as cut."""
    task = asyncio.ensure_future(awaitable)
    done, _ = await asyncio.wait({task}, timeout=ctx.call_timeout_s)
    if task in done:
        task.result()
        return
    task.cancel()
    ctx.warmup_cut = True


async def warm_up(ctx, mode, tgt, args, kwargs):
    """Inline and thread modes: one unmeasured call in the sidecar before the window
    (and before the diagnostic), so one-time costs (imports, caches, key generation)
    are not measured as the first call's. Inline calls it on the loop, thread mode on
    a thread of its own. Returns [duration ms], or None when warm-up is off."""
    if not ctx.warmup:
        return None
    if mode == "inline":
        start = perf_counter()
        # An error here is the window's to report.
        await _within_call_timeout(ctx, _call_on_loop(tgt, args, kwargs))
        took = perf_counter() - start
    else:
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="looplag-warmup")
        start = perf_counter()
        try:
            await _within_call_timeout(ctx, asyncio.get_running_loop().run_in_executor(
                pool, _timed_call, tgt.fn, tgt.is_async, args, kwargs))
            took = perf_counter() - start
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
    ctx.discard_output()  # the warm-up call's prints are not the window's
    return [round(took * 1000.0, 3)]


async def _pool_window(ctx, mode, pool, loop, count, args, kwargs, args_cost=(0, 0.0)):
    async def body(w):
        async def one(rec):
            try:
                meta, blob = await loop.run_in_executor(pool, child_call, ctx.spec, args, kwargs)
            except concurrent.futures.process.BrokenProcessPool:
                raise
            except Exception as e:  # the result could not come back
                rec["error"] = _exc_info(e)
            else:
                r0 = perf_counter()
                pickle.loads(blob)
                rec.update(start=meta["start"], end=meta["end"], worker=meta["worker"], error=meta["error"],
                           cpu=meta["user"] + meta["system"],
                           transfer={"argsBytes": args_cost[0], "argsWriteMs": round(args_cost[1], 4), "argsReadMs": None,
                                     "resultBytes": meta["resultBytes"], "resultWriteMs": round(meta["resultWriteMs"], 4),
                                     "resultReadMs": round((perf_counter() - r0) * 1000.0, 4)})
                w.child_user += meta["user"]
                w.child_system += meta["system"]
            ctx.task_done()

        await _admit(ctx, w, count, one)

    window = await Window(ctx, mode).measure(body)
    pickling = [t["error"] for t in window["tasks"] if t["error"] and _is_pickling_error(t["error"])]
    if pickling and window["status"] == "ok":
        window["status"] = "failed"
        window["error"] = error("not-picklable", "the return value can't be sent back from the %s: %s"
                                % (mode, pickling[0]["message"]), detail=pickling[0]["traceback"])
    return window


def _is_pickling_error(err):
    return err["type"] in ("PicklingError", "NotShareableError") or "pickle" in err["message"].lower()


def _not_picklable(mode, message):
    window = skipped(mode, "not-picklable", message)
    window["status"] = "failed"
    return window


async def run_process(ctx, tgt, args, kwargs, counts=None, warm=None):
    size, requested = _pool_size(ctx, counts, "process")
    return await run_pool(ctx, "process", tgt, args, kwargs, lambda: concurrent.futures.ProcessPoolExecutor(
        max_workers=size, initializer=child_init,
        initargs=(ctx.spec, ctx.switch_interval_s, os.getpid())), counts, requested, warm)


async def run_interpreter(ctx, tgt, args, kwargs, counts=None, warm=None):
    executor = getattr(concurrent.futures, "InterpreterPoolExecutor", None)
    if executor is None:
        return skipped("interpreter", "unsupported-mode",
                       "InterpreterPoolExecutor needs Python 3.14 or newer (this is %d.%d)" % sys.version_info[:2])
    size, requested = _pool_size(ctx, counts, "interpreter")
    return await run_pool(ctx, "interpreter", tgt, args, kwargs, lambda: executor(
        max_workers=size, initializer=child_init,
        initargs=(ctx.spec, ctx.switch_interval_s, None)), counts, requested, warm)


# The modes whose runner warms its pool members up itself (given the warm-up's arguments).
POOL_MODES = ("process", "interpreter")

RUNNERS = {"inline": run_inline, "thread": run_thread, "process": run_process, "interpreter": run_interpreter}
