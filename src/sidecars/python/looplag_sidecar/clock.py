"""The sidecar's own references to the clocks and sleeps it times with.

Bound when the sidecar starts, before any user code is imported: user code that patches
`time.monotonic`, `time.perf_counter` or `time.sleep` (a test helper freezing time, a
library's shim) then changes its own timing, never the tool's. Process-pool children
import this module (through the functions they run) before the target, so they bind
the originals too.
"""
import importlib
import time
import types

perf_counter = time.perf_counter
monotonic = time.monotonic
sleep = time.sleep
thread_time = time.thread_time
# Wall clock, only to place a window on other tools' timelines (RawWindow.t0EpochMs).
epoch_time = time.time


class _PrivateTime(types.ModuleType):
    """The time module with the clocks and sleep bound at start-up; anything else is
    looked up in the real module."""

    def __getattr__(self, name):
        return getattr(time, name)


_private_time = _PrivateTime("time")
_private_time.monotonic, _private_time.perf_counter, _private_time.sleep = monotonic, perf_counter, sleep

# Standard modules the process pools run on that read `time.monotonic()` at each call:
# a frozen clock made `Connection.poll(0)` (which the pool's manager thread calls) loop
# forever, since its deadline never passes.
_POOL_MODULES = ("multiprocessing.connection", "multiprocessing.queues", "multiprocessing.synchronize",
                 "concurrent.futures._base")


def shield_pool_modules():
    """Point the pool machinery's `time` at the private clocks (idempotent). User code in
    this process that uses those modules with timeouts gets the real clock too."""
    for name in _POOL_MODULES:
        module = importlib.import_module(name)
        if getattr(module, "time", None) is time:
            module.time = _private_time


def use_private_clock(loop):
    """Make `loop` time its timers with the private clock.

    asyncio's `BaseEventLoop.time()` looks up `time.monotonic()` at each call, so a
    patched `time.monotonic` would stop `call_later` (the heartbeat, `asyncio.sleep`)
    from ever firing. An instance attribute shadows the method on every Python the
    sidecar supports (3.9+; `asyncio.Runner(loop_factory=…)` only exists from 3.11).
    """
    loop.time = monotonic
