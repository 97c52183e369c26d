"""The Python mirror of the protocol agrees with the shared fixtures (the TS suite reads them too)."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

from support import FIXTURES, REPO, SIDECAR
from looplag_sidecar import protocol


def read(name):
    with open(os.path.join(FIXTURES, "protocol", name), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


class FixtureTests(unittest.TestCase):
    def test_valid_sidecar_messages(self):
        for message in read("sidecar-valid.jsonl"):
            protocol.validate_sidecar_message(message)

    def test_invalid_sidecar_messages(self):
        for message in read("sidecar-invalid.jsonl"):
            with self.assertRaises(protocol.ProtocolError, msg=json.dumps(message)[:120]):
                protocol.validate_sidecar_message(message)

    def test_host_messages(self):
        for message in read("host-valid.jsonl"):
            protocol.validate_host_message(message)
        for message in read("host-invalid.jsonl"):
            with self.assertRaises(protocol.ProtocolError):
                protocol.validate_host_message(message)

    def test_tool_messages(self):
        valid = read("tool-valid.jsonl")
        for message in valid:
            protocol.validate_tool_message(message)
        self.assertEqual({m["type"] for m in valid}, {"outline", "args-check", "error"})
        for message in read("tool-invalid.jsonl"):
            with self.assertRaises(protocol.ProtocolError, msg=json.dumps(message)[:120]):
                protocol.validate_tool_message(message)

    def test_typed_records_match_the_tables(self):
        """The TypedDicts the sidecar builds its messages as have the validator's keys, required and optional."""
        def optional(spec):
            return isinstance(spec, tuple) and bool(spec) and spec[0] == protocol.OPT

        for typed, table in ((protocol.RunError, protocol.ERROR), (protocol.TaskError, protocol.TASK["error"][1]),
                             (protocol.Transfer, protocol.TRANSFER), (protocol.TaskRecord, protocol.TASK),
                             (protocol.Cpu, protocol.WINDOW["cpu"]), (protocol.CapturedOutput, protocol.OUTPUT),
                             (protocol.RawWindow, protocol.WINDOW)):
            required = {key for key, spec in table.items() if not optional(spec)}
            self.assertEqual(set(typed.__required_keys__), required, typed.__name__)
            self.assertEqual(set(typed.__optional_keys__), set(table) - required, typed.__name__)

    def test_wrong_protocol_version_is_refused(self):
        start = read("host-valid.jsonl")[0]
        start["protocol"] = 99
        with self.assertRaisesRegex(protocol.ProtocolError, "protocol 99"):
            protocol.validate_host_message(start)

    def test_outline_kinds_match_the_typescript_list(self):
        with open(os.path.join(REPO, "src", "shared", "protocol", "tools.ts"), encoding="utf-8") as f:
            ts = f.read()
        block = ts[ts.index("export const OutlineFunction"):]
        block = block[block.index("kind: literal("):]
        block = block[len("kind: literal("):block.index(")")]
        self.assertEqual(sorted(k.strip().strip("'") for k in block.split(",")), sorted(protocol.OUTLINE_KINDS))

    def test_modes_match_the_typescript_table(self):
        with open(os.path.join(REPO, "src", "shared", "modes.ts"), encoding="utf-8") as f:
            ts = f.read()
        block = ts[ts.index("export const MODE_NAMES"):]
        block = block[block.index("[") + 1:block.index("] as const")]
        self.assertEqual([k.strip().strip("'") for k in block.split(",") if k.strip()], list(protocol.MODES))

    def test_error_kinds_match_the_typescript_list(self):
        with open(os.path.join(REPO, "src", "shared", "protocol", "common.ts"), encoding="utf-8") as f:
            ts = f.read()
        block = ts[ts.index("export const ERROR_KINDS"):]
        block = block[:block.index("] as const")]
        ts_kinds = [part.strip().strip("'\",") for part in block.split("[", 1)[1].replace("\n", " ").split(",")]
        self.assertEqual(sorted(k for k in ts_kinds if k), sorted(protocol.ERROR_KINDS))


class LiveMessagesTests(unittest.TestCase):
    """What the real sidecar sends validates against the mirror (and so matches the fixtures)."""

    def test_a_real_session_speaks_the_protocol(self):
        plan = {"type": "start", "protocol": protocol.PROTOCOL_VERSION, "plan": {
            "target": {"file": os.path.join(REPO, "examples", "python", "cpu_bound.py"), "qualname": "cpu_bound_task",
                       "lines": None, "args": "3, 1000", "workspaceRoot": None},
            "modes": ["inline", "thread", "process", "interpreter"], "concurrency": 2, "workers": 1,
            "switchIntervalS": None, "heartbeatMs": 1, "gilProbe": True, "baselineMs": 20, "outputCapBytes": 1024}}
        # The protocol on fd 63 with a nonce, as the host gives it; user output on fds 1 and 2.
        r, w = os.pipe()
        os.dup2(w, 63)
        os.close(w)
        # stdin stays open until "done": EOF tells the sidecar its host is gone.
        proc = subprocess.Popen([sys.executable, os.path.join(SIDECAR, "run_sidecar.py")], pass_fds=(63,),
                                env=dict(os.environ, LOOPLAG_PROTOCOL_FD="63", LOOPLAG_NONCE="n0nce"),
                                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(63)
        proc.stdin.write((json.dumps(plan) + "\n").encode())
        proc.stdin.flush()
        messages = []
        with os.fdopen(r, "rb") as lines:
            for line in lines:
                self.assertTrue(line.startswith(b"n0nce "), line[:100])
                messages.append(json.loads(line[len(b"n0nce "):]))
                if messages[-1]["type"] in ("done", "error"):
                    break
        proc.stdin.close()
        proc.wait(30)
        for m in messages:
            protocol.validate_sidecar_message(m)
        self.assertEqual(messages[0]["type"], "hello")
        self.assertEqual(messages[-1]["type"], "done")
        windows = [m["window"]["mode"] for m in messages if m["type"] == "window"]
        self.assertEqual(windows, ["baseline", "inline", "diagnostic", "thread", "process", "interpreter"])


class LiveToolTests(unittest.TestCase):
    """What the real one-shot tools print validates against the mirror (and so matches the fixtures)."""

    def tool(self, *args, stdin=""):
        out = subprocess.run([sys.executable, os.path.join(SIDECAR, "run_sidecar.py")] + list(args),
                             input=stdin, capture_output=True, text=True, timeout=30)
        message = json.loads(out.stdout.strip().splitlines()[-1])
        protocol.validate_tool_message(message)
        return message

    def test_outline_check_args_and_errors_speak_the_protocol(self):
        routes = os.path.join(FIXTURES, "python", "verdicts", "routes.py")
        outline = self.tool("outline", routes)
        self.assertEqual(outline["type"], "outline")
        self.assertTrue(any(p.get("marker") for f in outline["functions"] for p in f["params"]))
        self.assertEqual(self.tool("check-args", "-", stdin="1, x=2"), {"type": "args-check", "problem": None})
        self.assertIn("not valid call syntax", self.tool("check-args", "-", stdin="1,, 2")["problem"])
        with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
            f.write("def broken(:\n    pass\n")
        try:
            bad = self.tool("outline", f.name)
        finally:
            os.unlink(f.name)
        self.assertEqual((bad["type"], bad["error"]["kind"], bad["error"]["line"]), ("error", "syntax-error", 1))
        self.assertEqual(self.tool("outlines", "x")["error"]["kind"], "protocol-error")


if __name__ == "__main__":
    unittest.main()
