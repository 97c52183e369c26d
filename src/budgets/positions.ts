/**
 * Where each budget sits in looplag.json's text, for the editor's Testing view (the gutter
 * shows a budget's result on its entry; "Go to Test" opens it there). A small scan of the
 * JSON text, not a parser: it skips strings (with their escapes) and nested values to find
 * the top-level `budgets` array's elements. No dependency, and it never throws: text past a
 * syntax error yields no further entries. The loader (config.ts) judges the JSON itself.
 */

/** An element of `budgets`: from its first character to just after its last (UTF-16 offsets, as JavaScript strings and VS Code count). */
export interface EntrySpan {
  start: number;
  end: number;
}

/** A line and a column, both from 0; `\r\n`, `\r` and `\n` each end a line (as the editor reads them). */
export interface TextPosition {
  line: number;
  character: number;
}

const WHITESPACE = /[ \t\r\n]/;

/** The spans of the top-level object's `budgets` elements, in order (the last `budgets` key wins, as JSON.parse). */
export function budgetEntrySpans(text: string): EntrySpan[] {
  let i = skipWhitespace(text, text.charCodeAt(0) === 0xfeff ? 1 : 0);
  if (text[i] !== '{') return [];
  let spans: EntrySpan[] = [];
  i = skipWhitespace(text, i + 1);
  while (text[i] === '"') {
    const keyEnd = skipString(text, i);
    if (keyEnd < 0) break;
    const key = decodeKey(text.slice(i, keyEnd));
    i = skipWhitespace(text, keyEnd);
    if (text[i] !== ':') break;
    const valueStart = skipWhitespace(text, i + 1);
    if (key === 'budgets' && text[valueStart] === '[') spans = arrayElements(text, valueStart);
    const valueEnd = skipValue(text, valueStart);
    if (valueEnd < 0) break;
    i = skipWhitespace(text, valueEnd);
    if (text[i] !== ',') break;
    i = skipWhitespace(text, i + 1);
  }
  return spans;
}

/** The line and column of `offset` in `text`. */
export function positionAt(text: string, offset: number): TextPosition {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  let line = 0;
  let lineStart = 0;
  for (const m of before.matchAll(/\r\n|\r|\n/g)) {
    line++;
    lineStart = m.index! + m[0].length;
  }
  return { line, character: before.length - lineStart };
}

/** The elements of the array opening at `open` (its `[`), up to the first one that does not end. */
function arrayElements(text: string, open: number): EntrySpan[] {
  const spans: EntrySpan[] = [];
  let i = skipWhitespace(text, open + 1);
  while (i < text.length && text[i] !== ']') {
    const end = skipValue(text, i);
    if (end < 0) break;
    spans.push({ start: i, end });
    i = skipWhitespace(text, end);
    if (text[i] !== ',') break;
    i = skipWhitespace(text, i + 1);
  }
  return spans;
}

function skipWhitespace(text: string, i: number): number {
  while (i < text.length && WHITESPACE.test(text[i])) i++;
  return i;
}

/** Just after the string opening at `i` (its `"`), or -1 when it does not close. */
function skipString(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    if (text[j] === '\\') j++;
    else if (text[j] === '"') return j + 1;
  }
  return -1;
}

/**
 * Just after the value starting at `i`, or -1 when it does not end. Objects and arrays are
 * skipped by counting brackets outside strings (iteratively: a deeply nested file cannot
 * overflow the stack); a scalar runs to the next delimiter.
 */
function skipValue(text: string, i: number): number {
  const c = text[i];
  if (c === '"') return skipString(text, i);
  if (c === '{' || c === '[') {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const d = text[j];
      if (d === '"') {
        j = skipString(text, j);
        if (j < 0) return -1;
        j--;
      } else if (d === '{' || d === '[') {
        depth++;
      } else if (d === '}' || d === ']') {
        if (--depth === 0) return j + 1;
      }
    }
    return -1;
  }
  let j = i;
  while (j < text.length && !/[,\]}\s]/.test(text[j])) j++;
  return j > i ? j : -1;
}

function decodeKey(quoted: string): string | null {
  try {
    return JSON.parse(quoted) as string;
  } catch {
    return null;
  }
}
