"""The outline hosts use to find functions and their parameters, without importing the file."""
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

from support import SIDECAR
from looplag_sidecar.outline import check_args, markers_problem, outline, uncovered_markers

SOURCE = textwrap.dedent("""
    import not_installed_anywhere  # never imported: outline only parses

    def handler(n, scale=2, *rest, key, opt=None, **extra):
        def inner():
            return 1
        return inner()

    class Jobs:
        def run(self, x):
            return x

        @staticmethod
        def build(size):
            return size

        @classmethod
        def make(cls, a, b=1):
            return cls

    async def fetch(url):
        return url

    def stream():
        yield 1
""")


class OutlineTests(unittest.TestCase):
    def setUp(self):
        self.by = {f["qualname"]: f for f in outline(SOURCE)}

    def test_kinds_and_nesting(self):
        kinds = {q: f["kind"] for q, f in self.by.items()}
        self.assertEqual(kinds, {
            "handler": "function", "handler.<locals>.inner": "nested", "Jobs.run": "method",
            "Jobs.build": "staticmethod", "Jobs.make": "classmethod", "fetch": "function", "stream": "function",
        })
        self.assertTrue(self.by["fetch"]["isAsync"])
        self.assertTrue(self.by["stream"]["isGenerator"])
        self.assertFalse(self.by["handler"]["isGenerator"], "a nested def's body is not the outer's")

    def test_required_parameters_skip_self_and_cls(self):
        def required(q):
            return [p["name"] for p in self.by[q]["params"] if p["required"]]
        self.assertEqual(required("handler"), ["n", "key"])
        self.assertEqual(required("Jobs.run"), ["x"])
        self.assertEqual(required("Jobs.make"), ["a"])
        self.assertEqual([p["name"] for p in self.by["handler"]["params"]], ["n", "scale", "*rest", "key", "opt", "**extra"])

    def test_lines_include_decorators(self):
        build = self.by["Jobs.build"]
        self.assertEqual(build["line"] + 1, build["defLine"])
        self.assertEqual(build["endLine"], build["defLine"] + 1)

    def test_check_args(self):
        self.assertIsNone(check_args("365, 10**6"))
        self.assertIsNone(check_args("data, n=5"))
        self.assertIsNone(check_args("  "))
        self.assertIn("not valid call syntax", check_args("1,, 2"))
        self.assertIn("inside the call's parentheses", check_args("1) + (2"))
        self.assertIn("not valid call syntax", check_args("1) + (2"))

    def test_command_line_reports_syntax_errors_with_their_line(self):
        with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
            f.write("x = 1\ndef broken(:\n    pass\n")
        try:
            out = subprocess.run([sys.executable, os.path.join(SIDECAR, "run_sidecar.py"), "outline", f.name],
                                 capture_output=True, text=True, timeout=30)
        finally:
            os.unlink(f.name)
        result = json.loads(out.stdout)
        self.assertEqual(result["type"], "error")
        self.assertEqual(result["error"]["kind"], "syntax-error")
        self.assertEqual(result["error"]["line"], 2)


MARKED = textwrap.dedent("""
    from pathlib import Path
    import fastapi
    from fastapi import Body, Depends as D
    from fastapi import params

    def route(password: str = Body(...), db=D(get_db), n=3, where=Path("/tmp")):
        pass

    def keyword_only(q=fastapi.Query(None), *, token=params.Header(None)):
        pass

    def starred(*items, auth=fastapi.Security(check)):
        pass
""")


class FastApiMarkers(unittest.TestCase):
    """Defaults that are FastAPI markers: flagged in the outline, refused uncovered before a run."""

    def setUp(self):
        self.by = {f["qualname"]: f for f in outline(MARKED)}

    def test_markers_come_from_imports_only(self):
        params = self.by["route"]["params"]
        self.assertEqual([p.get("marker") for p in params], ["Body", "Depends", None, None])
        self.assertEqual(self.by["keyword_only"]["params"][1], {"name": "token", "required": False, "keywordOnly": True,
                                                                 "marker": "Header"})
        self.assertEqual(self.by["keyword_only"]["params"][0]["marker"], "Query")

    def test_uncovered_by_position_keyword_and_star(self):
        route = self.by["route"]["params"]
        names = lambda args: [p["name"] for p in uncovered_markers(route, args)]  # noqa: E731
        self.assertEqual(names(""), ["password", "db"])
        self.assertEqual(names("'x'"), ["db"])
        self.assertEqual(names("'x', {}"), [])
        self.assertEqual(names("db={}, password='x'"), [])
        self.assertEqual(names("*xs"), [], "a starred argument may cover them: not refused")
        kw = self.by["keyword_only"]["params"]
        self.assertEqual([p["name"] for p in uncovered_markers(kw, "1, 2")], ["token"], "a position never reaches keyword-only")
        star = self.by["starred"]["params"]
        self.assertEqual([p["name"] for p in uncovered_markers(star, "1, 2")], ["auth"])

    def test_markers_problem_reads_the_file(self):
        with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
            f.write(MARKED)
        try:
            problem = markers_problem(f.name, "route", "")
            self.assertIn("route: password (Body(...)), db (Depends(...)) default to FastAPI markers", problem)
            self.assertIn('--args "password=..., db=..."', problem)
            self.assertIsNone(markers_problem(f.name, "route", "'pw', {}"))
        finally:
            os.unlink(f.name)


if __name__ == "__main__":
    unittest.main()
