/**
 * The Node quick fix for a measured CPU-bound function that worker threads kept within the lag
 * budget: a worker pool module beside the function's module (the report's worker-pool snippet,
 * advice/snippets/node.ts, written as a module whose `run(...args)` is the call), and the call
 * `fn(a, b)` → `await fnPool.run(a, b)` with the pool's import added once in the file's format.
 * The pool's text is the host's to write from `pool.module` (fixes import shared only).
 * The pool's workers load the pool file itself, which imports the function the way Node resolves
 * it; so the function must be exported from a module other than the caller's (else each worker
 * would run the caller's top level, the server, again).
 */
import * as path from 'node:path';
import { jsFunctionAt, parseJs, type JsSource } from './jsSource';
import { detectModuleFormat, type ModuleFormat } from './nodeImports';
import { eolOf, LineIndex, type Range, type TextEdit } from './text';

/** The measured function, as the pool module needs it. */
export interface PoolTarget {
  /** The function's module (absolute path). */
  file: string;
  /** `render` or `Renderer.run`. */
  qualname: string;
  /** The module's text (to check the export). */
  moduleText: string;
  /** The module's format (package.json "type", or tsconfig `module` for `.ts`, read by the caller); undefined: from its text and extension. */
  moduleFormat?: ModuleFormat;
  /** TypeScript: why the pool's `.ts` file cannot load in its workers (null: it can: a compiler or a loader is there). */
  tsNotLoadable?: string | null;
}

/** What the pool module's text is written from (advice/snippets/node.ts `workerPoolModule`: the report's pool code). */
export interface PoolModule {
  /** The function as the pool calls it: `render`, `Renderer.run`. */
  fn: string;
  /** The function's file name, imported from beside. */
  file: string;
  moduleFormat: ModuleFormat;
  language: 'javascript' | 'typescript';
}

/** The pool module to create (once: `file`, written from `module`) and the edits of the calling file, which names the pool `name`. */
export type PoolFixResult = { edits: TextEdit[]; pool: { file: string; name: string; module: PoolModule } } | { notOffered: string };

const TS_FILE = /\.([cm]?)tsx?$/;

/**
 * `render.worker-pool.mjs` for `render` of `lib.mjs`, beside it (one pool per function; the
 * module's extension, so the same module format and loader).
 */
export function poolFileOf(file: string, qualname: string): string {
  const ext = path.extname(file);
  return path.join(path.dirname(file), `${qualname}.worker-pool${ext === '.tsx' ? '.ts' : ext}`);
}

/** The specifier one file imports another by: relative, `./`, TypeScript's output name for a `.ts` (as the report's snippets do). */
function specifier(from: string, to: string): string {
  let rel = path.relative(path.dirname(from), to).split(path.sep).join('/');
  if (!rel.startsWith('.')) rel = `./${rel}`;
  return rel.replace(TS_FILE, (_m, kind: string) => `.${kind}js`);
}

/** `render` exported by name from its module (ESM `export`, CommonJS `exports.render =` / `module.exports = { render }`). */
export function exportsName(text: string, name: string): boolean {
  const n = name.replace(/\$/g, '\\$');
  return new RegExp(`\\bexport\\s+(?:async\\s+)?(?:function\\s*\\*?|const|let|var|class)\\s*${n}\\b`).test(text)
    || new RegExp(`\\bexport\\s*\\{[^}]*\\b${n}\\b(?!\\s+as\\b)[^}]*\\}`).test(text)
    || new RegExp(`\\bexports\\.${n}\\s*=`).test(text)
    || new RegExp(`\\bmodule\\.exports\\s*=\\s*\\{[^}]*\\b${n}\\b`).test(text);
}

/** Tokens in an argument list that structured clone cannot carry: a function, a class, `this` (its prototype is lost). */
const NOT_CLONABLE = new Set(['function', '=>', 'class', 'this']);

/**
 * Rewrite the call at `call` (a measured diagnostic's range) in `text` (the file `fileName`, of
 * format `format` when package.json says) as an awaited call of a worker pool module beside the
 * function's module. In an async function or a route handler only (a handler that is not async
 * becomes async).
 */
export function nodeWorkerPool(text: string, call: Range, fileName: string, target: PoolTarget, format?: ModuleFormat): PoolFixResult {
  const source = parseJs(text);
  const index = new LineIndex(text);
  const start = index.offset(call.start);
  const site = source.calls.find((c) => c.start === start && c.end === index.offset(call.end));
  if (!site) return { notOffered: 'no call at the range' };
  if (site.awaited) return { notOffered: 'the call is awaited already (its value is a Promise: a worker cannot post it back)' };
  const fn = jsFunctionAt(source, start);
  if (!fn || fn.kind === 'sync') return { notOffered: 'the call is not in an async function or a route handler (await is valid only there)' };
  const argTokens = source.tokens.filter((t) => t.start >= site.openEnd && t.end <= site.end);
  const bad = argTokens.find((t) => NOT_CLONABLE.has(t.text));
  if (bad) return { notOffered: `an argument holds \`${bad.text}\`: a worker receives a structured clone, which cannot carry functions, classes or this` };
  if (path.resolve(fileName) === path.resolve(target.file)) {
    return { notOffered: 'the function is defined in the calling file: each worker would run this file (the server) again; move it to its own module first' };
  }
  const root = target.qualname.split('.')[0];
  if (!exportsName(target.moduleText, root)) return { notOffered: `\`${root}\` is not exported by name from ${path.basename(target.file)}: the workers import it` };
  const typescript = TS_FILE.test(target.file);
  if (typescript && target.tsNotLoadable) return { notOffered: target.tsNotLoadable };

  const poolFile = poolFileOf(target.file, target.qualname);
  const spec = specifier(fileName, poolFile);
  // A file that imports the pool already (another call fixed before) keeps its name for it.
  const held = source.imports.find((i) => i.specifier === spec);
  const heldName = held && [...held.bindings].find(([, q]) => q === spec)?.[0];
  const name = heldName ?? freeName(source, `${root.charAt(0).toLowerCase()}${root.slice(1)}Pool`);
  const module: PoolModule = {
    fn: target.qualname, file: path.basename(target.file),
    moduleFormat: target.moduleFormat ?? detectModuleFormat(parseJs(target.moduleText), target.file),
    language: typescript ? 'typescript' : 'javascript',
  };

  const callerFormat = format ?? detectModuleFormat(source, fileName);
  if (!typescript && callerFormat === 'cjs' && module.moduleFormat === 'esm') {
    return { notOffered: 'the calling file is CommonJS and the function\'s module ESM: require() of the ES module pool needs Node 22.12 or later' };
  }
  // TypeScript imports with `import` in either format (tsc emits require() for CommonJS).
  const edits: TextEdit[] = heldName ? [] : poolImport(source, TS_FILE.test(fileName) ? 'esm' : callerFormat, name, spec, text);
  const needsParens = ['.', '?.', '(', '['].includes(source.tokens[site.closeIndex + 1]?.text ?? '');
  if (fn.kind === 'handler') edits.push({ range: index.range(fn.start, fn.start), newText: 'async ' });
  edits.push({ range: index.range(site.start, site.calleeEnd), newText: `${needsParens ? '(' : ''}await ${name}.run` });
  if (needsParens) edits.push({ range: index.range(site.end, site.end), newText: ')' });
  return { edits, pool: { file: poolFile, name, module } };
}

/** `renderPool`, or `renderPool2` when the file binds that name already (to another module). */
function freeName(source: JsSource, base: string): string {
  const words = new Set(source.tokens.map((t) => t.text));
  let name = base;
  for (let i = 2; words.has(name); i++) name = `${base}${i}`;
  return name;
}

/** The pool's import, a namespace (`renderPool.run`), after the file's last import, in its quotes and semicolons. */
function poolImport(source: JsSource, format: ModuleFormat, name: string, spec: string, text: string): TextEdit[] {
  const sample = source.imports[0] ? text.slice(source.imports[0].start, source.imports[0].end) : '';
  const quote = sample.includes('"') && !sample.includes("'") ? '"' : "'";
  const semi = sample && !sample.trimEnd().endsWith(';') ? '' : ';';
  const line = format === 'esm' ? `import * as ${name} from ${quote}${spec}${quote}${semi}` : `const ${name} = require(${quote}${spec}${quote})${semi}`;
  const last = source.imports[source.imports.length - 1];
  const index = new LineIndex(text);
  const eol = eolOf(text);
  if (last) {
    const nl = text.indexOf('\n', last.end);
    const at = nl < 0 ? text.length : nl + 1;
    return [{ range: index.range(at, at), newText: `${nl < 0 ? eol : ''}${line}${eol}` }];
  }
  // After a 'use strict' directive (it must stay first); else before the first statement (after a shebang).
  const first = source.tokens[0];
  const directive = first?.kind === 'string' && /^['"]use strict['"]$/.test(first.text) ? (source.tokens[1]?.text === ';' ? source.tokens[1] : first) : undefined;
  if (directive) {
    const nl = text.indexOf('\n', directive.end);
    const at = nl < 0 ? text.length : nl + 1;
    return [{ range: index.range(at, at), newText: `${nl < 0 ? eol : ''}${line}${eol}` }];
  }
  const at = first ? index.lineStart(first.start) : 0;
  return [{ range: index.range(at, at), newText: `${line}${eol}` }];
}
