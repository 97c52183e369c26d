"""Where the loop was blocked (issue 13): faulthandler's watchdog as a dead man's switch.

The heartbeat re-arms `faulthandler.dump_traceback_later(T, repeat=True)` every R ms, so
the watchdog (a C thread that never takes the GIL) dumps every thread's stack only once
the loop has missed its beats for T ms (a stall), then every T ms until the loop beats
again. Nothing is dumped while the loop is healthy. Dumps go to a memfd (a temporary
file elsewhere): a pipe would need a reader thread and block the watchdog when full. At
each beat the loop notes the file's offset, so after the window each dump is matched
exactly to the heartbeat gap it fell in. faulthandler does not mark the GIL holder, so
each thread's CPU clock is read at re-arms and at the end of a gap with dumps: the CPU a
worker got over a stall says who held the GIL.
"""
import faulthandler
import os
import sys
import tempfile
import threading
import time

from . import dumps as dumps_mod
from .channel import private_dup
from .frames import Classifier, Interner, cut_at_boundary
from .protocol import RawAttribution

DUMP_CAP_BYTES = 16 * 1024 * 1024  # ~1 MB per stalled second: past this, stalls are counted as dropped
# A cut while the loop is blocked is answered from another thread within the host's grace;
# parsing costs ~0.2 s per MB, so the stall in progress is read up to this much (its first dumps).
OPEN_GAP_READ_BYTES = 512 * 1024
_WORKER_PREFIXES = ("looplag-worker", "looplag-diagnostic")
# The tool's own threads (stdin reader, GIL probe): not what the target does.
_SKIP_PREFIXES = ("looplag-",)
# Above this many threads a dump costs twice as much (threads × frames): the timeout doubles.
MANY_THREADS = 16


class AttributionError(Exception):
    """Sampling failed in this window; the message is what the window's attribution.error says."""


def gil_disabled():
    is_enabled = getattr(sys, "_is_gil_enabled", None)
    return is_enabled is not None and not is_enabled()


def _open_dump_file():
    """(fd, file object to keep open or None): a memfd (memory, Linux) else a temporary
    file, at a high descriptor number, out of the way of user code's fds 3–10 (channel.py)."""
    fd = None
    if hasattr(os, "memfd_create"):
        try:
            fd = os.memfd_create("looplag-dumps", getattr(os, "MFD_CLOEXEC", 0))
        except OSError:
            pass
    if fd is None:
        f = tempfile.TemporaryFile()
        if os.name == "nt":  # deleted on close: keep the object
            return f.fileno(), f
        fd = os.dup(f.fileno())  # already unlinked: lives as long as a descriptor does
        f.close()
    high = private_dup(fd)
    os.close(fd)
    return high, None


def _cpu_clock(ident):
    try:
        clock = time.pthread_getcpuclockid(ident)
        time.clock_gettime(clock)
        return clock
    except (AttributeError, OSError, OverflowError):  # macOS, Windows: no per-thread clocks
        return None


class Sampler:
    """One window's watchdog: armed at `start`, re-armed from `on_beat`, always cancelled
    by `close` (the window's `finally`); `raw` builds RawAttribution from what it wrote."""

    def __init__(self, plan, mode, workspace_root):
        self.mode = mode
        self.timeout_s = self.plan_timeout_s = plan["intervalMs"] / 1000.0
        self.rearm_s = (plan.get("rearmMs") or plan["intervalMs"] / 2.0) / 1000.0
        self.workspace_root = workspace_root
        self.fd = None
        self._file = None
        # Gaps the watchdog wrote in: (t_prev, t_now, offset before, offset after, last arm,
        # {ident: CPU s} at the gap's start and at its end).
        self.gaps = []
        self.dropped_after = None  # offset past the cap: later stalls are counted, not dumped
        self.dropped = 0
        self.closed = False
        self.error = None
        # A cut reads the file from the cancel thread while the window's `finally` may release it.
        self._io = threading.Lock()

    def start(self, now):
        """Before t0, once the window's threads exist: take their clocks and arm."""
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
        if threading.active_count() > MANY_THREADS:
            self.timeout_s = max(self.timeout_s, 2 * self.plan_timeout_s)
        self.clocks = {i: c for i, c in ((i, _cpu_clock(i)) for i in self.roles) if c is not None}
        self.fd, self._file = _open_dump_file()
        self._prev = (now, 0)
        self._cpu_at = self._read_cpu()
        self._arm(now)

    def _read_cpu(self):
        out = {}
        for ident, clock in self.clocks.items():
            try:
                out[ident] = time.clock_gettime(clock)
            except OSError:  # the thread ended
                pass
        return out

    def _arm(self, now):
        faulthandler.dump_traceback_later(self.timeout_s, repeat=True, file=self.fd)
        self.armed_at = now

    def on_beat(self, prev, now):
        """Each heartbeat wake-up (`prev`: the one before): note a gap the watchdog wrote
        in, and re-arm every R ms. Cheap: one lseek, and the clocks only at re-arms and
        after a gap with dumps. Never raises: the heartbeat must go on whatever this does."""
        if self.closed:
            return
        try:
            self._on_beat(prev, now)
        except Exception as e:  # noqa: BLE001 - e.g. user code closed the dump file's descriptor
            self.close()
            self.error = "sampling stopped during the window: %s: %s" % (type(e).__name__, e)

    def _on_beat(self, prev, now):
        off = os.lseek(self.fd, 0, os.SEEK_CUR)
        dumped = off != self._prev[1]
        if dumped:
            cpu = self._read_cpu()
            self.gaps.append((prev, now, self._prev[1], off, self.armed_at, self._cpu_at, cpu))
            self._cpu_at = cpu
            if off > DUMP_CAP_BYTES:
                faulthandler.cancel_dump_traceback_later()
                self.dropped_after = off
        elif self.dropped_after is not None:
            self.dropped += int((now - prev) / self.timeout_s)
        self._prev = (now, off)
        if self.dropped_after is None and now - self.armed_at >= self.rearm_s:
            if not dumped:
                self._cpu_at = self._read_cpu()
            self._arm(now)

    def close(self):
        """Cancel the watchdog (idempotent; the window's `finally`, also on cuts): left
        armed it would dump into whatever file later takes this descriptor's number."""
        if not self.closed:
            self.closed = True
            cancel = getattr(faulthandler, "cancel_dump_traceback_later", None)  # absent where start failed for it
            if cancel is not None:
                cancel()

    def raw(self, t0, open_gap_at=None) -> RawAttribution:
        """What the window sends. `open_gap_at`: a cut while the loop was blocked; dumps
        after the last beat belong to the gap still open (the stall in progress)."""
        with self._io:
            if self.fd is None:
                raise AttributionError("the dump file was already closed")
            return self._raw(t0, open_gap_at)

    def release(self):
        """Close the dump file (after `close`: the watchdog must not write to a reused number)."""
        with self._io:
            self._release()

    def _release(self):
        if self.fd is not None:
            try:
                if self._file is not None:
                    self._file.close()
                else:
                    os.close(self.fd)
            except OSError:  # user code closed it already
                pass
            self.fd = None

    def _read(self, end):
        pread = getattr(os, "pread", None)
        if pread is None:
            # Windows: reading moves the offset the heartbeat reads, so only once the watchdog is off.
            if not self.closed:
                raise AttributionError("the dump file cannot be read during the window on this platform")
            pread = lambda fd, n, at: (os.lseek(fd, at, os.SEEK_SET), os.read(fd, n))[1]  # noqa: E731
        chunks, at = [], 0
        while at < end:
            chunk = pread(self.fd, min(1 << 20, end - at), at)
            if not chunk:
                break
            chunks.append(chunk)
            at += len(chunk)
        return b"".join(chunks)

    def _raw(self, t0, open_gap_at):
        if self.error:
            raise AttributionError(self.error)
        gaps = list(self.gaps)
        # Dumps after the last beat belong to no gap unless a cut left one open; a stall has
        # no heartbeat to stop the watchdog at the cap, so that open gap is read only so far.
        size = os.fstat(self.fd).st_size
        end = max([g[3] for g in gaps], default=0)
        notes = []
        if open_gap_at is not None and size > self._prev[1]:
            open_end = min(size, self._prev[1] + OPEN_GAP_READ_BYTES)
            if size > open_end:
                notes.append("the stall in progress at the cut was read up to %d KB of dumps (its first ones)"
                             % (OPEN_GAP_READ_BYTES >> 10))
            end = open_end
            gaps.append((self._prev[0], open_gap_at, self._prev[1], end, self.armed_at, self._cpu_at, self._read_cpu()))
        interner = Interner(Classifier(self.workspace_root))
        samples = []
        parsed = dumps_mod.parse(self._read(end)) if gaps else []
        di = dump_id = 0
        for (t_prev, t_now, o0, o1, armed, cpu0, cpu1) in gaps:
            inside = []
            while di < len(parsed) and parsed[di].offset < o1:
                if parsed[di].offset >= o0:
                    inside.append(parsed[di])
                di += 1
            for j, dump in enumerate(inside):
                # The watchdog fires T after the last arm, then every T: clamped into the gap,
                # so the host matches the sample to this gap's lag sample.
                t = min(t_now, max(t_prev + 1e-6, armed + self.timeout_s * (j + 1)))
                self._samples(dump, (t - t0) * 1000.0, dump_id, cpu0, cpu1, len(inside), interner, samples, notes)
                dump_id += 1
        raw: RawAttribution = {"method": "faulthandler", "intervalMs": self.timeout_s * 1000.0,
                               "frames": interner.frames, "stacks": interner.stacks, "samples": samples}
        if self.timeout_s != self.plan_timeout_s:
            notes.append("more than %d threads: sampled every %g ms (a dump costs more with each thread)"
                         % (MANY_THREADS, self.timeout_s * 1000.0))
        if self.dropped:
            raw["droppedSamples"] = self.dropped
            notes.append("the dump file passed %d MB: later stalls were not sampled" % (DUMP_CAP_BYTES >> 20))
        if not self.clocks and any(s["thread"] != "loop" for s in samples):
            notes.append("no per-thread CPU clocks on this platform: a stall is split equally between the threads seen")
        if notes:
            raw["notes"] = sorted(set(notes))
        return raw

    def _samples(self, dump, t_ms, dump_id, cpu0, cpu1, n_dumps, interner, samples, notes):
        for thread in dump.threads:
            role = self.roles.get(thread.ident, "other")
            frames, in_call = cut_at_boundary(thread.frames, interner.classifier)
            if role not in ("loop", "pool-manager") and not in_call and not any(
                    interner.classifier.classify(f.file)[0] in ("user", "library") for f in frames):
                continue  # an idle worker, a thread of the tool's: not what blocked the loop
            if thread.truncated:
                notes.append("a stack deeper than 100 frames was cut by faulthandler: its outer frames are missing")
            cpu = None
            if thread.ident in cpu0 and thread.ident in cpu1:
                cpu = round((cpu1[thread.ident] - cpu0[thread.ident]) * 1000.0 / n_dumps, 3)
            samples.append({"tMs": round(t_ms, 4), "dump": dump_id, "thread": role,
                            "stack": interner.stack(frames), "cpuMs": cpu})
