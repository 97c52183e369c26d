"""Small `ast` helpers shared by the target loader and the host-facing outline
(kept free of heavy imports: the outline runs on every CodeLens refresh)."""
import ast

COLLECT = "__looplag_collect__"


def walk_same_scope(node):
    """ast.walk below `node` that does not descend into nested functions, lambdas or classes."""
    stack = list(ast.iter_child_nodes(node))
    while stack:
        child = stack.pop()
        yield child
        if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(child))


def parse_call_args(text):
    """Parse `text` as the inside of a call's parentheses: `(expression tree, None)` of
    `__looplag_collect__(<text>)`, or `(None, reason)` when it does not read that way."""
    source = "%s(%s\n)" % (COLLECT, text)
    try:
        tree = ast.parse(source, "<arguments>", "eval")
    except SyntaxError as e:
        return None, "not valid call syntax: %s" % e.msg
    call = tree.body
    # `a) + (b` parses too: the text must stay inside the one call's parentheses.
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == COLLECT
            and call.col_offset == 0 and call.lineno == 1
            and (call.end_lineno, call.end_col_offset) == (source.count("\n") + 1, 1)):
        return None, ("not valid call syntax: write them as inside the call's parentheses, "
                      "e.g. `365, 10**6` or `data, n=5`")
    return tree, None
