"""One server process's measured window: the heartbeat (probes.Heartbeat), CPU
(probes.CpuMeter) and attribution (attribution.Sampler, server mode) inside the server's
own loop, from `measure` to `stop`, and the ServerProcessWindow they produce."""
import os
import sys

from .. import attribution as attribution_mod
from ..clock import epoch_time, perf_counter
from ..probes import CpuMeter, Heartbeat
from .protocol import ProcessWindow


def thread_tokens():
    """The AnyIO default thread limiter's tokens on this loop (None without AnyIO)."""
    anyio = sys.modules.get("anyio")
    if anyio is None:
        return None
    try:
        from anyio import to_thread

        return int(to_thread.current_default_thread_limiter().total_tokens)
    except Exception:  # noqa: BLE001 - an AnyIO without it, or no running backend
        return None


class ProcessWindowProbe:
    """`begin()` when `measure` arrives, from the thread that reads it; `start()` on the loop
    once it gets there; `await finish()` at `stop`.

    t0 is taken off the loop: a handler blocking the loop when `measure` comes would
    otherwise move the window's start to its end and hide the stall in progress. The
    heartbeat's first gap is timed from t0, so that stall is the first sample.
    """

    def __init__(self, plan, app_dir, recorder):
        self.plan = plan
        self.app_dir = app_dir
        self.recorder = recorder
        self.heartbeat = Heartbeat(plan["heartbeatMs"] / 1000.0)
        self.sampler = None
        self.notes = []
        self.attribution_error = None

    def begin(self):
        self.cpu = CpuMeter()
        # The window clock (perf_counter) and the wall clock read at one moment: the host
        # aligns each process's timeline with the load generator's by t0EpochMs.
        self.t0 = perf_counter()
        self.t0_epoch_ms = epoch_time() * 1000.0
        self.recorder.open(self.t0)

    def start(self):
        attribution = self.plan["attribution"]
        if attribution["enabled"]:
            self._start_sampler(attribution)
        self.heartbeat.start(since=self.t0)

    def _start_sampler(self, plan):
        if attribution_mod.gil_disabled():
            self.attribution_error = None
            self.notes.append("blocking lines are not sampled on a free-threaded build: threads run in parallel, so "
                              "there is no GIL holder to find")
            return
        sampler = attribution_mod.Sampler(plan, "server", self.app_dir, self.heartbeat.interval_s)
        try:
            sampler.start(self.t0)
        except Exception as e:  # noqa: BLE001 - measure without it
            sampler.close()
            self.attribution_error = "could not start sampling: %s: %s" % (type(e).__name__, e)
            return
        self.sampler = sampler
        self.heartbeat.on_beat = sampler.on_beat

    async def finish(self) -> ProcessWindow:
        await self.heartbeat.stop()
        t_end = perf_counter()
        self.recorder.close()
        if self.sampler is not None:
            self.sampler.close()
            self.sampler.release()
        t0 = self.t0
        wall_s = t_end - t0
        user, system, _ = self.cpu.finish()
        samples = [[round((t - t0) * 1000.0, 4), round(lag * 1000.0, 4)] for t, lag in self.heartbeat.samples if t >= t0]
        window: ProcessWindow = {
            "pid": os.getpid(), "t0EpochMs": round(self.t0_epoch_ms, 3), "wallMs": round(wall_s * 1000.0, 4),
            "samples": samples, "cpu": {"userMs": round(user * 1000.0, 3), "systemMs": round(system * 1000.0, 3)},
            "requests": self.recorder.requests(), "attribution": self._attribution(t0),
            "threadTokens": thread_tokens(),
        }
        if self.notes:
            window["notes"] = list(self.notes)
        return window

    def _attribution(self, t0):
        plan = self.plan["attribution"]
        if not plan["enabled"]:
            return None
        base = {"method": attribution_mod.METHOD, "intervalMs": plan["intervalMs"], "frames": [], "stacks": [],
                "samples": []}
        if self.attribution_error is not None:
            return dict(base, error=self.attribution_error)
        if self.sampler is None:
            return dict(base, unavailable=self.notes[-1] if self.notes else "not sampled")
        try:
            return self.sampler.raw(t0)
        except Exception as e:  # noqa: BLE001 - the measurement stands without it
            return dict(base, error=str(e) if isinstance(e, attribution_mod.AttributionError)
                        else "%s: %s" % (type(e).__name__, e))
