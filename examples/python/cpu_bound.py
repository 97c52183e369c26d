"""The classic question: what does offloading `cpu_bound_task` to a thread pool do to
an asyncio (FastAPI/Starlette) server's event loop when 10 requests arrive at once?

    looplag run examples/python/cpu_bound.py::cpu_bound_task
"""


# pow() on big ints runs in C and holds the GIL for the whole call (~150 ms on a 2-core CI machine):
# threads cannot help, and the loop stalls as long as each call lasts.
def cpu_bound_task(base: int = 365, exponent: int = 350_000) -> int:
    return pow(base, exponent).bit_length()


if __name__ == "__main__":
    # Never runs under Loop Lag: the module is imported with its own name.
    print(cpu_bound_task())
