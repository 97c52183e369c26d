"""The execution strategies. Each mode runs N concurrent calls of the target in its
own measured window, with the heartbeat running throughout. The GIL-wait probe is a
thread that wants the GIL: it runs in the baseline and diagnostic windows, and in a
measured window only when asked (plan.gilProbeInWindow), since there it would be one
more contender inflating the lag the window reports."""
import asyncio
import concurrent.futures
import os
import pickle
import sys
import threading
import traceback

from . import orphan
from . import target as target_mod
from .channel import flush_std
from . import clock
from .clock import perf_counter, sleep, thread_time
from .probes import CpuMeter, GilProbe, Heartbeat, cpu_times
from .protocol import error


# A task error's message is shown in tables and one-line errors: cut there, and kept
# whole (up to FULL_MESSAGE_CHARS) in the record's fullMessage. Same caps in the Node sidecar.
MESSAGE_CHARS = 2000
FULL_MESSAGE_CHARS = 65536


def cut_text(text, limit):
    """`text` up to `limit` characters, with a visible mark saying how much was cut."""
    return text if len(text) <= limit else "%s… [cut: %d more characters]" % (text[:limit], len(text) - limit)


def _exc_info(e):
    tb = "".join(traceback.format_exception(type(e), e, e.__traceback__))
    if len(tb) > 8000:
        tb = tb[:2000] + "\n...\n" + tb[-6000:]
    message = str(e)
    info = {"type": type(e).__name__, "message": cut_text(message, MESSAGE_CHARS), "traceback": tb}
    if len(message) > MESSAGE_CHARS:
        info["fullMessage"] = cut_text(message, FULL_MESSAGE_CHARS)
    return info


# --------------------------------------------------------------------------- calls

def _call(fn, is_async, args, kwargs):
    if is_async:
        return asyncio.run(fn(*args, **kwargs))
    return fn(*args, **kwargs)


def _thread_call(fn, is_async, args, kwargs, rec):
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


def child_call(spec, args, kwargs):
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
    return {"start": start, "end": end, "worker": "pid %d" % os.getpid(), "user": t1[0] - t0[0],
            "system": t1[1] - t0[1], "error": err, "resultBytes": len(blob),
            "resultWriteMs": (perf_counter() - w0) * 1000.0}, blob


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
        self.records = []
        self.child_user = 0.0
        self.child_system = 0.0

    def new_record(self, i):
        rec = {"id": i, "queued": perf_counter(), "start": None, "end": None, "worker": None,
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
        status, err = "ok", None
        try:
            await body(self)
        except asyncio.CancelledError:
            kind = ctx.cancel_kind
            status, err = "failed", error(kind, "%s while measuring %s"
                                          % ("timed out" if kind == "timeout" else "cancelled", self.mode))
        except target_mod.TargetError as e:
            status, err = "failed", e.error
        except concurrent.futures.process.BrokenProcessPool as e:
            status, err = "failed", error("crashed", "a %s worker died while running the target: %s" % (self.mode, e),
                                          detail=_crash_detail(self.ctx.pool_exitcodes))
        t_end = perf_counter()
        if status == "ok":
            await heartbeat.stop()
        else:
            heartbeat.cancel()
        if probe:
            probe.stop()
            # The next window (thread mode's, after the diagnostic) must not have it running.
            probe.join(0.2)
        wall_s = t_end - t0
        user, system, background = cpu.finish(wall_s, self.child_user + self.child_system, ctx.cpu_count)
        ms = lambda t: None if t is None else round((t - t0) * 1000.0, 4)  # noqa: E731
        tasks = []
        for r in self.records:
            tasks.append({"id": r["id"], "queuedMs": ms(r["queued"]), "startMs": ms(r["start"]), "endMs": ms(r["end"]),
                          "worker": r["worker"], "cpuMs": None if r["cpu"] is None else round(r["cpu"] * 1000.0, 3),
                          "error": r["error"], **({"transfer": r["transfer"]} if r.get("transfer") else {})})
            if "round" in r:
                tasks[-1]["round"] = r["round"]
        samples = [[round((t - t0) * 1000.0, 4), round(lag * 1000.0, 4)] for t, lag in heartbeat.samples if t >= t0]
        gil = None
        if probe:
            gil = [round(w * 1000.0, 4) for t, w in list(probe.waits) if t0 <= t <= t_end]
        return {"mode": self.mode, "status": status, "error": err, "wallMs": round(wall_s * 1000.0, 4),
                "startupMs": None, "workers": None, "tasks": tasks, "samples": samples, "gilWaitsMs": gil,
                "cpu": {"userMs": round((user + self.child_user) * 1000.0, 3),
                        "systemMs": round((system + self.child_system) * 1000.0, 3)},
                "backgroundCpuFrac": None if background is None else round(background, 4),
                "output": None}


def _crash_detail(exitcodes):
    codes = [c for c in exitcodes() if c not in (None, 0)]
    if not codes:
        return None
    return "worker exit codes: %s" % ", ".join(_describe_exit(c) for c in codes)


def _describe_exit(code):
    if code < 0:
        import signal
        try:
            return "killed by %s" % signal.Signals(-code).name
        except ValueError:
            return "killed by signal %d" % -code
    return "exit code %d" % code


def skipped(mode, kind, message):
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


async def run_pool(ctx, mode, tgt, args, kwargs, make_pool, counts=None, requested=None):
    """Process or interpreter pool: created and warmed before the window (for a sweep,
    once, with a window per worker count)."""
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
    pool = make_pool()
    ctx.register_pool(pool)
    windows = []
    try:
        workers = pool._max_workers
        # Occupy every worker at once so the pool starts all of them (and each loads
        # the target) before the window opens.
        warm = [pool.submit(child_warm, 0.05) for _ in range(workers)]
        await asyncio.gather(*(asyncio.wrap_future(f) for f in warm))
        ctx.remember_workers(pool)
        startup_ms = (perf_counter() - t) * 1000.0
        if ctx.warmup:
            warmup_ms = _WARMING
            warmup_ms = await _warm_pool(pool, workers, (ctx.spec, args, kwargs))
            ctx.discard_output()  # the warm-up calls' prints are not the window's
            ctx.note_warmup(mode, warmup_ms)
        await _window_per_count(ctx, mode, counts, workers, startup_ms, windows,
                                lambda count: _pool_window(ctx, mode, pool, loop, count, args, kwargs, args_cost))
        _mark_capped(windows[0], requested, ctx.concurrency)
    except concurrent.futures.process.BrokenProcessPool as e:
        if warmup_ms is _WARMING:  # the target itself killed a worker, in its warm-up call
            window = skipped(mode, "crashed", "a %s worker died while running the target (its unmeasured warm-up "
                             "call): %s" % (mode, e))
            window["error"]["detail"] = _crash_detail(ctx.pool_exitcodes)
        else:
            window = skipped(mode, "crashed", "the %s pool broke while starting: %s" % (mode, e))
        window["status"] = "failed"
        windows.append(window)
    except target_mod.TargetError as e:
        window = skipped(mode, e.error["kind"], e.error["message"])
        window["status"] = "failed"
        windows.append(window)
    finally:
        ctx.unregister_pool(pool)
    return windows if counts else windows[0]


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


async def warm_up(ctx, mode, tgt, args, kwargs):
    """Inline and thread modes: one unmeasured call in the sidecar before the window
    (and before the diagnostic), so one-time costs (imports, caches, key generation)
    are not measured as the first call's. Inline calls it on the loop, thread mode on
    a thread of its own. Returns [duration ms], or None when warm-up is off."""
    if not ctx.warmup:
        return None
    if mode == "inline":
        start = perf_counter()
        await _call_on_loop(tgt, args, kwargs)  # an error here is the window's to report
        took = perf_counter() - start
    else:
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="looplag-warmup")
        try:
            took = await asyncio.get_running_loop().run_in_executor(pool, _timed_call, tgt.fn, tgt.is_async,
                                                                    args, kwargs)
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


async def run_process(ctx, tgt, args, kwargs, counts=None):
    size, requested = _pool_size(ctx, counts, "process")
    return await run_pool(ctx, "process", tgt, args, kwargs, lambda: concurrent.futures.ProcessPoolExecutor(
        max_workers=size, initializer=child_init,
        initargs=(ctx.spec, ctx.switch_interval_s, os.getpid())), counts, requested)


async def run_interpreter(ctx, tgt, args, kwargs, counts=None):
    executor = getattr(concurrent.futures, "InterpreterPoolExecutor", None)
    if executor is None:
        return skipped("interpreter", "unsupported-mode",
                       "InterpreterPoolExecutor needs Python 3.14 or newer (this is %d.%d)" % sys.version_info[:2])
    size, requested = _pool_size(ctx, counts, "interpreter")
    return await run_pool(ctx, "interpreter", tgt, args, kwargs, lambda: executor(
        max_workers=size, initializer=child_init,
        initargs=(ctx.spec, ctx.switch_interval_s, None)), counts, requested)


RUNNERS = {"inline": run_inline, "thread": run_thread, "process": run_process, "interpreter": run_interpreter}
