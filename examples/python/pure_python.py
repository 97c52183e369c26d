"""Pure-Python work in a thread pool: the workers take turns holding the GIL, so
the event loop waits at least one switch interval (sys.getswitchinterval(), 5 ms by
default) every time it wants to run, and longer the more workers compete with it.

    looplag run examples/python/pure_python.py::sum_of_squares
    looplag run examples/python/pure_python.py::sum_of_squares --switch-interval 0.001
"""


# A bytecode loop (~100-200 ms on a 2-core CI machine): it holds the GIL but lets it go every switch interval.
def sum_of_squares(n: int = 2_000_000) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total
