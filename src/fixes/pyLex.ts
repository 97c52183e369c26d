/**
 * A Python tokenizer good enough to find calls, scopes and imports without an AST (the host
 * is Node): strings (every prefix, triple quotes, f-strings whole) and comments are tokens of
 * their own, so nothing inside them is read as code; brackets and backslashes join physical
 * lines into logical ones, whose indentation gives the block structure.
 */

export type PyTokenKind = 'name' | 'op' | 'string' | 'number';

export interface PyToken {
  kind: PyTokenKind;
  text: string;
  start: number;
  end: number;
}

/** One logical line: its tokens, and the column of its first (the block structure). */
export interface PyLine {
  indent: number;
  tokens: PyToken[];
}

// Sticky (`y`): matched at `lastIndex`, without slicing the text at every token.
const STRING_START = /(?:[rRbBuUfF]|[rR][bBfF]|[bBfF][rR])?('''|"""|'|")/y;
const NAME = /[A-Za-z_\u00c0-\uffff][\w\u00c0-\uffff]*/y;
const NUMBER = /(?:0[xXoObB][\da-fA-F_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?[jJ]?)/y;

function stickyAt(re: RegExp, text: string, at: number): RegExpExecArray | null {
  re.lastIndex = at;
  return re.exec(text);
}
const OPS = ['**=', '//=', '>>=', '<<=', '...', '->', ':=', '**', '//', '<<', '>>', '<=', '>=', '==', '!=', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '@='];

/** The end offset of a string starting at `i` whose quote is `quote` (after the prefix). */
function stringEnd(text: string, from: number, quote: string): number {
  let i = from;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\') {
      i += 2;
      continue;
    }
    if (text.startsWith(quote, i)) return i + quote.length;
    // An unterminated one-quote string ends at its line (the file is being edited).
    if (c === '\n' && quote.length === 1) return i;
    i++;
  }
  return text.length;
}

/** The logical lines of a Python source text. */
export function pyLines(text: string): PyLine[] {
  const lines: PyLine[] = [];
  let current: PyToken[] = [];
  let depth = 0;
  const flush = () => {
    if (current.length) {
      const first = current[0].start;
      const lineStart = text.lastIndexOf('\n', first - 1) + 1;
      lines.push({ indent: columnOf(text.slice(lineStart, first)), tokens: current });
    }
    current = [];
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '\n') {
      if (depth === 0) flush();
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f') {
      i++;
      continue;
    }
    if (c === '#') {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl;
      continue;
    }
    if (c === '\\' && text[i + 1] === '\n') {
      i += 2;
      continue;
    }
    const str = /[A-Za-z'"]/.test(c) ? stickyAt(STRING_START, text, i) : null;
    if (str && (str[0].length > 1 || /['"]/.test(c))) {
      const end = stringEnd(text, i + str[0].length, str[1]);
      current.push({ kind: 'string', text: text.slice(i, end), start: i, end });
      i = end;
      continue;
    }
    const name = stickyAt(NAME, text, i);
    if (name) {
      current.push({ kind: 'name', text: name[0], start: i, end: i + name[0].length });
      i += name[0].length;
      continue;
    }
    const num = /[\d.]/.test(c) ? stickyAt(NUMBER, text, i) : null;
    if (num && num[0] !== '.' && num[0].length) {
      current.push({ kind: 'number', text: num[0], start: i, end: i + num[0].length });
      i += num[0].length;
      continue;
    }
    const op = OPS.find((o) => text.startsWith(o, i)) ?? c;
    if ('([{'.includes(op)) depth++;
    if (')]}'.includes(op)) depth = Math.max(0, depth - 1);
    current.push({ kind: 'op', text: op, start: i, end: i + op.length });
    i += op.length;
  }
  flush();
  return lines;
}

/** Python's column for leading whitespace (tabs to the next multiple of 8). */
function columnOf(lead: string): number {
  let col = 0;
  for (const ch of lead) col = ch === '\t' ? (Math.floor(col / 8) + 1) * 8 : col + 1;
  return col;
}

/** Index of the bracket closing the one at `open` in `tokens`, or -1. */
export function matchingClose(tokens: readonly { text: string }[], open: number): number {
  let depth = 0;
  for (let j = open; j < tokens.length; j++) {
    const t = tokens[j].text;
    if (t === '(' || t === '[' || t === '{') depth++;
    else if (t === ')' || t === ']' || t === '}') {
      depth--;
      if (depth === 0) return j;
    }
  }
  return -1;
}
