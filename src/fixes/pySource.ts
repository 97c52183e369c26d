/**
 * A Python module's structure as the hints and the fixes need it, read from its tokens: the
 * functions (plain, async, class bodies, lambdas) with the spans their bodies cover, the
 * import statements with what each binds, and the calls.
 */
import { matchingClose, pyLines, type PyLine, type PyToken } from './pyLex';

export type PyScopeKind = 'def' | 'async def' | 'class' | 'lambda';

/** A function, class body or lambda: code between `bodyStart` and `bodyEnd` runs in it. */
export interface PyScope {
  kind: PyScopeKind;
  /** The logical line of the `def`/`class` (the one holding the `lambda`). */
  line: PyLine;
  /** Offset of `async` (or `def`, `class`, `lambda`). */
  headerStart: number;
  bodyStart: number;
  bodyEnd: number;
  /** The decorators' logical lines above a def or class. */
  decorators: PyLine[];
}

/** One name an import statement binds: `local` refers to `qualified` (`t` → `time`, `sleep` → `time.sleep`). */
export interface PyBinding {
  local: string;
  qualified: string;
  /** `import a.b.c` binds `a` but also loads `a.b.c`, reachable as written. */
  loaded?: string;
}

export interface PyImport {
  line: PyLine;
  /** `from __future__ import …` must stay first. */
  future: boolean;
  bindings: PyBinding[];
}

/** A call `a.b.c(…)` whose callee is a dotted name. */
export interface PyCall {
  /** The callee as written, e.g. `t.sleep`. */
  callee: string;
  start: number;
  /** Offset just after the `(`. */
  openEnd: number;
  /** Offset just after the `)`. */
  end: number;
  /** Its tokens' line and index there, to read what follows the call. */
  line: PyLine;
  closeIndex: number;
  awaited: boolean;
}

export interface PySource {
  text: string;
  lines: PyLine[];
  scopes: PyScope[];
  imports: PyImport[];
  calls: PyCall[];
}

const OPEN = new Set(['(', '[', '{']);
const CLOSE = new Set([')', ']', '}']);

/** Parse a Python source text into its scopes, imports and calls. */
export function parsePython(text: string): PySource {
  const lines = pyLines(text);
  const scopes: PyScope[] = [];
  const imports: PyImport[] = [];
  const calls: PyCall[] = [];
  lines.forEach((line, i) => {
    const t = line.tokens;
    const k = t[0].text === 'async' && t[1]?.text === 'def' ? 1 : 0;
    if (t[k].text === 'def' || t[k].text === 'class') {
      const colon = headerColon(t, k);
      let end = colon >= 0 && colon < t.length - 1 ? t[t.length - 1].end : colon >= 0 ? t[colon].end : t[t.length - 1].end;
      for (let j = i + 1; j < lines.length && lines[j].indent > line.indent; j++) end = lastEnd(lines[j]);
      const decorators: PyLine[] = [];
      for (let j = i - 1; j >= 0 && lines[j].tokens[0].text === '@' && lines[j].indent === line.indent; j--) decorators.unshift(lines[j]);
      const kind: PyScopeKind = t[k].text === 'class' ? 'class' : k ? 'async def' : 'def';
      scopes.push({ kind, line, headerStart: t[0].start, bodyStart: colon >= 0 ? t[colon].end : t[t.length - 1].end, bodyEnd: end, decorators });
    }
    if (t[0].text === 'import' || (t[0].text === 'from' && t.some((x) => x.text === 'import'))) imports.push(readImport(line));
    t.forEach((tok, j) => {
      if (tok.text === 'lambda' && tok.kind === 'name') scopes.push(lambdaScope(line, j));
      if (tok.kind === 'name' && t[j + 1]?.text === '(' && t[j - 1]?.text !== 'def' && t[j - 1]?.text !== 'class') {
        let s = j;
        while (t[s - 1]?.text === '.' && t[s - 2]?.kind === 'name') s -= 2;
        if (t[s - 1]?.text === '.') return; // a method of an expression's value (`f().read`): no name to resolve
        const close = matchingClose(t, j + 1);
        if (close < 0) return;
        calls.push({
          callee: t.slice(s, j + 1).map((x) => x.text).join(''),
          start: t[s].start,
          openEnd: t[j + 1].end,
          end: t[close].end,
          line,
          closeIndex: close,
          awaited: t[s - 1]?.text === 'await',
        });
      }
    });
  });
  return { text, lines, scopes, imports, calls };
}

function lastEnd(line: PyLine): number {
  return line.tokens[line.tokens.length - 1].end;
}

/** The `:` ending a def/class header (the first at bracket depth 0 after the name). */
function headerColon(t: readonly PyToken[], from: number): number {
  let depth = 0;
  for (let j = from; j < t.length; j++) {
    if (OPEN.has(t[j].text)) depth++;
    else if (CLOSE.has(t[j].text)) depth--;
    else if (t[j].text === ':' && depth === 0) return j;
  }
  return -1;
}

/** A lambda's body: from its `:` to the `,` or closing bracket that ends it at its own depth. */
function lambdaScope(line: PyLine, at: number): PyScope {
  const t = line.tokens;
  let depth = 0;
  let colon = -1;
  let end = t[t.length - 1].end;
  for (let j = at + 1; j < t.length; j++) {
    const x = t[j].text;
    if (OPEN.has(x)) depth++;
    else if (CLOSE.has(x)) {
      if (depth === 0) {
        end = t[j].start;
        break;
      }
      depth--;
    } else if (depth === 0 && x === ':' && colon < 0) colon = j;
    else if (depth === 0 && x === ',' && colon >= 0) {
      end = t[j].start;
      break;
    }
  }
  return { kind: 'lambda', line, headerStart: t[at].start, bodyStart: colon >= 0 ? t[colon].end : t[at].end, bodyEnd: end, decorators: [] };
}

/** What `import a.b as c, d` or `from x import (y as z, w)` binds. */
function readImport(line: PyLine): PyImport {
  const names = line.tokens.filter((x) => x.text !== '(' && x.text !== ')');
  const bindings: PyBinding[] = [];
  const dotted = (from: number): [string, number] => {
    let j = from;
    let s = '';
    while (j < names.length && (names[j].kind === 'name' || names[j].text === '.') && names[j].text !== 'import' && names[j].text !== 'as') s += names[j++].text;
    return [s, j];
  };
  if (names[0].text === 'import') {
    let j = 1;
    while (j < names.length) {
      const [mod, next] = dotted(j);
      j = next;
      if (names[j]?.text === 'as') {
        bindings.push({ local: names[j + 1]?.text ?? '', qualified: mod });
        j += 2;
      } else bindings.push({ local: mod.split('.')[0], qualified: mod.split('.')[0], loaded: mod });
      if (names[j]?.text === ',') j++;
      else break;
    }
    return { line, future: false, bindings };
  }
  const [mod, at] = dotted(1);
  let j = at + 1; // past `import`
  while (j < names.length && !mod.startsWith('.')) {
    const name = names[j].text;
    if (names[j + 1]?.text === 'as') {
      bindings.push({ local: names[j + 2]?.text ?? '', qualified: `${mod}.${name}` });
      j += 3;
    } else {
      if (name !== '*') bindings.push({ local: name, qualified: `${mod}.${name}` });
      j += 1;
    }
    if (names[j]?.text === ',') j++;
    else break;
  }
  return { line, future: mod === '__future__', bindings };
}

/** The names the module's imports bind, local → qualified (a later import of a name wins). */
export function bindingsOf(source: PySource): Map<string, string> {
  const map = new Map<string, string>();
  for (const imp of source.imports) for (const b of imp.bindings) map.set(b.local, b.qualified);
  return map;
}

/** The qualified name a dotted callee refers to, through the imports; builtins by their own name unless an import rebinds them. */
export function resolve(callee: string, bindings: Map<string, string>): string {
  const [root, ...rest] = callee.split('.');
  const q = bindings.get(root);
  return q === undefined ? callee : [q, ...rest].join('.');
}

/** The innermost function, class body or lambda whose body holds `offset` (undefined: module level). */
export function scopeAt(source: PySource, offset: number): PyScope | undefined {
  let best: PyScope | undefined;
  for (const s of source.scopes) {
    if (offset >= s.bodyStart && offset <= s.bodyEnd && (!best || s.bodyStart >= best.bodyStart)) best = s;
  }
  return best;
}
