"""The probes on a real asyncio loop and real threads (no fake clocks: they measure time)."""
import asyncio
import os
import sys
import time
import unittest

from support import SIDECAR  # noqa: F401
from looplag_sidecar.probes import CpuMeter, GilProbe, Heartbeat


def busy(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


class HeartbeatTests(unittest.TestCase):
    def test_a_stall_is_one_sample_as_long_as_the_stall(self):
        async def main():
            hb = Heartbeat(0.001)
            hb.start()
            await asyncio.sleep(0.02)
            busy(0.2)  # blocks the loop
            await asyncio.sleep(0.02)
            await hb.stop()
            return hb.samples

        samples = asyncio.run(main())
        lags = sorted(lag for _, lag in samples)
        self.assertGreaterEqual(lags[-1], 0.19)
        self.assertLess(lags[-2], 0.19, "exactly one sample holds the stall")
        times = [t for t, _ in samples]
        self.assertEqual(times, sorted(times))

    def test_a_block_before_the_first_beat_is_counted(self):
        # Work the window starts (a pool thread that takes the GIL as soon as it is handed
        # a call) can block the loop before the heartbeat task has run at all.
        async def main():
            hb = Heartbeat(0.001)
            hb.start()
            busy(0.15)  # before the heartbeat task's first step
            await asyncio.sleep(0.01)
            await hb.stop()
            return hb.samples

        self.assertGreaterEqual(max(lag for _, lag in asyncio.run(main())), 0.14)

    def test_a_stall_that_ends_the_window_is_drained(self):
        async def main():
            hb = Heartbeat(0.001)
            hb.start()
            await asyncio.sleep(0.01)
            busy(0.15)  # the last "task": nothing runs on the loop after it
            await hb.stop()
            return hb.samples

        self.assertGreaterEqual(max(lag for _, lag in asyncio.run(main())), 0.14)


class GilProbeTests(unittest.TestCase):
    def test_waits_about_one_switch_interval_behind_a_busy_thread(self):
        # The busy thread must really run: on an oversubscribed machine it sits off the CPU
        # between forced switches, and the probe then takes the free GIL at once (CI once saw
        # a median wait of 0.1 ms at load 12 on 2 cores). Such a window is measured again,
        # then skipped with the figures.
        seen = []
        for _ in range(3):
            old = sys.getswitchinterval()
            sys.setswitchinterval(0.01)
            try:
                probe = GilProbe(0.001)
                probe.start()
                wall0, cpu0 = time.perf_counter(), time.thread_time()
                busy(0.3)  # pure Python on this thread: the probe must wait for a forced switch
                on_cpu = (time.thread_time() - cpu0) / (time.perf_counter() - wall0)
                probe.stop()
                waits = sorted(w for _, w in probe.waits)
            finally:
                sys.setswitchinterval(old)
            seen.append("on CPU %.0f%% of the window, load %.1f" % (on_cpu * 100, os.getloadavg()[0]))
            # The busy thread ran at least its share beside the probe (half) with room to spare.
            if on_cpu >= 0.35:
                break
        else:
            self.skipTest("the busy thread was starved of the CPU in each window (%s): the probe had no GIL holder to wait for"
                          % "; ".join(seen))
        self.assertGreaterEqual(len(waits), 10)
        median = waits[len(waits) // 2]
        self.assertGreater(median, 0.5 * 0.01, seen[-1])
        self.assertLess(median, 2.0 * 0.01, seen[-1])

    def test_idle_waits_are_small(self):
        probe = GilProbe(0.001)
        probe.start()
        time.sleep(0.1)  # releases the GIL: nothing to wait for
        probe.stop()
        waits = sorted(w for _, w in probe.waits)
        self.assertLess(waits[len(waits) // 2], 0.002)


class CpuMeterTests(unittest.TestCase):
    def test_counts_this_process_and_bounds_background(self):
        meter = CpuMeter()
        # Burn 0.2 s of this process's CPU (not of wall time: a busy machine would give less).
        end = time.process_time() + 0.2
        while time.process_time() < end:
            pass
        user, system, background = meter.finish(0.0, 1)
        self.assertGreater(user + system, 0.1)
        if background is not None:
            self.assertGreaterEqual(background, 0.0)
            self.assertLessEqual(background, 1.0)

    def test_start_and_stop_mark_the_span(self):
        # The window's span is start()..stop(): CPU burnt before or after it (the probes'
        # start and stop, reading the editor's processes) is not the window's.
        def burn(s):
            end = time.process_time() + s
            while time.process_time() < end:
                pass
        meter = CpuMeter()
        burn(0.2)
        meter.start()
        burn(0.1)
        meter.stop()
        burn(0.2)
        user, system, _ = meter.finish(0.0, 1)
        self.assertGreaterEqual(user + system, 0.09)
        self.assertLess(user + system, 0.2, "only the 0.1 s between start and stop")


if __name__ == "__main__":
    unittest.main()
