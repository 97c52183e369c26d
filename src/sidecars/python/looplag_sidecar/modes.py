"""The Python sidecar's modes: each mode's runner and what the session does around it.
A runner measures N concurrent calls of the target in its own window (window.py), with
the heartbeat running throughout. A new mode is one row here (and its runner)."""
from typing import Callable, NamedTuple

from .inline import run_inline
from .pools import run_interpreter, run_process
from .threads import run_thread


class ModeRunner(NamedTuple):
    run: Callable
    # "here": the session makes the unmeasured warm-up call before the window (inline,
    # thread); "members": the runner warms each pool member up as it starts, given the
    # warm-up's arguments (`warm=`).
    warm: str
    # A worker sweep measures it: the runner takes the worker counts and returns a window per count.
    sweeps: bool
    # The one-thread GIL diagnostic window runs before it.
    diagnostic: bool


RUNNERS = {
    "inline": ModeRunner(run_inline, warm="here", sweeps=False, diagnostic=False),
    "thread": ModeRunner(run_thread, warm="here", sweeps=True, diagnostic=True),
    "process": ModeRunner(run_process, warm="members", sweeps=True, diagnostic=False),
    "interpreter": ModeRunner(run_interpreter, warm="members", sweeps=True, diagnostic=False),
}
