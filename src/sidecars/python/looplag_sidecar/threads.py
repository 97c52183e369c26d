"""Thread mode (a thread pool; on a free-threaded build its calls run in parallel) and
the one-thread diagnostic window before it."""
import asyncio
import concurrent.futures
import threading

from .admission import admit, mark_capped, pool_size, window_per_count
from .calls import thread_call
from .clock import perf_counter
from .window import Window


async def run_thread(ctx, tgt, args, kwargs, counts=None):
    loop = asyncio.get_running_loop()
    size, requested = pool_size(ctx, counts, "thread")
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
            await loop.run_in_executor(pool, thread_call, tgt.fn, tgt.is_async, args, kwargs, rec)
        finally:
            ctx.task_done()

    async def measure(count):
        return await Window(ctx, "thread").measure(lambda w: admit(ctx, w, count, one))

    windows = []
    try:
        await window_per_count(ctx, "thread", counts, workers, startup_ms, windows, measure)
        mark_capped(windows[0], requested, ctx.concurrency)
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
        await loop.run_in_executor(pool, thread_call, tgt.fn, tgt.is_async, args, kwargs, w.new_record(0))

    try:
        window = await Window(ctx, "diagnostic").measure(body)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    window["workers"] = 1
    return window
