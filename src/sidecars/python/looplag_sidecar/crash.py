"""Why a pool process died, in words: the Python mirror of src/shared/crashCause.ts
(same phrases; the host words a whole sidecar's crash with that module).

A SIGKILL is told apart from the kernel's out-of-memory killer by evidence: the OOM-kill
counters (/proc/vmstat, the memory cgroup's) read before the pool started and after it broke.
"""
import re
import signal

_OOM_LINE = re.compile(r"^oom_kill (\d+)$", re.M)

_ASKED = "sent by user code (os.kill, process.kill) or another process: Loop Lag sends none while measuring"
SIGNAL_PHRASES = {
    "SIGSEGV": "killed by SIGSEGV, a segmentation fault: an invalid memory access in native code "
               "(a C extension, ctypes, a native addon, or the runtime itself)",
    "SIGBUS": "killed by SIGBUS, a bus error: an invalid memory access in native code "
              "(e.g. a memory-mapped file that shrank)",
    "SIGILL": "killed by SIGILL, an illegal instruction in native code",
    "SIGFPE": "killed by SIGFPE, an arithmetic fault in native code",
    "SIGABRT": "aborted (SIGABRT): abort() was called, by user code (os.abort(), process.abort()), "
               "by native code, or by the runtime on a fatal error",
    "SIGTERM": "stopped by SIGTERM, " + _ASKED,
    "SIGINT": "stopped by SIGINT, " + _ASKED,
    "SIGHUP": "stopped by SIGHUP, " + _ASKED,
    "SIGQUIT": "stopped by SIGQUIT, " + _ASKED,
}


def _read(path):
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return None


def read_oom_kills():
    """[(source, kills)] for the counters this process can read (see engine/oomKills.ts)."""
    counts = []

    def add(source, text):
        m = _OOM_LINE.search(text or "")
        if m:
            counts.append((source, int(m.group(1))))

    add("/proc/vmstat", _read("/proc/vmstat"))
    cgroups = _read("/proc/self/cgroup") or ""
    v2 = re.search(r"^0::(\S*)$", cgroups, re.M)
    v1 = re.search(r"^\d+:(?:[^:]*,)?memory(?:,[^:]*)?:(\S*)$", cgroups, re.M)
    candidates = []
    if v2:
        candidates.append("/sys/fs/cgroup%s/memory.events" % ("" if v2.group(1) == "/" else v2.group(1)))
    if v1:
        candidates += ["/sys/fs/cgroup/memory%s/memory.oom_control" % ("" if v1.group(1) == "/" else v1.group(1)),
                       "/sys/fs/cgroup/memory/memory.oom_control"]
    for path in candidates:
        text = _read(path)
        if text and _OOM_LINE.search(text):
            add(path, text)
            break
    return counts


def oom_evidence(before, after):
    """(source, before, after): the counter that moved, else the first; None when none is readable."""
    now = dict(after)
    pairs = [(source, kills, now[source]) for source, kills in before if source in now]
    moved = [p for p in pairs if p[2] > p[1]]
    return (moved or pairs or [None])[0]


def describe_exit(code, oom):
    """A process's fate from its exit code (negative: killed by that signal), to follow its name."""
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = "signal %d" % -code
        if name == "SIGKILL":
            if oom is None:
                return ("was killed by SIGKILL, from another process, itself, or the kernel's out-of-memory "
                        "killer (Loop Lag cannot tell which on this platform)")
            source, before, after = oom
            if after > before:
                return ("was killed by the kernel's out-of-memory killer (SIGKILL; %s oom_kill went from %d to %d "
                        "while it ran): it used more memory than the system or its memory cgroup allows"
                        % (source, before, after))
            return ("was killed by SIGKILL from another process or itself, not by the kernel's out-of-memory "
                    "killer (%s oom_kill unchanged)" % source)
        return "was %s" % SIGNAL_PHRASES.get(name, "killed by %s, sent by user code or another process" % name)
    return "exited with code %s (user code may have called os._exit(%s))" % (code, code)
