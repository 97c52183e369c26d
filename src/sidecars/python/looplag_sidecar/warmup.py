"""Inline and thread modes' unmeasured warm-up call (pool modes warm each member up as
the pool starts: pools.py)."""
import asyncio
import concurrent.futures

from .calls import call_on_loop, timed_call
from .clock import perf_counter


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
        await _within_call_timeout(ctx, call_on_loop(tgt, args, kwargs))
        took = perf_counter() - start
    else:
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="looplag-warmup")
        start = perf_counter()
        try:
            await _within_call_timeout(ctx, asyncio.get_running_loop().run_in_executor(
                pool, timed_call, tgt.fn, tgt.is_async, args, kwargs))
            took = perf_counter() - start
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
    ctx.discard_output()  # the warm-up call's prints are not the window's
    return [round(took * 1000.0, 3)]
