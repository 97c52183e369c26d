/**
 * Which web framework serves the target, read from the loaded module (not guessed from
 * the source): the function is a route handler (or middleware) of an Express app or
 * router the module exports or holds at module scope. The headline then speaks
 * Express's words. Anything unrecognised means no field, never a failed run.
 */
import type { Framework } from '../../shared/protocol';
import type { Loaded } from './loader';

/** How deep mounted routers are followed; real apps nest two or three levels. */
const MAX_DEPTH = 4;

interface ExpressLayer {
  handle?: unknown;
  method?: unknown;
  route?: { path?: unknown; stack?: unknown };
}

/** The framework serving `fn`, or undefined. */
export function frameworkOf(fn: unknown, loaded: Loaded): Framework | undefined {
  if (typeof fn !== 'function') return undefined;
  for (const candidate of candidates(loaded)) {
    try {
      const stack = expressStack(candidate);
      const found = stack && findInExpress(stack, fn, true, 0, new Set());
      if (found) return found;
    } catch {
      // A getter of user code threw: not an app we can read.
    }
  }
  return undefined;
}

/** The exports (the CommonJS `module.exports` itself, each export's value) and the module-scope bindings the capture handed over. */
function candidates(loaded: Loaded): unknown[] {
  const out: unknown[] = [];
  const exp = loaded.exports;
  if (exp !== null && (typeof exp === 'object' || typeof exp === 'function')) {
    out.push(exp);
    for (const key of Object.keys(exp)) {
      try {
        out.push((exp as Record<string, unknown>)[key]);
      } catch {
        // a throwing getter on the exports
      }
    }
  }
  for (const get of loaded.scope ?? []) {
    try {
      out.push(get());
    } catch {
      // not a binding after all (see callBindings)
    }
  }
  return out;
}

/**
 * The layer stack of an Express app or router: Express 4 keeps an app's router in
 * `app._router` (lib/application.js, lazyrouter) and `express.Router()` is a function
 * with `stack` (lib/router/index.js); Express 5's app has `app.router`. Express 4's
 * `app.router` getter throws, so it is read only when `_router` is absent.
 */
function expressStack(c: unknown): ExpressLayer[] | null {
  if (typeof c !== 'function') return null;
  const app = c as unknown as { _router?: { stack?: unknown }; stack?: unknown; handle?: unknown; set?: unknown; router?: { stack?: unknown } };
  if (Array.isArray(app.stack) && typeof app.handle === 'function') return app.stack as ExpressLayer[];
  if (typeof app.handle !== 'function' || typeof app.set !== 'function') return null;
  if (app._router && Array.isArray(app._router.stack)) return app._router.stack as ExpressLayer[];
  if (!('_router' in app)) {
    const router = app.router;
    if (router && Array.isArray(router.stack)) return router.stack as ExpressLayer[];
  }
  return null;
}

/**
 * A route layer holds `route.stack`, one layer per method with the handler in `handle`
 * (lib/router/route.js); a mounted router is a layer whose `handle` has its own stack,
 * at a path Express 4 keeps only as a RegExp, so a handler found there has no `route`.
 */
function findInExpress(stack: ExpressLayer[], fn: unknown, pathKnown: boolean, depth: number, seen: Set<unknown>): Framework | undefined {
  if (depth > MAX_DEPTH || seen.has(stack)) return undefined;
  seen.add(stack);
  for (const layer of stack) {
    const route = layer?.route;
    if (route && Array.isArray(route.stack)) {
      const hits = (route.stack as ExpressLayer[]).filter((l) => l?.handle === fn);
      if (!hits.length) continue;
      const methods = [...new Set(hits.map((l) => (typeof l.method === 'string' ? l.method.toUpperCase() : 'ALL')))];
      const at = pathKnown && typeof route.path === 'string' ? { route: `${methods.join(',')} ${route.path}` } : {};
      return { name: 'express', ...at, runsIn: 'loop' };
    }
    if (layer?.handle === fn) return { name: 'express', runsIn: 'loop' }; // middleware: app.use(fn)
    const sub = expressStack(layer?.handle);
    const found = sub && findInExpress(sub, fn, false, depth + 1, seen);
    if (found) return found;
  }
  return undefined;
}
