/**
 * A JavaScript/TypeScript tokenizer good enough to find calls, function bodies and imports
 * without shipping the TypeScript compiler in the extension host: strings, template literals
 * (their `${…}` included: read as text), regular expressions and comments are single tokens or
 * skipped, so nothing inside them is read as code.
 */

export type JsTokenKind = 'name' | 'punct' | 'string' | 'template' | 'regex' | 'number';

export interface JsToken {
  kind: JsTokenKind;
  text: string;
  start: number;
  end: number;
}

// Sticky (`y`): matched at `lastIndex`, without slicing the text at every token.
const NAME = /[A-Za-z_$\u00c0-\uffff][\w$\u00c0-\uffff]*/y;
const NUMBER = /(?:0[xXoObB][\da-fA-F_]+n?|\d[\d_]*\.?[\d_]*(?:[eE][+-]?\d+)?n?|\.\d[\d_]*(?:[eE][+-]?\d+)?)/y;
const SPACE = /\s/;

function stickyAt(re: RegExp, text: string, at: number): RegExpExecArray | null {
  re.lastIndex = at;
  return re.exec(text);
}
const PUNCT = ['>>>=', '...', '===', '!==', '**=', '<<=', '>>=', '>>>', '&&=', '||=', '??=', '=>', '?.', '??', '==', '!=', '<=', '>=', '&&', '||', '++', '--', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '**', '<<'];
/** After these a `/` starts a regular expression, not a division. */
const BEFORE_REGEX = new Set(['return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do', 'else', 'yield', 'await']);

function quotedEnd(text: string, from: number, quote: string): number {
  let i = from;
  while (i < text.length && text[i] !== quote && text[i] !== '\n') i += text[i] === '\\' ? 2 : 1;
  return Math.min(i + 1, text.length);
}

/** End of a template literal starting after its backtick, nested `${ `…` }` included. */
function templateEnd(text: string, from: number): number {
  let i = from;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\') i += 2;
    else if (c === '`') return i + 1;
    else if (c === '$' && text[i + 1] === '{') {
      i = exprEnd(text, i + 2);
    } else i++;
  }
  return text.length;
}

/** End of a `${…}` expression (just past its `}`), strings and templates inside skipped. */
function exprEnd(text: string, from: number): number {
  let depth = 1;
  let i = from;
  while (i < text.length) {
    const c = text[i];
    if (c === '"' || c === "'") i = quotedEnd(text, i + 1, c);
    else if (c === '`') i = templateEnd(text, i + 1);
    else if (c === '{') {
      depth++;
      i++;
    } else if (c === '}') {
      depth--;
      i++;
      if (depth === 0) return i;
    } else i++;
  }
  return text.length;
}

function regexEnd(text: string, from: number): number {
  let i = from;
  let inClass = false;
  while (i < text.length && text[i] !== '\n') {
    const c = text[i];
    if (c === '\\') i += 2;
    else if (c === '[') (inClass = true), i++;
    else if (c === ']') (inClass = false), i++;
    else if (c === '/' && !inClass) {
      i++;
      while (/[a-z]/i.test(text[i] ?? '')) i++;
      return i;
    } else i++;
  }
  return i;
}

/** The tokens of a JS/TS source text (comments and whitespace dropped). */
export function jsTokens(text: string): JsToken[] {
  const out: JsToken[] = [];
  let i = 0;
  const push = (kind: JsTokenKind, end: number) => {
    out.push({ kind, text: text.slice(i, end), start: i, end });
    i = end;
  };
  if (text.startsWith('#!')) i = Math.max(0, text.indexOf('\n'));
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\n' || SPACE.test(c)) {
      i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2);
      i = close < 0 ? text.length : close + 2;
      continue;
    }
    if (c === '"' || c === "'") {
      push('string', quotedEnd(text, i + 1, c));
      continue;
    }
    if (c === '`') {
      push('template', templateEnd(text, i + 1));
      continue;
    }
    const name = stickyAt(NAME, text, i);
    if (name) {
      push('name', i + name[0].length);
      continue;
    }
    const num = /[\d.]/.test(c) ? stickyAt(NUMBER, text, i) : null;
    if (num) {
      push('number', i + num[0].length);
      continue;
    }
    if (c === '/') {
      const prev = out[out.length - 1];
      const division = prev && (prev.kind === 'number' || prev.kind === 'string' || prev.kind === 'template' || prev.kind === 'regex' || (prev.kind === 'name' && !BEFORE_REGEX.has(prev.text)) || [')', ']', '}'].includes(prev.text));
      if (!division) {
        push('regex', regexEnd(text, i + 1));
        continue;
      }
    }
    const p = PUNCT.find((x) => text.startsWith(x, i)) ?? c;
    push('punct', i + p.length);
  }
  return out;
}

/** For each token, the index of the bracket closing it (brackets only; -1 elsewhere or unclosed). */
export function bracketPairs(tokens: readonly JsToken[]): Int32Array {
  const pairs = new Int32Array(tokens.length).fill(-1);
  const stack: number[] = [];
  tokens.forEach((t, i) => {
    if (t.kind !== 'punct') return;
    if (t.text === '(' || t.text === '[' || t.text === '{') stack.push(i);
    else if (t.text === ')' || t.text === ']' || t.text === '}') {
      const open = stack.pop();
      if (open !== undefined) {
        pairs[open] = i;
        pairs[i] = open;
      }
    }
  });
  return pairs;
}
