"""One call of the target and its record: how a call runs (on the loop, on a pool
thread, or unmeasured as a warm-up), what it raised, and how calls are named in errors."""
import asyncio
import threading
import traceback
from typing import Optional, TypedDict

from .clock import perf_counter, thread_time
from .protocol import TaskError, Transfer


# A task error's message is shown in tables and one-line errors: cut there, and kept
# whole (up to FULL_MESSAGE_CHARS) in the record's fullMessage. Same caps in the Node sidecar.
MESSAGE_CHARS = 2000
FULL_MESSAGE_CHARS = 65536


def cut_text(text, limit):
    """`text` up to `limit` characters, with a visible mark saying how much was cut."""
    return text if len(text) <= limit else "%s… [cut: %d more characters]" % (text[:limit], len(text) - limit)


def exc_info(e) -> TaskError:
    tb = "".join(traceback.format_exception(type(e), e, e.__traceback__))
    if len(tb) > 8000:
        tb = tb[:2000] + "\n...\n" + tb[-6000:]
    message = str(e)
    info: TaskError = {"type": type(e).__name__, "message": cut_text(message, MESSAGE_CHARS), "traceback": tb}
    if len(message) > MESSAGE_CHARS:
        info["fullMessage"] = cut_text(message, FULL_MESSAGE_CHARS)
    return info


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


def run_call(fn, is_async, args, kwargs):
    if is_async:
        return asyncio.run(fn(*args, **kwargs))
    return fn(*args, **kwargs)


def thread_call(fn, is_async, args, kwargs, rec: CallRecord):
    """Runs in a pool thread: the record is filled in place (threads share memory)."""
    rec["worker"] = threading.current_thread().name
    cpu0 = thread_time()
    rec["start"] = perf_counter()
    try:
        run_call(fn, is_async, args, kwargs)
    except BaseException as e:  # noqa: B036 - user code may raise SystemExit too
        rec["error"] = exc_info(e)
    finally:
        rec["end"] = perf_counter()
        rec["cpu"] = thread_time() - cpu0


def timed_call(fn, is_async, args, kwargs):
    """One unmeasured call; its errors are the window's to report, not the warm-up's."""
    start = perf_counter()
    try:
        run_call(fn, is_async, args, kwargs)
    except BaseException:  # noqa: B036 - user code may raise SystemExit too
        pass
    return perf_counter() - start


async def call_on_loop(tgt, args, kwargs):
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
        return exc_info(e)
    return None


def finished(rec: CallRecord):
    # A pool call whose result could not come back has an error and no end.
    return rec["end"] is not None or rec["error"] is not None


def fmt_s(seconds):
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
