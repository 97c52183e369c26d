/**
 * What the editor's Measure actions need to know about a place in the code, read from the
 * text alone (no process): the call at the cursor (its callee, whether it runs on the loop,
 * the prompt text of its arguments), and the function around a line or defined at one, with
 * the name Measure Function knows it by, or why it cannot be measured on its own. The
 * sidecar's outline stays the judge when the run starts; this is for the menu.
 */
import type { LanguageName } from '../shared/modes';
import { argsPrefill, type ArgsPrefill, type ArgToken } from './callArgs';
import { bracketPairs } from './jsLex';
import { jsFunctionAt, parseJs, type JsFunction, type JsSource } from './jsSource';
import { parsePython, scopeAt, type PyScope, type PySource } from './pySource';
import { LineIndex, type Range } from './text';

export interface CallSite {
  /** The callee as written (`render`, `pkg.render`, `Shapes.area`). */
  callee: string;
  /** From the callee to the closing parenthesis. */
  range: Range;
  /** In an `async def`, an async function or a route handler: the call runs on the loop. */
  onLoop: boolean;
  awaited: boolean;
  args: ArgsPrefill;
}

/** A function Measure Function can run by name, or why not (said as the editor's refusals say it). */
export type FunctionTarget = { qualname: string; name: string; line: number } | { notMeasurable: string; name: string };

/** A text parsed once for several questions (the editor keeps one per document version). */
export type ParsedSource = PySource | JsSource;

export function parseSource(text: string, language: LanguageName): ParsedSource {
  return language === 'python' ? parsePython(text) : parseJs(text);
}

const isPy = (s: ParsedSource): s is PySource => 'scopes' in s;

/** The innermost call whose text holds `offset` (its callee or its parentheses). */
export function callSiteAt(text: string, language: LanguageName, offset: number, parsed: ParsedSource = parseSource(text, language)): CallSite | undefined {
  const index = new LineIndex(text);
  if (isPy(parsed)) {
    const source = parsed;
    const call = innermost(source.calls, offset);
    if (!call) return undefined;
    const t = call.line.tokens;
    const open = t.findIndex((x) => x.end === call.openEnd);
    return {
      callee: call.callee,
      range: index.range(call.start, call.end),
      onLoop: scopeAt(source, call.start)?.kind === 'async def',
      awaited: call.awaited,
      args: argsPrefill(text, t.slice(open + 1, call.closeIndex), language),
    };
  }
  const source = parsed;
  const call = innermost(source.calls, offset);
  if (!call) return undefined;
  const open = source.tokens.findIndex((x) => x.end === call.openEnd);
  const fn = jsFunctionAt(source, call.start);
  return {
    callee: call.callee,
    range: index.range(call.start, call.end),
    onLoop: fn !== undefined && fn.kind !== 'sync',
    awaited: call.awaited,
    args: argsPrefill(text, source.tokens.slice(open + 1, call.closeIndex) as ArgToken[], language),
  };
}

function innermost<C extends { start: number; end: number }>(calls: readonly C[], offset: number): C | undefined {
  let best: C | undefined;
  for (const c of calls) if (c.start <= offset && offset <= c.end && (!best || c.start >= best.start)) best = c;
  return best;
}

/** The function whose body holds `offset` (the caller of a call there). */
export function enclosingFunction(text: string, language: LanguageName, offset: number, parsed: ParsedSource = parseSource(text, language)): FunctionTarget | undefined {
  if (isPy(parsed)) {
    const scope = scopeAt(parsed, offset);
    return scope && scope.kind !== 'class' && scope.kind !== 'lambda' ? pyTarget(parsed, scope) : undefined;
  }
  const source = parsed;
  const fn = jsFunctionAt(source, offset);
  return fn && jsTarget(source, fn);
}

/** The function defined at `offset` (its `def` line or its name: where a definition provider points). */
export function definitionAt(text: string, language: LanguageName, offset: number): FunctionTarget | undefined {
  if (language === 'python') {
    const source = parsePython(text);
    const scope = source.scopes.find((s) => (s.kind === 'def' || s.kind === 'async def') && s.headerStart <= offset && offset < s.bodyStart);
    return scope && pyTarget(source, scope);
  }
  const source = parseJs(text);
  const index = new LineIndex(text);
  const line = index.position(offset).line;
  // The function whose first token is on that line (a definition provider points at its name).
  const fn = source.functions.find((f) => index.position(f.start).line === line);
  return fn && jsTarget(source, fn);
}

const PY_STATIC = new Set(['staticmethod', 'classmethod']);

function pyTarget(source: PySource, scope: PyScope): FunctionTarget {
  const t = scope.line.tokens;
  const name = t[(t[0].text === 'async' ? 2 : 1)]?.text ?? '?';
  const line = new LineIndex(source.text).position(scope.headerStart).line;
  // Scopes around this one, innermost first.
  const outer = source.scopes
    .filter((s) => s !== scope && s.bodyStart <= scope.headerStart && scope.headerStart <= s.bodyEnd)
    .sort((a, b) => b.bodyStart - a.bodyStart);
  if (!outer.length) return { qualname: name, name, line };
  const parent = outer[0];
  const parentName = parent.kind === 'lambda' ? 'lambda' : parent.line.tokens[parent.line.tokens[0].text === 'async' ? 2 : 1]?.text ?? '?';
  if (parent.kind !== 'class' || outer.length > 1) {
    return { name, notMeasurable: `\`${name}\` is nested inside \`${parentName}\` and cannot be called on its own: measure \`${parentName}\`, or move it to module level` };
  }
  const decorated = scope.decorators.some((d) => PY_STATIC.has(d.tokens[1]?.text ?? ''));
  if (!decorated) return { name, notMeasurable: `\`${parentName}.${name}\` is an instance method: it needs an instance (make it a @staticmethod or @classmethod)` };
  return { qualname: `${parentName}.${name}`, name, line };
}

function jsTarget(source: JsSource, fn: JsFunction): FunctionTarget {
  const { tokens } = source;
  const tx = (i: number) => tokens[i]?.text;
  const line = new LineIndex(source.text).position(fn.start).line;
  let k = tokens.findIndex((t) => t.start === fn.start);
  if (tx(k) === 'async') k++;
  let name: string | undefined;
  let method = false;
  if (tx(k) === 'function') name = tokens[tx(k + 1) === '*' ? k + 2 : k + 1]?.kind === 'name' ? tx(tx(k + 1) === '*' ? k + 2 : k + 1) : undefined;
  else if (tx(k + 1) === '(' && tokens[k]?.kind === 'name') (name = tx(k)), (method = true);
  const before = tokens.findIndex((t) => t.start === fn.start) - 1;
  // `const name = async (…) => …` / `= function (…) {…}`
  if (!name && tx(before) === '=' && tokens[before - 1]?.kind === 'name' && ['const', 'let', 'var'].includes(tx(before - 2) ?? '')) name = tx(before - 1);
  if (fn.kind === 'handler' || (!name && routeCall(source, fn))) {
    return { name: 'handler', notMeasurable: 'a route handler passed inline to the router has no name to call: measure the app with Loop Lag: Measure Endpoint…, or move the handler to a named function' };
  }
  if (!name) return { name: 'function', notMeasurable: 'an anonymous function has no name to call: give it a name at the top level of the module' };
  const around = source.functions.filter((f) => f !== fn && f.bodyStart <= fn.start && fn.start <= f.bodyEnd);
  if (around.length) return { name, notMeasurable: `\`${name}\` is nested inside another function and cannot be called on its own: move it to the top level of the module` };
  if (!method) return { qualname: name, name, line };
  const cls = classAround(source, fn.start);
  if (!cls) return { name, notMeasurable: `\`${name}\` is a method of an object literal: move it to a top-level function` };
  const mods = [tx(k - 1), tx(k - 2)];
  if (!mods.includes('static')) return { name, notMeasurable: `\`${cls}.${name}\` is an instance method: it needs an instance (make it static)` };
  return { qualname: `${cls}.${name}`, name, line };
}

/** A function passed to `app.get('/…', …)`-style calls (a handler the scanner did not mark because it is async). */
function routeCall(source: JsSource, fn: JsFunction): boolean {
  const { tokens } = source;
  const k = tokens.findIndex((t) => t.start === fn.start);
  const prev = tokens[k - 1]?.text;
  if (prev !== ',' && prev !== '(') return false;
  const pairs = bracketPairs(tokens);
  for (let j = k - 1; j >= 0; j--) {
    if (tokens[j].text === '(' && pairs[j] > k) return tokens[j - 2]?.text === '.' && tokens[j - 1]?.kind === 'name';
    if (tokens[j].text === ')' || tokens[j].text === ']' || tokens[j].text === '}') j = Math.max(0, pairs[j]);
  }
  return false;
}

/** The name of the class whose body holds `offset`. */
function classAround(source: JsSource, offset: number): string | undefined {
  const { tokens } = source;
  const pairs = bracketPairs(tokens);
  let best: string | undefined;
  let bestStart = -1;
  tokens.forEach((t, i) => {
    if (t.text !== 'class' || t.kind !== 'name' || tokens[i + 1]?.kind !== 'name') return;
    let open = i + 2;
    while (open < tokens.length && tokens[open].text !== '{') open++;
    const close = pairs[open];
    if (close > 0 && tokens[open].end <= offset && offset <= tokens[close].start && tokens[open].start > bestStart) {
      best = tokens[i + 1].text;
      bestStart = tokens[open].start;
    }
  });
  return best;
}
