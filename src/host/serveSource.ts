/**
 * What Measure Endpoint reads from the source itself, lexically (pure: no vscode, no
 * process): the ASGI app a Python file defines, its module as `python -m` would import
 * it from the workspace, the route handlers the endpoint CodeLens goes above, and a
 * route's path parameters. The harness's own route list (its `ready`) is the authority;
 * this only finds where to offer the lens and what to preselect.
 */
import * as path from 'node:path';
import { firstDecoratorLine } from './decorators';

/** An app object the file binds at module level: `app = FastAPI(...)`, `api: Starlette = Starlette(...)`. */
export interface AsgiAppDef {
  name: string;
  /** 1-based. */
  line: number;
}

/** A route handler the lens goes above: its method(s) and path as written. */
export interface RouteSite {
  /** Upper case; `GET` when the decorator names none (`@app.route("/x")`). */
  methods: string[];
  path: string;
  /** 1-based: the first decorator of the handler (Python) or the registering call's line (JS/TS). */
  line: number;
}

/** The classes that make an ASGI app; `APIRouter` is not one (it is mounted by an app). */
const APP_CLASSES = ['FastAPI', 'Starlette'];
const APP_DEF = new RegExp(`^([A-Za-z_]\\w*)\\s*(?::[^=]+)?=\\s*(?:[A-Za-z_]\\w*\\.)*(?:${APP_CLASSES.join('|')})\\s*\\(`);

/** The module-level ASGI apps of a Python file, in order. */
export function findAsgiApps(source: string): AsgiAppDef[] {
  const found: AsgiAppDef[] = [];
  source.split(/\r?\n/).forEach((text, i) => {
    const m = APP_DEF.exec(text);
    if (m) found.push({ name: m[1], line: i + 1 });
  });
  return found;
}

/**
 * The dotted module of `file` as `python -m` imports it from `root` (`app/main.py` →
 * `app.main`, `pkg/__init__.py` → `pkg`); null when the file is outside `root` or a part
 * of its path is no identifier.
 */
export function pythonModuleOf(file: string, root: string): string | null {
  const rel = path.relative(root, file);
  if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) return null;
  const parts = rel.split(/[\\/]/);
  const last = parts.pop()!;
  const stem = last.replace(/\.pyw?$/, '');
  if (stem === last) return null;
  if (stem !== '__init__') parts.push(stem);
  if (!parts.length || !parts.every((p) => /^[A-Za-z_]\w*$/.test(p))) return null;
  return parts.join('.');
}

/** The Python decorators of a route: `@app.get("/x")`, `@router.post(...)`, `@app.route(...)`, `@app.api_route(...)`. */
const PY_ROUTE = /^\s*@\s*[A-Za-z_]\w*\s*\.\s*(get|post|put|patch|delete|head|options|route|api_route)\s*\(/;
/** The decorator's first argument (or `path=`): the route's path, possibly on a later line of the call. */
const PY_PATH = /^\s*(?:path\s*=\s*)?[rbu]?(['"])(\/[^'"]*)\1/;
const PY_METHODS = /methods\s*=\s*[[(]([^\])]*)[\])]/;
/** JS/TS: `app.get('/x', …)`, `router.post("/y", …)`, `fastify.get(\`/z\`, …)`: a path and another argument after it. */
const JS_ROUTE = /(?:^|[^\w$.])([A-Za-z_$][\w$]*)\s*\.\s*(get|post|put|patch|delete|head|options|all)\s*\(\s*(['"`])(\/[^'"`]*)\3\s*,/g;

/** A Python file that imports FastAPI or Starlette (an app, or an APIRouter's module). */
const PY_FRAMEWORK = /^[ \t]*(?:from|import)[ \t]+(?:fastapi|starlette)\b/m;
/** A JS/TS file that imports Express, Fastify or a Koa router (ESM, CJS, dynamic). */
const JS_FRAMEWORK = /(?:from|require\s*\(|import\s*\()\s*['"](?:express|fastify|koa|koa-router|@koa\/router)(?:\/[^'"]*)?['"]/;

/**
 * The route handlers of a file, for the CodeLens: Python decorators (above the first
 * decorator) or JS/TS route calls; none in a file that does not import a framework that has
 * them (an `axios.get('/x', …)` or `http.get('/health', cb)` client call is not a route).
 */
export function scanRoutes(source: string, language: 'python' | 'javascript' | 'typescript'): RouteSite[] {
  if (language === 'python') return PY_FRAMEWORK.test(source) ? scanPython(source) : [];
  return JS_FRAMEWORK.test(source) ? scanJs(source) : [];
}

function scanPython(source: string): RouteSite[] {
  const lines = source.split(/\r?\n/);
  const sites: RouteSite[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = PY_ROUTE.exec(lines[i]);
    if (!m) continue;
    // The decorator's call, which may span lines up to the next decorator or the def.
    let end = i + 1;
    while (end < lines.length && end < i + 10 && !/^\s*(@|def\s|async\s+def\s)/.test(lines[end])) end++;
    const call = [lines[i].slice(m[0].length), ...lines.slice(i + 1, end)].join(' ');
    const p = PY_PATH.exec(call);
    if (!p) continue;
    const kind = m[1];
    let methods = [kind === 'route' || kind === 'api_route' ? 'GET' : kind.toUpperCase()];
    if (kind === 'route' || kind === 'api_route') {
      const ms = PY_METHODS.exec(call);
      const named = ms ? [...ms[1].matchAll(/['"]([A-Za-z]+)['"]/g)].map((x) => x[1].toUpperCase()) : [];
      if (named.length) methods = named;
    }
    // The lens goes above the handler's first decorator, not between two of them.
    sites.push({ methods, path: p[2], line: firstDecoratorLine(lines, i) + 1 });
  }
  return sites;
}

function scanJs(source: string): RouteSite[] {
  const sites: RouteSite[] = [];
  const lines = source.split(/\r?\n/);
  lines.forEach((text, i) => {
    if (/^\s*(\/\/|\*)/.test(text)) return;
    for (const m of text.matchAll(JS_ROUTE)) {
      sites.push({ methods: m[2] === 'all' ? ['GET'] : [m[2].toUpperCase()], path: m[4], line: i + 1 });
    }
  });
  return sites;
}

/** A route's path parameters: FastAPI/Starlette `{item_id}` (`{p:path}`), Express `:id` (`:id?`). */
export function pathParams(template: string): string[] {
  const names: string[] = [];
  for (const m of template.matchAll(/\{([A-Za-z_]\w*)(?::[^}]*)?\}|:([A-Za-z_$][\w$]*)\??/g)) names.push(m[1] ?? m[2]);
  return names;
}

/**
 * The template with each parameter replaced by its value (percent-encoded), in order; an
 * Express parameter's pattern (`:id(\\d+)`) goes with it; the rest of the path is sent as
 * HTTP needs it: printable ASCII, anything else percent-encoded (`/café` → `/caf%C3%A9`).
 */
export function fillPath(template: string, values: Record<string, string>): string {
  const filled = template.replace(/\{([A-Za-z_]\w*)(?::[^}]*)?\}|:([A-Za-z_$][\w$]*)(?:\([^)]*\))?\??/g, (whole, py?: string, js?: string) => {
    const name = py ?? js!;
    return name in values ? encodeURIComponent(values[name]).replace(/%2F/gi, '/') : whole;
  });
  return filled.replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c));
}

/**
 * Whether a route the app reported is the one a lens points at: the same method and the
 * same path, or (a router mounted under a prefix) the reported path ending with it.
 */
export function routeMatches(route: { methods: string[]; path: string }, site: { method: string; path: string }): boolean {
  if (!route.methods.map((m) => m.toUpperCase()).includes(site.method)) return false;
  return route.path === site.path || (site.path !== '/' && route.path.endsWith(site.path));
}
