"""Dying with the parent, even while user code holds the GIL.

A thread that polls the parent (stdin EOF, `os.getppid()`) needs the GIL, so a
GIL-holding call (`pow(365, 10**8)`) keeps it from ever running: the process would
outlive a host killed with SIGKILL. On Linux the kernel's parent-death signal needs
no Python code at all. Elsewhere the callers' own parent checks are all there is.
"""
import os
import signal
import sys

# <linux/prctl.h>
PR_SET_PDEATHSIG = 1

# The host puts its pid here for the sidecar, the sidecar its own for pool children.
PARENT_PID_ENV = "LOOPLAG_PARENT_PID"


def parent_pid_from_env():
    """The pid our host says it has (None when not started by a host), removed from the
    environment so user code and the processes it starts do not inherit it."""
    value = os.environ.pop(PARENT_PID_ENV, "")
    return int(value) if value.isdigit() else None


def _gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # EPERM: alive, someone else's (pid reuse is not our parent either way)
        return False
    return False


def die_with_parent(parent_pid):
    """Ask the kernel to SIGKILL this process when the thread that started it exits,
    then exit at once if `parent_pid` already died (before the request, the signal
    would never come). Returns whether the kernel took the request (Linux only).

    The signal follows the *thread* that forked us: Node spawns from its main thread,
    and the sidecar's process pool forks from the asyncio (main) thread, both of which
    live as long as their process."""
    armed = False
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False  # no libc prctl (unusual builds): the polling fallbacks remain
    if parent_pid is not None and os.getppid() != parent_pid and _gone(parent_pid):
        os._exit(1)
    return armed
