"""What every mode needs during a session: the plan's settings, the callbacks the
session wires in, the pools alive (killed on exit) and the workers seen (their exit
codes explain a crash)."""
import os

from . import clock


class Context:
    """What every mode needs: the plan's settings and the session's callbacks."""

    def __init__(self, plan, channel, cancelled):
        self.plan = plan
        self.spec = plan["target"]
        self.channel = channel
        self.cancelled = cancelled
        # The error kind an interrupted window reports: the host says why it cancels.
        self.cancel_kind = "cancelled"
        self.concurrency = plan["concurrency"]
        self.workers = plan["workers"] or None
        # A Starlette/FastAPI `def` endpoint's threadpool size (AnyIO's limiter, 40): thread
        # mode's pool when no --workers is given, so the window measures the framework's pool.
        self.framework_threads = None
        self.switch_interval_s = plan["switchIntervalS"]
        self.heartbeat_s = plan["heartbeatMs"] / 1000.0
        self.gil_probe = plan["gilProbe"]
        # In the measured windows the probe is one more thread wanting the GIL, which
        # inflates the lag they report: there it runs only when asked.
        self.gil_probe_in_window = self.gil_probe and plan.get("gilProbeInWindow", False)
        self.warmup = plan.get("warmup", True)
        # Seconds a call may run before its window is cut (None: no limit).
        self.call_timeout_s = plan.get("callTimeoutS") or None
        spec = plan["target"]
        self.function_name = spec.get("qualname") or (
            "lines %d-%d" % (spec["lines"]["start"], spec["lines"]["end"]) if spec.get("lines") else "the target")
        # The window measuring now (read by the cancel thread), and when a call last finished.
        self.current_window = None
        self.last_done_at = 0.0
        # A warm-up call that did not finish within the call timeout: the diagnostic is skipped.
        self.warmup_cut = False
        self.warmup_cut_mode = None
        self.discard_output = lambda: None  # set once output is captured
        self.note_warmup = lambda mode, warmup_ms: None  # set by the session: put on the mode's first window
        self.baseline_s = plan["baselineMs"] / 1000.0
        # Where the loop was blocked (attribution.py): the sampling plan, or None when off.
        attribution = plan.get("attribution")
        self.attribution = attribution if attribution and attribution.get("enabled") else None
        self.cpu_count = os.cpu_count() or 1
        self.pools = []
        self.workers_seen = []
        self.oom_before = None  # OOM-kill counters read as a pool starts (crash.read_oom_kills)
        self._mode = None
        self._done = 0
        self._last_progress = 0.0

    def probe_in(self, window_mode):
        """Whether the GIL-wait probe runs in this window: always in the baseline and
        diagnostic windows (which report GIL waits, not the lag users act on), in a
        measured window only as an opt-in."""
        if window_mode in ("baseline", "diagnostic"):
            return self.gil_probe
        return self.gil_probe_in_window

    def progress(self, mode, phase, done=0):
        self.channel.send({"type": "progress", "mode": mode, "phase": phase, "done": done,
                           "total": self.concurrency})

    def begin(self, mode):
        """A mode starts: count its calls from zero (the window says `running` when it opens)."""
        self._mode, self._done = mode, 0

    def task_done(self):
        self.last_done_at = clock.perf_counter()
        self._done += 1
        # A sweep's rounds run many more calls than `concurrency`: a message per call
        # would flood the pipe, so past that at most ten a second.
        now = clock.monotonic()
        if self._done <= self.concurrency or now - self._last_progress >= 0.1:
            self._last_progress = now
            self.progress(self._mode, "running", self._done)

    def register_pool(self, pool):
        self.pools.append(pool)

    def unregister_pool(self, pool):
        if pool in self.pools:
            self.pools.remove(pool)
        _kill_pool(pool)

    def remember_workers(self, pool):
        """Keep the pool's process handles: once a pool breaks, it forgets its workers,
        and their exit codes are what explain the crash."""
        self.workers_seen.extend(p for p in (getattr(pool, "_processes", None) or {}).values()
                                 if p not in self.workers_seen)

    def pool_exitcodes(self):
        for pool in self.pools:
            self.remember_workers(pool)
        codes = []
        for proc in self.workers_seen:
            if proc.exitcode is None:
                proc.join(0.2)  # a worker that just died may not be reaped yet
            codes.append(proc.exitcode)
        return codes

    def kill_pools(self):
        for pool in list(self.pools):
            _kill_pool(pool)


def _kill_pool(pool):
    """Shut a pool down without waiting; kill process workers (they may be mid-call)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for proc in processes:
        try:
            proc.kill()
        except Exception:
            pass
    try:
        pool.shutdown(wait=False, cancel_futures=True)
    except Exception:
        pass
    for proc in processes:
        try:
            proc.join(1)
        except Exception:
            pass
