"""Both entry points' first step (run_sidecar.py, run_serve.py): an interpreter too old for
the package says so on the protocol, in syntax every Python parses, instead of failing
with a SyntaxError from the package.
"""
import sys


def refuse_if_too_old():
    """Python before 3.9: a hello and an interpreter-not-found error on the protocol
    descriptor, then exit 3."""
    if sys.version_info < (3, 9):
        import json
        import os
        import platform

        runtime = {
            "name": "python", "version": platform.python_version(), "executable": sys.executable or "",
            "implementation": platform.python_implementation(), "gilEnabled": True,
            "cpuCount": os.cpu_count() or 1 if hasattr(os, "cpu_count") else 1,
            "platform": sys.platform, "switchIntervalS": getattr(sys, "getswitchinterval", lambda: 0.005)(),
        }
        for message in (
            {"type": "hello", "protocol": 1, "sidecar": "python", "runtime": runtime},
            {"type": "error", "error": {"kind": "interpreter-not-found", "detail": sys.executable,
                                        "message": "Python %s is too old: Loop Lag needs Python 3.9 or newer"
                                        % platform.python_version()}},
        ):
            # On the protocol descriptor, framed with the nonce (see looplag_sidecar/channel.py).
            line = os.environ.get("LOOPLAG_NONCE", "") + " " + json.dumps(message) + "\n"
            os.write(int(os.environ.get("LOOPLAG_PROTOCOL_FD", "1")), line.encode("utf-8"))
        sys.exit(3)
