"""Where the loop was blocked (issue 13): stacks read with `sys._current_frames()`, always
with the GIL held.

faulthandler's watchdog reads frames without the GIL and crashes CPython 3.9–3.13 when
the threads it dumps are running Python (research/faulthandler_segv.py), so frames are
only read by a thread that holds the GIL:

* Thread and pool modes: the heartbeat callback (on the loop, GIL held) that ends a stall
  (lag ≥ the plan's interval) reads every thread's stack. The thread that held the GIL is
  usually still at the line of the call that just released it. Each thread's CPU clock over
  the gap says who held the GIL. Nothing is read while the loop beats on time.
* Inline mode (the loop runs the user's code itself, so it cannot sample at the end of its
  own stall): a daemon thread wakes every interval and, when the loop has not beaten for
  that long, reads the loop's stack. It gets the GIL at the switch interval during pure
  Python; during a native call that holds the GIL it waits and samples once it gets it.
* Server mode (service mode's harness, looplag_sidecar/serve): both. A stall may be an
  `async def` handler on the loop or a sync one in a worker thread holding the GIL (AnyIO's
  `AnyIO worker thread`s, or any thread that is not the tool's, created whenever the app
  wants one). The sampler thread reads the loop's stack as inline (kept only when the loop
  was in the user's code: else the loop was waiting for a worker), and the beat that ends a
  stall reads every thread's, as thread mode; threads and their CPU clocks are looked up at
  each beat's read. The thread never takes a lock the loop waits on: reading every thread
  from it, under a lock the beat shared, made a pure-Python `def` endpoint's stalls 3–10×
  longer than with attribution off.

Samples carry `tMs` on the heartbeat's clock inside the gap they describe, so the host
matches them to that gap's lag sample as before.
"""
import itertools
import sys
import threading
import time

from .clock import perf_counter
from .frames import Classifier, Frame, Interner, cut_at_boundary
from .protocol import RawAttribution

METHOD = "current-frames"
MAX_SAMPLES = 50_000  # stack samples kept per window (one per thread per stall): past this, counted as dropped
MAX_WALK = 256  # frames read per stack, innermost first (the report keeps 24 below the call boundary)
_WORKER_PREFIXES = ("looplag-worker", "looplag-diagnostic")
# The tool's own threads (stdin reader, GIL probe, this sampler): not what the target does.
_SKIP_PREFIXES = ("looplag-",)


class AttributionError(Exception):
    """Sampling failed in this window; the message is what the window's attribution.error says."""


def gil_disabled():
    is_enabled = getattr(sys, "_is_gil_enabled", None)
    return is_enabled is not None and not is_enabled()


def _cpu_clock(ident):
    try:
        clock = time.pthread_getcpuclockid(ident)
        time.clock_gettime(clock)
        return clock
    except (AttributeError, OSError, OverflowError):  # macOS, Windows: no per-thread clocks
        return None


# Where a pool's worker is read when it is between tasks: waiting for work (a Condition, a
# Queue) or waking the loop with its result (call_soon_threadsafe's self-pipe write).
_WAITS = {("threading.py", "wait"), ("queue.py", "get"), ("threading.py", "_wait_for_tstate_lock"),
          ("asyncio/selector_events.py", "_write_to_self")}


def _waiting(frame, classifier):
    """The innermost frame is the stdlib between tasks (_WAITS)."""
    kind, name, _ = classifier.classify(frame.file)
    return kind == "stdlib" and (name, frame.function) in _WAITS


def _walk(frame):
    """(file, line, function) of `frame` and its callers, innermost first, read at once (no
    frame object is kept: that would keep the user's locals alive)."""
    out = []
    while frame is not None and len(out) < MAX_WALK:
        code = frame.f_code
        out.append(Frame(code.co_filename, frame.f_lineno, code.co_name))
        frame = frame.f_back
    return tuple(out), frame is not None


class Sampler:
    """One window's sampling: `start` before t0, `on_beat` from each heartbeat, `close`
    in the window's `finally` (also on cuts); `raw` builds RawAttribution."""

    def __init__(self, plan, mode, workspace_root, heartbeat_s=0.0):
        self.mode = mode
        self.interval_s = plan["intervalMs"] / 1000.0
        # How often the CPU clocks are read while the loop is healthy (the gap's start values).
        self.clock_every_s = (plan.get("rearmMs") or plan["intervalMs"] / 2.0) / 1000.0
        self.heartbeat_s = heartbeat_s
        self.workspace_root = workspace_root
        # (t, sample id, ident, stack (Frame tuple), truncated, CPU s or None)
        self.samples = []
        self._stacks = {}  # one tuple per distinct stack
        self.dropped = 0
        self.closed = False
        self.error = None
        self._thread = None
        self._stop = threading.Event()
        # next() on a count is one step under the GIL: server mode's two samplers share it.
        self._ids = itertools.count()
        self._last_beat = None
        self._natives = {}  # server mode: ident → native thread id, to tell a reused ident
        self._fresh, self._fresh_read = set(), set()

    def start(self, now):
        """Before t0, once the window's threads exist: their roles and CPU clocks."""
        self.loop_ident = threading.get_ident()
        self.roles = {}
        for t in threading.enumerate():
            if t.ident is None:
                continue
            if t.ident == self.loop_ident:
                self.roles[t.ident] = "loop"
            elif t.name.startswith(_WORKER_PREFIXES):
                self.roles[t.ident] = "worker"
            elif t.name.startswith(_SKIP_PREFIXES):
                continue
            elif self.mode in ("process", "interpreter"):
                self.roles[t.ident] = "pool-manager"
        self.clocks = {i: c for i, c in ((i, _cpu_clock(i)) for i in self.roles) if c is not None}
        self._refresh_threads()
        self._last_beat = now
        self._cpu_at = (now, self._read_cpu())
        if self.mode in ("inline", "server"):
            thread = threading.Thread(target=self._run_inline, name="looplag-attribution", daemon=True)
            thread.start()  # may raise (a thread limit): then there is no thread to join
            self._thread = thread

    @property
    def samples_at_beats(self):
        """Thread, pool and server modes sample at the beat that ends a stall; inline has its
        thread (server mode too); the baseline has no target to sample."""
        return self.mode not in ("inline", "baseline")

    def _refresh_threads(self):
        """Server mode: every thread that is not the tool's is a possible GIL holder (a worker),
        whenever it was started; its CPU clock joins the others."""
        if self.mode != "server":
            return
        for t in threading.enumerate():
            if t.ident is None or t.name.startswith(_SKIP_PREFIXES) or self.roles.get(t.ident) == "loop":
                continue
            native = getattr(t, "native_id", None)
            if t.ident in self.roles and self._natives.get(t.ident) == native:
                continue
            # New, or a new thread with an ended one's ident (pthread idents are reused, e.g.
            # by AnyIO's workers, which end after 10 s idle): its own clock, counted from zero.
            self.roles[t.ident] = "worker"
            self._natives[t.ident] = native
            self._fresh.add(t.ident)
            clock = _cpu_clock(t.ident)
            if clock is not None:
                self.clocks[t.ident] = clock
            else:
                self.clocks.pop(t.ident, None)

    def _read_cpu(self):
        self._fresh = set()
        self._refresh_threads()
        self._fresh_read = self._fresh  # (re)registered by this read: no earlier reading is theirs
        out = {}
        for ident, clock in self.clocks.items():
            try:
                out[ident] = time.clock_gettime(clock)
            except OSError:  # the thread ended
                pass
        return out

    def on_beat(self, prev, now):
        """Each heartbeat wake-up (`prev`: the one before), on the loop with the GIL held.
        Never raises: the heartbeat must go on whatever this does."""
        if self.closed:
            return
        self._last_beat = now
        if not self.samples_at_beats:
            return
        try:
            if now - prev - self.heartbeat_s >= self.interval_s:
                self._sample_all(now)
            elif now - self._cpu_at[0] >= self.clock_every_s:
                self._cpu_at = (now, self._read_cpu())
        except Exception as e:  # noqa: BLE001 - sampling stops, the measurement goes on
            self.close()
            self.error = "sampling stopped during the window: %s: %s" % (type(e).__name__, e)

    def _sample_all(self, t, keep_clocks=False):
        """Every thread's stack now, with the CPU each got since the clocks were last read."""
        frames = sys._current_frames()
        cpu = self._read_cpu()
        cpu0 = self._cpu_at[1]
        if not keep_clocks:
            self._cpu_at = (t, cpu)
        if self.mode == "server":
            # A worker started since the clocks were last read had used none of its CPU then.
            cpu0 = {**{i: 0.0 for i in cpu}, **{i: c for i, c in cpu0.items() if i not in self._fresh_read}}
        me = threading.get_ident()
        tools = self._tool_idents()
        read = []
        for ident, frame in frames.items():
            if ident == me and ident != self.loop_ident:
                continue  # the cancel thread answering a cut
            if ident not in self.roles and ident in tools:
                continue
            # The loop's own stack at a beat is the heartbeat: only its CPU counts.
            stack, truncated = _walk(frame) if ident != me else ((), False)
            c = cpu[ident] - cpu0[ident] if ident in cpu and ident in cpu0 else None
            read.append((ident, stack, truncated, c))
        del frames
        sid = next(self._ids)
        for ident, stack, truncated, c in read:
            self._add(t, sid, ident, stack, truncated, c)

    def _tool_idents(self):
        return {t.ident for t in threading.enumerate() if t.name.startswith(_SKIP_PREFIXES)}

    def _add(self, t, sid, ident, stack, truncated, cpu_s):
        if len(self.samples) >= MAX_SAMPLES:
            self.dropped += 1
            return
        stack = self._stacks.setdefault(stack, stack)
        self.samples.append((t, sid, ident, stack, truncated, cpu_s))

    def _run_inline(self):
        """The inline sampler: every interval, if the loop has not beaten for that long, its
        stack. A native call holding the GIL delays the read until it returns; the stack then
        still shows the call's line, and stands for each interval the read was late by, so
        every sample stands for about one interval (the host spreads a stall over its samples)."""
        try:
            self._sample_inline()
        except Exception as e:  # noqa: BLE001 - the window stands without it, and says why
            self.error = "inline sampling stopped: %s: %s" % (type(e).__name__, e)

    def _sample_inline(self):
        interval, loop_ident, stop = self.interval_s, self.loop_ident, self._stop
        # A fixed schedule: a read the GIL delays by a switch interval (~5 ms in pure Python)
        # stands for the scheduled reads it passed, not for the time since the last one
        # (which counted pure-Python lines about a third too often).
        due = perf_counter() + interval
        while True:
            if stop.wait(max(0.0, due - perf_counter())):
                return
            now = perf_counter()  # this thread holds the GIL again here
            ticks = int((now - due) / interval) + 1  # scheduled reads passed, this one included
            due += ticks * interval
            last = self._last_beat
            if last is None or now - last < interval:
                continue
            frame = sys._current_frames().get(loop_ident)
            if frame is None:
                continue
            stack, truncated = _walk(frame)
            del frame
            # Read now: a free-threaded build stops the world for the read, which waits for
            # a native call to return, as a GIL build waits for the GIL before it.
            t = perf_counter()
            if self._last_beat != last:
                continue  # the loop beat in between: this stack belongs to no stall
            # The scheduled reads this one stands for, all inside this stall (after `last`).
            n = max(1, min(ticks, int((t - last) / interval)))
            for j in range(n - 1, -1, -1):
                self._add(t - j * interval, next(self._ids), loop_ident, stack, truncated, None)

    def close(self):
        """Stop sampling (idempotent; the window's `finally`, also on cuts). The inline
        thread is told to stop, not joined: it may be waiting for the GIL."""
        if not self.closed:
            self.closed = True
            self._stop.set()

    def release(self):
        """Wait briefly for the inline thread (it must not spill into the next window)."""
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(0.2)

    def raw(self, t0, open_gap_at=None) -> RawAttribution:
        """What the window sends. `open_gap_at`: a cut while the loop was blocked; the stall
        in progress is sampled now (from the cancel thread, which holds the GIL)."""
        if self.error:
            raise AttributionError(self.error)
        if open_gap_at is not None and self.samples_at_beats and not self.closed:
            self._sample_all(open_gap_at, keep_clocks=True)
        samples_in = list(self.samples)
        if open_gap_at is not None:
            samples_in = [s for s in samples_in if s[0] <= open_gap_at]
        interner = Interner(Classifier(self.workspace_root))
        samples, notes = [], []
        for (t, sid, ident, stack, truncated, cpu_s) in samples_in:
            role = self.roles.get(ident, "worker" if self.mode == "server" else "other")
            frames, in_call = cut_at_boundary(list(stack), interner.classifier)
            if role not in ("loop", "pool-manager") and not in_call and not any(
                    interner.classifier.classify(f.file)[0] in ("user", "library") for f in frames):
                continue  # an idle worker, a thread of the tool's: not what blocked the loop
            if role == "worker" and stack and _waiting(stack[0], interner.classifier):
                # Between tasks when read (AnyIO's workers wait under a library frame): it
                # held no GIL then; its CPU was spent before the read, on lines no
                # longer on its stack (README, Limits: the end-of-stall bias). Unattributed
                # rather than blamed on the wait.
                continue
            if self.mode == "server" and role == "loop" and stack and not any(
                    interner.classifier.classify(f.file)[0] == "user" for f in frames):
                continue  # the thread's read of a loop waiting for a worker: the beat's read explains it
            if truncated and not in_call:
                notes.append("a stack deeper than %d frames was read only in part: its outer frames are missing" % MAX_WALK)
            samples.append({"tMs": round((t - t0) * 1000.0, 4), "dump": sid, "thread": role,
                            "stack": interner.stack(frames),
                            "cpuMs": None if cpu_s is None else round(cpu_s * 1000.0, 3)})
        raw: RawAttribution = {"method": METHOD, "intervalMs": self.interval_s * 1000.0,
                               "frames": interner.frames, "stacks": interner.stacks, "samples": samples}
        if self.dropped:
            raw["droppedSamples"] = self.dropped
            notes.append("more than %d stack samples: later stalls were not sampled" % MAX_SAMPLES)
        if not self.clocks and any(s["thread"] != "loop" for s in samples):
            notes.append("no per-thread CPU clocks on this platform: a stall is split equally between the threads seen")
        if notes:
            raw["notes"] = sorted(set(notes))
        return raw
