"""Entry point of Loop Lag's Python server harness (service mode): `python run_serve.py`.

Kept to syntax every Python parses, so an interpreter that is too old gets a clear
protocol error instead of a SyntaxError from the package.
"""
import sys

if __name__ == "__main__":
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
    from looplag_sidecar.serve.main import main

    main()
