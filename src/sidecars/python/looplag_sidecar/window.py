"""The measured window: the probes around a mode's calls and the protocol's RawWindow
they produce. The GIL-wait probe is a thread that wants the GIL: it runs in the baseline
and diagnostic windows, and in a measured window only when asked (plan.gilProbeInWindow),
since there it would be one more contender inflating the lag the window reports."""
import asyncio
import concurrent.futures
import os
import sys
from typing import List

from . import attribution as attribution_mod
from . import target as target_mod
from .calls import CallRecord, calls_phrase, finished, fmt_s
from .clock import epoch_time, perf_counter
from .poolfate import crash_detail, worker_fate
from .probes import CpuMeter, GilProbe, Heartbeat, editor_pid_from_env
from .protocol import RawWindow, TaskRecord, error


class Window:
    """Probes around one measured window; produces the protocol's RawWindow."""

    def __init__(self, ctx, mode):
        self.ctx = ctx
        self.mode = mode
        self.records: List[CallRecord] = []
        self.child_user = 0.0
        self.child_system = 0.0
        # The main thread's own steps around pool calls: (step, start, end), perf_counter s.
        self.spans = []
        self.sampler = None
        self.attribution_note = None
        self.attribution_error = None
        self.t0_epoch_ms = None

    def new_record(self, i) -> CallRecord:
        rec: CallRecord = {"id": i, "queued": perf_counter(), "start": None, "end": None, "worker": None,
                           "cpu": None, "error": None}
        self.records.append(rec)
        return rec

    async def measure(self, body):
        ctx = self.ctx
        heartbeat = Heartbeat(ctx.heartbeat_s)
        probe = GilProbe(ctx.heartbeat_s) if ctx.probe_in(self.mode) else None
        # Before the probes: it walks /proc for the editor's processes (see CpuMeter).
        cpu = CpuMeter(editor_pid_from_env())
        if self.mode != "baseline":  # after any pool warm-up: the calls start now
            ctx.progress(self.mode, "running", 0)
        # After "running": the host draws nothing new from here (ProgressThrottle), and what
        # it drew just before passes in the wait.
        await cpu.quiet_start(ctx.cpu_count)
        if probe:
            probe.start()
        self._start_sampler(heartbeat)
        try:
            return await self._measure(body, heartbeat, cpu, probe)
        finally:
            if self.sampler is not None:
                self.sampler.close()
                self.sampler.release()

    def _start_sampler(self, heartbeat):
        """Start sampling before t0, once the window's threads exist; a free-threaded
        build has no GIL holder to find: off there in thread modes."""
        plan = self.ctx.attribution
        if plan is None:
            return
        if attribution_mod.gil_disabled() and (self.mode in ("thread", "diagnostic") or sys.version_info < (3, 14)):
            # Before 3.14 a frame from sys._current_frames() may be freed while it is read
            # when threads run in parallel (CPython gh-131479, fixed in 3.14 only): off in every mode.
            self.attribution_note = ("not sampled on a free-threaded build: threads run in parallel, so there is "
                                     "no GIL holder to find, and before Python 3.14 reading their frames is unsafe")
            return
        # No workspace (a loose file in the editor): the target's folder is the user's, as the host's reveal assumes.
        root = self.ctx.spec.get("workspaceRoot") or os.path.dirname(os.path.abspath(self.ctx.spec["file"]))
        sampler = attribution_mod.Sampler(plan, self.mode, root, self.ctx.heartbeat_s)
        try:
            sampler.start(perf_counter())
        except Exception as e:  # noqa: BLE001 - measure without it
            sampler.close()
            sampler.release()
            self.attribution_error = "could not start sampling: %s: %s" % (type(e).__name__, e)
            return
        self.sampler = sampler
        heartbeat.on_beat = sampler.on_beat

    async def _measure(self, body, heartbeat, cpu, probe):
        ctx = self.ctx
        # Last before t0 and first after t_end: the machine's load is judged over the window's own span.
        cpu.start()
        # Last before t0: starting the probe thread is our own cost, not the target's lag.
        heartbeat.start()
        self.t0 = t0 = perf_counter()
        self.t0_epoch_ms = epoch_time() * 1000.0
        self.heartbeat, self.cpu, self.probe = heartbeat, cpu, probe
        # A session cancel that the blocked loop cannot see is answered from a thread
        # with what this window measured so far (see snapshot).
        ctx.current_window = self
        ctx.last_done_at = t0
        status, err, partial = "ok", None, False
        limit = ctx.call_timeout_s if self.mode != "baseline" else None
        work = asyncio.ensure_future(body(self))
        watch = asyncio.ensure_future(self._watch_calls(limit)) if limit else None
        try:
            try:
                if watch is not None:
                    await asyncio.wait({work, watch}, return_when=asyncio.FIRST_COMPLETED)
                if watch is not None and watch.done() and not work.done():
                    # Stop waiting for the calls (a thread or pool member keeps running
                    # its call; the host ends this sidecar after the window).
                    work.cancel()
                    status, err, partial = "failed", watch.result(), True
                else:
                    await work
            finally:
                if watch is not None:
                    watch.cancel()
                if not work.done():
                    work.cancel()
        except asyncio.CancelledError:
            status, err, partial = "failed", self._cut_error(""), True
        except target_mod.TargetError as e:
            status, err = "failed", e.error
        except concurrent.futures.process.BrokenProcessPool as e:
            status, err = "failed", error("crashed", "a %s worker died while running the target: %s"
                                          % (self.mode, worker_fate(ctx)),
                                          detail=crash_detail(ctx.pool_exitcodes, e))
        ctx.current_window = None
        t_end = perf_counter()
        cpu.stop()
        if status == "ok":
            await heartbeat.stop()
        else:
            heartbeat.cancel()
        if self.sampler is not None:
            self.sampler.close()
        if probe:
            probe.stop()
            # The next window (thread mode's, after the diagnostic) must not have it running.
            probe.join(0.2)
        window = self._build(t_end)
        window["status"], window["error"] = status, err
        if partial:
            window["partial"] = True
        return window

    async def _watch_calls(self, limit_s):
        """Returns the window's error once a call has run `limit_s` without finishing.
        A call's start is its own when known (inline, thread), else the later of its
        submission and the last call that finished (when a pool member came free for it)."""
        ctx = self.ctx
        first_open = 0
        poll_s = max(0.02, min(0.25, limit_s / 10.0))
        while True:
            await asyncio.sleep(poll_s)
            now = perf_counter()
            records = self.records
            while first_open < len(records) and finished(records[first_open]):
                first_open += 1
            over = [r for r in records[first_open:] if not finished(r)
                    and now - (r["start"] if r["start"] is not None else max(r["queued"], ctx.last_done_at)) >= limit_s]
            if over:
                open_ids = [r["id"] for r in records[first_open:] if not finished(r)]
                return error("call-timeout", "%s in %s did not finish within %s s (--call-timeout): the window was cut "
                             "there" % (calls_phrase(open_ids, ctx.function_name), self.mode, fmt_s(limit_s)))

    def snapshot(self):
        """The window so far, built off the loop (from the cancel thread) when the loop is
        blocked at a session cut: the samples up to the cut plus the open gap since the
        last heartbeat, which is the stall the loop is in (a lag lasting at least that long)."""
        now = perf_counter()
        window = self._build(now, open_gap_at=now)
        window["status"] = "failed"
        window["error"] = self._cut_error(" (the loop was blocked at the cut)")
        window["partial"] = True
        return window

    def _cut_error(self, how):
        """The error of a window the host cut: its timeout, a cancel, or its watchdog
        finding this sidecar silent past the call timeout (a call blocked the loop)."""
        kind = self.ctx.cancel_kind
        if kind == "call-timeout":
            open_ids = [r["id"] for r in list(self.records) if not finished(r)]
            return error(kind, "%s in %s did not finish within %s s (--call-timeout): the window was cut there%s"
                         % (calls_phrase(open_ids, self.ctx.function_name), self.mode,
                            fmt_s(self.ctx.call_timeout_s or 0), how))
        return error(kind, "%s while measuring %s%s" % ("timed out" if kind == "timeout" else "cancelled", self.mode, how))

    def _build(self, t_end, open_gap_at=None) -> RawWindow:
        ctx, t0 = self.ctx, self.t0
        heartbeat, probe = self.heartbeat, self.probe
        wall_s = t_end - t0
        # Its span ended at t_end (_measure); a snapshot from the cancel thread ends it now.
        user, system, background = self.cpu.finish(self.child_user + self.child_system, ctx.cpu_count)
        ms = lambda t: None if t is None else round((t - t0) * 1000.0, 4)  # noqa: E731
        tasks: List[TaskRecord] = []
        for r in list(self.records):
            tasks.append({"id": r["id"], "queuedMs": ms(r["queued"]), "startMs": ms(r["start"]), "endMs": ms(r["end"]),
                          "worker": r["worker"], "cpuMs": None if r["cpu"] is None else round(r["cpu"] * 1000.0, 3),
                          "error": r["error"], **({"transfer": r["transfer"]} if r.get("transfer") else {})})
            if "round" in r:
                tasks[-1]["round"] = r["round"]
        beats = list(heartbeat.samples)
        if open_gap_at is not None and heartbeat.last_beat is not None:
            gap = open_gap_at - heartbeat.last_beat - heartbeat.interval_s
            if gap > 0:
                beats.append((open_gap_at, gap))
        samples = [[round((t - t0) * 1000.0, 4), round(lag * 1000.0, 4)] for t, lag in beats if t >= t0]
        gil = None
        if probe:
            gil = [round(w * 1000.0, 4) for t, w in list(probe.waits) if t0 <= t <= t_end]
        return {"mode": self.mode, "status": "ok", "error": None, "wallMs": round(wall_s * 1000.0, 4),
                "t0EpochMs": round(self.t0_epoch_ms), "startupMs": None, "workers": None, "tasks": tasks, "samples": samples, "gilWaitsMs": gil,
                "cpu": {"userMs": round((user + self.child_user) * 1000.0, 3),
                        "systemMs": round((system + self.child_system) * 1000.0, 3)},
                "backgroundCpuFrac": None if background is None else round(background, 4),
                "output": None, **self._attribution(t0, open_gap_at)}

    def _attribution(self, t0, open_gap_at):
        """RawWindow.attribution when the plan asks for it (none in a window that never armed)."""
        plan = self.ctx.attribution
        if plan is None or (self.sampler is None and self.attribution_note is None and self.attribution_error is None):
            return {}
        ms = lambda t: round((t - t0) * 1000.0, 4)  # noqa: E731
        try:
            if self.attribution_error is not None:
                raise attribution_mod.AttributionError(self.attribution_error)
            if self.sampler is not None:
                raw = self.sampler.raw(t0, open_gap_at)
            else:
                raw = {"method": attribution_mod.METHOD, "intervalMs": plan["intervalMs"], "frames": [], "stacks": [],
                       "samples": [], "unavailable": self.attribution_note}
        except Exception as e:  # noqa: BLE001 - the measurement stands without it
            raw = {"method": attribution_mod.METHOD, "intervalMs": plan["intervalMs"], "frames": [], "stacks": [],
                   "samples": [], "error": str(e) if isinstance(e, attribution_mod.AttributionError) else "%s: %s" % (type(e).__name__, e)}
        spans = [{"step": step, "startMs": ms(a), "endMs": ms(b)} for step, a, b in list(self.spans) if b >= t0]
        if spans:
            raw["spans"] = spans
        return {"attribution": raw}


def skipped(mode, kind, message) -> RawWindow:
    return {"mode": mode, "status": "skipped", "error": error(kind, message), "wallMs": 0, "startupMs": None,
            "workers": None, "tasks": [], "samples": [], "gilWaitsMs": None, "cpu": {"userMs": 0, "systemMs": 0},
            "backgroundCpuFrac": None, "output": None}


async def run_baseline(ctx):
    """An idle window: the probes' own floor on this machine."""
    async def body(w):
        await asyncio.sleep(ctx.baseline_s)
    return await Window(ctx, "baseline").measure(body)
