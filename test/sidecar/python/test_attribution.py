"""Attribution (issue 13): stacks read with the GIL held at the beat that ends a stall
(thread modes) or by the inline sampler thread, frames classified, the sampler never left
running by a window, cut or not, and no crash with many threads running Python."""
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from support import FIXTURES, SIDECAR  # also puts the sidecar on sys.path

from looplag_sidecar import attribution, protocol
from looplag_sidecar.attribution import Sampler
from looplag_sidecar.context import Context
from looplag_sidecar.frames import Classifier, Frame, Interner, cut_at_boundary
from looplag_sidecar.window import Window

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
        self.assertEqual(classify(attribution.__file__)[0], "tool")
        self.assertEqual(classify("/nowhere/else.py")[0], "runtime")

    def test_stack_cut_at_the_call_boundary_and_capped(self):
        user = os.path.join(self.root, "a.py")
        tool = attribution.__file__.replace("attribution.py", "calls.py")
        frames = [Frame(user, i, "f") for i in range(1, 31)] + [Frame(tool, 60, "thread_call")]
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


PLAN = {"enabled": True, "intervalMs": 10, "rearmMs": 5}


def _inner(raw, sample):
    return raw["frames"][raw["stacks"][sample["stack"]][0]]


class BeatSamplerTest(unittest.TestCase):
    """Thread mode: the beat that ends a stall reads the workers' stacks and CPU."""

    def test_the_stall_ending_beat_samples_the_worker_that_ran(self):
        here = os.path.dirname(os.path.abspath(__file__))
        go, stop = threading.Event(), threading.Event()

        def work():
            go.wait()
            while not stop.is_set():
                spin(0.005)

        worker = threading.Thread(target=work, name="looplag-worker_0", daemon=True)
        worker.start()
        sampler = Sampler(PLAN, "thread", here, heartbeat_s=0.001)
        t0 = time.perf_counter()
        sampler.start(t0)
        try:
            now = time.perf_counter()
            sampler.on_beat(t0, now)  # on time: nothing read
            self.assertEqual(sampler.samples, [])
            prev = now
            clock = time.pthread_getcpuclockid(worker.ident)
            cpu0 = time.clock_gettime(clock)
            go.set()
            # The loop waits while the worker spins: until it has had 10 ms of CPU (however
            # busy the machine) and the gap is a stall (30 ms).
            while time.clock_gettime(clock) - cpu0 < 0.01 or time.perf_counter() - prev < 0.03:
                time.sleep(0.001)
            now = time.perf_counter()
            sampler.on_beat(prev, now)  # a stall
            stall_end = (now - t0) * 1000.0
        finally:
            sampler.close()
            stop.set()
            worker.join(2)
        raw = sampler.raw(t0)
        sampler.release()
        self.assertEqual(raw["method"], "current-frames")
        workers = [s for s in raw["samples"] if s["thread"] == "worker"]
        self.assertEqual(len(workers), 1, raw)
        w = workers[0]
        self.assertEqual(w["tMs"], round(stall_end, 4), "at the wake that ends the stall")
        inner = _inner(raw, w)
        self.assertEqual((inner["file"], inner["function"], inner["kind"]), ("test_attribution.py", "spin", "user"))
        self.assertEqual(inner["source"], "while time.perf_counter() < end:  # SPIN LINE")
        self.assertGreater(w["cpuMs"], 5, "the worker ran during the stall")
        [loop] = [s for s in raw["samples"] if s["thread"] == "loop"]
        self.assertEqual(raw["stacks"][loop["stack"]], [], "the loop's own stack at a beat is the heartbeat")
        self.assertEqual(loop["dump"], w["dump"])

    def test_server_mode_a_thread_reusing_an_ended_ones_ident_gets_its_own_cpu_clock(self):
        """AnyIO's idle workers end and new ones often get the same pthread ident: the ended
        thread's clock then fails, and the new worker's CPU was lost."""
        first_ident, go, spun, done = [], threading.Event(), threading.Event(), threading.Event()
        a = threading.Thread(target=lambda: (first_ident.append(threading.get_ident()), go.wait()), name="AnyIO worker thread")
        a.start()
        sampler = Sampler(PLAN, "server", None)
        sampler.start(time.perf_counter())  # sees A, reads its clock
        try:
            go.set()
            a.join()

            def work():
                end = time.thread_time() + 0.06
                while time.thread_time() < end:  # 60 ms of this thread's CPU, however busy the machine
                    pass
                spun.set()
                done.wait(5)

            b = threading.Thread(target=work, name="AnyIO worker thread")
            b.start()
            if b.ident != first_ident[0]:
                self.skipTest("this libc gave the new thread a new ident")
            self.assertTrue(spun.wait(10))
            sampler._sample_all(time.perf_counter())  # as the beat that ends a stall does
        finally:
            done.set()
            sampler.close()
        (mine,) = [x for x in sampler.samples if x[2] == b.ident]
        self.assertIsNotNone(mine[5], "B's CPU clock was read")
        self.assertGreater(mine[5], 0.03, "B's CPU since it started, not A's clock")

    def test_server_mode_a_pool_worker_between_tasks_is_not_blamed(self):
        """A worker read while it waits for work under a library frame (AnyIO's WorkerThread.run
        → queue.get) held no GIL: its CPU was spent before the read, not by the wait."""
        root = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, root)
        lib = os.path.join(root, "site-packages")
        os.makedirs(lib)
        with open(os.path.join(lib, "fakepool.py"), "w") as f:
            f.write("def run(q):\n    return q.get()\n")
        sys.path.insert(0, lib)
        self.addCleanup(sys.path.remove, lib)
        import fakepool
        q = __import__("queue").Queue()
        waiting = threading.Thread(target=fakepool.run, args=(q,), name="AnyIO worker thread")
        waiting.start()
        self.addCleanup(waiting.join)
        self.addCleanup(q.put, None)
        while not any(f.f_code.co_name == "get" for f in _frames_of(waiting.ident)):
            time.sleep(0.001)
        sampler = Sampler(PLAN, "server", root)
        t0 = time.perf_counter()
        sampler.start(t0)
        sampler._sample_all(time.perf_counter())
        sampler.close()
        self.assertTrue([x for x in sampler.samples if x[2] == waiting.ident], "it was read")
        raw = sampler.raw(t0)
        sampler.release()
        self.assertEqual([s for s in raw["samples"] if s["thread"] == "worker"], [], raw)

    def test_a_failure_stops_sampling_not_the_heartbeat(self):
        sampler = Sampler(PLAN, "thread", None)
        t0 = time.perf_counter()
        sampler.start(t0)
        saved = sys._current_frames
        sys._current_frames = lambda: 1 / 0
        try:
            sampler.on_beat(t0, t0 + 0.05)  # must not raise: it runs in the heartbeat
        finally:
            sys._current_frames = saved
            sampler.close()
        self.assertTrue(sampler.closed)
        with self.assertRaisesRegex(attribution.AttributionError, "sampling stopped during the window"):
            sampler.raw(t0)

    def test_past_the_cap_samples_are_counted_as_dropped(self):
        saved = attribution.MAX_SAMPLES
        attribution.MAX_SAMPLES = 1
        self.addCleanup(setattr, attribution, "MAX_SAMPLES", saved)
        sampler = Sampler(PLAN, "thread", None)
        t0 = time.perf_counter()
        sampler.start(t0)
        sampler.on_beat(t0, t0 + 0.05)
        sampler.on_beat(t0 + 0.05, t0 + 0.1)
        sampler.close()
        raw = sampler.raw(t0)
        self.assertGreaterEqual(raw["droppedSamples"], 1)
        self.assertIn("later stalls were not sampled", " ".join(raw["notes"]))


class InlineSamplerTest(unittest.TestCase):
    """Inline: a sampler thread reads the loop's stack while the loop has not beaten."""

    def test_a_stall_on_the_loop_is_sampled_at_its_line(self):
        here = os.path.dirname(os.path.abspath(__file__))
        sampler = Sampler(PLAN, "inline", here)
        t0 = time.perf_counter()
        sampler.start(t0)
        try:
            prev = time.perf_counter()
            sampler.on_beat(t0, prev)
            spin(0.08)  # an 80 ms stall: several samples
            now = time.perf_counter()
            sampler.on_beat(prev, now)
            stall = ((prev - t0) * 1000.0, (now - t0) * 1000.0)
            time.sleep(0.03)  # healthy (no beats needed: the sampler only reads a loop it saw beat)
        finally:
            sampler.close()
            sampler.release()
        raw = sampler.raw(t0)
        self.assertFalse(sampler._thread.is_alive(), "the sampler thread ends with the window")
        loop = [s for s in raw["samples"] if s["thread"] == "loop"]
        self.assertEqual(len({s["dump"] for s in loop}), len(loop), "one sample per read")
        in_stall = [s for s in loop if stall[0] < s["tMs"] <= stall[1]]
        self.assertGreaterEqual(len(in_stall), 2, raw)
        for s in in_stall:
            inner = _inner(raw, s)
            self.assertEqual((inner["file"], inner["function"], inner["kind"]), ("test_attribution.py", "spin", "user"))

    def test_a_healthy_loop_is_not_sampled(self):
        for _ in range(3):
            sampler = Sampler(PLAN, "inline", None)
            t0 = time.perf_counter()
            sampler.start(t0)
            end, last, widest = t0 + 0.1, t0, 0.0
            while time.perf_counter() < end:
                time.sleep(0.001)  # releases the GIL: the sampler may run, but the loop "beats"
                now = time.perf_counter()
                sampler.on_beat(last, now)
                widest, last = max(widest, now - last), now
            sampler.close()
            sampler.release()
            if widest < PLAN["intervalMs"] / 1000.0 * 0.8:  # the loop did beat on time throughout
                self.assertEqual(sampler.raw(t0)["samples"], [])
                return
        self.skipTest("a 1 ms sleep took %.1f ms on this busy machine (load %.1f): the loop did not beat on time"
                      % (widest * 1000.0, os.getloadavg()[0]))


def _frames_of(ident):
    frame, out = sys._current_frames().get(ident), []
    while frame is not None:
        out.append(frame)
        frame = frame.f_back
    return out


def _tasks():
    return set(os.listdir("/proc/self/task"))


@unittest.skipUnless(os.path.isdir("/proc/self/task"), "counts the watchdog's OS thread in /proc")
class CutWindowTest(unittest.TestCase):
    def test_a_cut_inline_window_leaves_no_sampler_running(self):
        plan = {"target": {"file": __file__, "qualname": "f", "lines": None, "args": "", "workspaceRoot": None},
                "modes": ["inline"], "concurrency": 1, "workers": 1, "switchIntervalS": None, "heartbeatMs": 1,
                "gilProbe": False, "baselineMs": 100, "outputCapBytes": 1024, "callTimeoutS": 0.2,
                "attribution": {"enabled": True, "intervalMs": 10, "rearmMs": 5}}
        sent = []
        ctx = Context(plan, type("Channel", (), {"send": lambda self, m: sent.append(m)})(), threading.Event())
        ctx.begin("inline")
        before = _tasks()

        async def body(w):
            rec = w.new_record(0)
            rec["start"] = time.perf_counter()
            await asyncio.sleep(5)  # never finishes: the call timeout cuts the window

        async def run():
            return await Window(ctx, "inline").measure(body)

        window = asyncio.run(run())
        self.assertEqual(window["status"], "failed")
        self.assertEqual(window["error"]["kind"], "call-timeout")
        self.assertIn("attribution", window)
        # The sampler thread is told to stop and joined briefly: wait for its OS thread to go.
        deadline = time.monotonic() + 2.0
        while _tasks() - before and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertEqual(_tasks() - before, set(), "the sampler thread is still there")


class ManyThreadsCrashTest(unittest.TestCase):
    """faulthandler's watchdog read frames without the GIL and crashed CPython 3.9–3.13 with
    fib(29) on 8 threads (1 run in 6; 3 calls per thread here): sampling must never crash the interpreter."""

    def _run(self):
        plan = {"type": "start", "protocol": protocol.PROTOCOL_VERSION, "plan": {
            "target": {"file": os.path.join(FIXTURES, "python", "attribution", "fib.py"), "qualname": "fib29",
                       "lines": None, "args": "", "workspaceRoot": os.path.join(FIXTURES, "python", "attribution")},
            "modes": ["thread"], "concurrency": 24, "workers": 8, "switchIntervalS": None, "heartbeatMs": 1,
            "gilProbe": False, "baselineMs": 20, "outputCapBytes": 1024, "diagnostic": False, "warmup": False,
            "attribution": dict(PLAN)}}
        r, w = os.pipe()
        proc = subprocess.Popen([sys.executable, os.path.join(SIDECAR, "run_sidecar.py")], pass_fds=(w,),
                                env=dict(os.environ, LOOPLAG_PROTOCOL_FD=str(w), LOOPLAG_NONCE="n0nce"),
                                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        os.close(w)
        proc.stdin.write((json.dumps(plan) + "\n").encode())
        proc.stdin.flush()
        messages = []
        with os.fdopen(r, "rb") as lines:
            for line in lines:
                messages.append(json.loads(line[len(b"n0nce "):]))
                if messages[-1]["type"] in ("done", "error"):
                    break
        # stdin stays open until the sidecar exits: EOF before its exit would make it exit 1.
        try:
            proc.wait(60)
        finally:
            proc.stdin.close()
            stderr = proc.stderr.read().decode(errors="replace")
            proc.stderr.close()
        return proc.returncode, messages, stderr

    def test_fib_on_8_threads_ten_times(self):
        for i in range(10):
            code, messages, stderr = self._run()
            self.assertEqual(code, 0, "run %d: exit %s\n%s" % (i + 1, code, stderr[-2000:]))
            self.assertEqual(messages[-1]["type"], "done", messages[-1])
            [window] = [m["window"] for m in messages if m["type"] == "window" and m["window"]["mode"] == "thread"]
            self.assertEqual(window["status"], "ok")
            self.assertNotIn("error", window["attribution"])


if __name__ == "__main__":
    unittest.main()
