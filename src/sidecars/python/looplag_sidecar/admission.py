"""How many calls a window lets in at once, and how big a pool is: the pool sizes, the
semaphore of a worker count, a sweep's window per count and its rounds of calls."""
import asyncio
import os
import sys

from .clock import perf_counter


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


def executor_default(mode):
    """The pool size the executor picks for max_workers=None (as its own code does:
    thread and interpreter pools cpu+4 up to 32, process pools one per CPU, at most 61
    on Windows, where more raises ValueError)."""
    cpus = (getattr(os, "process_cpu_count", os.cpu_count)() or 1)
    if mode in ("thread", "interpreter"):
        return min(32, cpus + 4)
    return min(cpus, 61) if sys.platform == "win32" else cpus


def pool_size(ctx, counts, mode):
    """(pool size, the --workers asked for when the pool is smaller). A pool never has
    more members than calls in flight: the extra ones would only cost start-up time
    and memory (64 processes for 2 calls). The executor's default is capped too, but
    only a W the user asked for is worth a note. Without --workers, thread mode for a
    route a framework runs in its threadpool has the framework's pool size, not the
    executor's."""
    if counts:
        return _sweep_size(ctx, counts, None), None
    default = (mode == "thread" and ctx.framework_threads) or executor_default(mode)
    size = min(ctx.workers or default, ctx.concurrency)
    return size, (ctx.workers if ctx.workers and ctx.workers > size else None)


def mark_capped(window, requested, concurrency):
    """Say in the window that W was capped to the calls in flight."""
    if requested:
        window["workersRequested"] = requested
        window.setdefault("notes", []).append(
            "the pool started %d workers, not the %d asked for: only %d calls run at once"
            % (window["workers"] or concurrency, requested, concurrency))


async def window_per_count(ctx, mode, counts, workers, startup_ms, windows, measure):
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


async def admit(ctx, w, count, one):
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
