"""Loading targets and arguments the way the sidecar does, in a real interpreter."""
import os
import shutil
import sys
import tempfile
import textwrap
import traceback
import unittest

from support import SIDECAR  # noqa: F401 - puts the sidecar on sys.path
from looplag_sidecar import target as T


class TargetTestCase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="looplag-target-")
        self._path = list(sys.path)
        self._modules = set(sys.modules)

    def tearDown(self):
        sys.path[:] = self._path
        for name in set(sys.modules) - self._modules:
            del sys.modules[name]
        T._CACHE.clear()
        shutil.rmtree(self.dir)

    def write(self, rel, source):
        path = os.path.join(self.dir, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(textwrap.dedent(source))
        return path

    def spec(self, path, qualname=None, lines=None, args=""):
        return {"file": path, "qualname": qualname, "lines": lines, "args": args, "workspaceRoot": self.dir}


class ModuleLoading(TargetTestCase):
    def test_main_guard_does_not_run_and_name_is_not_main(self):
        path = self.write("app.py", """
            ran = []
            def f():
                return __name__
            if __name__ == "__main__":
                raise SystemExit("the main block ran")
        """)
        tgt = T.resolve(self.spec(path, "f"))
        self.assertEqual(tgt.fn(), "app")
        self.assertEqual(tgt.describe()["module"], "app")

    def test_package_module_gets_its_dotted_name_and_relative_imports_work(self):
        self.write("pkg/__init__.py", "")
        self.write("pkg/helpers.py", "def twice(x):\n    return 2 * x\n")
        path = self.write("pkg/sub/__init__.py", "")
        path = self.write("pkg/sub/jobs.py", """
            from ..helpers import twice
            import helpers_top
            def job(x):
                return twice(x) + helpers_top.ONE
        """)
        self.write("helpers_top.py", "ONE = 1\n")  # importable because the workspace root is on sys.path
        tgt = T.resolve(self.spec(path, "job"))
        self.assertEqual(tgt.module.__name__, "pkg.sub.jobs")
        self.assertEqual(tgt.fn(20), 41)

    def test_a_module_its_package_already_imported_runs_once_and_is_the_packages_copy(self):
        # A FastAPI-style package: __init__ imports the routes, which keep a cache.
        self.write("app/__init__.py", "from .routes import render\n")
        path = self.write("app/routes.py", """
            import builtins
            builtins.looplag_test_loads = getattr(builtins, "looplag_test_loads", 0) + 1
            CACHE = {}
            def render(x):
                CACHE[x] = x
                return len(CACHE)
        """)
        import builtins
        try:
            tgt = T.resolve(self.spec(path, "render"))
            self.assertEqual(builtins.looplag_test_loads, 1, "the module ran twice")
            self.assertIs(tgt.module, sys.modules["app"].routes)
            self.assertIs(tgt.fn, sys.modules["app"].render)
        finally:
            builtins.__dict__.pop("looplag_test_loads", None)

    def fresh(self, *names):
        """The test needs stdlib modules not imported yet (else any sys.path would do)."""
        loaded = [n for n in names if n in sys.modules]
        if loaded:
            self.skipTest("already imported in this process: %s" % ", ".join(loaded))

    def test_a_package_module_named_like_a_stdlib_package_imports_the_stdlib_one(self):
        # `python -m app.notifications.email` works; with the file's own folder first on
        # sys.path, `import email.message` found the file itself: "'email' is not a package".
        self.fresh("email")
        self.write("app/__init__.py", "")
        self.write("app/notifications/__init__.py", "")
        path = self.write("app/notifications/email.py", """
            from email.message import EmailMessage

            def build(subject):
                msg = EmailMessage()
                msg["Subject"] = subject
                return msg["Subject"]
        """)
        tgt = T.resolve(self.spec(path, "build"))
        self.assertEqual(tgt.module.__name__, "app.notifications.email")
        self.assertEqual(tgt.fn("hi"), "hi")
        self.assertTrue(os.path.dirname(path) not in sys.path, "the package's inner folder is not on sys.path")

    def test_a_package_module_beside_a_file_named_like_a_stdlib_module_uses_relative_imports(self):
        self.fresh("colorsys")
        self.write("app/__init__.py", "TITLE = 'app'\n")
        self.write("app/notifications/__init__.py", "")
        self.write("app/notifications/colorsys.py", "def rgb_to_hsv(*a):\n    return 'shadowed'\n")
        self.write("app/notifications/fmt.py", "def shout(s):\n    return s.upper()\n")
        path = self.write("app/notifications/docs.py", """
            import colorsys
            from . import fmt
            from .fmt import shout
            from .. import TITLE

            def render():
                return shout(TITLE), fmt.shout("x"), colorsys.rgb_to_hsv(1.0, 0.0, 0.0)
        """)
        tgt = T.resolve(self.spec(path, "render"))
        self.assertEqual(tgt.fn(), ("APP", "X", (0.0, 1.0, 1.0)))

    def test_a_loose_file_imports_its_siblings_but_they_do_not_shadow_the_stdlib(self):
        self.fresh("colorsys")
        self.write("tools/colorsys.py", "def rgb_to_hsv(*a):\n    return 'shadowed'\n")
        self.write("tools/helper.py", "VALUE = 7\n")
        path = self.write("tools/report.py", """
            import colorsys
            import helper

            def run():
                return helper.VALUE, colorsys.rgb_to_hsv(1.0, 0.0, 0.0)
        """)
        tgt = T.resolve(self.spec(path, "run"))
        self.assertEqual(tgt.fn(), (7, (0.0, 1.0, 1.0)))

    def test_a_loose_file_named_like_a_stdlib_module_is_loaded_under_another_name(self):
        self.fresh("colorsys")
        path = self.write("colorsys.py", "def f():\n    return 'mine'\n")
        tgt = T.resolve(self.spec(path, "f"))
        self.assertEqual(tgt.fn(), "mine")
        self.assertNotEqual(tgt.module.__name__, "colorsys", "the stdlib name stays free for the stdlib module")

    def test_pool_children_import_the_same_way(self):
        self.fresh("email")
        self.write("app/__init__.py", "")
        self.write("app/notifications/__init__.py", "")
        path = self.write("app/notifications/email.py", """
            from email.message import EmailMessage

            def build():
                return type(EmailMessage()).__module__
        """)
        import concurrent.futures
        import multiprocessing
        with concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            self.assertEqual(pool.submit(_resolve_and_call, self.spec(path, "build")).result(60), "email.message")

    def test_a_file_named_like_a_loaded_module_does_not_replace_it(self):
        path = self.write("json.py", "def f():\n    return 'mine'\n")
        tgt = T.resolve(self.spec(path, "f"))
        import json
        self.assertTrue(hasattr(json, "dumps"), "the stdlib json module is untouched")
        self.assertEqual(tgt.fn(), "mine")

    def test_syntax_error_reports_file_and_line(self):
        path = self.write("bad.py", "x = 1\n\ndef f(:\n    pass\n")
        with self.assertRaises(T.TargetError) as cm:
            T.resolve(self.spec(path, "f"))
        self.assertEqual(cm.exception.error["kind"], "syntax-error")
        self.assertEqual(cm.exception.error["line"], 3)
        self.assertIn("def f(:", cm.exception.error["detail"])

    def test_binary_file_says_it_is_not_python_source(self):
        path = os.path.join(self.dir, "noise.py")
        with open(path, "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
        with self.assertRaises(T.TargetError) as cm:
            T.resolve(self.spec(path, "f"))
        self.assertEqual(cm.exception.error["kind"], "syntax-error")
        self.assertIn("is not Python source: it contains NUL bytes", cm.exception.error["message"])
        self.assertNotIn("None", cm.exception.error["message"])

    def test_a_folder_says_it_is_a_folder(self):
        path = os.path.join(self.dir, "pkg.py")
        os.mkdir(path)
        with self.assertRaises(T.TargetError) as cm:
            T.resolve(self.spec(path, "f"))
        self.assertEqual(cm.exception.error["kind"], "target-not-found")
        self.assertIn("is a folder, not a file", cm.exception.error["message"])

    def test_pyw_loads_as_python(self):
        path = self.write("gui_task.pyw", "def f():\n    return 41 + 1\n")
        self.assertEqual(T.resolve(self.spec(path, "f")).fn(), 42)

    def test_import_error_keeps_the_traceback_and_the_line(self):
        path = self.write("boom.py", "import os\n\nraise RuntimeError('no config')\n")
        with self.assertRaises(T.TargetError) as cm:
            T.resolve(self.spec(path, "f"))
        err = cm.exception.error
        self.assertEqual(err["kind"], "import-error")
        self.assertEqual(err["line"], 3)
        self.assertIn("RuntimeError: no config", err["detail"])
        self.assertIn("no config", err["message"])


class Lookup(TargetTestCase):
    SOURCE = """
        class Jobs:
            @staticmethod
            def static(x):
                return x + 1

            @classmethod
            def klass(cls, x):
                return (cls.__name__, x)

            def instance(self):
                return 1

        def outer():
            def inner():
                return 2
            return inner()

        def gen():
            yield 1

        async def coro(x):
            return x

        VALUE = 3
    """

    def setUp(self):
        super().setUp()
        self.path = self.write("mod.py", self.SOURCE)

    def error_of(self, qualname):
        with self.assertRaises(T.TargetError) as cm:
            T.resolve(self.spec(self.path, qualname))
        return cm.exception.error

    def test_static_and_class_methods(self):
        self.assertEqual(T.resolve(self.spec(self.path, "Jobs.static")).fn(1), 2)
        self.assertEqual(T.resolve(self.spec(self.path, "Jobs.klass")).fn(5), ("Jobs", 5))

    def test_instance_method_says_what_to_select_instead(self):
        err = self.error_of("Jobs.instance")
        self.assertEqual(err["kind"], "unsupported-target")
        self.assertIn("instance method", err["message"])
        self.assertIn("staticmethod", err["message"])

    def test_nested_function_names_the_outer_one(self):
        err = self.error_of("inner")
        self.assertEqual(err["kind"], "unsupported-target")
        self.assertIn("Select `outer`", err["message"])

    def test_method_without_class_suggests_the_qualified_name(self):
        err = self.error_of("static")
        self.assertEqual(err["kind"], "target-not-found")
        self.assertIn("did you mean `Jobs.static`", err["message"])

    def test_missing_lists_functions(self):
        err = self.error_of("nope")
        self.assertEqual(err["kind"], "target-not-found")
        self.assertIn("outer", err["message"])
        self.assertIn("coro", err["message"])

    def test_generators_and_non_callables_are_refused(self):
        self.assertEqual(self.error_of("gen")["kind"], "unsupported-target")
        self.assertIn("not a function", self.error_of("VALUE")["message"])

    def test_async_is_detected_and_lines_come_from_the_source(self):
        tgt = T.resolve(self.spec(self.path, "coro"))
        self.assertTrue(tgt.is_async)
        self.assertEqual((tgt.line, tgt.end_line), (22, 23))


class Snippets(TargetTestCase):
    def setUp(self):
        super().setUp()
        self.path = self.write("snip.py", """
            FACTOR = 3

            def work(n):
                total = 0
                for i in range(n):
                    total += i * FACTOR
                if total < 0:
                    raise ValueError("negative")
                return total
        """)

    def test_snippet_runs_in_the_module_namespace_with_real_line_numbers(self):
        tgt = T.resolve(self.spec(self.path, lines={"start": 5, "end": 9}))
        self.assertEqual(tgt.kind, "snippet")
        self.assertFalse(tgt.is_async)
        # The body references `n`, which is not defined: the traceback must point at line 6.
        try:
            tgt.fn()
        except NameError as e:
            self.assertEqual(traceback.extract_tb(e.__traceback__)[-1].lineno, 6)
        else:
            self.fail("the snippet should raise NameError for `n`")
        self.assertEqual(T.parse_args("", tgt), ((), {}))

    def test_partial_statement_is_a_syntax_error_at_the_users_line(self):
        with self.assertRaises(T.TargetError) as cm:
            T.resolve(self.spec(self.path, lines={"start": 6, "end": 6}))
        self.assertEqual(cm.exception.error["kind"], "syntax-error")
        self.assertEqual(cm.exception.error["line"], 6)

    def test_python_line_numbers_in_the_message_are_the_files(self):
        with self.assertRaises(T.TargetError) as cm:
            T.resolve(self.spec(self.path, lines={"start": 6, "end": 6}))  # `for ...:` without its body
        self.assertIn("on line 6", cm.exception.error["message"])
        self.assertNotIn("on line 1", cm.exception.error["message"])

    def test_await_makes_an_async_snippet(self):
        path = self.write("aw.py", "import asyncio\nawait_me = None\nasync def main():\n    await asyncio.sleep(0)\n")
        tgt = T.resolve(self.spec(path, lines={"start": 4, "end": 4}))
        self.assertTrue(tgt.is_async)

    def test_out_of_range(self):
        with self.assertRaises(T.TargetError) as cm:
            T.resolve(self.spec(self.path, lines={"start": 50, "end": 60}))
        self.assertEqual(cm.exception.error["kind"], "target-not-found")


class Arguments(TargetTestCase):
    def setUp(self):
        super().setUp()
        path = self.write("args.py", "DATA = [1, 2, 3]\n\ndef f(data, n=5, *, scale=1):\n    return sum(data) * n * scale\n")
        self.tgt = T.resolve(self.spec(path, "f"))

    def test_text_as_inside_the_parentheses_in_the_module_namespace(self):
        args, kwargs = T.parse_args("DATA, n=10**2, scale=2", self.tgt)
        self.assertEqual(args, ([1, 2, 3],))
        self.assertEqual(kwargs, {"n": 100, "scale": 2})
        self.assertEqual(self.tgt.fn(*args, **kwargs), 1200)

    def test_each_kind_of_bad_argument(self):
        cases = {
            "DATA, n=": "not valid call syntax",
            "UNDEFINED_NAME": "NameError",
            "1/0": "ZeroDivisionError",
            "": "missing a required argument",
            "DATA, 1, 2": "too many positional arguments",
            "DATA, nope=1": "unexpected keyword argument",
            "DATA) + (1": "not valid call syntax",
        }
        for text, expected in cases.items():
            with self.subTest(text=text):
                with self.assertRaises(T.TargetError) as cm:
                    T.parse_args(text, self.tgt)
                self.assertEqual(cm.exception.error["kind"], "bad-arguments")
                self.assertIn(expected, cm.exception.error["message"])

    def test_required_parameters(self):
        self.assertEqual(T.required_parameters(self.tgt.fn), ["data"])


def _resolve_and_call(spec):
    """In a fresh (spawned) pool child: load the target as the pool children do, and call it."""
    return T.resolve_cached(spec).fn()


if __name__ == "__main__":
    unittest.main()
