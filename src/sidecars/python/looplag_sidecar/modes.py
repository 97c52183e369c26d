"""The execution strategies. Each mode runs N concurrent calls of the target in its
own measured window, with the heartbeat and the GIL probe running throughout."""
import asyncio
import concurrent.futures
import os
import pickle
import sys
import threading
import time
import traceback

from . import target as target_mod
from .channel import flush_std
from .probes import CpuMeter, GilProbe, Heartbeat, cpu_times, perf_counter
from .protocol import error


def _exc_info(e):
    tb = "".join(traceback.format_exception(type(e), e, e.__traceback__))
    if len(tb) > 8000:
        tb = tb[:2000] + "\n...\n" + tb[-6000:]
    return {"type": type(e).__name__, "message": str(e)[:2000], "traceback": tb}


# --------------------------------------------------------------------------- calls

def _call(fn, is_async, args, kwargs):
    if is_async:
        return asyncio.run(fn(*args, **kwargs))
    return fn(*args, **kwargs)


def _thread_call(fn, is_async, args, kwargs, rec):
    """Runs in a pool thread: the record is filled in place (threads share memory)."""
    rec["worker"] = threading.current_thread().name
    cpu0 = time.thread_time()
    rec["start"] = perf_counter()
    try:
        _call(fn, is_async, args, kwargs)
    except BaseException as e:  # noqa: B036 - user code may raise SystemExit too
        rec["error"] = _exc_info(e)
    finally:
        rec["end"] = perf_counter()
        rec["cpu"] = time.thread_time() - cpu0


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


def _watch_parent(parent_pid):
    """Pool children end themselves if the sidecar dies (a SIGKILL cannot clean up)."""
    while True:
        time.sleep(0.5)
        if os.getppid() != parent_pid:
            os._exit(1)


def child_init(spec, switch_interval_s, parent_pid):
    if switch_interval_s:
        sys.setswitchinterval(switch_interval_s)
    if parent_pid is not None:
        threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    target_mod.resolve_cached(spec)


def child_warm(hold_s):
    time.sleep(hold_s)  # keeps this worker busy so the pool starts the next one
    return os.getpid()


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
        probe = GilProbe(ctx.heartbeat_s) if ctx.gil_probe else None
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
        wall_s = t_end - t0
        user, system, background = cpu.finish(wall_s, self.child_user + self.child_system, ctx.cpu_count)
        ms = lambda t: None if t is None else round((t - t0) * 1000.0, 4)  # noqa: E731
        tasks = []
        for r in self.records:
            tasks.append({"id": r["id"], "queuedMs": ms(r["queued"]), "startMs": ms(r["start"]), "endMs": ms(r["end"]),
                          "worker": r["worker"], "cpuMs": None if r["cpu"] is None else round(r["cpu"] * 1000.0, 3),
                          "error": r["error"], **({"transfer": r["transfer"]} if r.get("transfer") else {})})
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


async def run_inline(ctx, tgt, args, kwargs):
    """N calls scheduled at once on the loop, like N requests to an `async def`
    endpoint that calls the function without offloading."""
    loop = asyncio.get_running_loop()

    async def one(rec):
        rec["worker"] = "event loop"
        cpu0 = time.thread_time()
        rec["start"] = perf_counter()
        try:
            if tgt.is_async:
                await tgt.fn(*args, **kwargs)
            else:
                tgt.fn(*args, **kwargs)
        except asyncio.CancelledError:
            raise
        except BaseException as e:  # noqa: B036
            rec["error"] = _exc_info(e)
        rec["end"] = perf_counter()
        rec["cpu"] = time.thread_time() - cpu0
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


async def _window_per_count(ctx, mode, counts, workers, startup_ms, windows, measure):
    """One window per pool size of a sweep (one window when `counts` is None), each
    admitting only that many calls at a time; appended to `windows` as they end, and
    sent at once in a sweep. Stops at the first failed window or a cancel."""
    for count in (counts or [None]):
        sem = asyncio.Semaphore(min(count, ctx.concurrency)) if count else None
        ctx.begin(mode)
        window = await measure(sem)
        window["workers"] = count or workers
        window["startupMs"] = round(startup_ms, 3) if not windows else None
        windows.append(window)
        if counts:
            ctx.emit_window(window)
        if window["status"] != "ok" or ctx.cancelled.is_set():
            break


async def run_thread(ctx, tgt, args, kwargs, counts=None):
    loop = asyncio.get_running_loop()
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=_sweep_size(ctx, counts, ctx.workers),
                                                 thread_name_prefix="looplag-worker")
    workers = pool._max_workers
    t = perf_counter()
    ctx.progress("thread", "warming")
    # Start every worker thread before the window, as in a server that has been up a while.
    barrier = threading.Barrier(workers + 1)
    warm = [pool.submit(barrier.wait, 10) for _ in range(workers)]
    barrier.wait(10)
    concurrent.futures.wait(warm)
    startup_ms = (perf_counter() - t) * 1000.0

    async def measure(sem):
        async def body(w):
            futures = []
            for i in range(ctx.concurrency):
                rec = w.new_record(i)
                make = (lambda rec=rec: loop.run_in_executor(pool, _thread_call, tgt.fn, tgt.is_async, args, kwargs, rec))
                fut = asyncio.ensure_future(_gated(sem, make))
                fut.add_done_callback(lambda _f: ctx.task_done())
                futures.append(fut)
            await asyncio.gather(*futures)

        return await Window(ctx, "thread").measure(body)

    windows = []
    try:
        await _window_per_count(ctx, "thread", counts, workers, startup_ms, windows, measure)
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


async def run_pool(ctx, mode, tgt, args, kwargs, make_pool, counts=None):
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
        await _window_per_count(ctx, mode, counts, workers, startup_ms, windows,
                                lambda sem: _pool_window(ctx, mode, pool, loop, sem, args, kwargs, args_cost))
    except concurrent.futures.process.BrokenProcessPool as e:
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


async def _pool_window(ctx, mode, pool, loop, sem, args, kwargs, args_cost=(0, 0.0)):
    async def body(w):
        async def one(rec):
            try:
                meta, blob = await _gated(sem, lambda: loop.run_in_executor(pool, child_call, ctx.spec, args, kwargs))
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

        await asyncio.gather(*(one(w.new_record(i)) for i in range(ctx.concurrency)))

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
    return await run_pool(ctx, "process", tgt, args, kwargs, lambda: concurrent.futures.ProcessPoolExecutor(
        max_workers=_sweep_size(ctx, counts, ctx.workers), initializer=child_init,
        initargs=(ctx.spec, ctx.switch_interval_s, os.getpid())), counts)


async def run_interpreter(ctx, tgt, args, kwargs, counts=None):
    executor = getattr(concurrent.futures, "InterpreterPoolExecutor", None)
    if executor is None:
        return skipped("interpreter", "unsupported-mode",
                       "InterpreterPoolExecutor needs Python 3.14 or newer (this is %d.%d)" % sys.version_info[:2])
    return await run_pool(ctx, "interpreter", tgt, args, kwargs, lambda: executor(
        max_workers=_sweep_size(ctx, counts, ctx.workers), initializer=child_init,
        initargs=(ctx.spec, ctx.switch_interval_s, None)), counts)


RUNNERS = {"inline": run_inline, "thread": run_thread, "process": run_process, "interpreter": run_interpreter}
