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

/**
 * The framework serving `fn`, or undefined. Never throws: detection failing (a Proxy
 * export whose traps throw) means no field, never a failed run.
 */
export function frameworkOf(fn: unknown, loaded: Loaded): Framework | undefined {
  if (typeof fn !== 'function') return undefined;
  try {
    // Apps before routers: a router mounted on an app answers under the app's prefix, so
    // its own path (`GET /items` for `/api/items`) would be wrong; found through the app,
    // the path is left out when Express keeps the prefix only as a RegExp.
    const stacks = candidates(loaded).map((c) => ({ c, stack: safely(() => expressStack(c)) }));
    stacks.sort((a, b) => Number(!isApp(a.c)) - Number(!isApp(b.c)));
    for (const { stack } of stacks) {
      const found = stack && safely(() => findInExpress(stack, fn, true, 0, new Set()));
      if (found) return found;
    }
  } catch {
    // user code's object that no read could survive
  }
  return undefined;
}

function safely<T>(read: () => T): T | null {
  try {
    return read();
  } catch {
    return null; // a Proxy trap of user code threw: not an app we can read
  }
}

/** Prototypes followed for a property: a router's methods sit one level up (`Object.setPrototypeOf(router, proto)`). */
const MAX_PROTO_DEPTH = 4;

/**
 * A data property's value (own or inherited), undefined for an accessor: reading
 * `exports.db` must not run user code (`get db() { return connect(); }`). ESM namespace
 * entries are data properties; Express keeps what is read here (`handle`, `stack`,
 * `_router`, a layer's `route`) as data properties too.
 */
function dataOf(obj: unknown, key: string): unknown {
  for (let o = obj, depth = 0; o !== null && (typeof o === 'object' || typeof o === 'function') && depth <= MAX_PROTO_DEPTH; o = Object.getPrototypeOf(o), depth++) {
    const d = Object.getOwnPropertyDescriptor(o, key);
    if (d) return 'value' in d ? d.value : undefined;
  }
  return undefined;
}

/** The exports (the CommonJS `module.exports` itself, each export's value) and the module-scope bindings the capture handed over. */
function candidates(loaded: Loaded): unknown[] {
  const out: unknown[] = [];
  const exp = loaded.exports;
  if (exp !== null && (typeof exp === 'object' || typeof exp === 'function')) {
    out.push(exp);
    for (const key of safely(() => Object.keys(exp)) ?? []) {
      const value = safely(() => dataOf(exp, key));
      if (value !== undefined && value !== null) out.push(value);
    }
  }
  for (const get of loaded.scope ?? []) {
    // A binding's value, not a property: throws only if the name is not a binding after all (see callBindings).
    const value = safely(get);
    if (value !== undefined && value !== null) out.push(value);
  }
  return out;
}

/** An Express application (`express()`), as opposed to a router: it has `set` and a `mountpath`. */
function isApp(c: unknown): boolean {
  return safely(() => typeof c === 'function' && typeof dataOf(c, 'set') === 'function' && dataOf(c, 'mountpath') !== undefined) ?? false;
}

/**
 * The layer stack of an Express app or router: Express 4 keeps an app's router in
 * `app._router` (lib/application.js, lazyrouter) and `express.Router()` is a function
 * with `stack` (lib/router/index.js); Express 5's app has `app.router`, a getter of
 * Express's own, read only on what is an Express app by every other sign. Express 4's
 * `app.router` getter throws, so it is read only when `_router` is absent.
 */
function expressStack(c: unknown): unknown[] | null {
  if (typeof c !== 'function') return null;
  const stack = dataOf(c, 'stack');
  const handle = dataOf(c, 'handle');
  if (Array.isArray(stack) && typeof handle === 'function') return stack as unknown[];
  if (typeof handle !== 'function' || typeof dataOf(c, 'set') !== 'function') return null;
  const router4 = dataOf(c, '_router');
  const stack4 = dataOf(router4, 'stack');
  if (Array.isArray(stack4)) return stack4 as unknown[];
  if (!Object.prototype.hasOwnProperty.call(c, '_router') && isApp(c)) {
    const router5 = (c as { router?: unknown }).router;
    const stack5 = dataOf(router5, 'stack');
    if (Array.isArray(stack5)) return stack5 as unknown[];
  }
  return null;
}

/**
 * A route layer holds `route.stack`, one layer per method with the handler in `handle`
 * (lib/router/route.js); a mounted router is a layer whose `handle` has its own stack,
 * at a path Express 4 keeps only as a RegExp, so a handler found there has no `route`.
 */
function findInExpress(stack: unknown[], fn: unknown, pathKnown: boolean, depth: number, seen: Set<unknown>): Framework | undefined {
  if (depth > MAX_DEPTH || seen.has(stack)) return undefined;
  seen.add(stack);
  for (const layer of stack) {
    const route = dataOf(layer, 'route');
    const routeStack = dataOf(route, 'stack');
    if (Array.isArray(routeStack)) {
      const hits = (routeStack as unknown[]).filter((l) => dataOf(l, 'handle') === fn);
      if (!hits.length) continue;
      const methods = [...new Set(hits.map((l) => { const m = dataOf(l, 'method'); return typeof m === 'string' ? m.toUpperCase() : 'ALL'; }))];
      const routePath = dataOf(route, 'path');
      const at = pathKnown && typeof routePath === 'string' ? { route: `${methods.join(',')} ${routePath}` } : {};
      return { name: 'express', ...at, runsIn: 'loop' };
    }
    const handle = dataOf(layer, 'handle');
    if (handle === fn) return { name: 'express', runsIn: 'loop' }; // middleware: app.use(fn)
    const sub = expressStack(handle);
    const found = sub && findInExpress(sub, fn, false, depth + 1, seen);
    if (found) return found;
  }
  return undefined;
}
