"""How a pool member died, for a window's error: the first dead worker's fate in words
and every worker's exit code (crash.py words the fate itself)."""
import signal

from . import crash


def crash_detail(exitcodes, e=None):
    codes = [c for c in exitcodes() if c not in (None, 0)]
    lines = ["worker exit codes: %s" % ", ".join(_describe_exit(c) for c in codes)] if codes else []
    if e is not None:
        lines.append("%s: %s" % (type(e).__name__, e))
    return "\n".join(lines) or None


def worker_fate(ctx):
    """The first dead worker's fate in words ("pid 12 was killed by SIGSEGV, …"): what the
    executor's "terminated abruptly" leaves out."""
    ctx.pool_exitcodes()  # reaps the workers that just died
    dead = [p for p in ctx.workers_seen if p.exitcode not in (None, 0)]
    if not dead:
        return "a pool process ended abruptly (its exit code is unknown)"
    # Once one worker dies the executor terminates the others (SIGTERM): the one that
    # died otherwise is the cause.
    dead.sort(key=lambda p: p.exitcode == -signal.SIGTERM)
    oom = crash.oom_evidence(ctx.oom_before, crash.read_oom_kills()) if ctx.oom_before is not None else None
    return "pid %d %s" % (dead[0].pid, crash.describe_exit(dead[0].exitcode, oom))


def _describe_exit(code):
    if code < 0:
        try:
            return "killed by %s" % signal.Signals(-code).name
        except ValueError:
            return "killed by signal %d" % -code
    return "exit code %d" % code
