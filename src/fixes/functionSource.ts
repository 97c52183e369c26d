/**
 * What was measured, by its source: the text of a function's definition (decorators, `export`,
 * `async` included) read from the tokens, and a short hash of it. The engine hashes the file it
 * hands the sidecar (`report.target.sourceHash`); the editor hashes the document on screen, so
 * an edit in the function tells "measured" from "measured before your last change", and an
 * edit elsewhere in the file does not.
 */
import { createHash } from 'node:crypto';
import type { Language } from '../shared/protocol';
import { bracketPairs, type JsToken } from './jsLex';
import { parseJs } from './jsSource';
import { parsePython, type PyScope } from './pySource';

/** A definition's span in the text (offsets) and its 1-based line (where its name is). */
export interface FunctionSpan {
  start: number;
  end: number;
  line: number;
}

/** sha256 of the text with line endings normalised to `\n`, hex, first 16 characters. */
export function hashSource(text: string): string {
  return createHash('sha256').update(text.replace(/\r\n?/g, '\n')).digest('hex').slice(0, 16);
}

/**
 * The definition of `qualname` (`render`, `Cls.method`) nearest to 1-based `line` (a report's
 * line may be stale: lines above it were edited), or undefined when the text has none.
 */
export function functionSpan(text: string, language: Language, qualname: string, line: number | null): FunctionSpan | undefined {
  const spans = language === 'python' ? pythonSpans(text, qualname) : jsSpans(text, qualname);
  if (line === null) return spans[0];
  return spans.sort((a, b) => Math.abs(a.line - line) - Math.abs(b.line - line))[0];
}

/** The definition's text (see functionSpan), or undefined. */
export function functionSource(text: string, language: Language, qualname: string, line: number | null): string | undefined {
  const span = functionSpan(text, language, qualname, line);
  return span && text.slice(span.start, span.end);
}

/**
 * The hash of what a report's target names in `text`: a function's definition, or selected
 * lines (1-based, inclusive). Undefined when the text no longer holds it.
 */
export function targetSourceHash(text: string, target: { language: Language; qualname: string | null; lines: { start: number; end: number } | null; line: number | null }): string | undefined {
  if (target.qualname) {
    const source = functionSource(text, target.language, target.qualname, target.line);
    return source === undefined ? undefined : hashSource(source);
  }
  if (!target.lines) return undefined;
  const lines = text.split(/\r\n?|\n/);
  if (target.lines.end > lines.length) return undefined;
  return hashSource(lines.slice(target.lines.start - 1, target.lines.end).join('\n'));
}

function lineOf(text: string, offset: number): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** Each def of the qualname's last part whose enclosing classes are the qualname's others. */
function pythonSpans(text: string, qualname: string): FunctionSpan[] {
  const parts = qualname.split('.');
  const source = parsePython(text);
  const nameOf = (s: PyScope) => {
    const t = s.line.tokens;
    const k = t[0].text === 'async' ? 2 : 1;
    return t[k]?.text;
  };
  const defs = source.scopes.filter((s) => s.kind !== 'lambda');
  const chain = (s: PyScope): string[] => {
    const outer = defs.filter((o) => o !== s && o.bodyStart <= s.headerStart && s.headerStart <= o.bodyEnd && o.line.indent < s.line.indent);
    outer.sort((a, b) => a.line.indent - b.line.indent);
    return [...outer.map(nameOf), nameOf(s)].filter((n): n is string => n !== undefined);
  };
  return defs
    .filter((s) => (s.kind === 'def' || s.kind === 'async def') && nameOf(s) === parts[parts.length - 1] && chain(s).join('.') === qualname)
    .map((s) => {
      const nameToken = s.line.tokens[s.line.tokens[0].text === 'async' ? 2 : 1];
      return { start: s.decorators[0]?.tokens[0].start ?? s.headerStart, end: s.bodyEnd, line: lineOf(text, nameToken.start) };
    });
}

/** Words that may open a declaration before its name or `function` keyword. */
const JS_MODIFIERS = new Set(['export', 'default', 'async', 'static', 'public', 'private', 'protected', 'declare', 'override', 'readonly']);

/**
 * JS/TS: `function name`, `const name = (…) => …` / `= function`, and methods `name(…) {…}`
 * (a `Cls.method` qualname: inside `class Cls`), with their modifiers and decorators.
 */
function jsSpans(text: string, qualname: string): FunctionSpan[] {
  const parts = qualname.split('.');
  const name = parts[parts.length - 1];
  const owner = parts.length > 1 ? parts[parts.length - 2] : null;
  const source = parseJs(text);
  const tokens = source.tokens;
  const pairs = bracketPairs(tokens);
  const indexAt = new Map(tokens.map((t, i) => [t.start, i]));
  const out: FunctionSpan[] = [];
  for (const fn of source.functions) {
    let i = indexAt.get(fn.start);
    if (i === undefined) continue;
    if (tokens[i].text === 'async') i++;
    let nameAt: number;
    let first: number;
    if (tokens[i].text === 'function') {
      nameAt = tokens[i + 1]?.text === '*' ? i + 2 : i + 1;
      first = withModifiers(tokens, pairs, i);
      if (tokens[nameAt]?.text !== name) {
        // `const name = function (…) {…}`
        nameAt = declaredName(tokens, indexAt.get(fn.start)!);
        first = declarationStart(tokens, nameAt);
      }
    } else if (tokens[i].kind === 'name' && tokens[i + 1]?.text === '(') {
      nameAt = i; // a method
      first = withModifiers(tokens, pairs, i);
    } else {
      nameAt = declaredName(tokens, indexAt.get(fn.start)!); // an arrow function assigned to a name
      first = declarationStart(tokens, nameAt);
    }
    if (nameAt < 0 || tokens[nameAt]?.text !== name) continue;
    const cls = enclosingClass(tokens, pairs, nameAt);
    if (cls !== owner) continue;
    const close = text[fn.bodyEnd] === '}' ? fn.bodyEnd + 1 : fn.bodyEnd;
    out.push({ start: tokens[first].start, end: close, line: lineOf(text, tokens[nameAt].start) });
  }
  return out;
}

/** `const name = ` before token `at` (the function's first): the name's index, else -1. */
function declaredName(tokens: JsToken[], at: number): number {
  if (tokens[at - 1]?.text !== '=') return -1;
  const n = at - 2;
  return tokens[n]?.kind === 'name' && ['const', 'let', 'var'].includes(tokens[n - 1]?.text ?? '') ? n : -1;
}

/** `export const name`: back from the name over `const` and `export`. */
function declarationStart(tokens: JsToken[], nameAt: number): number {
  if (nameAt < 0) return -1;
  let s = nameAt - 1;
  if (tokens[s - 1]?.text === 'export') s--;
  return s;
}

/** Back from `at` over modifiers (`export default async`, `static`) and decorators (`@dec`, `@dec(…)`). */
function withModifiers(tokens: JsToken[], pairs: Int32Array, at: number): number {
  let s = at;
  for (;;) {
    const prev = tokens[s - 1];
    if (prev && prev.kind === 'name' && JS_MODIFIERS.has(prev.text)) s--;
    else if (prev?.text === ')' && pairs[s - 1] >= 0 && isDecoratorCall(tokens, pairs[s - 1])) s = decoratorStart(tokens, pairs[s - 1] - 1);
    else if (prev?.kind === 'name' && isDecoratorName(tokens, s - 1)) s = decoratorStart(tokens, s - 1);
    else return s;
  }
}

/** `@a.b` ending at name index `end`: true when an `@` opens the dotted name. */
function isDecoratorName(tokens: JsToken[], end: number): boolean {
  return tokens[decoratorStart(tokens, end)]?.text === '@';
}

function isDecoratorCall(tokens: JsToken[], open: number): boolean {
  return tokens[open - 1]?.kind === 'name' && isDecoratorName(tokens, open - 1);
}

/** The `@` of a decorator whose dotted name ends at `end` (else the name's first token). */
function decoratorStart(tokens: JsToken[], end: number): number {
  let s = end;
  while (tokens[s - 1]?.text === '.' && tokens[s - 2]?.kind === 'name') s -= 2;
  return tokens[s - 1]?.text === '@' ? s - 1 : s;
}

/** The name of the class whose body holds token `at`, or null (an object literal's method counts as none). */
function enclosingClass(tokens: JsToken[], pairs: Int32Array, at: number): string | null {
  for (let j = at - 1; j >= 0; j--) {
    if (tokens[j].text !== '{' || pairs[j] < at) continue;
    // The innermost `{…}` around `at` decides: a class body (`class Name … {`), else none.
    for (let c = j - 1; c >= 0 && c >= j - 12; c--) {
      if (tokens[c].text === 'class') return tokens[c + 1]?.kind === 'name' && tokens[c + 1].text !== 'extends' ? tokens[c + 1].text : null;
      if (tokens[c].text === '{' || tokens[c].text === '}' || tokens[c].text === ';' || tokens[c].text === ')' || tokens[c].text === '=>') return null;
    }
    return null;
  }
  return null;
}
