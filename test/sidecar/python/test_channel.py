"""User output never reaches the protocol pipe; it is captured, capped and counted."""
import json
import subprocess
import sys
import textwrap
import unittest

from support import SIDECAR


def run_child(body):
    """Run `body` in a fresh interpreter (it redirects its own fds 1 and 2)."""
    code = "import sys; sys.path.insert(0, %r)\n" % SIDECAR + textwrap.dedent(body)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    return proc.stdout.decode(), proc.stderr.decode(), proc.returncode


class CaptureTests(unittest.TestCase):
    def test_python_c_level_and_child_process_output_is_captured_not_leaked(self):
        stdout, stderr, code = run_child("""
            import json, os, subprocess, sys
            from looplag_sidecar.channel import Channel, OutputCapture
            channel = Channel()
            capture = OutputCapture(1024)
            print("from print")
            os.write(1, b"from the fd\\n")
            print("to stderr", file=sys.stderr)
            subprocess.run([sys.executable, "-c", "print('from a child process')"])
            channel.send({"type": "captured", "output": capture.take()})
            print("second window")
            channel.send({"type": "captured", "output": capture.take()})
        """)
        self.assertEqual(code, 0, stderr)
        lines = stdout.splitlines()
        self.assertEqual(len(lines), 2, "only protocol lines on the real stdout: %r" % stdout)
        first, second = (json.loads(l)["output"] for l in lines)
        self.assertIn("from print\n", first["stdout"])
        self.assertIn("from the fd\n", first["stdout"])
        self.assertIn("from a child process\n", first["stdout"])
        self.assertEqual(first["stderr"], "to stderr\n")
        self.assertFalse(first["truncated"])
        self.assertEqual(second["stdout"], "second window\n", "each take() returns only what is new")
        self.assertEqual(stderr, "", "nothing leaks to the real stderr either")

    def test_over_the_cap_keeps_head_and_tail_and_counts_bytes(self):
        stdout, stderr, code = run_child("""
            import json
            from looplag_sidecar.channel import Channel, OutputCapture
            channel = Channel()
            capture = OutputCapture(1000)
            print("FIRST")
            for i in range(100000):
                print("line %06d" % i)
            print("LAST")
            channel.send(capture.take())
        """)
        self.assertEqual(code, 0, stderr)
        out = json.loads(stdout)
        self.assertTrue(out["truncated"])
        self.assertEqual(out["stdoutBytes"], len("FIRST\n") + 100000 * 12 + len("LAST\n"))
        self.assertTrue(out["stdout"].startswith("FIRST\n"))
        self.assertTrue(out["stdout"].endswith("LAST\n"))
        self.assertIn("bytes omitted by Loop Lag", out["stdout"])
        self.assertLess(len(out["stdout"]), 1100)

    def test_invalid_utf8_is_replaced_not_fatal(self):
        stdout, stderr, code = run_child("""
            import os
            from looplag_sidecar.channel import Channel, OutputCapture
            channel = Channel()
            capture = OutputCapture(100)
            os.write(1, b"ok \\xff\\xfe end\\n")
            channel.send(capture.take())
        """)
        self.assertEqual(code, 0, stderr)
        self.assertEqual(json.loads(stdout)["stdout"], "ok \ufffd\ufffd end\n")


if __name__ == "__main__":
    unittest.main()
