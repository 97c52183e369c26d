/**
 * The target is reached from inside its own module: one statement appended to the
 * module's source hands Loop Lag a getter for the function (exported or not), a
 * factory for the call arguments (evaluated in the module's scope, so they may use
 * its imports and constants, and `await`) and, for a snippet, the selected lines
 * wrapped in a function. Appending keeps every original line number. A name no
 * binding can have (`default`) gets no getter: the loader reads it from the exports.
 */
import { QUALNAME, STRICT_RESERVED_WORDS } from '../../shared/identifiers';

export const CAPTURE_KEY = 'looplag.capture';

export interface InstrumentSpec {
  qualname: string | null;
  lines: { start: number; end: number } | null;
  args: string;
}

export interface Captured {
  /** Absent when the name cannot be a binding (`default`): see `hasBindingName`. */
  target?: () => [unknown, unknown];
  /**
   * Getters for the module-scope bindings initialised by a call (`const app = express()`,
   * see callBindings): where a framework's app or router may live without being exported.
   * Each getter throws if its name is not a binding after all (text inside a string).
   */
  scope?: Array<() => unknown>;
  /** Async, so `--args "await loadFixture()"` works in CommonJS and ESM alike. */
  args: () => Promise<unknown[]>;
  snippet?: (...a: unknown[]) => unknown;
}

/** Where the appended parts sit, to map a syntax error's line back to its origin. */
export interface Layout {
  /** Lines of the original source. */
  sourceLines: number;
  argsFirst: number;
  argsLast: number;
  snippetFirst: number | null;
  snippetLast: number | null;
}

/**
 * Whether `qualname` starts with a name a module-scope binding can have in strict code
 * too: the appended getter must parse in an ES module or a `'use strict'` file (a sloppy
 * CommonJS function named `package` is then reached through the exports only).
 */
export function hasBindingName(qualname: string): boolean {
  return !STRICT_RESERVED_WORDS.has(qualname.split('.')[0]);
}

/** A plain ASCII identifier: with no strict reserved word, `() => name` always parses. */
const PLAIN_IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** At most this many scope getters: an app or router is declared near the top, once. */
const MAX_SCOPE_BINDINGS = 16;
/** A top-level (column 0) `const|let|var NAME = [await] [new] callee(`, optionally typed and exported. */
const CALL_BINDING = /^(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=]*)?=\s*(?:await\s+)?(?:new\s+)?[A-Za-z_$][\w$.]*\s*\(/;

/**
 * Names of module-scope bindings initialised by a call, from the source text: cheap, and
 * a false match (a line inside a template string or comment) only costs a getter that
 * throws a ReferenceError, never a SyntaxError: only plain identifiers that strict code
 * does not reserve (`const package = make(` in a template literal of an ES module) are kept.
 */
export function callBindings(lines: string[]): string[] {
  const names = new Set<string>();
  for (const line of lines) {
    const m = CALL_BINDING.exec(line);
    if (m && PLAIN_IDENTIFIER.test(m[1]) && !STRICT_RESERVED_WORDS.has(m[1])) names.add(m[1]);
    if (names.size >= MAX_SCOPE_BINDINGS) break;
  }
  return [...names];
}

export function instrument(source: string, spec: InstrumentSpec): { code: string; layout: Layout } {
  if (spec.qualname !== null && !QUALNAME.test(spec.qualname)) throw new Error(`bad qualname ${JSON.stringify(spec.qualname)}`);
  const lines = source.split(/\r\n|\r|\n/);
  const sourceLines = lines.length;
  const out: string[] = [`;globalThis[Symbol.for(${JSON.stringify(CAPTURE_KEY)})]?.({`];
  if (spec.qualname !== null && hasBindingName(spec.qualname)) {
    const parts = spec.qualname.split('.');
    const receiver = parts.length > 1 ? parts.slice(0, -1).join('.') : 'undefined';
    out.push(`target: () => [${receiver}, ${spec.qualname}],`);
  }
  out.push('args: async () => [');
  const argsFirst = sourceLines + out.length + 1;
  const argsText = spec.args.split(/\r\n|\r|\n/);
  out.push(...argsText);
  const argsLast = sourceLines + out.length;
  out.push('],');
  let snippetFirst: number | null = null;
  let snippetLast: number | null = null;
  if (spec.lines) {
    const body = lines.slice(spec.lines.start - 1, spec.lines.end);
    const isAsync = body.some((l) => /\bawait\b/.test(l));
    out.push(`snippet: ${isAsync ? 'async ' : ''}function () {`);
    snippetFirst = sourceLines + out.length + 1;
    out.push(...body);
    snippetLast = sourceLines + out.length;
    out.push('},');
  }
  const bindings = spec.qualname !== null ? callBindings(lines) : [];
  if (bindings.length) out.push(`scope: [${bindings.map((n) => `() => ${n}`).join(', ')}],`);
  out.push('});');
  // A leading newline ends a trailing `//` comment; the first appended line is sourceLines + 1.
  return { code: source + '\n' + out.join('\n') + '\n', layout: { sourceLines, argsFirst, argsLast, snippetFirst, snippetLast } };
}

export type LineOrigin =
  | { where: 'source'; line: number }
  | { where: 'args' }
  | { where: 'snippet'; line: number }
  | { where: 'glue' };

export function originOf(line: number, layout: Layout, snippetStart: number | null): LineOrigin {
  if (line <= layout.sourceLines) return { where: 'source', line };
  if (line >= layout.argsFirst && line <= layout.argsLast) return { where: 'args' };
  if (layout.snippetFirst !== null && layout.snippetLast !== null && snippetStart !== null && line >= layout.snippetFirst && line <= layout.snippetLast) {
    return { where: 'snippet', line: snippetStart + (line - layout.snippetFirst) };
  }
  // A `]` or `}` of ours that failed: an argument text or snippet left something open.
  return line < layout.argsLast + 2 ? { where: 'args' } : { where: 'glue' };
}
