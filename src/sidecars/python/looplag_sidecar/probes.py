"""Probes that run during every measured window.

All times come from time.perf_counter(), which is system-wide monotonic on Linux
(CLOCK_MONOTONIC), macOS and Windows, so process-pool children share the clock. The
sidecar's own reference to it (see clock.py): user code may patch the time module.
"""
import asyncio
import collections
import os
import threading

from .clock import perf_counter, sleep


class Heartbeat:
    """A `loop.call_later` callback that re-arms itself every `interval_s` and records
    `(wake time, lag)`.

    The lag of a wake-up is the gap since the previous one minus the interval, so a
    stall is one sample as long as the stall (never a lost sample, the flaw of
    histograms that only sample when the timer fires on time). `stop()` waits for
    one more wake-up after the request, so a stall that ends with the last task is
    still counted.

    A plain timer callback, not a task sleeping in `asyncio.sleep`: a sleeping task
    wakes in two loop iterations (the timer resolves a future, the task's step runs in
    the next one), and under GIL contention each iteration waits for the GIL again
    after its select(), so the probe itself would roughly double the lag it reports.
    """

    def __init__(self, interval_s):
        self.interval_s = interval_s
        self.samples = []
        self._stop_at = None
        self._last = None
        self._loop = None
        self._handle = None
        self._stopped = None
        # Called with (previous wake-up, this one) at each beat: attribution samples the stall it ends.
        self.on_beat = None

    def start(self, since=None):
        # The first gap is timed from here: work the window starts (a pool thread that
        # takes the GIL as soon as it is handed a call) can block the loop before the
        # first wake-up, and that block is lag too. `since`: an earlier start of the window
        # (service mode's t0, taken off the loop while a handler may be blocking it).
        self._loop = asyncio.get_running_loop()
        self._stopped = self._loop.create_future()
        self._last = perf_counter() if since is None else since
        self._handle = self._loop.call_later(self.interval_s, self._beat)

    def _beat(self):
        now = perf_counter()
        lag = now - self._last - self.interval_s
        self.samples.append((now, lag if lag > 0.0 else 0.0))
        if self.on_beat is not None:
            # Its time stays in the next gap: were the sampler to release the GIL, a worker that
            # took it then would stall the loop for real.
            self.on_beat(self._last, now)
        self._last = now
        if self._stop_at is not None and now >= self._stop_at:
            if not self._stopped.done():
                self._stopped.set_result(None)
            return
        self._handle = self._loop.call_later(self.interval_s, self._beat)

    @property
    def last_beat(self):
        """When the loop last ran the heartbeat (None before start): a gap open since then
        is a stall in progress."""
        return self._last

    async def stop(self):
        self._stop_at = perf_counter()
        await self._stopped

    def cancel(self):
        if self._handle is not None:
            self._handle.cancel()
        if self._stopped is not None and not self._stopped.done():
            self._stopped.cancel()


class GilProbe:
    """A thread that sleeps briefly (releasing the GIL) and times how long it takes
    to get the GIL back: the wait any thread, the loop's included, pays to run.

    It competes for the GIL like any thread, so it perturbs the workers slightly;
    it can be switched off and the report says whether it ran.
    """

    def __init__(self, sleep_s):
        self.sleep_s = sleep_s
        self.waits = []
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="looplag-gil-probe", daemon=True)

    def start(self):
        self._thread.start()

    def _run(self):
        sleep_s, waits = self.sleep_s, self.waits
        while not self._stop:
            t0 = perf_counter()
            sleep(sleep_s)
            t1 = perf_counter()  # runs only once this thread holds the GIL again
            wait = t1 - t0 - sleep_s
            waits.append((t1, wait if wait > 0.0 else 0.0))

    def stop(self):
        """Ask the thread to end without joining: joining would need the GIL from a
        thread that may be stuck behind a native call; a daemon thread is harmless."""
        self._stop = True

    def join(self, timeout_s):
        """Wait (briefly) for the thread to end, so it cannot spill into the next window."""
        self._thread.join(timeout_s)


def _read_proc_stat():
    """Busy CPU seconds of the whole machine since boot (Linux), or None."""
    try:
        with open("/proc/stat", "rb") as f:
            fields = f.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != b"cpu":
        return None
    values = [int(v) for v in fields[1:]]
    # user nice system idle iowait irq softirq steal [guest guest_nice, already in user/nice]
    busy = sum(values[:3]) + sum(values[5:8])
    return busy / os.sysconf("SC_CLK_TCK")


try:
    import resource

    def cpu_times():
        """(user, system) CPU seconds of this process, to the microsecond (getrusage)."""
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime, r.ru_stime
except ImportError:  # Windows: os.times() is what there is
    def cpu_times():
        t = os.times()
        return t.user, t.system


# The editor's root process (the extension host's top-most ancestor running the same
# program), from the host: its processes' CPU is ours, not background load.
EDITOR_PID_ENV = "LOOPLAG_EDITOR_PID"


def _exe_of(pid):
    """The program a process runs (/proc/PID/exe); None when it cannot be read."""
    try:
        return os.readlink("/proc/%d/exe" % pid)
    except OSError:
        return None


def _stat_of(pid):
    """(ppid, user+system ticks) of a process from /proc/PID/stat; None once it ended."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read()
        # After "pid (comm) ": state ppid … utime stime are fields 3, 4, 14 and 15; comm may hold spaces and parentheses.
        rest = data[data.rfind(b")") + 2:].split()
        return int(rest[1]), int(rest[11]) + int(rest[12])
    except (OSError, IndexError, ValueError):
        return None


def _tree_cpu_ticks(root_pid, skip_pid):
    """{pid: user+system clock ticks} of the live processes under `root_pid` (itself
    included) that run the root's program, through such processes only, and not under
    `skip_pid` (this sidecar and its pool), from /proc; None when /proc cannot tell (not
    Linux, or the root is gone)."""
    parents, ticks = {}, {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return None
    for name in names:
        if not name.isdigit():
            continue
        stat = _stat_of(int(name))
        if stat is None:  # ended meanwhile
            continue
        parents[int(name)], ticks[int(name)] = stat
    if root_pid not in parents:
        return None
    children = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    found, stack = {}, [root_pid]
    root_exe = _exe_of(root_pid)
    while stack:
        pid = stack.pop()
        if pid == skip_pid:
            continue
        # The editor's own processes run its program (VS Code's renderers, GPU process and
        # extension hosts; code-server's node). A shell in its terminal, and whatever runs
        # there (builds, dev servers, load generators), is the user's load: not followed.
        if pid != root_pid and (root_exe is None or _exe_of(pid) != root_exe):
            continue
        found[pid] = ticks[pid]
        stack.extend(children.get(pid, ()))
    return found


class EditorCpu:
    """The editor's processes (Linux, when the host names its root), found once: walking
    /proc takes a few ms, so it happens outside a window's probes. Their CPU ticks are then
    read at any moment (a file each: cheap enough at a window's first and last instant). A
    process started after the walk is not followed; one that ends is not counted (its ticks
    are gone with it)."""

    def __init__(self, root_pid):
        found = _tree_cpu_ticks(root_pid, os.getpid()) if root_pid else None
        self.pids = list(found or ())

    def read(self):
        """{pid: ticks} of the known processes now."""
        stats = ((pid, _stat_of(pid)) for pid in self.pids)
        return {pid: stat[1] for pid, stat in stats if stat is not None}

    @staticmethod
    def used_s(start, end):
        """CPU seconds between two readings, of the processes alive at both."""
        return sum(max(0, t - start[pid]) for pid, t in end.items() if pid in start) / os.sysconf("SC_CLK_TCK")


def editor_pid_from_env():
    value = os.environ.get(EDITOR_PID_ENV, "")
    return int(value) if value.isdigit() else None


# Before each window: slices of 50 ms (10 clock ticks on 2 cores), quiet under 15% (one
# tick of noise passes, a redraw's two or more do not), waiting about 0.5 s at most.
QUIET_SLICE_S = 0.05
QUIET_FRAC = 0.15
QUIET_MAX_S = 0.5


# One CpuMeter reading: perf_counter s, this process's (user, system) s, the machine's busy
# s (None where /proc/stat cannot tell), the editor's known processes' {pid: ticks}.
_Reading = collections.namedtuple("_Reading", "at times machine editor")


def _others_s(a, b, children_s=0.0):
    """Other processes' CPU seconds between two readings: the machine's busy time less this
    process's, its pool children's and the editor's; None where /proc/stat cannot tell."""
    if a.machine is None or b.machine is None:
        return None
    own = (b.times[0] - a.times[0]) + (b.times[1] - a.times[1])
    return (b.machine - a.machine) - own - children_s - EditorCpu.used_s(a.editor, b.editor)


class CpuMeter:
    """This process's CPU time over a window, and the machine's load from others (not
    the editor's processes when `editor_pid` names their root). Finding the editor's
    processes walks /proc (a few ms), so it happens at construction, outside the probes;
    start() and stop() take only cheap readings (this process's CPU, /proc/stat, the
    editor's known processes) at the window's first and last instant, and the load is
    judged over that span. Without a start(), construction opens it."""

    def __init__(self, editor_pid=None):
        self.editor = EditorCpu(editor_pid)
        self.end = None
        self.start()

    def _read(self):
        return _Reading(perf_counter(), cpu_times(), _read_proc_stat(), self.editor.read())

    async def quiet_start(self, cpu_count, slice_s=QUIET_SLICE_S, max_s=QUIET_MAX_S):
        """Waits, up to max_s, for a slice in which other processes used under
        QUIET_FRAC of the machine: a window starts after a burst (the editor redrawing
        the last mode's result), not in it. A machine busy throughout is measured as it
        is, after max_s. Returns the seconds waited."""
        first = perf_counter()
        while True:
            a = self._read()
            if a.machine is None:
                return 0.0
            await asyncio.sleep(slice_s)
            b = self._read()
            others = _others_s(a, b)
            if others is None:
                return b.at - first
            # One clock tick of noise passes on any machine (on one core 15% is under a tick).
            if others <= max(QUIET_FRAC * (b.at - a.at) * max(1, cpu_count), 1.0 / os.sysconf("SC_CLK_TCK")) \
                    or b.at - first >= max_s:
                return b.at - first

    def start(self):
        """The window opens: its span starts now."""
        self.begin = self._read()

    def stop(self):
        """The window closed: its span ends now (the first call only, from whichever thread)."""
        if self.end is None:
            self.end = self._read()

    def finish(self, children_cpu_s=0.0, cpu_count=1):
        """The span's CPU seconds (user, system) and background share (None when unknown)."""
        self.stop()
        a, b = self.begin, self.end
        user = b.times[0] - a.times[0]
        system = b.times[1] - a.times[1]
        span_s = b.at - a.at
        background = None
        # /proc/stat counts in clock ticks (10 ms): under ~20 ticks of machine capacity
        # the figure is mostly rounding, so it is reported as unknown rather than as load.
        enough = span_s * max(1, cpu_count) * os.sysconf("SC_CLK_TCK") >= 20
        others = _others_s(a, b, children_cpu_s)
        if others is not None and span_s > 0 and enough:
            background = min(1.0, max(0.0, others / (span_s * max(1, cpu_count))))
        return user, system, background
