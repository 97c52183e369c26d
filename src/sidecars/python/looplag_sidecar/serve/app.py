"""Loading the user's ASGI app as uvicorn does (`module:attr`, appDir first on sys.path),
and listing its routes (FastAPI/Starlette `app.routes`).

The import is ours rather than uvicorn's `importer.import_from_string`, with the same
semantics (import the module, then each dotted attribute): uvicorn's wraps every failure
in one exception type, and the host needs to tell a missing uvicorn, a module that raised,
a missing attribute and an object that is no ASGI app apart, each with its own words.
"""
import asyncio
import importlib
import inspect
import os
import sys
import traceback

from ..protocol import error

_TOOL_DIR = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
_TOOL_FILES = ("run_serve.py", "run_sidecar.py")
_IMPORTLIB_DIR = os.path.dirname(os.path.realpath(importlib.__file__)) + os.sep


class AppError(Exception):
    """A failure to load or start the app, before anything is measured: carries a protocol error."""

    def __init__(self, err):
        super().__init__(err["message"])
        self.error = err


def import_uvicorn():
    """The user's uvicorn, or a clear error naming this interpreter."""
    try:
        import uvicorn  # noqa: F401 - the user's, imported at run time
    except ImportError as e:
        raise AppError(error(
            "import-error", "uvicorn is not installed for %s: install it there (%s -m pip install uvicorn), or "
            "choose the interpreter your app runs with" % (sys.executable, sys.executable or "python"),
            detail="%s: %s" % (type(e).__name__, e)))
    return uvicorn


def _is_tool_frame(filename):
    real = os.path.realpath(filename)
    return real.startswith(_TOOL_DIR + os.sep) or os.path.basename(real) in _TOOL_FILES \
        or filename.startswith("<frozen importlib")


def _is_machinery(filename):
    return _is_tool_frame(filename) or os.path.realpath(filename).startswith(_IMPORTLIB_DIR)


def user_traceback(e):
    """The traceback of user code's exception: the tool's frames left out, and the outer frames
    of the import machinery that ran the user's module (the frames it called are kept)."""
    frames = [f for f in traceback.extract_tb(e.__traceback__) if not _is_tool_frame(f.filename)]
    while frames and _is_machinery(frames[0].filename):
        frames.pop(0)
    text = "Traceback (most recent call last):\n" if frames else ""
    text += "".join(traceback.format_list(frames))
    return text + "".join(traceback.format_exception_only(type(e), e))


def innermost_user_line(e, app_dir):
    """(file, line) of the innermost frame under appDir, workspace-relative: where to look."""
    root = os.path.realpath(app_dir) + os.sep
    for f in reversed(traceback.extract_tb(e.__traceback__)):
        real = os.path.realpath(f.filename)
        if real.startswith(root) and not _is_tool_frame(f.filename):
            return os.path.relpath(real, root[:-1]), f.lineno
    return None, None


def load_app(target, app_dir):
    """The object `target` (`module:attr`, attr dotted) names, imported with appDir first on sys.path."""
    module_name, _, attrs = target.partition(":")
    if not module_name or not attrs:
        raise AppError(error("target-not-found", "%r is not an app: write it as MODULE:ATTRIBUTE (e.g. main:app), "
                             "as uvicorn takes it" % target))
    app_dir = os.path.abspath(app_dir)
    if app_dir in sys.path:
        sys.path.remove(app_dir)
    sys.path.insert(0, app_dir)
    try:
        module = importlib.import_module(module_name)
    except BaseException as e:  # noqa: B036 - any failure of user code is reported
        if isinstance(e, KeyboardInterrupt):
            raise
        if isinstance(e, ModuleNotFoundError) and e.name is not None and module_name.startswith(e.name) \
                and (module_name == e.name or module_name.startswith(e.name + ".")):
            raise AppError(error("target-not-found", "no module %r in %s (the app's folder, first on sys.path)"
                                 % (module_name, app_dir)))
        file, line = innermost_user_line(e, app_dir)
        if isinstance(e, SyntaxError) and e.filename:
            file, line = os.path.relpath(e.filename, app_dir) if os.path.realpath(e.filename).startswith(
                os.path.realpath(app_dir) + os.sep) else e.filename, e.lineno
        raise AppError(error("syntax-error" if isinstance(e, SyntaxError) else "import-error",
                             "importing %s raised %s: %s" % (module_name, type(e).__name__, e),
                             detail=user_traceback(e), file=file, line=line))
    app = module
    for part in attrs.split("."):
        try:
            app = getattr(app, part)
        except AttributeError:
            raise AppError(error("target-not-found", "module %s has no attribute %r (looking for %s)"
                                 % (module_name, part, target)))
    if not callable(app):
        raise AppError(error("unsupported-target", "%s is not an ASGI app: it is not callable (its type is %s); name "
                             "the application object uvicorn would serve (an app factory is not supported)"
                             % (target, type(app).__name__)))
    return app


def is_asgi3(app):
    """uvicorn's interface detection (`--interface auto`): ASGI 3 (one coroutine call) or ASGI 2 (a class per scope)."""
    if inspect.isclass(app):
        return hasattr(app, "__await__")
    if inspect.isfunction(app):
        return asyncio.iscoroutinefunction(app)
    return asyncio.iscoroutinefunction(getattr(app, "__call__", None))


# --------------------------------------------------------------------------- routes

def _where(endpoint, app_dir):
    """(handler name, file, line) of an endpoint: workspace-relative under appDir."""
    fn = inspect.unwrap(endpoint) if callable(endpoint) else endpoint
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or type(fn).__name__
    try:
        file = inspect.getsourcefile(fn)
        line = fn.__code__.co_firstlineno if hasattr(fn, "__code__") else inspect.getsourcelines(fn)[1]
    except (TypeError, OSError):
        return name, None, None
    if file:
        real, root = os.path.realpath(file), os.path.realpath(app_dir)
        if real.startswith(root + os.sep):
            file = os.path.relpath(real, root)
    return name, file, line


def _is_async(endpoint):
    fn = inspect.unwrap(endpoint)
    if inspect.isfunction(fn) or inspect.ismethod(fn):
        return asyncio.iscoroutinefunction(fn)
    call = getattr(fn, "__call__", None)  # an endpoint class (HTTPEndpoint) or a callable object
    return asyncio.iscoroutinefunction(call) if call is not None and not inspect.isclass(fn) else None


def walk_routes(app, prefix=""):
    """(full path template, route object) of every route, through Mounts of routes."""
    routes = getattr(app, "routes", None)
    if not isinstance(routes, (list, tuple)):
        return
    for route in routes:
        path = getattr(route, "path", None)
        if not isinstance(path, str):
            continue
        inner = getattr(route, "routes", None)
        if getattr(route, "endpoint", None) is None and isinstance(inner, (list, tuple)) and inner:
            yield from walk_routes(route, prefix + path)  # a Mount (or a Router at a prefix)
        elif getattr(route, "endpoint", None) is not None:
            yield prefix + path, route


def list_routes(app, app_dir):
    """ready.routes: empty for an app that declares none (any other ASGI app)."""
    out = []
    for path, route in walk_routes(app):
        methods = getattr(route, "methods", None)
        methods = sorted(methods) if methods else (["WEBSOCKET"] if "websocket" in type(route).__name__.lower() else [])
        name, file, line = _where(route.endpoint, app_dir)
        out.append({"methods": methods, "path": path, "handler": name, "file": file, "line": line,
                    "isAsync": _is_async(route.endpoint)})
    return out


class RouteNames:
    """The route template a finished request ran: Starlette puts the matched `endpoint` in the
    scope (and newer versions the `route`); mapped back to the route's full path."""

    def __init__(self, app):
        self._by_endpoint = {}
        for path, route in walk_routes(app):
            self._by_endpoint.setdefault(id(route.endpoint), []).append((path, route))
        # The endpoints themselves, so an id is never reused while this table lives.
        self._keep = [r.endpoint for pairs in self._by_endpoint.values() for _, r in pairs]

    def name(self, scope, raw_path):
        route = scope.get("route")
        if route is not None and isinstance(getattr(route, "path", None), str):
            candidates = self._by_endpoint.get(id(getattr(route, "endpoint", None)), [])
            for path, r in candidates:
                if r is route:
                    return path
        endpoint = scope.get("endpoint")
        if endpoint is not None:
            candidates = self._by_endpoint.get(id(endpoint), [])
            if len(candidates) == 1:
                return candidates[0][0]
            for path, r in candidates:
                regex = getattr(r, "path_regex", None)
                if regex is not None and regex.match(scope.get("path", raw_path)):
                    return path
            if candidates:
                return candidates[0][0]
        return raw_path
