"""What runs inside a pool member (a process-pool child or a subinterpreter): its start,
its warm-up, and one measured call with its timings. The executor sends these functions
by name, so each member imports this module (and, through clock, the private clocks)
before the target."""
import os
import pickle
import sys
import threading
from typing import Optional, Tuple, TypedDict

from . import clock
from . import orphan
from . import target as target_mod
from .calls import exc_info, run_call, timed_call
from .channel import flush_std
from .clock import perf_counter, sleep
from .probes import cpu_times
from .protocol import TaskError


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
        result = run_call(target.fn, target.is_async, args, kwargs)
    except BaseException as e:  # noqa: B036
        err = exc_info(e)
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
            took = timed_call(target.fn, target.is_async, args, kwargs)
            flush_std()
    return os.getpid(), took
