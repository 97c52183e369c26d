/**
 * What names a service-mode app and an endpoint, checked as `looplag serve` and the
 * editor's Measure Endpoint both check them (one wording for both): `module:attribute` or
 * a Node script, and `METHOD /path`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from '../engine/options';
import type { LoadTarget } from './load/types';
import type { ServeApp } from '../shared/protocol/serve';

/** Methods a load target may use; the first three need a body. */
export const BODY_METHODS = ['POST', 'PUT', 'PATCH'] as const;
export const METHODS = new Set<string>([...BODY_METHODS, 'GET', 'HEAD', 'DELETE', 'OPTIONS']);
/** Methods that take no body. */
export const NO_BODY_METHODS = new Set(['GET', 'HEAD']);
/** uvicorn's APP: dotted module, colon, dotted attribute. */
const ASGI_APP = /^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/;
export const NODE_SCRIPT_EXTENSIONS = ['.js', '.mjs', '.cjs', '.ts'];

/** `module:attr` → an ASGI app imported from the workspace; a .js/.mjs/.cjs/.ts file → a Node server. */
export function parseApp(text: string, workspaceRoot: string, cwd: string): ServeApp {
  const ext = path.extname(text).toLowerCase();
  if (NODE_SCRIPT_EXTENSIONS.includes(ext)) {
    const script = path.resolve(cwd, text);
    let stat: fs.Stats | null = null;
    try {
      stat = fs.statSync(script);
    } catch {
      // reported below
    }
    if (!stat?.isFile()) throw new UsageError(`the Node server script ${text} ${stat ? 'is not a file' : 'does not exist'}`);
    return { type: 'node', script, args: [] };
  }
  if (ASGI_APP.test(text)) return { type: 'asgi', target: text, appDir: workspaceRoot, lifespan: 'auto' };
  if (/\(\)$/.test(text)) throw new UsageError(`an app factory (${text}) is not supported: name the app object, module:attribute`);
  if (ext === '.py' || ext === '.pyw') {
    const module = path.basename(text, ext);
    throw new UsageError(`name the ASGI app as module:attribute (e.g. ${/^[A-Za-z_]\w*$/.test(module) ? module : 'main'}:app), not the file ${text}`);
  }
  throw new UsageError(`APP must be a Python ASGI app as module:attribute (e.g. app.main:app) or a Node server script (${NODE_SCRIPT_EXTENSIONS.join(' ')}), got "${text}"`);
}

/** `"GET /reports/sales"` → method and path (with its query). */
export function parseEndpoint(text: string): Pick<LoadTarget, 'name' | 'method' | 'path'> {
  const m = /^\s*(\S+)\s+(\S+)\s*$/.exec(text);
  if (!m) throw new UsageError(`--endpoint "${text}": write it as "METHOD /path", e.g. "GET /reports/sales"`);
  const method = m[1].toUpperCase();
  const p = m[2];
  if (!METHODS.has(method)) throw new UsageError(`--endpoint "${text}": unknown method ${m[1]}; use one of ${[...METHODS].join(', ')}`);
  if (!p.startsWith('/')) throw new UsageError(`--endpoint "${text}": the path must start with / (the server is on 127.0.0.1; give the path only)`);
  // HTTP sends a request target as printable ASCII: anything else would be refused per request, mid-run.
  if (!/^[\x21-\x7e]*$/.test(p)) throw new UsageError(`--endpoint "${text}": write characters outside printable ASCII percent-encoded (é as %C3%A9)`);
  return { name: `${method} ${p}`, method, path: p };
}

