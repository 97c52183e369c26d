"""A sidecar (or pool child) dies with its parent, even behind a GIL-holding call."""
import os
import signal
import subprocess
import sys
import textwrap
import time
import unittest

from support import SIDECAR


def child_code(body):
    return "import sys; sys.path.insert(0, %r)\n" % SIDECAR + textwrap.dedent(body)


@unittest.skipUnless(sys.platform.startswith("linux"), "PR_SET_PDEATHSIG is Linux-only")
class DieWithParentTests(unittest.TestCase):
    def test_a_parent_that_died_before_the_request_ends_the_process_at_once(self):
        # A pid that existed and is gone: the watch would never fire for it.
        gone = subprocess.Popen([sys.executable, "-c", "pass"])
        gone.wait()
        proc = subprocess.run([sys.executable, "-c", child_code("""
            from looplag_sidecar import orphan
            orphan.die_with_parent(%d)
            print("still here")
        """ % gone.pid)], capture_output=True, timeout=30)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertEqual(proc.stdout, b"")

    def test_a_live_parent_arms_the_signal_and_the_process_runs_on(self):
        proc = subprocess.run([sys.executable, "-c", child_code("""
            import os
            from looplag_sidecar import orphan
            print(orphan.die_with_parent(os.getppid()))
        """)], capture_output=True, timeout=30)
        self.assertEqual((proc.returncode, proc.stdout), (0, b"True\n"), proc.stderr)

    def test_the_parent_killed_during_a_gil_holding_call_takes_the_child_with_it(self):
        # parent: starts the child, prints its pid, waits; child: arms, then pow() holds the GIL.
        r, w = os.pipe()
        parent = subprocess.Popen([sys.executable, "-c", child_code("""
            import os, subprocess, sys
            child = subprocess.Popen([sys.executable, "-c", %r], pass_fds=(%d,))
            child.wait()
        """ % (child_code("""
            import os
            from looplag_sidecar import orphan
            orphan.die_with_parent(os.getppid())
            os.write(%d, b"%%d\\n" %% os.getpid())
            pow(365, 10**9)
        """ % w), w))], pass_fds=(w,))
        os.close(w)
        with os.fdopen(r) as f:
            child_pid = int(f.readline())
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            try:
                with open("/proc/%d/stat" % child_pid) as stat:
                    if ") Z " in stat.read():
                        break
            except FileNotFoundError:
                break
            time.sleep(0.02)
        else:
            os.kill(child_pid, signal.SIGKILL)
            self.fail("the child outlived its parent by 2 s")


if __name__ == "__main__":
    unittest.main()
