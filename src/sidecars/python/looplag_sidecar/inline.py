"""Inline mode: the calls on the event loop itself."""
import asyncio

from .calls import call_on_loop
from .clock import perf_counter, thread_time
from .window import Window


async def run_inline(ctx, tgt, args, kwargs):
    """N calls scheduled at once on the loop, like N requests to an `async def`
    endpoint that calls the function without offloading."""
    loop = asyncio.get_running_loop()

    async def one(rec):
        rec["worker"] = "event loop"
        cpu0 = thread_time()
        rec["start"] = perf_counter()
        rec["error"] = await call_on_loop(tgt, args, kwargs)
        rec["end"] = perf_counter()
        rec["cpu"] = thread_time() - cpu0
        ctx.task_done()

    async def body(w):
        tasks = [loop.create_task(one(w.new_record(i))) for i in range(ctx.concurrency)]
        await asyncio.gather(*tasks)

    window = await Window(ctx, "inline").measure(body)
    window["workers"] = 1
    return window
