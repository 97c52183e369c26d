"""Whose a sampled frame is (user, library, stdlib, runtime, tool), how it is named, and
the frames and stacks of a window interned for RawAttribution.

The sidecar decides the kind since it knows the real paths. A library is checked first,
so a virtualenv inside the workspace is still a library; the user's files are the ones
under the workspace root; the tool is this package and run_sidecar.py.
"""
import linecache
import os
import site
import sys
import sysconfig
from typing import Dict, List, NamedTuple, Optional, Tuple


class Frame(NamedTuple):
    file: str
    line: Optional[int]
    function: str


MAX_FRAMES = 24  # per stack, innermost first (as in the report's stacks)
SOURCE_CHARS = 200
_TOOL_DIR = os.path.dirname(os.path.realpath(__file__))
# The tool's functions a call of the target runs under: a stack is cut there.
CALL_BOUNDARY = frozenset(("call_on_loop", "thread_call", "run_call", "child_call"))


def _dirs(paths):
    out = []
    for p in paths:
        if p:
            real = os.path.realpath(p)
            if real not in out:
                out.append(real.rstrip(os.sep) + os.sep)
    return tuple(out)


def _library_dirs():
    paths = [sysconfig.get_paths().get("purelib"), sysconfig.get_paths().get("platlib")]
    try:
        paths += site.getsitepackages()
    except AttributeError:  # a virtualenv's old site.py
        pass
    try:
        paths.append(site.getusersitepackages())
    except AttributeError:
        pass
    return _dirs(paths)


def _stdlib_dirs():
    # os.py's folder too: a free-threaded build's sysconfig names lib/python3.13, its stdlib is lib/python3.13t.
    paths = [os.path.dirname(os.__file__), sysconfig.get_paths().get("stdlib"), sysconfig.get_paths().get("platstdlib")]
    return _dirs(paths)


class Classifier:
    """A file's kind and the name the report shows for it (workspace-relative for the
    user's, package-relative for a library's, stdlib-relative for the standard library's)."""

    def __init__(self, workspace_root):
        self.workspace = _dirs([workspace_root]) if workspace_root else ()
        self.libraries = _library_dirs()
        self.stdlib = _stdlib_dirs()
        self.base = _dirs([sys.base_prefix, sys.prefix])
        self._cache: Dict[str, Tuple[str, Optional[str], str]] = {}

    def classify(self, path) -> Tuple[str, Optional[str], str]:
        """(kind, shown name, real path to read the line from)."""
        got = self._cache.get(path)
        if got is None:
            got = self._cache[path] = self._classify(path)
        return got

    def _classify(self, path):
        if path.startswith("<"):
            return ("stdlib" if path.startswith("<frozen") else "runtime"), path, path
        real = os.path.realpath(path)
        if real.startswith(_TOOL_DIR + os.sep) or os.path.basename(real) in ("run_sidecar.py", "run_serve.py"):
            return "tool", os.path.basename(real), real
        for root in self.libraries:
            if real.startswith(root):
                return "library", real[len(root):], real
        parts = real.split(os.sep)
        for i in range(len(parts) - 1, -1, -1):
            if parts[i] in ("site-packages", "dist-packages"):
                return "library", os.sep.join(parts[i + 1:]), real
        for root in self.workspace:
            if real.startswith(root):
                return "user", real[len(root):], real
        for root in self.stdlib:
            if real.startswith(root):
                return "stdlib", real[len(root):], real
        if any(real.startswith(root) for root in self.base):
            return "stdlib", real, real
        return "runtime", real, real


def cut_at_boundary(frames: List[Frame], classifier) -> Tuple[List[Frame], bool]:
    """The frames inside the tool's call of the target (innermost first, up to the first
    tool frame), and whether the stack ran through a call boundary at all."""
    for i, f in enumerate(frames):
        if classifier.classify(f.file)[0] == "tool":
            return frames[:i], any(g.function in CALL_BOUNDARY for g in frames[i:]
                                   if classifier.classify(g.file)[0] == "tool")
    return frames, False


class Interner:
    """Frames and stacks of one window as RawAttribution lists them (by index)."""

    def __init__(self, classifier):
        self.classifier = classifier
        self.frames: List[dict] = []
        self.stacks: List[List[int]] = []
        self._frame_ids: Dict[Tuple, int] = {}
        self._stack_ids: Dict[Tuple[int, ...], int] = {}

    def frame(self, f: Frame) -> int:
        key = (f.file, f.line, f.function)
        got = self._frame_ids.get(key)
        if got is None:
            kind, shown, real = self.classifier.classify(f.file)
            got = self._frame_ids[key] = len(self.frames)
            self.frames.append({"file": shown, "line": f.line, "function": f.function, "kind": kind,
                                "source": _source(real, f.line)})
        return got

    def stack(self, frames: List[Frame]) -> int:
        key = tuple(self.frame(f) for f in frames[:MAX_FRAMES])
        got = self._stack_ids.get(key)
        if got is None:
            got = self._stack_ids[key] = len(self.stacks)
            self.stacks.append(list(key))
        return got


def _source(real, line):
    if not line or real.startswith("<"):
        return None
    text = linecache.getline(real, line).strip()
    return text[:SOURCE_CHARS] or None
