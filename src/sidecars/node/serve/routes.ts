/**
 * The routes the app declares, for `ready`: Express's router stack (an Express app is the
 * measured server's `request` listener), each route's methods, path and final handler
 * with where it is defined. A plain `http` server declares none. Where a function is
 * defined comes from V8 (`[[FunctionLocation]]` through the inspector, its script's URL
 * from the `scriptParsed` events Debugger.enable replays), mapped to the `.ts` line for
 * TypeScript by the Node sidecar's frame resolver.
 */
import * as fs from 'node:fs';
import type * as http from 'node:http';
import * as Module from 'node:module';
import * as path from 'node:path';
import type { ServeRoute } from '../../../shared/protocol/serve';
import { sourceMapFinder } from '../attribution';
import { Frames } from '../frameResolver';

/** Routes listed at most: a generated router must not flood `ready`. */
const MAX_ROUTES = 500;
/** Nested routers followed at most this deep. */
const MAX_DEPTH = 8;

type Fn = (...a: unknown[]) => unknown;
interface Layer {
  name?: string;
  handle?: Fn & { stack?: Layer[] };
  regexp?: RegExp;
  route?: { path?: unknown; methods?: Record<string, boolean>; stack?: Layer[] };
}
interface ExpressApp extends Fn {
  _router?: { stack?: Layer[] };
  router?: { stack?: Layer[] };
  handle: Fn;
  set: Fn;
}

/** The Express app among the server's `request` listeners, if one is. */
export function expressAppOf(server: http.Server): ExpressApp | null {
  for (const l of server.listeners('request')) {
    const f = l as unknown as Partial<ExpressApp>;
    if (typeof f.handle === 'function' && typeof f.set === 'function' && ('_router' in f || 'router' in f)) return f as ExpressApp;
  }
  return null;
}

/** `express 4.21.2` from the copy the process loaded; plain `express` when its package.json cannot be read. */
export function expressName(): string {
  const cache = (Module as unknown as { _cache?: Record<string, unknown> })._cache ?? {};
  for (const file of Object.keys(cache)) {
    const m = /^(.*[\\/]node_modules[\\/]express)[\\/](index|lib[\\/]express)\.js$/.exec(file);
    if (!m) continue;
    try {
      const version = (JSON.parse(fs.readFileSync(path.join(m[1], 'package.json'), 'utf8')) as { version?: unknown }).version;
      if (typeof version === 'string') return `express ${version}`;
    } catch {
      // unreadable: named without its version
    }
  }
  return 'express';
}

interface FoundRoute {
  methods: string[];
  path: string;
  handler: Fn | null;
}

/** Express 4 stores a mounted router's path only in its regexp: `/^\/api\/?(?=\/|$)/i` → `/api`. */
export function mountPathOf(re: RegExp | undefined): string | null {
  if (!re) return null;
  if (re.source === '^\\/?(?=\\/|$)' || re.source === '^\\/?$') return '';
  const m = /^\^((?:\\\/[\w\-.~%]+)+)\\\/\?\(\?=\\\/\|\$\)$/.exec(re.source);
  return m ? m[1].replace(/\\\//g, '/') : null;
}

function walk(stack: Layer[] | undefined, prefix: string, depth: number, out: FoundRoute[]): void {
  for (const layer of stack ?? []) {
    if (out.length >= MAX_ROUTES) return;
    if (layer.route) {
      const methods = Object.keys(layer.route.methods ?? {}).filter((m) => layer.route!.methods![m]).map((m) => (m === '_all' ? '*' : m.toUpperCase()));
      const handlers = layer.route.stack ?? [];
      const last = handlers[handlers.length - 1]?.handle;
      out.push({ methods, path: prefix + String(layer.route.path), handler: typeof last === 'function' ? last : null });
    } else if (layer.name === 'router' && layer.handle?.stack && depth < MAX_DEPTH) {
      const mount = mountPathOf(layer.regexp);
      // A mount path Express 4 does not keep in a form we read (a pattern, Express 5): its routes are left out.
      if (mount !== null) walk(layer.handle.stack, prefix + mount, depth + 1, out);
    }
  }
}

/** The app's routes, each handler located (null when V8 cannot say). */
export async function expressRoutes(app: ExpressApp, workspaceRoot: string | null, toolDir: string): Promise<ServeRoute[]> {
  let stack: Layer[] | undefined;
  try {
    stack = (app._router ?? app.router)?.stack;
  } catch {
    stack = undefined;
  }
  const found: FoundRoute[] = [];
  walk(stack, '', 0, found);
  const locate = await functionLocator();
  const frames = new Frames({ workspaceRoot, toolDir, findSourceMap: sourceMapFinder() });
  const routes: ServeRoute[] = [];
  try {
    // One at a time: each lookup hands its function over through the same global.
    for (const r of found) {
      const name = r.handler ? r.handler.name || '(anonymous)' : null;
      const at = r.handler ? await locate.find(r.handler) : null;
      const frame = at ? frames.resolve({ functionName: name ?? '', url: at.url, lineNumber: at.lineNumber, columnNumber: at.columnNumber }, at.lineNumber + 1, true) : null;
      routes.push({ methods: r.methods, path: r.path, handler: name, file: frame?.file ?? null, line: frame?.line ?? null, isAsync: r.handler ? r.handler.constructor.name === 'AsyncFunction' : null });
    }
    return routes;
  } finally {
    locate.close();
  }
}

interface Location {
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface InspectorSession {
  connect(): void;
  disconnect(): void;
  on(event: string, listener: (message: { params: Record<string, unknown> }) => void): void;
  post(method: string, params: object | undefined, cb: (err: Error | null, result?: unknown) => void): void;
}

/** Where functions are defined, through one inspector session on this thread; `find` yields null when it cannot tell. */
async function functionLocator(): Promise<{ find(fn: Fn): Promise<Location | null>; close(): void }> {
  const none = { find: async () => null, close: () => undefined };
  let session: InspectorSession;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Session } = require('node:inspector') as { Session: new () => InspectorSession };
    session = new Session();
    session.connect();
  } catch {
    return none;
  }
  const post = (method: string, params?: object) => new Promise<unknown>((resolve, reject) => session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))));
  const urls = new Map<string, string>();
  session.on('Debugger.scriptParsed', (m) => {
    if (typeof m.params.scriptId === 'string' && typeof m.params.url === 'string') urls.set(m.params.scriptId, m.params.url);
  });
  const key = Symbol.for('looplag.serve.locate');
  const g = globalThis as unknown as Record<symbol, unknown>;
  const close = () => {
    delete g[key];
    try {
      session.disconnect(); // disables the Debugger domain with it
    } catch {
      // already gone
    }
  };
  try {
    await post('Debugger.enable');
  } catch {
    close();
    return none;
  }
  const find = async (fn: Fn): Promise<Location | null> => {
    try {
      g[key] = fn;
      const { result } = (await post('Runtime.evaluate', { expression: `globalThis[Symbol.for(${JSON.stringify(key.description)})]` })) as { result: { objectId?: string } };
      if (!result.objectId) return null;
      const props = (await post('Runtime.getProperties', { objectId: result.objectId, ownProperties: true })) as { internalProperties?: { name: string; value?: { value?: { scriptId: string; lineNumber: number; columnNumber: number } } }[] };
      await post('Runtime.releaseObject', { objectId: result.objectId });
      const loc = props.internalProperties?.find((p) => p.name === '[[FunctionLocation]]')?.value?.value;
      const url = loc && urls.get(loc.scriptId);
      return loc && url ? { url, lineNumber: loc.lineNumber, columnNumber: loc.columnNumber } : null;
    } catch {
      return null;
    } finally {
      delete g[key];
    }
  };
  return { find, close };
}
