"""faulthandler's watchdog dumps, parsed after the window.

The format (CPython 3.9–3.14, Python/traceback.c): each dump starts with
`Timeout (H:MM:SS.ffffff)!`, then each thread as `Thread 0x… (most recent call first):`
(`Current thread` for the caller's own, never the watchdog's: it marks no thread), newer
builds add ` [name]` after the id, then `  File "…", line N in fn` per frame, innermost
first. Limits on the writer's side: 100 frames (then `  ...`), 100 threads, strings cut
at 500 characters (with `...`), ASCII with backslash escapes (`\\xNN`, `\\uNNNN`,
`\\UNNNNNNNN`). A thread without frames shows `  <no Python frame>`.
"""
import re
from typing import List, NamedTuple, Optional, Tuple

HEADER = b"Timeout ("
_THREAD = re.compile(r"^(?:Current thread|Thread) 0x([0-9a-fA-F]+)(?: \[(.*)\])? \(most recent call first\):$")
_FRAME = re.compile(r'^  File "(.*)", line (\d+|\?\?\?) in (.*)$')
_ESCAPE = re.compile(r"\\(x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8})")


class Frame(NamedTuple):
    file: str
    line: Optional[int]
    function: str


class Thread(NamedTuple):
    ident: int
    name: Optional[str]
    frames: List[Frame]  # innermost first
    truncated: bool  # the writer stopped at its 100-frame limit


class Dump(NamedTuple):
    offset: int  # where its header starts in the dump file: matches it to a heartbeat gap
    threads: List[Thread]


def unescape(text):
    """Undo the writer's backslash escapes (a non-ASCII path or name)."""
    if "\\" not in text:
        return text
    return _ESCAPE.sub(lambda m: chr(int(m.group(1)[1:], 16)), text)


def parse(raw: bytes, base: int = 0) -> List[Dump]:
    """Every dump in `raw` (the dump file's bytes from offset `base`), in order."""
    starts = []
    at = raw.find(HEADER)
    while at != -1:
        starts.append(at)
        at = raw.find(HEADER, at + 1)
    dumps = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(raw)
        dumps.append(Dump(base + start, _threads(raw[start:end].decode("ascii", "backslashreplace"))))
    return dumps


def _threads(text) -> List[Thread]:
    threads: List[Thread] = []
    current: Optional[Tuple[int, Optional[str], List[Frame], List[bool]]] = None
    for line in text.splitlines()[1:]:
        m = _THREAD.match(line)
        if m:
            if current:
                threads.append(Thread(current[0], current[1], current[2], current[3][0]))
            current = (int(m.group(1), 16), None if m.group(2) is None else unescape(m.group(2)), [], [False])
            continue
        if current is None:
            continue
        m = _FRAME.match(line)
        if m:
            number = None if m.group(2) == "???" else int(m.group(2))
            current[2].append(Frame(unescape(m.group(1)), number, unescape(m.group(3))))
        elif line.strip() == "...":
            current[3][0] = True
        # `<no Python frame>`, `<freed thread state>`, a cut last line: no frame
    if current:
        threads.append(Thread(current[0], current[1], current[2], current[3][0]))
    return threads
