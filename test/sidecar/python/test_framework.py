"""Framework detection (framework.py) on real FastAPI, in Debian's python3 (the sidecar
itself stays stdlib-only): it reads routes without running the user's properties or
__getattr__, and a subclass whose `routes` property raises neither hides its routes nor
fails the run."""
import json
import os
import subprocess
import unittest

from support import FIXTURES, SIDECAR
from serve_support import SERVE_PYTHON, uvicorn_missing

APP_DIR = os.path.join(FIXTURES, "python", "framework")
DETECT = """
import asyncio, json, sys
sys.path[:0] = [%r, %r]
import subclassed
from looplag_sidecar import framework
async def main():
    found = {name: framework.detect(getattr(subclassed, name), subclassed) for name in ("score", "helper")}
    print(json.dumps({"found": found, "touched": subclassed.TOUCHED}))
asyncio.run(main())
""" % (SIDECAR, APP_DIR)


class SubclassedApps(unittest.TestCase):
    def setUp(self):
        why = uvicorn_missing()
        if why:
            self.skipTest(why)

    def test_routes_property_of_user_code_not_run(self):
        out = subprocess.run([SERVE_PYTHON, "-c", DETECT], capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        # The route is found through the router FastAPI keeps, not the raising `routes`.
        self.assertEqual(result["found"]["score"],
                         {"name": "fastapi", "route": "GET /score", "runsIn": "threadpool", "threadpoolSize": 40})
        self.assertIsNone(result["found"]["helper"])
        self.assertEqual(result["touched"], [], "detection ran the user's properties or __getattr__")


if __name__ == "__main__":
    unittest.main()
