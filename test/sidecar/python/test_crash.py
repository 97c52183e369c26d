"""crash.py phrases a pool process's death as the host's crashCause.ts does (the shared
fixture), and reads the OOM-kill counters this machine has."""
import json
import os
import signal
import sys
import unittest

from support import FIXTURES
from looplag_sidecar import crash


class ExitPhraseTests(unittest.TestCase):
    def test_the_shared_fixture(self):
        with open(os.path.join(FIXTURES, "crashes", "exitPhrases.jsonl"), encoding="utf-8") as f:
            cases = [json.loads(line) for line in f if line.strip()]
        self.assertGreaterEqual(len(cases), 8)
        for c in cases:
            code = -signal.Signals[c["signal"]].value if c["signal"] else c["code"]
            oom = (c["oom"]["source"], c["oom"]["before"], c["oom"]["after"]) if c["oom"] else None
            self.assertEqual(crash.describe_exit(code, oom), c["expected"])

    def test_oom_evidence_prefers_the_counter_that_moved(self):
        before = [("/proc/vmstat", 3), ("/sys/fs/cgroup/memory.events", 0)]
        self.assertEqual(crash.oom_evidence(before, [("/proc/vmstat", 3), ("/sys/fs/cgroup/memory.events", 1)]),
                         ("/sys/fs/cgroup/memory.events", 0, 1))
        self.assertEqual(crash.oom_evidence(before, before), ("/proc/vmstat", 3, 3))
        self.assertIsNone(crash.oom_evidence([], []))

    @unittest.skipUnless(sys.platform.startswith("linux"), "the counters are Linux's")
    def test_reads_the_system_counter_on_linux(self):
        counts = dict(crash.read_oom_kills())
        self.assertIn("/proc/vmstat", counts)
        self.assertGreaterEqual(counts["/proc/vmstat"], 0)


if __name__ == "__main__":
    unittest.main()
