/**
 * Measure Endpoint's questions: the endpoint items (the app's routes, else the file's
 * route calls, and Other…), a concrete value for each path parameter, and a JSON body for
 * POST/PUT/PATCH, each answer remembered per endpoint in the workspace's state.
 */
import * as vscode from 'vscode';
import { UsageError } from '../engine/options';
import { BODY_METHODS, parseEndpoint } from '../serve/appSpec';
import type { ServeRoute } from '../shared/protocol/serve';
import { fillPath, pathParams, RouteSite, routeMatches } from './serveSource';

export const OTHER_LABEL = '$(edit) Other…';

export interface EndpointItem extends vscode.QuickPickItem {
  /** Absent on Other…. */
  method?: string;
  path?: string;
}

/** Methods a route answers that nobody loads on purpose: Starlette adds HEAD to every GET route. */
const IMPLIED = new Set(['HEAD', 'OPTIONS']);

/**
 * One item per route and method (the app's, else what the file registers), the one
 * `preselect` names (`GET /items/{item_id}`, a lens's route) picked, then Other….
 */
export function endpointItems(routes: ServeRoute[], sites: RouteSite[], preselect: string | undefined): EndpointItem[] {
  const want = preselect ? parseSite(preselect) : null;
  const items: EndpointItem[] = [];
  const seen = new Set<string>();
  const add = (method: string, path: string, description?: string, detail?: string) => {
    const label = `${method} ${path}`;
    if (seen.has(label)) return;
    seen.add(label);
    const picked = want !== null && routeMatches({ methods: [method], path }, want);
    items.push({ label, method, path, picked, ...(description ? { description } : {}), ...(detail ? { detail } : {}) });
  };
  // The app's own handlers (a workspace-relative file) before the framework's (FastAPI's /docs, /openapi.json).
  const outside = (r: ServeRoute) => Number(r.file === null || /^([/\\]|[A-Za-z]:)/.test(r.file));
  const own = [...routes].sort((a, b) => outside(a) - outside(b));
  for (const r of own) {
    const methods = r.methods.map((m) => m.toUpperCase());
    for (const m of methods.filter((x) => !IMPLIED.has(x) || methods.every((y) => IMPLIED.has(y)))) {
      add(m, r.path, r.handler ?? undefined, r.file ? `${r.file}${r.line ? `:${r.line}` : ''}${r.isAsync === null ? '' : r.isAsync ? ' · async def' : ' · def'}` : undefined);
    }
  }
  if (!routes.length) for (const s of sites) for (const m of s.methods) add(m, s.path, 'registered in this file');
  // A lens's route the app did not report (a router not included yet): still offered, picked.
  if (want && !items.some((i) => i.picked)) add(want.method, want.path, 'from the CodeLens');
  items.push({ label: OTHER_LABEL, description: 'type METHOD /path', alwaysShow: true });
  return items;
}

function parseSite(text: string): { method: string; path: string } | null {
  const m = /^\s*(\S+)\s+(\S+)\s*$/.exec(text);
  return m ? { method: m[1].toUpperCase(), path: m[2] } : null;
}

/** Other…: `METHOD /path`, checked as `--endpoint` is. */
export async function askOtherEndpoint(): Promise<{ method: string; path: string } | undefined> {
  const text = await vscode.window.showInputBox({
    title: 'Loop Lag: the endpoint to load', prompt: 'METHOD /path, e.g. GET /reports/sales?year=2024', ignoreFocusOut: true,
    validateInput: (t) => endpointProblem(t),
  });
  if (text === undefined) return undefined;
  const e = parseEndpoint(text);
  return { method: e.method, path: e.path };
}

/** What is wrong with `METHOD /path` as typed (the CLI's words without the flag), or null. */
export function endpointProblem(text: string): string | null {
  try {
    parseEndpoint(text);
    return null;
  } catch (e) {
    if (e instanceof UsageError) return e.message.replace(/^--endpoint "[^"]*": /, '');
    throw e;
  }
}

/** The path with each parameter (`{item_id}`, `:id`) given a value, encoded as HTTP sends it (fillPath). */
export async function askPathParams(state: vscode.Memento, app: string, endpoint: { method: string; path: string }): Promise<string | undefined> {
  const names = pathParams(endpoint.path);
  if (!names.length) return fillPath(endpoint.path, {}); // encoded as HTTP sends it
  const key = `looplag.serve.params:${app}:${endpoint.method} ${endpoint.path}`;
  const last = state.get<Record<string, string>>(key) ?? {};
  const values: Record<string, string> = {};
  for (const name of names) {
    const v = await vscode.window.showInputBox({
      title: `Loop Lag: ${endpoint.method} ${endpoint.path}`, prompt: `A value for {${name}} in the requests' path`,
      value: last[name] ?? '', ignoreFocusOut: true,
      validateInput: (t) => (t.trim() ? null : `${name} needs a value`),
    });
    if (v === undefined) return undefined;
    values[name] = v.trim();
  }
  await state.update(key, values);
  return fillPath(endpoint.path, values);
}

/** POST, PUT, PATCH: a JSON body (sent as application/json), pre-filled with last time's; null for the other methods. */
export async function askBody(state: vscode.Memento, app: string, method: string, path: string): Promise<string | null | undefined> {
  if (!(BODY_METHODS as readonly string[]).includes(method)) return null;
  const key = `looplag.serve.body:${app}:${method} ${path}`;
  const text = await vscode.window.showInputBox({
    title: `Loop Lag: the body of ${method} ${path}`, prompt: 'JSON, sent with every request as application/json',
    value: state.get<string>(key) ?? '{}', ignoreFocusOut: true,
    validateInput: (t) => bodyProblem(t),
  });
  if (text === undefined) return undefined;
  await state.update(key, text);
  return text;
}

/** Why a body is not JSON, or null. */
export function bodyProblem(text: string): string | null {
  try {
    JSON.parse(text);
    return null;
  } catch (e) {
    return `not JSON: ${(e as Error).message}`;
  }
}
