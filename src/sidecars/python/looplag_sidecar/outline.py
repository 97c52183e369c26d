"""`run_sidecar.py outline FILE`: the functions of a Python file, from `ast`, without
importing it (nothing of the user's runs). Hosts use it to find the function around
the cursor and to place CodeLenses when no language extension provides symbols.
Also `run_sidecar.py check-args TEXT`: is TEXT valid as the inside of a call's parentheses?
"""
import ast
import json
import sys

from .astutil import parse_call_args, walk_same_scope


def _params(node):
    a = node.args
    positional = list(a.posonlyargs) + list(a.args)
    defaults_from = len(positional) - len(a.defaults)
    out = []
    for i, p in enumerate(positional):
        out.append({"name": p.arg, "required": i < defaults_from})
    if a.vararg:
        out.append({"name": "*" + a.vararg.arg, "required": False})
    for p, d in zip(a.kwonlyargs, a.kw_defaults):
        out.append({"name": p.arg, "required": d is None})
    if a.kwarg:
        out.append({"name": "**" + a.kwarg.arg, "required": False})
    return out


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
                params = _params(child)
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
    if argv[0] == "outline":
        with open(argv[1], "rb") as f:
            source = f.read()
        try:
            result = {"ok": True, "functions": outline(source, argv[1])}
        except SyntaxError as e:
            result = {"ok": False, "error": {"kind": "syntax-error", "message": "%s (line %s)" % (e.msg, e.lineno),
                                             "line": e.lineno}}
    elif argv[0] == "check-args":
        result = {"ok": True, "error": check_args(argv[1])}
    else:
        result = {"ok": False, "error": {"kind": "protocol-error", "message": "unknown command %r" % argv[0]}}
    sys.stdout.write(json.dumps(result) + "\n")
    return 0
