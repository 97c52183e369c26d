"""The protocol goes on the host's descriptor with the run's nonce; user output stays on
fds 1 and 2 (the host captures it), split into windows by cut markers."""
import json
import os
import subprocess
import sys
import textwrap
import unittest

from support import SIDECAR


def run_child(body, protocol_fd=True):
    """Run `body` in a fresh interpreter with a protocol pipe on fd 63, as the host gives it.
    Returns (stdout bytes, stderr bytes, protocol bytes, return code)."""
    code = "import sys; sys.path.insert(0, %r)\n" % SIDECAR + textwrap.dedent(body)
    r, w = os.pipe()
    env = dict(os.environ, LOOPLAG_NONCE="n0nce")
    if protocol_fd:
        env["LOOPLAG_PROTOCOL_FD"] = "63"
    os.dup2(w, 63)
    os.close(w)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, pass_fds=(63,))
    os.close(63)
    with os.fdopen(r, "rb") as protocol:
        out, err = proc.communicate(timeout=60)
        proto = protocol.read()
    return out, err, proto, proc.returncode


class ChannelTests(unittest.TestCase):
    def test_lines_carry_the_nonce_on_the_protocol_fd_and_the_environment_forgets_both(self):
        out, err, proto, code = run_child("""
            import os
            from looplag_sidecar.channel import Channel, take_protocol_env
            fd, nonce = take_protocol_env()
            Channel(fd, nonce).send({"type": "done", "env": [k for k in os.environ if k.startswith("LOOPLAG_")]})
            print("user output")
        """)
        self.assertEqual(code, 0, err)
        self.assertEqual(out, b"user output\n", "user output stays on fd 1")
        self.assertTrue(proto.startswith(b"n0nce "), proto)
        self.assertEqual(json.loads(proto[len(b"n0nce "):]), {"type": "done", "env": []})

    def test_cut_markers_follow_the_output_they_end_even_with_fd_1_closed(self):
        out, err, proto, code = run_child("""
            import os, sys
            from looplag_sidecar.channel import OutputCuts
            cuts = OutputCuts("n0nce")
            print("first window")
            print("to stderr", file=sys.stderr)
            assert cuts.cut() == 0
            print("second", end="")
            sys.stdout.flush()
            os.close(1)
            assert cuts.cut() == 1
        """)
        self.assertEqual(code, 0, err)
        self.assertEqual(out, b"first window\n\0looplag-cut:n0nce:0\0second\0looplag-cut:n0nce:1\0")
        self.assertEqual(err, b"to stderr\n\0looplag-cut:n0nce:0\0\0looplag-cut:n0nce:1\0")


if __name__ == "__main__":
    unittest.main()
