"""Hashing a big buffer: hashlib releases the GIL while it digests more than 2 KiB,
so a thread pool runs the calls in parallel and the event loop stays responsive.

    looplag run examples/python/hashing.py::sha256_digest
"""
import hashlib

# Created once at import, as a server would hold a payload it has already read:
# the calls measure hashing, not allocation. 16 MiB of zeros hash as fast as any bytes.
PAYLOAD = bytes(16 * 1024 * 1024)


# sha256 over the payload `rounds` times (~50-150 ms on a 2-core CI machine); the GIL is free during each pass.
def sha256_digest(rounds: int = 8) -> str:
    digest = b""
    for _ in range(rounds):
        digest = hashlib.sha256(PAYLOAD).digest()
    return digest.hex()
