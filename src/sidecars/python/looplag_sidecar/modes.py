"""The Python sidecar's modes: each mode's runner. A runner measures N concurrent calls
of the target in its own window (window.py), with the heartbeat running throughout."""
from .inline import run_inline
from .pools import run_interpreter, run_process
from .threads import run_thread

# The modes whose runner warms its pool members up itself (given the warm-up's arguments).
POOL_MODES = ("process", "interpreter")

RUNNERS = {"inline": run_inline, "thread": run_thread, "process": run_process, "interpreter": run_interpreter}
