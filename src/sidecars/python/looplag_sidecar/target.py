"""Loading the user's target: a module-level function, `Class.method` (static or
class method), or a snippet by line range wrapped as a zero-argument function.

The module is imported from its file under a real module name (never "__main__",
so `if __name__ == "__main__":` blocks do not run), the way Python itself would:
a package member as `python -m pkg.sub.mod` run from the workspace imports it, a
file outside any package as `python file.py` does (see _prepare_sys_path).
"""
import ast
import importlib
import importlib.machinery
import importlib.util
import inspect
import os
import re
import sys
import sysconfig
import textwrap
import traceback

from .astutil import COLLECT, parse_call_args, walk_same_scope
from .protocol import error


class TargetError(Exception):
    """A user-facing failure to load or call the target; carries a protocol error."""

    def __init__(self, kind, message, detail=None, file=None, line=None):
        super().__init__(message)
        self.error = error(kind, message, detail, file, line)


class Target:
    def __init__(self, fn, kind, qualname, line, end_line, is_async, module):
        self.fn = fn
        self.kind = kind
        self.qualname = qualname
        self.line = line
        self.end_line = end_line
        self.is_async = is_async
        self.module = module

    def describe(self):
        return {"kind": self.kind, "qualname": self.qualname, "line": self.line,
                "endLine": self.end_line, "isAsync": self.is_async, "module": self.module.__name__}


def _module_name(path):
    """Dotted name from the file's package chain, and the folder above the top package."""
    folder = os.path.dirname(path)
    stem = os.path.splitext(os.path.basename(path))[0]
    parts = [stem]
    while os.path.isfile(os.path.join(folder, "__init__.py")):
        parts.insert(0, os.path.basename(folder))
        folder = os.path.dirname(folder)
    if not all(p.isidentifier() for p in parts):
        parts = ["_looplag_" + "".join(c if c.isalnum() else "_" for c in stem)]
        folder = os.path.dirname(path)
    return ".".join(parts), folder


def _stdlib_end(path_entries):
    """Index just after the last standard-library entry of sys.path (0 if none is found)."""
    stdlib = {os.path.normcase(os.path.abspath(p)) for key in ("stdlib", "platstdlib")
              for p in [sysconfig.get_paths().get(key)] if p}
    end = 0
    for i, entry in enumerate(path_entries):
        norm = os.path.normcase(os.path.abspath(entry or os.curdir))
        if any(norm == s or norm.startswith(s + os.sep) for s in stdlib) or norm.endswith(".zip"):
            end = i + 1
    return end


def _prepare_sys_path(path, workspace_root):
    """Put on sys.path what Python would, and return the module's dotted name.

    A package member (its folder has an __init__.py) is imported as
    `python -m pkg.sub.mod` from the workspace would: the workspace and the folder
    above the top package first, never the file's own folder. With that folder
    first, `pkg/notifications/email.py` could not import the stdlib's `email.message`
    ("'email' is not a package"), and neither could any library it called.
    A file outside any package needs its folder for its sibling imports, as
    `python file.py` gives it, but after the standard library: a sibling named like
    a stdlib module (email.py, types.py) then cannot break the stdlib.
    """
    name, package_root = _module_name(path)
    if "." in name:
        for entry in reversed([workspace_root, package_root]):
            if entry and entry not in sys.path:
                sys.path.insert(0, entry)
        return name
    at = _stdlib_end(sys.path)
    for entry in (os.path.dirname(path), workspace_root):
        if entry and entry not in sys.path:
            sys.path.insert(at, entry)
            at += 1
    return name


def _taken(name, path):
    """True when importing `name` would find another module than the file at `path`
    (a loaded module, or a stdlib/installed one): the target must not replace it."""
    if name in sys.modules:
        return True
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return False
    origin = getattr(spec, "origin", None) if spec else None
    return bool(origin) and os.path.abspath(origin) != path


def load_module(path, workspace_root):
    """Import the file once per process and return the module."""
    path = os.path.abspath(path)
    for module in list(sys.modules.values()):
        if getattr(module, "__file__", None) and os.path.abspath(module.__file__) == path:
            return module
    if os.path.isdir(path):
        raise TargetError("target-not-found", "%s is a folder, not a file: name a file and its function "
                          "(FILE::FUNCTION)" % path, file=path)
    if not os.path.isfile(path):
        raise TargetError("target-not-found", "file not found: %s" % path, file=path)
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError as e:
        raise TargetError("target-not-found", "cannot read %s: %s" % (path, e.strerror or e), file=path)
    if b"\0" in source:  # compile() would say "null bytes (line None)"
        raise TargetError("syntax-error", "%s is not Python source: it contains NUL bytes (a binary file?)" % path,
                          file=path)
    name = _prepare_sys_path(path, workspace_root)
    try:
        compile(source, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as e:  # ValueError: what older Pythons raise for NUL bytes
        line = getattr(e, "lineno", None)
        raise TargetError("syntax-error", "%s: %s%s" % (type(e).__name__, getattr(e, "msg", None) or e,
                                                        " (line %s)" % line if line else ""),
                          detail=_syntax_detail(e) if line else None, file=getattr(e, "filename", None) or path,
                          line=line)
    if "." not in name and _taken(name, path):  # a stdlib or installed module of the same name: do not shadow it
        name = "_looplag_" + name
    if "." in name:
        try:
            importlib.import_module(name.rsplit(".", 1)[0])
        except BaseException as e:  # noqa: B036 - any failure of user code is reported
            raise _import_failure(e, path)
        loaded = sys.modules.get(name)
        if loaded is not None and os.path.realpath(getattr(loaded, "__file__", "") or "") == os.path.realpath(path):
            # The package's __init__ imported this module already: measure that copy, as
            # `python -m` would, rather than running the module a second time.
            return loaded
    # Only the interpreter's own source suffixes get a loader by default: on Linux and
    # macOS a .pyw file (Python without a console window on Windows) would get none.
    loader = None if path.endswith(tuple(importlib.machinery.SOURCE_SUFFIXES)) \
        else importlib.machinery.SourceFileLoader(name, path)
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as e:  # noqa: B036
        sys.modules.pop(name, None)
        raise _import_failure(e, path)
    if "." in name:  # as the import system does: `pkg.sub` knows its submodule
        parent, _, child = name.rpartition(".")
        setattr(sys.modules[parent], child, module)
    return module


def _syntax_detail(e):
    text = (e.text or "").rstrip("\n")
    caret = ""
    if e.offset and text:
        caret = "\n" + " " * (e.offset - 1) + "^"
    return '  File "%s", line %s\n    %s%s' % (e.filename, e.lineno, text, caret)


def _import_failure(e, path):
    if isinstance(e, KeyboardInterrupt):
        raise e
    if isinstance(e, SyntaxError):
        return TargetError("syntax-error", "%s in %s: %s (line %s)" % (type(e).__name__, e.filename, e.msg, e.lineno),
                           detail=_syntax_detail(e), file=e.filename, line=e.lineno)
    tb = "".join(traceback.format_exception(type(e), e, e.__traceback__))
    line = None
    for frame in reversed(traceback.extract_tb(e.__traceback__)):
        if os.path.abspath(frame.filename) == path:
            line = frame.lineno
            break
    return TargetError("import-error", "importing %s raised %s: %s" % (os.path.basename(path), type(e).__name__, e),
                       detail=tb, file=path, line=line)


# --------------------------------------------------------------------------- lookup

def _definitions(tree):
    """(qualname, node, enclosing kind) of every def in the file, with nesting."""
    out = []

    def visit(node, prefix, inside):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                qual = prefix + child.name
                out.append((qual, child, inside))
                visit(child, qual + ".<locals>.", "function")
            elif isinstance(child, ast.ClassDef):
                qual = prefix + child.name
                visit(child, qual + ".", "class" if inside is None else inside)
            else:
                visit(child, prefix, inside)

    visit(tree, "", None)
    return out


def _top_level_functions(defs):
    return [q for q, _, inside in defs if inside is None]


def _moved_or_deleted(path):
    return TargetError("target-not-found", "the target file %s was moved or deleted during the run (after its "
                       "module was imported)" % path, file=path)


def resolve_function(module, path, qualname):
    try:
        with open(path, "rb") as f:
            tree = ast.parse(f.read(), path)
    except FileNotFoundError:
        raise _moved_or_deleted(path) from None
    defs = _definitions(tree)
    node = next((n for q, n, _ in defs if q == qualname), None)
    obj, owner, found = module, None, True
    for part in qualname.split("."):
        owner = obj
        if not hasattr(obj, part):
            found = False
            break
        obj = getattr(obj, part)
    if not found:
        nested = [(q, inside) for q, _, inside in defs if q.split(".")[-1] == qualname.split(".")[-1]]
        for q, inside in nested:
            if ".<locals>." in q:
                outer = q.split(".<locals>.")[0]
                raise TargetError("unsupported-target",
                                  "`%s` is a nested function inside `%s`; it cannot be called on its own. "
                                  "Select `%s`, or select the lines that use it as a snippet, "
                                  "or move it to module level." % (qualname, outer, outer), file=path)
            if inside == "class" and q != qualname:
                raise TargetError("target-not-found", "`%s` not found in %s; did you mean `%s`?"
                                  % (qualname, os.path.basename(path), q), file=path)
        available = ", ".join(_top_level_functions(defs)[:12]) or "none"
        raise TargetError("target-not-found", "`%s` not found in %s (module-level functions: %s)"
                          % (qualname, os.path.basename(path), available), file=path)
    if inspect.isclass(owner) and inspect.isfunction(inspect.getattr_static(owner, qualname.split(".")[-1], None)):
        cls = owner.__name__
        raise TargetError("unsupported-target",
                          "`%s` is an instance method: it needs an instance. Select a snippet that creates a `%s` "
                          "and calls the method, or make it a @staticmethod or @classmethod." % (qualname, cls),
                          file=path, line=node.lineno if node else None)
    if not callable(obj):
        raise TargetError("unsupported-target", "`%s` is a %s, not a function" % (qualname, type(obj).__name__),
                          file=path)
    if inspect.isgeneratorfunction(obj) or inspect.isasyncgenfunction(obj):
        raise TargetError("unsupported-target", "`%s` is a generator: calling it runs nothing. Select a snippet "
                          "that consumes it, e.g. `list(%s(...))`." % (qualname, qualname), file=path)
    if node is not None:
        line, end = node.lineno, getattr(node, "end_lineno", node.lineno)
        if node.decorator_list:
            line = min(d.lineno for d in node.decorator_list)
    else:
        code = getattr(inspect.unwrap(obj), "__code__", None)
        line = end = code.co_firstlineno if code else 1
    is_async = inspect.iscoroutinefunction(inspect.unwrap(obj)) or inspect.iscoroutinefunction(obj)
    return Target(obj, "function", qualname, line, end, is_async, module)


def resolve_snippet(module, path, start, end):
    try:
        with open(path, "r", encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        raise _moved_or_deleted(path) from None
    if start < 1 or end < start or end > len(lines):
        raise TargetError("target-not-found", "lines %d-%d are outside %s (%d lines)"
                          % (start, end, os.path.basename(path), len(lines)), file=path)
    body = textwrap.dedent("\n".join(lines[start - 1:end]))
    if not body.strip():
        raise TargetError("target-not-found", "lines %d-%d of %s are empty" % (start, end, os.path.basename(path)),
                          file=path, line=start)
    try:
        inner = ast.parse(body, path)
    except SyntaxError as e:
        line = (e.lineno or 1) + start - 1
        # Python counts from the snippet's first line ("... on line 1"): say the file's line.
        msg = re.sub(r"on line (\d+)", lambda m: "on line %d" % (int(m.group(1)) + start - 1), e.msg or "")
        raise TargetError("syntax-error", "the selected lines are not a complete block of statements: %s (line %d)"
                          % (msg, line), detail=body, file=path, line=line)
    if not inner.body:  # only comments: a def needs a body, so this would fail later, unexplained
        raise TargetError("target-not-found", "lines %d-%d of %s hold no statements, only comments"
                          % (start, end, os.path.basename(path)), file=path, line=start)
    is_async = any(isinstance(n, (ast.Await, ast.AsyncFor, ast.AsyncWith)) for n in walk_same_scope(inner))
    if any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in walk_same_scope(inner)):
        raise TargetError("unsupported-target", "the selected lines contain `yield`; select a whole function "
                          "or statements that do not yield", file=path, line=start)
    fn_def = (ast.AsyncFunctionDef if is_async else ast.FunctionDef)(
        name="__looplag_snippet__",
        args=ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[],
                           kwarg=None, defaults=[]),
        body=inner.body, decorator_list=[], returns=None, type_comment=None,
    )
    if sys.version_info >= (3, 12):
        fn_def.type_params = []
    wrapper = ast.Module(body=[fn_def], type_ignores=[])
    ast.increment_lineno(inner, start - 1)  # tracebacks point at the user's real lines
    fn_def.lineno = start
    # fix_missing_locations would copy the module's end line (1) into the def, and
    # compile() rejects a node that ends before it starts ("line range (8, 1)").
    fn_def.end_lineno = max(start, getattr(inner.body[-1], "end_lineno", None) or end)
    fn_def.col_offset = fn_def.end_col_offset = 0
    ast.fix_missing_locations(wrapper)
    namespace = {}
    exec(compile(wrapper, path, "exec"), module.__dict__, namespace)
    return Target(namespace["__looplag_snippet__"], "snippet", None, start, end, is_async, module)


def resolve(spec):
    """Load the module and the target described by a protocol TargetSpec."""
    module = load_module(spec["file"], spec.get("workspaceRoot"))
    path = os.path.abspath(spec["file"])
    if spec.get("lines"):
        return resolve_snippet(module, path, spec["lines"]["start"], spec["lines"]["end"])
    if not spec.get("qualname"):
        raise TargetError("target-not-found", "no function name or line range given", file=path)
    return resolve_function(module, path, spec["qualname"])


# --------------------------------------------------------------------------- arguments

def _collect(*args, **kwargs):
    return args, kwargs


def parse_args(text, target):
    """Evaluate `text` as written inside the call's parentheses, in the module's namespace."""
    text = text.strip()
    if not text:
        args, kwargs = (), {}
    else:
        tree, problem = parse_call_args(text)
        if problem:
            raise TargetError("bad-arguments", "arguments `%s` are %s" % (text, problem))
        code = compile(tree, "<arguments>", "eval", dont_inherit=True)
        try:
            args, kwargs = eval(code, target.module.__dict__, {COLLECT: _collect})
        except BaseException as e:  # noqa: B036 - evaluating user text can raise anything
            if isinstance(e, KeyboardInterrupt):
                raise
            raise TargetError("bad-arguments", "evaluating arguments `%s` raised %s: %s" % (text, type(e).__name__, e),
                              detail="".join(traceback.format_exception_only(type(e), e)))
    try:
        signature = inspect.signature(target.fn)
    except (TypeError, ValueError):
        return args, kwargs  # builtins without a signature: the call itself will tell
    try:
        signature.bind(*args, **kwargs)
    except TypeError as e:
        name = target.qualname or "the snippet"
        raise TargetError("bad-arguments", "%s%s cannot be called with (%s): %s" % (name, signature, text, e))
    return args, kwargs


def required_parameters(fn):
    """Names of parameters a call must supply (for hosts deciding whether to prompt)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p.name for p in params if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


# --------------------------------------------------------------------------- child processes

_CACHE = {}


def resolve_cached(spec):
    """Resolve once per process: pool children load the target the same way the parent did."""
    key = (spec["file"], spec.get("qualname"), str(spec.get("lines")))
    if key not in _CACHE:
        _CACHE[key] = resolve(spec)
    return _CACHE[key]
