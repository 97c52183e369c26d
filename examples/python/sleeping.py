"""Blocking I/O stand-in: time.sleep() releases the GIL, as a blocking socket read or
a database driver's network wait does. Inline it blocks the loop for every call;
in a thread pool the loop barely notices.

    looplag run examples/python/sleeping.py::blocking_wait
"""
import time


# Sleeps 100 ms without the GIL, like a blocking request to another service.
def blocking_wait(seconds: float = 0.1) -> float:
    time.sleep(seconds)
    return seconds
