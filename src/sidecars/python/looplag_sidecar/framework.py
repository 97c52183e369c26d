"""Which web framework serves the target, read from the user's runtime after the import:
the function is a route's endpoint in a Starlette/FastAPI app or router among the
module's globals. The headline then speaks the framework's words ("FastAPI runs `def`
endpoints in its threadpool"). Nothing is imported here: a framework the user's module
did not import is not in sys.modules, and then there is nothing to find.
"""
import asyncio
import inspect
import sys

# How deep Mounts and sub-apps are followed; real apps nest two or three levels.
MAX_DEPTH = 4
# Globals looked at; a module with more is generated code, not an app.
MAX_GLOBALS = 2000
# anyio's default thread limiter (anyio/_backends/_asyncio.py, current_default_thread_limiter:
# CapacityLimiter(40)), which Starlette's run_in_threadpool (starlette/concurrency.py ->
# anyio.to_thread.run_sync) and so FastAPI's `def` endpoints use when it cannot be read.
ANYIO_DEFAULT_THREADS = 40


def detect(fn, module):
    """`{"name", "route"?, "runsIn", "threadpoolSize"?}` when `fn` is an endpoint of a
    Starlette/FastAPI app or router in `module`'s globals, else None. Never raises: a
    framework this does not understand means no field, not a failed run."""
    try:
        if "starlette.routing" not in sys.modules:
            return None
        containers = [v for v in list(vars(module).values())[:MAX_GLOBALS] if _framework_type(v)]
        # Apps first: an app's route carries the prefix a router was included under
        # (`app.include_router(router, prefix="/api")`), the router's own does not.
        containers.sort(key=lambda v: 0 if _attr(v, "router") is not None else 1)
        for value in containers:
            found = _find(fn, value, "", 0, set())
            if found:
                return found
    except Exception:  # whatever user code left in reach: no field, the run goes on
        return None
    return None


_MISSING = object()


def _attr(obj, name):
    """`obj.name` without running user code: instance and class values are read
    statically (inspect.getattr_static: no property, no __getattr__), and a descriptor
    (a property) is run only when Starlette or FastAPI define it (`Starlette.routes`,
    `Mount.routes`); one a subclass of user code defines reads as None."""
    value = inspect.getattr_static(obj, name, _MISSING)
    if value is _MISSING:
        return None
    owner = next((c for c in type(obj).__mro__ if name in vars(c)), None)
    from_class = owner is not None and vars(owner)[name] is value
    if not from_class or not hasattr(type(value), "__get__"):
        return value  # the instance's own value, or a plain class attribute
    if not _framework_class(owner):
        return None
    try:
        return getattr(obj, name)
    except Exception:  # the framework's property on a half-built object
        return None


def _routes_of(obj, depth=0):
    """The route list of an app (FastAPI, Starlette: its router's), a router (APIRouter,
    Router) or a Mount (its app's), read from the attributes the framework sets rather
    than through `routes` properties a subclass may override."""
    if not _framework_type(obj) or depth > MAX_DEPTH:
        return None
    for inner in ("router", "_base_app"):  # an app's router; a Mount's app or router
        held = _attr(obj, inner)
        if held is not None and held is not obj and _framework_type(held):
            return _routes_of(held, depth + 1)
    routes = _attr(obj, "routes")
    return routes if isinstance(routes, list) else None


def _module_of(c):
    """A class's module as its own namespace records it (`type`'s is a descriptor: not a name)."""
    module = vars(c).get("__module__")
    return module if isinstance(module, str) else ""


def _framework_class(c):
    return _module_of(c).startswith(("starlette.", "fastapi."))


def _framework_type(obj):
    """Starlette's or FastAPI's own class, or a subclass of one (`class App(FastAPI)`)."""
    return any(_framework_class(c) for c in type(obj).__mro__)


def _same(endpoint, fn):
    if endpoint is fn:
        return True
    try:  # a decorator above @app.get wraps what the route holds
        return inspect.unwrap(endpoint) is inspect.unwrap(fn)
    except Exception:  # a cycle (ValueError), or a callable object's __getattr__ raising
        return False


def _str(value):
    return value if isinstance(value, str) else ""


def _find(fn, container, prefix, depth, seen):
    if depth > MAX_DEPTH or id(container) in seen:
        return None
    seen.add(id(container))
    routes = _routes_of(container)
    if routes is None:
        return None
    for route in routes:
        if not _framework_type(route):
            continue
        endpoint = _attr(route, "endpoint")
        if endpoint is not None and _same(endpoint, fn):
            return _describe(route, endpoint, prefix, container)
        # A Mount (a sub-app or router) lists its routes itself; they answer under its path.
        if any(c.__name__ == "Mount" and _framework_class(c) for c in type(route).__mro__):
            found = _find(fn, route, prefix + _str(_attr(route, "path")), depth + 1, seen)
            if found:
                return found
    return None


def _describe(route, endpoint, prefix, container):
    fastapi = any(_module_of(c).startswith("fastapi.") for o in (route, container) for c in type(o).__mro__)
    runs_on_loop = _is_async(route, endpoint)
    methods = _attr(route, "methods")
    methods = sorted(m for m in methods if isinstance(m, str)) if isinstance(methods, (set, frozenset, list, tuple)) else []
    if "GET" in methods and "HEAD" in methods:
        methods.remove("HEAD")  # Starlette adds HEAD to every GET route
    path = prefix + _str(_attr(route, "path"))
    out = {"name": "fastapi" if fastapi else "starlette", "runsIn": "loop" if runs_on_loop else "threadpool"}
    if path:
        out["route"] = ("%s %s" % (",".join(methods), path)) if methods else path
    if not runs_on_loop:
        out["threadpoolSize"] = _threadpool_size()
    return out


def _is_async(route, endpoint):
    """The framework's own test: FastAPI awaits `dependant.call` when
    asyncio.iscoroutinefunction says so (fastapi/routing.py, get_request_handler), else
    runs it with run_in_threadpool; Starlette's request_response uses is_async_callable."""
    dependant = _attr(route, "dependant")
    call = _attr(dependant, "call") if dependant is not None else None
    if call is not None:
        return asyncio.iscoroutinefunction(call)
    check = getattr(sys.modules.get("starlette._utils"), "is_async_callable", None)
    return bool(check(endpoint)) if check else inspect.iscoroutinefunction(endpoint)


def _threadpool_size():
    """Tokens of anyio's default thread limiter as this install creates it for a loop (the
    sidecar's loop is running here), read only when the app already imported anyio."""
    to_thread = sys.modules.get("anyio.to_thread")
    try:
        tokens = to_thread.current_default_thread_limiter().total_tokens
        return int(tokens) if tokens == int(tokens) else ANYIO_DEFAULT_THREADS
    except Exception:  # no anyio, no running loop it recognises, math.inf: the documented default
        return ANYIO_DEFAULT_THREADS
