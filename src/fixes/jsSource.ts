/**
 * A JS/TS module's structure as the hints and the fixes need it, read from its tokens: the
 * functions with their bodies (async or not, and whether a web framework calls them as a
 * route handler), the import and `require` statements with what each binds, and the calls.
 */
import { coreModule, ROUTE_METHODS } from './blockingApis';
import { bracketPairs, jsTokens, type JsToken } from './jsLex';

export type JsFunctionKind = 'async' | 'handler' | 'sync';

export interface JsFunction {
  kind: JsFunctionKind;
  /** Where `async ` would go to make it async (its first token). */
  start: number;
  bodyStart: number;
  bodyEnd: number;
}

export interface JsImport {
  /** The statement (to `;` or its last token), at the module's top level. */
  start: number;
  end: number;
  form: 'import' | 'require';
  /** The module specifier as written (`node:fs`). */
  specifier: string;
  /** local → qualified (`rfs` → `fs.readFileSync`, `fs` → `fs`), `node:` dropped. */
  bindings: Map<string, string>;
}

export interface JsCall {
  callee: string;
  start: number;
  calleeEnd: number;
  /** Offset just after the `(`. */
  openEnd: number;
  end: number;
  /** Index of the `)` in the tokens, to read what follows. */
  closeIndex: number;
  awaited: boolean;
}

export interface JsSource {
  text: string;
  tokens: JsToken[];
  functions: JsFunction[];
  imports: JsImport[];
  calls: JsCall[];
}

const CONTROL = new Set(['if', 'for', 'while', 'switch', 'catch', 'with', 'function', 'return', 'typeof', 'await', 'new', 'super', 'import', 'require']);
const OPENERS = new Set(['(', '[', '{']);

export function parseJs(text: string): JsSource {
  const tokens = jsTokens(text);
  const pairs = bracketPairs(tokens);
  const enclosing = new Int32Array(tokens.length).fill(-1);
  const stack: number[] = [];
  tokens.forEach((t, i) => {
    if (t.kind === 'punct' && (t.text === ')' || t.text === ']' || t.text === '}')) stack.pop();
    enclosing[i] = stack.length ? stack[stack.length - 1] : -1;
    if (t.kind === 'punct' && OPENERS.has(t.text)) stack.push(i);
  });
  const tx = (i: number) => tokens[i]?.text;
  const functions: JsFunction[] = [];
  const methodNames = new Set<number>();

  /** The body `{` after a parameter list's `)`, past a TS return type; -1 if none. */
  const blockAfter = (close: number): number => {
    if (tx(close + 1) === '{') return close + 1;
    if (tx(close + 1) !== ':') return -1;
    let angle = 0;
    for (let j = close + 2; j < tokens.length && j < close + 60; j++) {
      const x = tx(j);
      if (x === '<') angle++;
      else if (x === '>') angle--;
      else if (x === '{' && angle <= 0) return j;
      else if (x === '(' || x === '[') j = Math.max(j, pairs[j]);
      else if (x === ';' || x === '=>' || x === '=') return -1;
    }
    return -1;
  };
  const kindOf = (first: number, isAsync: boolean): JsFunctionKind => {
    if (isAsync) return 'async';
    const p = enclosing[first];
    if (p >= 0 && tx(p) === '(' && tx(p - 2) === '.' && ROUTE_METHODS.has(tx(p - 1) ?? '')) {
      const firstArg = tokens[p + 1];
      // A route is a path (`'/users/:id'`): `cache.get('key', () => …)` is no handler.
      const isPath = (firstArg?.kind === 'string' || firstArg?.kind === 'template') && firstArg.text[1] === '/';
      if (tx(p - 1) === 'use' || isPath) return 'handler';
    }
    return 'sync';
  };
  const block = (open: number, first: number, isAsync: boolean) => {
    if (pairs[open] < 0) return;
    functions.push({ kind: kindOf(first, isAsync), start: tokens[first].start, bodyStart: tokens[open].end, bodyEnd: tokens[pairs[open]].start });
  };

  tokens.forEach((t, i) => {
    if (t.kind === 'name' && t.text === 'function') {
      let j = i + 1;
      if (tx(j) === '*') j++;
      if (tokens[j]?.kind === 'name') j++;
      if (tx(j) === '<') while (j < tokens.length && tx(j) !== '(') j++;
      if (tx(j) !== '(' || pairs[j] < 0) return;
      const open = blockAfter(pairs[j]);
      const isAsync = tx(i - 1) === 'async';
      if (open >= 0) block(open, isAsync ? i - 1 : i, isAsync);
    } else if (t.text === '=>' && t.kind === 'punct') {
      let first = -1;
      if (tx(i - 1) === ')') first = pairs[i - 1];
      else if (tokens[i - 1]?.kind === 'name' && tx(i - 2) !== ':') first = i - 1;
      else {
        // `(x): Promise<T> =>`: back to the `)` followed by `:`.
        for (let j = i - 1; j > 0 && j > i - 40; j--) if (tx(j) === ')' && tx(j + 1) === ':') (first = pairs[j]), (j = 0);
      }
      if (first < 0) return;
      const isAsync = tx(first - 1) === 'async';
      const start = isAsync ? first - 1 : first;
      if (tx(i + 1) === '{') return block(i + 1, start, isAsync);
      // An expression body ends at the `,` `;` or closing bracket of its own level.
      let j = i + 1;
      while (j < tokens.length) {
        const x = tx(j);
        if (OPENERS.has(x) && pairs[j] > 0) j = pairs[j] + 1;
        else if (x === ',' || x === ';' || x === ')' || x === ']' || x === '}') break;
        else j++;
      }
      const end = j < tokens.length ? tokens[j].start : text.length;
      functions.push({ kind: kindOf(start, isAsync), start: tokens[start].start, bodyStart: tokens[i].end, bodyEnd: end });
    } else if (t.kind === 'name' && tx(i + 1) === '(' && !CONTROL.has(t.text) && tx(i - 1) !== 'function' && tx(i - 1) !== '.' && tx(i - 1) !== '?.' && pairs[i + 1] > 0) {
      // A method `name(…) {` in a class or an object literal.
      const open = blockAfter(pairs[i + 1]);
      if (open < 0) return;
      methodNames.add(i);
      const isAsync = tx(i - 1) === 'async' || (tx(i - 1) === '*' && tx(i - 2) === 'async');
      block(open, i, isAsync);
    }
  });

  const calls: JsCall[] = [];
  tokens.forEach((t, i) => {
    if (t.kind !== 'name' || methodNames.has(i) || CONTROL.has(t.text)) return;
    const open = tx(i + 1) === '(' ? i + 1 : tx(i + 1) === '?.' && tx(i + 2) === '(' ? i + 2 : -1;
    if (open < 0 || pairs[open] < 0 || tx(i - 1) === 'function') return;
    let s = i;
    while ((tx(s - 1) === '.' || tx(s - 1) === '?.') && tokens[s - 2]?.kind === 'name') s -= 2;
    if (tx(s - 1) === '.' || tx(s - 1) === '?.' || tx(s - 1) === 'new') return;
    calls.push({
      callee: tokens.slice(s, i + 1).map((x) => (x.text === '?.' ? '.' : x.text)).join(''),
      start: tokens[s].start,
      calleeEnd: t.end,
      openEnd: tokens[open].end,
      end: tokens[pairs[open]].end,
      closeIndex: pairs[open],
      awaited: tx(s - 1) === 'await',
    });
  });

  return { text, tokens, functions, imports: readImports(tokens, pairs, enclosing), calls };
}

/** `import … from 'm'`, `import x = require('m')` and `const … = require('m')` at the top level. */
function readImports(tokens: JsToken[], pairs: Int32Array, enclosing: Int32Array): JsImport[] {
  const out: JsImport[] = [];
  const tx = (i: number) => tokens[i]?.text;
  const unquote = (t: JsToken) => t.text.slice(1, -1);
  const endOf = (last: number) => (tx(last + 1) === ';' ? tokens[last + 1].end : tokens[last].end);
  tokens.forEach((t, i) => {
    if (enclosing[i] !== -1 || t.kind !== 'name') return;
    if (t.text === 'import' && tx(i + 1) !== '(' && tx(i + 1) !== '.') {
      if (tx(i + 1) === 'type') return;
      const bindings = new Map<string, string>();
      let j = i + 1;
      if (tokens[j]?.kind === 'string') return out.push({ start: t.start, end: endOf(j), form: 'import', specifier: unquote(tokens[j]), bindings });
      const names: [string, string | null][] = []; // local, imported name (null: the module itself)
      while (j < tokens.length && tx(j) !== 'from' && tx(j) !== '=') {
        if (tx(j) === '*' && tx(j + 1) === 'as') (names.push([tx(j + 2) ?? '', null]), (j += 3));
        else if (tx(j) === '{') {
          const close = pairs[j];
          for (let k = j + 1; k < close; k++) {
            if (tokens[k].kind !== 'name' || tx(k) === 'type') continue;
            if (tx(k + 1) === 'as') (names.push([tx(k + 2) ?? '', tx(k) ?? '']), (k += 2));
            else names.push([tx(k) ?? '', tx(k) ?? '']);
          }
          j = close + 1;
        } else if (tokens[j].kind === 'name') (names.push([tx(j) ?? '', null]), j++);
        else j++;
      }
      const specAt = tx(j) === 'from' ? j + 1 : tx(j) === '=' && tx(j + 1) === 'require' ? j + 3 : -1;
      if (specAt < 0 || tokens[specAt]?.kind !== 'string') return;
      const mod = coreModule(unquote(tokens[specAt]));
      for (const [local, imported] of names) bindings.set(local, imported === null || imported === 'default' ? mod : `${mod}.${imported}`);
      out.push({ start: t.start, end: endOf(specAt + (tx(j) === '=' ? 1 : 0)), form: 'import', specifier: unquote(tokens[specAt]), bindings });
    } else if ((t.text === 'const' || t.text === 'let' || t.text === 'var')) {
      // `const fs = require('fs'), { gzipSync: gz } = require('zlib');`
      const bindings = new Map<string, string>();
      let j = i + 1;
      let last = i;
      let specifier = '';
      while (j < tokens.length) {
        let target: [number, number] = [j, j];
        if (tx(j) === '{' && pairs[j] > 0) target = [j, pairs[j]];
        const eq = target[1] + 1;
        if (tx(eq) !== '=' || tx(eq + 1) !== 'require' || tx(eq + 2) !== '(' || tokens[eq + 3]?.kind !== 'string' || tx(eq + 4) !== ')') break;
        specifier = unquote(tokens[eq + 3]);
        const mod = coreModule(specifier);
        if (target[0] === target[1]) bindings.set(tx(j) ?? '', mod);
        else {
          for (let k = target[0] + 1; k < target[1]; k++) {
            if (tokens[k].kind !== 'name') continue;
            if (tx(k + 1) === ':') (bindings.set(tx(k + 2) ?? '', `${mod}.${tx(k)}`), (k += 2));
            else bindings.set(tx(k) ?? '', `${mod}.${tx(k)}`);
          }
        }
        last = eq + 4;
        if (tx(last + 1) !== ',') break;
        j = last + 2;
      }
      if (bindings.size) out.push({ start: t.start, end: endOf(last), form: 'require', specifier, bindings });
    }
  });
  return out;
}

/** local → qualified over every import of the module. */
export function jsBindings(source: JsSource): Map<string, string> {
  const map = new Map<string, string>();
  for (const imp of source.imports) for (const [k, v] of imp.bindings) map.set(k, v);
  return map;
}

/** The innermost function whose body holds `offset` (undefined: module level). */
export function jsFunctionAt(source: JsSource, offset: number): JsFunction | undefined {
  let best: JsFunction | undefined;
  for (const f of source.functions) if (offset >= f.bodyStart && offset <= f.bodyEnd && (!best || f.bodyStart >= best.bodyStart)) best = f;
  return best;
}
