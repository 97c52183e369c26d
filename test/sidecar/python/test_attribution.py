"""Attribution (issue 13): faulthandler's dumps parsed, matched to heartbeat gaps by
offset, frames classified, and the watchdog never left armed by a window, cut or not."""
import asyncio
import os
import shutil
import sys
import tempfile
import threading
import time
import unittest

from support import FIXTURES  # noqa: F401 - also puts the sidecar on sys.path

from looplag_sidecar import attribution, dumps
from looplag_sidecar.attribution import Sampler
from looplag_sidecar.context import Context
from looplag_sidecar.frames import Classifier, Interner, cut_at_boundary
from looplag_sidecar.window import Window

CAPTURED = os.path.join(FIXTURES, "python", "attribution", "dump-3.11.txt")
# CPython's format for what the capture lacks: a thread name (3.14's write_thread_name),
# a thread without Python frames, the caller's own thread, an unknown line, a cut tail.
SYNTHETIC = (b"Timeout (0:00:00.010000)!\n"
             b"Thread 0x00007f00000000a1 [looplag-worker_0] (most recent call first):\n"
             b'  File "/w/app\\u20ac.py", line 12 in work\n'
             b'  File "/w/app.py", line ??? in <lambda>\n'
             b"\n"
             b"Thread 0x00007f00000000b2 (most recent call first):\n"
             b"  <no Python frame>\n"
             b"\n"
             b"Current thread 0x00007f00000000c3 (most recent call first):\n"
             b'  File "/w/x.py", line 3 in f\n'
             b"Timeout (0:00:00.010000)!\n"
             b"Thread 0x00007f00000000a1 (most recent call first):\n"
             b'  File "/w/app.py", li')


class DumpParserTest(unittest.TestCase):
    def test_captured_dump_escapes_and_the_frame_limit(self):
        with open(CAPTURED, "rb") as f:
            raw = f.read()
        [dump] = dumps.parse(raw, base=4096)
        self.assertEqual(dump.offset, 4096)
        worker, main = dump.threads
        self.assertEqual(len(worker.frames), 100, "faulthandler writes 100 frames, then `...`")
        self.assertTrue(worker.truncated)
        self.assertEqual(worker.frames[0], dumps.Frame("/tmp/pyattr_cap/cap\u00e9.py", 6, "deep"))
        self.assertFalse(main.truncated)
        self.assertEqual([f.function for f in main.frames], ["spin", "<module>"])
        self.assertEqual(main.ident, 0x00007ff405c6ab80)

    def test_names_no_frames_current_thread_and_a_cut_tail(self):
        first, second = dumps.parse(SYNTHETIC)
        self.assertEqual(first.offset, 0)
        self.assertEqual(second.offset, SYNTHETIC.index(b"Timeout (", 1))
        a, b, c = first.threads
        self.assertEqual((a.ident, a.name), (0x7f00000000a1, "looplag-worker_0"))
        self.assertEqual(a.frames, [dumps.Frame("/w/app\u20ac.py", 12, "work"), dumps.Frame("/w/app.py", None, "<lambda>")])
        self.assertEqual((b.name, b.frames), (None, []))
        self.assertEqual(c.frames, [dumps.Frame("/w/x.py", 3, "f")])
        self.assertEqual(second.threads[0].frames, [], "a line cut by the end of the file is no frame")

    def test_no_dump(self):
        self.assertEqual(dumps.parse(b""), [])


class KindsTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.root)

    def test_kinds_and_names(self):
        venv_lib = os.path.join(self.root, ".venv", "lib", "python3.11", "site-packages", "markdown", "core.py")
        classify = Classifier(self.root).classify
        self.assertEqual(classify(os.path.join(self.root, "svc", "docs.py"))[:2], ("user", os.path.join("svc", "docs.py")))
        self.assertEqual(classify(venv_lib)[:2], ("library", os.path.join("markdown", "core.py")),
                         "a virtualenv inside the workspace is still a library")
        self.assertEqual(classify(os.__file__)[:2], ("stdlib", "os.py"))
        self.assertEqual(classify("<frozen importlib._bootstrap>")[0], "stdlib")
        self.assertEqual(classify(dumps.__file__)[0], "tool")
        self.assertEqual(classify("/nowhere/else.py")[0], "runtime")

    def test_stack_cut_at_the_call_boundary_and_capped(self):
        user = os.path.join(self.root, "a.py")
        tool = dumps.__file__.replace("dumps.py", "calls.py")
        frames = [dumps.Frame(user, i, "f") for i in range(1, 31)] + [dumps.Frame(tool, 60, "thread_call")]
        interner = Interner(Classifier(self.root))
        cut, in_call = cut_at_boundary(frames, interner.classifier)
        self.assertTrue(in_call)
        self.assertEqual(len(cut), 30)
        stack = interner.stacks[interner.stack(cut)]
        self.assertEqual(len(stack), 24, "stacks keep their 24 innermost frames")
        self.assertEqual(interner.frames[stack[0]]["line"], 1)


def spin(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:  # SPIN LINE
        pass


class SamplerTest(unittest.TestCase):
    def test_dumps_land_in_the_gap_that_holds_them(self):
        here = os.path.dirname(os.path.abspath(__file__))
        sampler = Sampler({"enabled": True, "intervalMs": 10, "rearmMs": 5}, "inline", here)
        t0 = time.perf_counter()
        sampler.start(t0)
        try:
            prev = t0
            time.sleep(0.001)
            now = time.perf_counter()
            sampler.on_beat(prev, now)  # a beat (on a busy machine maybe a late one)
            prev = now
            spin(0.06)  # a 60 ms stall: about five dumps
            now = time.perf_counter()
            sampler.on_beat(prev, now)
            stall = ((prev - t0) * 1000.0, (now - t0) * 1000.0)
            sampler.on_beat(now, time.perf_counter())
        finally:
            sampler.close()
        raw = sampler.raw(t0)
        sampler.release()
        loop = [s for s in raw["samples"] if s["thread"] == "loop"]
        self.assertEqual(len({s["dump"] for s in loop}), len(loop), "one loop sample per dump")
        in_stall = [s for s in loop if stall[0] < s["tMs"] <= stall[1]]
        self.assertGreaterEqual(len(in_stall), 2, raw)
        for s in in_stall:
            inner = raw["frames"][raw["stacks"][s["stack"]][0]]
            self.assertEqual((inner["file"], inner["function"], inner["kind"]), ("test_attribution.py", "spin", "user"))
            self.assertEqual(inner["source"], "while time.perf_counter() < end:  # SPIN LINE")
            self.assertIsNotNone(s["cpuMs"])


class DumpCapTest(unittest.TestCase):
    def test_past_the_cap_the_watchdog_stops_and_later_stalls_count_as_dropped(self):
        saved = attribution.DUMP_CAP_BYTES
        attribution.DUMP_CAP_BYTES = 1  # the first dump passes it
        self.addCleanup(setattr, attribution, "DUMP_CAP_BYTES", saved)
        sampler = Sampler({"enabled": True, "intervalMs": 10, "rearmMs": 5}, "inline", None)
        t0 = time.perf_counter()
        sampler.start(t0)
        try:
            spin(0.03)
            t1 = time.perf_counter()
            sampler.on_beat(t0, t1)
            size = os.fstat(sampler.fd).st_size
            spin(0.05)  # not dumped: counted
            t2 = time.perf_counter()
            sampler.on_beat(t1, t2)
            self.assertEqual(os.fstat(sampler.fd).st_size, size, "the watchdog was cancelled at the cap")
            raw = sampler.raw(t0)
        finally:
            sampler.close()
            sampler.release()
        self.assertEqual(raw["droppedSamples"], int((t2 - t1) / 0.01))
        self.assertTrue(raw["samples"], "what was dumped before the cap is kept")
        self.assertIn("passed", " ".join(raw["notes"]))


class SamplerFailureTest(unittest.TestCase):
    def test_user_code_closing_the_dump_file_stops_sampling_not_the_heartbeat(self):
        sampler = Sampler({"enabled": True, "intervalMs": 10, "rearmMs": 5}, "inline", None)
        t0 = time.perf_counter()
        sampler.start(t0)
        self.assertGreaterEqual(sampler.fd, 10, "out of the way of user code's low descriptors")
        try:
            os.close(sampler.fd)  # as a user's `os.closerange(3, 256)` would
            sampler.on_beat(t0, time.perf_counter())  # must not raise: it runs in the heartbeat
            self.assertTrue(sampler.closed, "the watchdog is cancelled")
            with self.assertRaisesRegex(attribution.AttributionError, "sampling stopped during the window"):
                sampler.raw(t0)
        finally:
            sampler.close()
            sampler.release()


def _tasks():
    return set(os.listdir("/proc/self/task"))


@unittest.skipUnless(os.path.isdir("/proc/self/task"), "counts the watchdog's OS thread in /proc")
class CutWindowTest(unittest.TestCase):
    def test_a_cut_window_leaves_no_watchdog_armed(self):
        plan = {"target": {"file": __file__, "qualname": "f", "lines": None, "args": "", "workspaceRoot": None},
                "modes": ["thread"], "concurrency": 1, "workers": 1, "switchIntervalS": None, "heartbeatMs": 1,
                "gilProbe": False, "baselineMs": 100, "outputCapBytes": 1024, "callTimeoutS": 0.2,
                "attribution": {"enabled": True, "intervalMs": 10, "rearmMs": 5}}
        sent = []
        ctx = Context(plan, type("Channel", (), {"send": lambda self, m: sent.append(m)})(), threading.Event())
        ctx.begin("thread")
        before = _tasks()

        async def body(w):
            rec = w.new_record(0)
            rec["start"] = time.perf_counter()
            await asyncio.sleep(5)  # never finishes: the call timeout cuts the window

        async def run():
            return await Window(ctx, "thread").measure(body)

        window = asyncio.run(run())
        self.assertEqual(window["status"], "failed")
        self.assertEqual(window["error"]["kind"], "call-timeout")
        self.assertIn("attribution", window)
        # Cancelling joins the watchdog, which then ends its OS thread: wait for it, briefly.
        deadline = time.monotonic() + 2.0
        while _tasks() - before and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertEqual(_tasks() - before, set(), "the watchdog thread is still there: still armed")


if __name__ == "__main__":
    unittest.main()
