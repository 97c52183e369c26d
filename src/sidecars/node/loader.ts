/**
 * Loads the user's module the way their project would (Node's own resolution, their
 * node_modules, ESM or CommonJS) with two additions: TypeScript is transpiled on the
 * fly, and the target module gets the capture statement of instrument.ts appended.
 * CommonJS goes through `Module._extensions`/`_compile`; ESM through loader hooks
 * (hooks.mjs, registered per thread: workers do not inherit them).
 */
import * as fs from 'node:fs';
import Module, { createRequire, register } from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RunError } from '../../shared/protocol';
import { CAPTURE_KEY, Captured, hasBindingName, instrument, InstrumentSpec, Layout, originOf } from './instrument';
import { isTypeScript, moduleFormat, SourceSyntaxError, transpile } from './transpile';
import { TsResolver } from './tsResolve';

export interface LoadSpec extends InstrumentSpec {
  /** Real path of the target file. */
  file: string;
  /** dist/sidecars/node: where hooks.mjs and typescript.js live. */
  baseDir: string;
  cacheDir: string | null;
}

/** A failure to load or find the target, as the protocol's error. */
export class LoadError extends Error {
  constructor(readonly error: RunError) {
    super(error.message);
  }
}

interface ModuleInternals {
  _compile(content: string, filename: string): unknown;
}
type Extensions = Record<string, (module: ModuleInternals, filename: string) => void>;

/** Install the CommonJS and ESM hooks for this thread. Call once, before loading. */
export function installHooks(spec: LoadSpec): void {
  const extensions = (Module as unknown as { _extensions: Extensions })._extensions;
  const proto = (Module as unknown as { prototype: ModuleInternals }).prototype;
  const compile = proto._compile;
  proto._compile = function (this: ModuleInternals, content: string, filename: string) {
    if (filename === spec.file && !isTypeScript(filename)) content = instrument(content, spec).code;
    return compile.call(this, content, filename);
  };
  const loadTs = (module: ModuleInternals, filename: string) => {
    let source = fs.readFileSync(filename, 'utf8');
    if (filename === spec.file) source = instrument(source, spec).code;
    module._compile(transpile({ file: filename, source, format: 'commonjs', baseDir: spec.baseDir, cacheDir: spec.cacheDir }), filename);
  };
  for (const ext of ['.ts', '.cts', '.tsx']) extensions[ext] = loadTs;
  // Imports of a .ts file as tsx and bundlers resolve them (tsconfig `paths`, `./lib`
  // for lib.ts, `./lib.js` for lib.ts), tried only after Node's own resolution fails.
  const tsResolver = new TsResolver(spec.baseDir);
  const M = Module as unknown as { _resolveFilename(request: string, parent: { filename?: string } | null, ...rest: unknown[]): string };
  const resolveFilename = M._resolveFilename;
  M._resolveFilename = function (request, parent, ...rest) {
    try {
      return resolveFilename.call(this, request, parent, ...rest);
    } catch (e) {
      if (!parent?.filename || !isTypeScript(parent.filename)) throw e;
      const found = tsResolver.resolve(request, parent.filename);
      if (!found) throw e;
      return found;
    }
  };
  // Stack traces of transpiled code point at the .ts lines.
  process.setSourceMapsEnabled?.(true);
  if (typeof register === 'function') {
    register(pathToFileURL(path.join(spec.baseDir, 'hooks.mjs')).href, { data: { spec } });
  }
}

/** What the capture statement handed over, and the module's exports as an importer sees them. */
export interface Loaded extends Captured {
  /** CommonJS: `module.exports`; ESM: the namespace object. */
  exports: unknown;
  format: 'commonjs' | 'esm';
}

/** Load the module and return what its capture statement handed over. */
export async function loadCaptured(spec: LoadSpec): Promise<Loaded> {
  let captured: Captured | undefined;
  const g = globalThis as unknown as Record<symbol, unknown>;
  g[Symbol.for(CAPTURE_KEY)] = (c: Captured) => {
    captured = c;
  };
  const format = moduleFormat(spec.file);
  let layout: Layout | null = null;
  let exports: unknown;
  try {
    // The same appended text the hooks produce: its layout maps error lines back.
    const instrumented = instrument(fs.readFileSync(spec.file, 'utf8'), spec);
    layout = instrumented.layout;
    const code = instrumented.code;
    // TypeScript is checked here, on this thread, so a syntax error keeps its line
    // (an error from the ESM hooks thread arrives as text); the output is cached.
    if (isTypeScript(spec.file)) transpile({ file: spec.file, source: code, format, baseDir: spec.baseDir, cacheDir: spec.cacheDir });
    if (format === 'commonjs') exports = createRequire(spec.file)(spec.file);
    else exports = await import(pathToFileURL(spec.file).href);
  } catch (e) {
    throw new LoadError(loadErrorOf(e, spec, layout));
  }
  if (!captured) {
    throw new LoadError({
      kind: 'import-error',
      message: `${path.basename(spec.file)} loaded, but its last statement never ran (a top-level \`return\` or \`process.exit\`?), so Loop Lag cannot reach the target`,
      detail: null,
      file: spec.file,
    });
  }
  return { ...captured, exports, format };
}

function firstLine(text: string): string {
  return text.split('\n')[0];
}

/** Map an exception from loading the module to a specific, located error. */
export function loadErrorOf(e: unknown, spec: LoadSpec, layout: Layout | null): RunError {
  const err = e as Error & { code?: string };
  const file = spec.file;
  const syntaxAt = (line: number | null, message: string): RunError => {
    if (line === null || !layout) return { kind: 'syntax-error', message, detail: null, file, line };
    const origin = originOf(line, layout, spec.lines?.start ?? null);
    if (origin.where === 'args') {
      return { kind: 'bad-arguments', message: `the call arguments are not valid: ${message}`, detail: `arguments: ${spec.args}`, file, line: null };
    }
    if (origin.where === 'snippet') return { kind: 'syntax-error', message: `${message} (line ${origin.line})`, detail: null, file, line: origin.line };
    if (origin.where === 'glue') return { kind: 'syntax-error', message: `the selected lines do not form complete statements: ${message}`, detail: null, file, line: spec.lines?.end ?? null };
    return { kind: 'syntax-error', message: `${message} (line ${origin.line})`, detail: null, file, line: origin.line };
  };
  if (err instanceof SourceSyntaxError) {
    if (err.file === file) return syntaxAt(err.line, err.message);
    return { kind: 'syntax-error', message: `${path.basename(err.file)}: ${err.message}${err.line ? ` (line ${err.line})` : ''}`, detail: null, file: err.file, line: err.line };
  }
  if (err instanceof SyntaxError || err?.name === 'SyntaxError') {
    const where = syntaxLocation(err.stack ?? '');
    if (where && samePath(where.file, file)) return syntaxAt(where.line, err.message);
    if (where) return { kind: 'syntax-error', message: `${path.basename(where.file)}: ${err.message} (line ${where.line})`, detail: err.stack ?? null, file: where.file, line: where.line };
    return { kind: 'syntax-error', message: err.message, detail: err.stack ?? null, file, line: null };
  }
  if (err?.code === 'MODULE_NOT_FOUND' || err?.code === 'ERR_MODULE_NOT_FOUND' || err?.code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') {
    return { kind: 'import-error', message: `cannot load ${path.basename(file)}: ${firstLine(err.message)}`, detail: err.stack ?? null, file };
  }
  const name = err?.name ?? typeof e;
  return {
    kind: 'import-error',
    message: `loading ${path.basename(file)} threw ${name}: ${firstLine(String(err?.message ?? e))}`,
    detail: err?.stack ?? null,
    file,
  };
}

/** V8 puts the location of a module's syntax error first in the stack: `/path/x.js:12` or `file:///x.mjs:12`. */
function syntaxLocation(stack: string): { file: string; line: number } | null {
  const m = /^(file:\/\/\S+?|\/\S+?|[A-Za-z]:\\\S+?):(\d+)\s*$/m.exec(stack.split('\n').slice(0, 2).join('\n'));
  if (!m) return null;
  const file = m[1].startsWith('file://') ? decodeURIComponent(new URL(m[1]).pathname) : m[1];
  return { file, line: Number(m[2]) };
}

function samePath(a: string, b: string): boolean {
  try {
    return fs.realpathSync(a) === fs.realpathSync(b);
  } catch {
    return path.resolve(a) === path.resolve(b);
  }
}

export interface Callable {
  /** Calls the target once with these arguments (the receiver bound for `Cls.method`). */
  call(args: unknown[]): unknown;
  /** Fresh argument values, evaluated in the module's scope (they may `await`). */
  makeArgs(): Promise<unknown[]>;
  isAsyncFunction: boolean;
  /** The function itself (absent for a snippet): a framework's routes are matched against it. */
  fn?: unknown;
}

/** Turn the capture into something callable, or say precisely why not. */
export function resolveCallable(c: Loaded, spec: LoadSpec, known: string[]): Callable {
  const makeArgs = async () => {
    try {
      return await c.args();
    } catch (e) {
      const err = e as Error;
      throw new LoadError({ kind: 'bad-arguments', message: `evaluating the arguments (${spec.args}) threw ${err?.name ?? 'an error'}: ${err?.message ?? e}`, detail: err?.stack ?? null });
    }
  };
  if (spec.lines) {
    const fn = c.snippet as (...a: unknown[]) => unknown;
    return { call: () => fn(), makeArgs: async () => [], isAsyncFunction: fn.constructor.name === 'AsyncFunction' };
  }
  let receiver: unknown;
  let fn: unknown;
  try {
    [receiver, fn] = reach(c, spec.qualname!);
  } catch (e) {
    const hint = known.length ? ` (top-level functions here: ${known.slice(0, 12).join(', ')}${known.length > 12 ? ', …' : ''})` : '';
    throw new LoadError({
      kind: 'target-not-found',
      message: `no \`${spec.qualname}\` at the top level of ${path.basename(spec.file)}${hint}`,
      detail: String((e as Error)?.message ?? e),
      file: spec.file,
    });
  }
  if (typeof fn !== 'function') {
    throw new LoadError({ kind: 'unsupported-target', message: `\`${spec.qualname}\` is ${fn === null ? 'null' : `a ${typeof fn}`}, not a function`, detail: null, file: spec.file });
  }
  if (/^class[\s{]/.test(Function.prototype.toString.call(fn))) {
    throw new LoadError({
      kind: 'unsupported-target',
      message: `\`${spec.qualname}\` is a class: measure one of its static methods (\`${spec.qualname}.method\`) or select lines that create an instance and call it`,
      detail: null,
      file: spec.file,
    });
  }
  const f = fn as (...a: unknown[]) => unknown;
  return { call: (args) => f.apply(receiver, args), makeArgs, isAsyncFunction: f.constructor.name === 'AsyncFunction', fn: f };
}

/**
 * The target by name: the module-scope binding (exported or not) when there is one,
 * else the export of that name, as an importer would see it: `export default …`,
 * `export { x } from './y'`, `module.exports = { fn }`, `exports.fn = …`, and a
 * CommonJS `module.exports = function …` as `default` (what `import x from` gives).
 */
function reach(c: Loaded, qualname: string): [unknown, unknown] {
  const parts = qualname.split('.');
  if (c.target && hasBindingName(qualname)) {
    try {
      const found = c.target();
      // A global of the same name (`fetch`) is not the module's: its export of that name is.
      const global = (globalThis as Record<string, unknown>)[parts[0]];
      if (parts.length > 1 || found[1] !== global || !hasOwn(c.exports, parts[0])) return found;
    } catch (e) {
      if (!(e instanceof ReferenceError)) throw e;
    }
  }
  let holder: unknown = c.format === 'commonjs' ? c.exports : undefined;
  let value: unknown = exported(c, parts[0]);
  for (const part of parts.slice(1)) {
    holder = value;
    if (value === null || value === undefined || !(part in Object(value))) throw new Error(`no ${part} in ${parts[0]}`);
    value = (value as Record<string, unknown>)[part];
  }
  return [holder, value];
}

function exported(c: Loaded, name: string): unknown {
  const exp = c.exports as Record<string, unknown> | null | undefined;
  if (name === 'default' && c.format === 'commonjs') {
    // Compiled ESM (TypeScript, Babel) sets exports.default; plain CommonJS's default is module.exports.
    return exp && hasOwn(exp, 'default') ? exp.default : exp;
  }
  if (!hasOwn(exp, name)) throw new ReferenceError(`${name} is not exported`);
  return exp![name];
}

function hasOwn(o: unknown, key: string): boolean {
  return (typeof o === 'object' || typeof o === 'function') && o !== null && Object.prototype.hasOwnProperty.call(o, key);
}
