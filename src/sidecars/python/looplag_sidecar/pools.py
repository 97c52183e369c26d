"""Process and interpreter modes: a pool created and warmed before the window, each
call's result sent back pickled (its transfer timed), and a broken pool explained."""
import asyncio
import concurrent.futures
import os
import pickle
import sys

from . import crash
from . import target as target_mod
from .admission import admit, mark_capped, pool_size, window_per_count
from .calls import exc_info
from .clock import perf_counter
from .poolchild import child_call, child_init, child_warm
from .poolfate import crash_detail, worker_fate
from .protocol import error
from .window import Window, skipped


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
        await window_per_count(ctx, mode, counts, workers, startup_ms, windows,
                                lambda count: _pool_window(ctx, mode, pool, loop, count, args, kwargs, args_cost))
        mark_capped(windows[0], requested, ctx.concurrency)
    except concurrent.futures.process.BrokenProcessPool as e:
        if warmup_ms is _WARMING:  # the target itself killed a worker, in its warm-up call
            window = skipped(mode, "crashed", "a %s worker died while running the target (its unmeasured warm-up "
                             "call): %s" % (mode, worker_fate(ctx)))
            window["error"]["detail"] = crash_detail(ctx.pool_exitcodes, e)
        else:
            window = _moved_or_deleted(ctx, mode) or skipped(
                mode, "crashed", "the %s pool broke while starting: %s" % (mode, worker_fate(ctx)))
            if window["error"]["kind"] == "crashed":
                window["error"]["detail"] = crash_detail(ctx.pool_exitcodes, e)
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


async def _pool_window(ctx, mode, pool, loop, count, args, kwargs, args_cost=(0, 0.0)):
    async def body(w):
        async def one(rec):
            try:
                meta, blob = await loop.run_in_executor(pool, child_call, ctx.spec, args, kwargs)
            except concurrent.futures.process.BrokenProcessPool:
                raise
            except Exception as e:  # the result could not come back
                rec["error"] = exc_info(e)
            else:
                r0 = perf_counter()
                pickle.loads(blob)
                w.spans.append(("deserialize-result", r0, perf_counter()))
                rec.update(start=meta["start"], end=meta["end"], worker=meta["worker"], error=meta["error"],
                           cpu=meta["user"] + meta["system"],
                           transfer={"argsBytes": args_cost[0], "argsWriteMs": round(args_cost[1], 4), "argsReadMs": None,
                                     "resultBytes": meta["resultBytes"], "resultWriteMs": round(meta["resultWriteMs"], 4),
                                     "resultReadMs": round((perf_counter() - r0) * 1000.0, 4)})
                w.child_user += meta["user"]
                w.child_system += meta["system"]
            ctx.task_done()

        await admit(ctx, w, count, one)

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


async def run_process(ctx, tgt, args, kwargs, counts=None, warm=None):
    size, requested = pool_size(ctx, counts, "process")
    return await run_pool(ctx, "process", tgt, args, kwargs, lambda: concurrent.futures.ProcessPoolExecutor(
        max_workers=size, initializer=child_init,
        initargs=(ctx.spec, ctx.switch_interval_s, os.getpid())), counts, requested, warm)


async def run_interpreter(ctx, tgt, args, kwargs, counts=None, warm=None):
    executor = getattr(concurrent.futures, "InterpreterPoolExecutor", None)
    if executor is None:
        return skipped("interpreter", "unsupported-mode",
                       "InterpreterPoolExecutor needs Python 3.14 or newer (this is %d.%d)" % sys.version_info[:2])
    size, requested = pool_size(ctx, counts, "interpreter")
    return await run_pool(ctx, "interpreter", tgt, args, kwargs, lambda: executor(
        max_workers=size, initializer=child_init,
        initargs=(ctx.spec, ctx.switch_interval_s, None)), counts, requested, warm)
