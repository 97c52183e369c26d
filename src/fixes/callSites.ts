/**
 * Where a measured function is called (issue 15's measured diagnostics): in its own file and
 * in files that import it (Python: `from pkg.mod import fn`, `import pkg.mod` + `pkg.mod.fn(…)`,
 * relative imports; JS/TS: named, default and namespace imports or `require` of a relative
 * specifier that resolves to the function's file). Each site says whether it runs on the
 * loop (in an `async def`, an async function or a route handler) and whether the call is
 * already offloaded (`asyncio.to_thread(fn, …)`, `loop.run_in_executor(pool, fn, …)`), and
 * to which mode, so it is judged by that mode's measurement.
 */
import * as path from 'node:path';
import type { Language, Mode } from '../shared/protocol';
import { jsFunctionAt, parseJs, type JsSource } from './jsSource';
import { matchingClose, type PyToken } from './pyLex';
import { parsePython, resolve, scopeAt, type PySource } from './pySource';
import { LineIndex, type Range } from './text';

/** The measured function, as a report names it. */
export interface CalledTarget {
  /** Absolute path. */
  file: string;
  qualname: string;
  language: Language;
  /** Python: the dotted module it was imported as (`app.render`), else derived from `root`. */
  module?: string;
  /** The folder module names are relative to when `module` is absent (the workspace folder). */
  root: string;
  /** JS/TS: the function is its file's default export (`isDefaultExport`), so a default import calls it. */
  defaultExport?: boolean;
}

export interface CallSite {
  /** The call: `fn(…)`, or the offloading call `asyncio.to_thread(fn, …)`. */
  range: Range;
  /** The callee as written (`render`, `views.render`). */
  callee: string;
  /** The mode the call runs in: `inline` on the loop, or the pool it is handed to. */
  mode: Mode;
  /** Inside code that runs on the loop (only those sites get a diagnostic). */
  onLoop: boolean;
}

/** The thread-pool helpers that take the function first (as a name, not a call). */
const TO_THREAD = new Set(['asyncio.to_thread', 'anyio.to_thread.run_sync', 'starlette.concurrency.run_in_threadpool', 'fastapi.concurrency.run_in_threadpool']);
const EXECUTOR_MODE: { readonly [executor: string]: Mode } = { ProcessPoolExecutor: 'process', ThreadPoolExecutor: 'thread', InterpreterPoolExecutor: 'interpreter' };

/** The call sites of `target` in a file's text (`fileName`: its absolute path). */
export function findCallSites(text: string, fileName: string, target: CalledTarget): CallSite[] {
  return findAllCallSites(text, fileName, new Map([['', target]])).get('') ?? [];
}

/**
 * The call sites of each target (by key) in one file's text, the text parsed once per
 * language at most. A file that never mentions a target's name is not parsed for it (most
 * files of a workspace).
 */
export function findAllCallSites(text: string, fileName: string, targets: ReadonlyMap<string, CalledTarget>): Map<string, CallSite[]> {
  const out = new Map<string, CallSite[]>();
  let py: PySource | undefined;
  let js: JsSource | undefined;
  for (const [key, target] of targets) {
    if (!text.includes(target.qualname.split('.')[0])) continue;
    const sites = target.language === 'python'
      ? pythonSites((py ??= parsePython(text)), fileName, target)
      : jsSites((js ??= parseJs(text)), fileName, target);
    if (sites.length) out.set(key, sites);
  }
  return out;
}

/** `a.b.c` of a module path relative to the root (`__init__.py` names its package), or null outside it. */
function moduleOfFile(file: string, root: string): string | null {
  const rel = path.relative(root, file);
  if (!rel || rel.startsWith('..') || path.isAbsolute(rel) || !rel.endsWith('.py')) return null;
  const parts = rel.slice(0, -3).split(path.sep);
  if (parts[parts.length - 1] === '__init__') parts.pop();
  return parts.join('.');
}

/** Where the target's module names are rooted: its file minus its dotted module's folders. */
function pythonRoot(target: CalledTarget): string {
  if (!target.module) return target.root;
  const depth = target.module.split('.').length - (path.basename(target.file) === '__init__.py' ? 0 : 1);
  let root = path.dirname(target.file);
  for (let i = 0; i < depth; i++) root = path.dirname(root);
  return root;
}

/** The callees (as written in this file) that call the target. */
function pythonCallees(source: PySource, fileName: string, target: CalledTarget): Set<string> {
  const root = pythonRoot(target);
  const module = target.module ?? moduleOfFile(target.file, root);
  const q = target.qualname;
  const out = new Set<string>();
  if (path.resolve(fileName) === path.resolve(target.file)) out.add(q);
  if (!module) return out;
  const here = moduleOfFile(fileName, root);
  const isPackage = path.basename(fileName) === '__init__.py';
  for (const imp of source.imports) {
    const t = imp.line.tokens;
    if (t[0].text === 'import') {
      for (const b of imp.bindings) {
        if (b.qualified === module) out.add(`${b.local}.${q}`);
        else if (b.loaded === module || b.loaded?.startsWith(`${module}.`)) out.add(`${module}.${q}`);
      }
      continue;
    }
    // from X import a as b, c
    let j = 1;
    let level = 0;
    while (t[j]?.text === '.' || t[j]?.text === '...') level += t[j++].text.length;
    let from = '';
    while (t[j] && t[j].text !== 'import') from += t[j++].text;
    if (level) {
      if (here === null) continue;
      const pkg = here.split('.').filter(Boolean);
      const base = isPackage ? pkg : pkg.slice(0, -1);
      if (level - 1 > base.length) continue;
      from = [...base.slice(0, base.length - (level - 1)), ...(from ? [from] : [])].join('.');
    }
    for (const [imported, local] of importedNames(t.slice(j + 1))) {
      const full = from ? `${from}.${imported}` : imported;
      if (from === module && imported === q.split('.')[0]) out.add([local, ...q.split('.').slice(1)].join('.'));
      else if (full === module) out.add(`${local}.${q}`);
    }
  }
  return out;
}

/** `a as b, (c, d)` → [[a, b], [c, c], [d, d]]. */
function importedNames(t: PyToken[]): [string, string][] {
  const names = t.filter((x) => x.text !== '(' && x.text !== ')');
  const out: [string, string][] = [];
  for (let j = 0; j < names.length; j++) {
    if (names[j].kind !== 'name') continue;
    if (names[j + 1]?.text === 'as') {
      out.push([names[j].text, names[j + 2]?.text ?? '']);
      j += 2;
    } else out.push([names[j].text, names[j].text]);
  }
  return out;
}

function pythonSites(source: PySource, fileName: string, target: CalledTarget): CallSite[] {
  const callees = pythonCallees(source, fileName, target);
  if (!callees.size) return [];
  const index = new LineIndex(source.text);
  const bindings = new Map<string, string>();
  for (const imp of source.imports) for (const b of imp.bindings) bindings.set(b.local, b.qualified);
  const pools = modulePools(source, bindings);
  const out: CallSite[] = [];
  // The scope of a matching call only: finding it is linear in the scopes.
  const at = (start: number, end: number) => ({ range: index.range(start, end), onLoop: scopeAt(source, start)?.kind === 'async def' });
  for (const call of source.calls) {
    if (callees.has(call.callee)) {
      out.push({ ...at(call.start, call.end), callee: call.callee, mode: 'inline' });
      continue;
    }
    if (!TO_THREAD.has(resolve(call.callee, bindings))) continue;
    const args = argumentTexts(call.line.tokens, call.line.tokens.findIndex((x) => x.end === call.openEnd), call.closeIndex);
    const fn = calledName(args[0], bindings);
    if (fn && callees.has(fn)) out.push({ ...at(call.start, call.end), callee: fn, mode: 'thread' });
  }
  // `….run_in_executor(pool, fn, …)`: on any loop expression (`asyncio.get_running_loop().…`, which is no dotted call).
  for (const line of source.lines) {
    line.tokens.forEach((tok, j, t) => {
      if (tok.text !== 'run_in_executor' || t[j - 1]?.text !== '.' || t[j + 1]?.text !== '(') return;
      const close = matchingClose(t, j + 1);
      const args = close > 0 ? argumentTexts(t, j + 1, close) : [];
      const fn = calledName(args[1], bindings);
      const mode = args[0] === 'None' ? 'thread' : pools.get(args[0] ?? '');
      if (!fn || !mode || !callees.has(fn)) return;
      // Back over the loop expression's chain: names before `.`/`(`, `(…)` before `.`.
      let s = j;
      for (;;) {
        const p = t[s - 1];
        if (p?.text === '.') s--;
        else if (p?.text === ')' && t[s].text === '.') s = openingOf(t, s - 1);
        else if (p?.kind === 'name' && (t[s].text === '.' || t[s].text === '(')) s--;
        else break;
      }
      out.push({ ...at(t[s].start, t[close].end), callee: fn, mode });
    });
  }
  out.sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
  return out;
}

/** The function an argument hands on: `fn`, or `functools.partial(fn, …)`'s first argument. */
function calledName(arg: string | undefined, bindings: Map<string, string>): string | undefined {
  if (!arg) return undefined;
  if (/^[A-Za-z_][\w.]*$/.test(arg)) return arg;
  const partial = /^([\w.]+)\(([\w.]+)[,)]/.exec(arg);
  return partial && resolve(partial[1], bindings) === 'functools.partial' ? partial[2] : undefined;
}

/** The `(` matching the `)` at `close`. */
function openingOf(t: readonly PyToken[], close: number): number {
  let depth = 0;
  for (let j = close; j >= 0; j--) {
    if (')]}'.includes(t[j].text)) depth++;
    else if ('([{'.includes(t[j].text) && --depth === 0) return j;
  }
  return 0;
}

/** Module-level `name = …ProcessPoolExecutor(…)` (and thread, interpreter pools): name → the mode it runs calls in. */
function modulePools(source: PySource, bindings: Map<string, string>): Map<string, Mode> {
  const out = new Map<string, Mode>();
  for (const line of source.lines) {
    const t = line.tokens;
    if (line.indent !== 0 || t[0].kind !== 'name' || t[1]?.text !== '=') continue;
    let j = 2;
    let callee = '';
    while (t[j] && (t[j].kind === 'name' || t[j].text === '.')) callee += t[j++].text;
    if (t[j]?.text !== '(') continue;
    const mode = EXECUTOR_MODE[resolve(callee, bindings).split('.').pop() ?? ''];
    if (mode) out.set(t[0].text, mode);
  }
  return out;
}

/** The top-level arguments of a call between its brackets, each as its tokens' text joined. */
function argumentTexts(t: readonly PyToken[], open: number, close: number): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (let j = open + 1; j < close; j++) {
    const x = t[j].text;
    if ('([{'.includes(x)) depth++;
    else if (')]}'.includes(x)) depth--;
    if (x === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += x;
  }
  if (cur) out.push(cur);
  return out;
}

/** The extensions a relative specifier may leave out, and what a `.js` specifier may stand for (TS's ESM style). */
const JS_EXTENSIONS = ['', '.ts', '.tsx', '.mts', '.cts', '.js', '.mjs', '.cjs', '.jsx'];

function resolvesTo(fileName: string, specifier: string, target: string): boolean {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return false;
  const base = path.resolve(path.dirname(fileName), specifier);
  const bases = [base, base.replace(/\.(m|c)?js$/, (_m, k: string | undefined) => `.${k ?? ''}ts`)];
  const want = path.resolve(target);
  return bases.some((b) => JS_EXTENSIONS.some((ext) => b + ext === want || path.join(b, `index${ext}`) === want));
}

/** `export default function name` / `export default name` in the target's own text. */
export function isDefaultExport(text: string, name: string): boolean {
  return new RegExp(`export\\s+default\\s+(?:async\\s+)?(?:function\\s*\\*?\\s*)?${name.replace(/\$/g, '\\$')}\\b`).test(text);
}

function jsSites(source: JsSource, fileName: string, target: CalledTarget): CallSite[] {
  const q = target.qualname;
  const callees = new Set<string>();
  if (path.resolve(fileName) === path.resolve(target.file)) callees.add(q);
  for (const imp of source.imports) {
    if (!resolvesTo(fileName, imp.specifier, target.file)) continue;
    const mod = imp.specifier.replace(/^node:/, '');
    for (const [local, qualified] of imp.bindings) {
      if (qualified === `${mod}.${q.split('.')[0]}`) callees.add([local, ...q.split('.').slice(1)].join('.'));
      else if (qualified === mod) {
        callees.add(`${local}.${q}`); // a namespace import or require()
        if (target.defaultExport) callees.add(local);
      }
    }
  }
  if (!callees.size) return [];
  const index = new LineIndex(source.text);
  return source.calls.filter((c) => callees.has(c.callee)).map((c) => {
    const fn = jsFunctionAt(source, c.start);
    return { range: index.range(c.start, c.end), callee: c.callee, mode: 'inline' as const, onLoop: fn?.kind === 'async' || fn?.kind === 'handler' };
  });
}
