"""`run_sidecar.py outline FILE`: the functions of a Python file, from `ast`, without
importing it (nothing of the user's runs). Hosts use it to find the function around
the cursor and to place CodeLenses when no language extension provides symbols.
Also `run_sidecar.py check-args TEXT` (`-`: TEXT on stdin): is TEXT valid as the inside of a call's parentheses?
Each prints one tool message (protocol.TOOL_MESSAGES, shared/protocol.ts ToolMessage).

Parameters whose default is a FastAPI marker (`Body(...)`, `Depends(get_db)`, …) are
flagged: called directly, the function gets the marker object, not a value, so the
host asks for those arguments and the session refuses to run without them.
"""
import ast
import json
import sys

from .astutil import parse_call_args, walk_same_scope
from .protocol import error


# FastAPI's parameter markers (fastapi/param_functions.py): a default that tells the
# framework where a value comes from. Called outside FastAPI the parameter holds the
# marker itself (a FieldInfo or Depends object).
MARKERS = ("Body", "Query", "Path", "Header", "Cookie", "Form", "File", "Depends", "Security")
MARKER_MODULES = ("fastapi",)


def marker_names(tree):
    """Local names and module aliases that refer to FastAPI's markers in this module:
    `({"Body": "Body", "B": "Body"}, {"fastapi", "params"})`. Only imports count, so
    `pathlib.Path("x")` as a default is never taken for a marker."""
    names, modules = {}, set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in MARKER_MODULES:
            for alias in node.names:
                if alias.name in MARKERS:
                    names[alias.asname or alias.name] = alias.name
                elif alias.name in ("params", "param_functions"):
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in MARKER_MODULES:
                    modules.add(alias.asname or alias.name.split(".")[0])
    return names, modules


def _marker_of(default, markers):
    """The marker's name when `default` is a call of one (`Body(...)`, `fastapi.Depends(f)`), else None."""
    if default is None or not isinstance(default, ast.Call):
        return None
    names, modules = markers
    fn = default.func
    if isinstance(fn, ast.Name):
        return names.get(fn.id)
    if isinstance(fn, ast.Attribute) and fn.attr in MARKERS:
        base = fn.value
        while isinstance(base, ast.Attribute):  # fastapi.params.Body
            base = base.value
        if isinstance(base, ast.Name) and base.id in modules:
            return fn.attr
    return None


def _params(node, markers=({}, set())):
    a = node.args
    positional = list(a.posonlyargs) + list(a.args)
    defaults_from = len(positional) - len(a.defaults)
    out = []

    def param(name, required, default, keyword_only=False):
        entry = {"name": name, "required": required}
        if keyword_only:
            entry["keywordOnly"] = True
        marker = _marker_of(default, markers)
        if marker:
            entry["marker"] = marker
        out.append(entry)

    for i, p in enumerate(positional):
        param(p.arg, i < defaults_from, a.defaults[i - defaults_from] if i >= defaults_from else None)
    if a.vararg:
        out.append({"name": "*" + a.vararg.arg, "required": False})
    for p, d in zip(a.kwonlyargs, a.kw_defaults):
        param(p.arg, d is None, d, keyword_only=True)
    if a.kwarg:
        out.append({"name": "**" + a.kwarg.arg, "required": False})
    return out


def uncovered_markers(params, args_text):
    """Marker parameters (see MARKERS) that `args_text` does not pass: by position, by
    keyword, or possibly through `*xs` / `**kw` (then none are reported)."""
    # A parameter's position counts until `*args`; after it, or for keyword-only ones, only its name does.
    star = next((i for i, p in enumerate(params) if p["name"].startswith("*")), len(params))
    marked = [(i, p) for i, p in enumerate(params) if p.get("marker")]
    if not marked:
        return []
    tree, problem = parse_call_args(args_text) if args_text.strip() else (None, None)
    if problem:
        return []  # the argument check reports the syntax
    call = tree.body if tree is not None else None
    positional = call.args if call is not None else []
    keywords = call.keywords if call is not None else []
    if any(isinstance(x, ast.Starred) for x in positional) or any(k.arg is None for k in keywords):
        return []
    named = {k.arg for k in keywords}
    out = []
    for i, p in marked:
        by_position = i < star and i < len(positional) and not p.get("keywordOnly")
        if not by_position and p["name"] not in named:
            out.append(p)
    return out


def markers_problem(path, qualname, args_text):
    """None, or the one-line reason a call of `qualname` with `args_text` would pass
    FastAPI markers as values (checked from the source, before anything is imported)."""
    with open(path, "rb") as f:
        tree = ast.parse(f.read(), path)
    markers = marker_names(tree)
    if not markers[0] and not markers[1]:
        return None
    fn = next((f for f in outline_tree(tree, markers) if f["qualname"] == qualname), None)
    if fn is None:
        return None
    missing = uncovered_markers(fn["params"], args_text)
    if not missing:
        return None
    listed = ", ".join("%s (%s(...))" % (p["name"], p["marker"]) for p in missing)
    example = ", ".join("%s=..." % p["name"] for p in missing)
    return ("%s: %s default%s to FastAPI markers, which are not values: called directly, the function would get the "
            "marker objects. Pass %s as arguments (--args \"%s\")"
            % (qualname, listed, "s" if len(missing) == 1 else "", "it" if len(missing) == 1 else "them", example))


def _decorator_names(node):
    names = []
    for d in node.decorator_list:
        target = d.func if isinstance(d, ast.Call) else d
        if isinstance(target, ast.Name):
            names.append(target.id)
        elif isinstance(target, ast.Attribute):
            names.append(target.attr)
    return names


def outline(source, filename="<file>"):
    """Every def with its qualname, kind and where it is; kinds say what can be measured."""
    tree = ast.parse(source, filename)
    return outline_tree(tree, marker_names(tree))


def outline_tree(tree, markers):
    out = []

    def visit(node, prefix, parent_kind):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                qualname = prefix + child.name
                decorators = _decorator_names(child)
                if parent_kind == "module":
                    kind = "function"
                elif parent_kind == "class":
                    kind = ("staticmethod" if "staticmethod" in decorators
                            else "classmethod" if "classmethod" in decorators else "method")
                else:
                    kind = "nested"
                params = _params(child, markers)
                if kind in ("method", "classmethod") and params:
                    params = params[1:]  # self / cls are bound, never asked for
                start = min([child.lineno] + [d.lineno for d in child.decorator_list])
                out.append({
                    "qualname": qualname, "kind": kind, "line": start, "defLine": child.lineno,
                    "endLine": getattr(child, "end_lineno", child.lineno), "isAsync": isinstance(child, ast.AsyncFunctionDef),
                    "isGenerator": any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in walk_same_scope(child)),
                    "params": params,
                })
                visit(child, qualname + ".<locals>.", "function")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".", "class" if parent_kind != "function" else "function")
            else:
                visit(child, prefix, parent_kind)

    visit(tree, "", "module")
    return out


def check_args(text):
    """None when `text` reads as the inside of a call's parentheses, else the reason."""
    if not text.strip():
        return None
    return parse_call_args(text)[1]


def main(argv):
    """The one-shot tools: one tool message (protocol.TOOL_MESSAGES) on stdout."""
    if argv[0] == "outline":
        with open(argv[1], "rb") as f:
            source = f.read()
        try:
            result = {"type": "outline", "functions": outline(source, argv[1])}
        except SyntaxError as e:
            result = {"type": "error", "error": error("syntax-error", "%s (line %s)" % (e.msg, e.lineno), line=e.lineno)}
    elif argv[0] == "check-args":
        # "-": the text on stdin (the host's way: argv has a size limit).
        text = sys.stdin.buffer.read().decode("utf-8") if argv[1] == "-" else argv[1]
        result = {"type": "args-check", "problem": check_args(text)}
    else:
        result = {"type": "error", "error": error("protocol-error", "unknown command %r" % argv[0])}
    sys.stdout.write(json.dumps(result) + "\n")
    return 0
