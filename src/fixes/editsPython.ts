/**
 * The Python quick fixes, as edits over the source text (the editor turns them into a
 * WorkspaceEdit). Which one to offer is the measurement's call, not these builders':
 *  - the GIL was released during the call → `pythonToThread` (a thread can run it);
 *  - the GIL was held, or the call is pure Python → `pythonProcessPool` (only another process helps);
 *  - a FastAPI `async def` endpoint that threads are safe for → `fastapiAsyncToDef`.
 * Each keeps the call's own formatting (its arguments and line breaks are left as written).
 */
import { matchingClose, type PyToken } from './pyLex';
import { pyInsertLines, pyRefersTo } from './pyImports';
import { parsePython, scopeAt, type PySource } from './pySource';
import { LineIndex, type FixResult, type Position, type Range, type TextEdit } from './text';

/** The module-level pool `pythonProcessPool` creates once and reuses. */
export const PROCESS_POOL_NAME = '_looplag_pool';

/** A call found at a range: `callee(` … `)`, with what follows it. */
interface PyCallSite {
  source: PySource;
  index: LineIndex;
  start: number;
  /** Offset after the call's `(` (its arguments start there). */
  openEnd: number;
  end: number;
  callee: string;
  hasArgs: boolean;
  hasKeywords: boolean;
  /** `(await …)` is needed: the call's value is used by a `.attr`, `(…)` or `[…]` after it. */
  needsParens: boolean;
}

/** The call whose range the hint or the measurement gave; a reason when it is not one a fix applies to. */
function callSite(text: string, range: Range): PyCallSite | string {
  const source = parsePython(text);
  const index = new LineIndex(text);
  const start = index.offset(range.start);
  const end = index.offset(range.end);
  for (const line of source.lines) {
    const t = line.tokens;
    const first = t.findIndex((x) => x.start === start);
    if (first < 0) continue;
    const close = t.findIndex((x) => x.end === end);
    if (close < 0 || t[close].text !== ')') return 'the range does not end with a call';
    let open = -1;
    for (let j = first; j < close; j++) if (t[j].text === '(' && matchingClose(t, j) === close) open = j;
    if (open <= first) return 'the range is not a call';
    if (t[first - 1]?.text === 'await') return 'the call is awaited already';
    const scope = scopeAt(source, start);
    if (scope?.kind !== 'async def') return 'the call is not in an async def (await is valid only there)';
    const args = t.slice(open + 1, close);
    return {
      source,
      index,
      start,
      openEnd: t[open].end,
      end,
      callee: text.slice(start, t[open].start),
      hasArgs: args.length > 0,
      hasKeywords: hasKeywordArgument(args),
      needsParens: ['.', '(', '['].includes(t[close + 1]?.text ?? ''),
    };
  }
  return 'no call starts at the range';
}

/** `name=` or `**` at the call's own bracket depth. */
function hasKeywordArgument(args: readonly PyToken[]): boolean {
  let depth = 0;
  return args.some((a, j) => {
    if ('([{'.includes(a.text)) depth++;
    else if (')]}'.includes(a.text)) depth--;
    const argStart = j === 0 || args[j - 1].text === ',';
    return depth === 0 && argStart && (a.text === '**' || (a.kind === 'name' && args[j + 1]?.text === '='));
  });
}

/** `callee(args)` → `await <prefix>callee, args)<tail>`: one edit over `callee(`, one after `)` when needed. */
function wrapCall(site: PyCallSite, prefix: string, tail = ''): TextEdit[] {
  const { index, source } = site;
  const breaksLine = /^[ \t]*(#.*)?\r?\n/.test(source.text.slice(site.openEnd));
  const sep = site.hasArgs ? (breaksLine ? ',' : ', ') : '';
  const open = site.needsParens ? '(' : '';
  const close = tail + (site.needsParens ? ')' : '');
  const edits: TextEdit[] = [{ range: index.range(site.start, site.openEnd), newText: `${open}await ${prefix}${site.callee}${sep}` }];
  if (close) edits.push({ range: index.range(site.end, site.end), newText: close });
  return edits;
}

/** How the module reaches `module` (existing alias), and the import to add when it does not. */
function moduleRef(source: PySource, module: string, adds: string[]): string {
  const ref = pyRefersTo(source, module);
  if (ref) return ref;
  adds.push(`import ${module}`);
  return module;
}

/**
 * `fn(args…)` → `await asyncio.to_thread(fn, args…)` (keyword arguments kept: to_thread passes
 * them on), `import asyncio` added once if the module lacks it (an `import asyncio as aio` is used).
 */
export function pythonToThread(text: string, call: Range): FixResult {
  const site = callSite(text, call);
  if (typeof site === 'string') return { notOffered: site };
  const adds: string[] = [];
  const toThread = pyRefersTo(site.source, 'asyncio.to_thread') ?? `${moduleRef(site.source, 'asyncio', adds)}.to_thread`;
  return { edits: [...pyInsertLines(site.source, adds), ...wrapCall(site, `${toThread}(`)] };
}

/**
 * `fn(args…)` → `await asyncio.get_running_loop().run_in_executor(_looplag_pool, fn, args…)`,
 * through `functools.partial(fn, args…, kw=…)` when there are keyword arguments
 * (run_in_executor passes positional ones only), with a module-level
 * `_looplag_pool = concurrent.futures.ProcessPoolExecutor()` created once after the imports.
 * Offered for a dotted callee only: a process pool pickles the function by its importable name.
 */
export function pythonProcessPool(text: string, call: Range): FixResult {
  const site = callSite(text, call);
  if (typeof site === 'string') return { notOffered: site };
  if (!/^[A-Za-z_][\w.]*$/.test(site.callee)) return { notOffered: 'the callee is not a name another process can import (a bound method or an expression)' };
  const adds: string[] = [];
  const asyncio = moduleRef(site.source, 'asyncio', adds);
  const statements: string[] = [];
  const hasPool = site.source.lines.some((l) => l.indent === 0 && l.tokens[0].text === PROCESS_POOL_NAME && l.tokens[1]?.text === '=');
  if (!hasPool) {
    const executor = pyRefersTo(site.source, 'concurrent.futures.ProcessPoolExecutor') ?? `${moduleRef(site.source, 'concurrent.futures', adds)}.ProcessPoolExecutor`;
    statements.push("# One process pool for this module's CPU-bound calls (a Loop Lag quick fix).", `${PROCESS_POOL_NAME} = ${executor}()`);
  }
  const runInExecutor = `${asyncio}.get_running_loop().run_in_executor`;
  let edits: TextEdit[];
  if (site.hasKeywords) {
    const partial = pyRefersTo(site.source, 'functools.partial') ?? `${moduleRef(site.source, 'functools', adds)}.partial`;
    edits = wrapCall(site, `${runInExecutor}(${PROCESS_POOL_NAME}, ${partial}(`, ')');
  } else edits = wrapCall(site, `${runInExecutor}(${PROCESS_POOL_NAME}, `);
  return { edits: [...pyInsertLines(site.source, adds, statements), ...edits] };
}

/** FastAPI's route decorators: `@app.get(…)`, `@router.post(…)`, … (websockets must stay async). */
const FASTAPI_ROUTES = new Set(['get', 'post', 'put', 'patch', 'delete', 'head', 'options', 'trace', 'api_route']);

/**
 * A FastAPI `async def` endpoint → `def` (FastAPI runs a plain `def` endpoint in its threadpool,
 * off the loop). Offered only when the body has no `await`, `async for` or `async with`:
 * removing them would change what the endpoint does. `at` is any position in the endpoint.
 */
export function fastapiAsyncToDef(text: string, at: Position): FixResult {
  const source = parsePython(text);
  const index = new LineIndex(text);
  const offset = index.offset(at);
  const endpoint = source.scopes
    .filter((s) => s.kind === 'async def' && (s.decorators[0]?.tokens[0].start ?? s.headerStart) <= offset && offset <= s.bodyEnd)
    .sort((a, b) => b.headerStart - a.headerStart)[0];
  if (!endpoint) return { notOffered: 'no async def here' };
  const isRoute = endpoint.decorators.some((d) => {
    const t = d.tokens;
    return t[1]?.kind === 'name' && t[2]?.text === '.' && FASTAPI_ROUTES.has(t[3]?.text ?? '') && t[4]?.text === '(';
  });
  if (!isRoute) return { notOffered: 'not a FastAPI route (no @app.get/post/… decorator)' };
  const inBody = source.lines.flatMap((l) => l.tokens).filter((t) => t.start >= endpoint.bodyStart && t.end <= endpoint.bodyEnd && t.kind === 'name');
  const awaits = inBody.find((t) => t.text === 'await' || t.text === 'async');
  if (awaits) return { notOffered: `the body awaits (line ${index.position(awaits.start).line + 1}): a plain def cannot` };
  const t = endpoint.line.tokens;
  return { edits: [{ range: index.range(t[0].start, t[1].start), newText: '' }] };
}
