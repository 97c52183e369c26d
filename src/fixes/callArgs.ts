/**
 * "Measure this call": the argument prompt pre-filled with the call's own arguments. A
 * literal argument (numbers, strings, True/False/None or true/false/null, and lists, tuples,
 * dicts, sets, arrays and objects of literals, arithmetic on them) is copied as written, on
 * one line; a keyword argument keeps its `name=`; anything else (a variable, a nested call)
 * cannot be evaluated where the measurement runs (the module's namespace, not the caller's)
 * and becomes a placeholder `‹expression›`: not valid in either language, so the prompt's
 * syntax check refuses it until the user replaces it (the first one is selected). `*args`,
 * `**kwargs` and JS spreads keep their star or dots before the placeholder.
 */
import type { LanguageName } from '../shared/modes';

/** The prompt's text and the first placeholder in it (to select), if any. */
export interface ArgsPrefill {
  text: string;
  /** [start, end) of the first placeholder in `text`. */
  placeholder?: [number, number];
  /** Every argument was a literal: the text runs as it is. */
  literal: boolean;
}

/** A token as both tokenizers give it. */
export interface ArgToken {
  kind: string;
  text: string;
  start: number;
  end: number;
}

const OPEN = new Set(['(', '[', '{']);
const CLOSE = new Set([')', ']', '}']);
/** Operators a literal argument may hold: arithmetic on literals, separators inside brackets. */
const LITERAL_OPS: { readonly [L in 'python' | 'js']: ReadonlySet<string> } = {
  python: new Set(['(', ')', '[', ']', '{', '}', ',', ':', '+', '-', '*', '/', '//', '%', '**']),
  js: new Set(['(', ')', '[', ']', '{', '}', ',', ':', '+', '-', '*', '/', '%', '**']),
};
const LITERAL_NAMES: { readonly [L in 'python' | 'js']: ReadonlySet<string> } = {
  python: new Set(['True', 'False', 'None']),
  js: new Set(['true', 'false', 'null', 'undefined', 'NaN', 'Infinity']),
};
/** A placeholder's expression is shortened to this many characters. */
const PLACEHOLDER_CHARS = 30;

type Family = 'python' | 'js';

/**
 * The prompt text for a call's arguments: `tokens` are those strictly between its `(` and
 * `)`, `text` the source they index into.
 */
export function argsPrefill(text: string, tokens: readonly ArgToken[], language: LanguageName): ArgsPrefill {
  const family: Family = language === 'python' ? 'python' : 'js';
  const parts: string[] = [];
  let placeholder: [number, number] | undefined;
  let literal = true;
  let length = 0;
  for (const arg of splitArgs(tokens)) {
    let body = arg;
    let lead = '';
    // `*args`, `**kwargs`, `...rest`: the star or dots stay, the rest is judged.
    if (family === 'python' && (body[0]?.text === '*' || body[0]?.text === '**')) (lead = body[0].text), (body = body.slice(1));
    else if (family === 'js' && body[0]?.text === '...') (lead = '...'), (body = body.slice(1));
    // `name=value`: the keyword stays.
    else if (family === 'python' && body[0]?.kind === 'name' && body[1]?.text === '=') (lead = `${body[0].text}=`), (body = body.slice(2));
    const shown = oneLine(text, body);
    let part: string;
    if (body.length && isLiteral(body, family)) part = lead + shown;
    else {
      literal = false;
      const short = shown.length > PLACEHOLDER_CHARS ? `${shown.slice(0, PLACEHOLDER_CHARS - 1)}…` : shown;
      const at = length + (parts.length ? 2 : 0) + lead.length;
      part = `${lead}‹${short}›`;
      placeholder ??= [at, at + short.length + 2];
    }
    length += (parts.length ? 2 : 0) + part.length;
    parts.push(part);
  }
  return { text: parts.join(', '), ...(placeholder ? { placeholder } : {}), literal };
}

/** The arguments, split at the commas of depth 0 (a trailing comma gives no empty argument). */
export function splitArgs<T extends { text: string }>(tokens: readonly T[]): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let depth = 0;
  for (const t of tokens) {
    if (OPEN.has(t.text)) depth++;
    else if (CLOSE.has(t.text)) depth--;
    if (t.text === ',' && depth === 0) {
      if (current.length) out.push(current);
      current = [];
    } else current.push(t);
  }
  if (current.length) out.push(current);
  return out;
}

function isLiteral(tokens: readonly ArgToken[], family: Family): boolean {
  const brackets: string[] = [];
  return tokens.every((t, i) => {
    if (OPEN.has(t.text)) brackets.push(t.text);
    else if (CLOSE.has(t.text)) brackets.pop();
    if (t.kind === 'number') return true;
    // A string on one line; an f-string or template with a replacement field reads variables.
    if (t.kind === 'string' || t.kind === 'template') {
      if (t.text.includes('\n')) return false;
      if (t.kind === 'template') return !t.text.includes('${');
      return !(/^[a-zA-Z]*[fF][a-zA-Z]*['"]/.test(t.text) && t.text.includes('{'));
    }
    if (t.kind === 'name') {
      if (LITERAL_NAMES[family].has(t.text)) return true;
      // A JS object literal's key (`{ n: 5 }`); `{ n }` would read a variable.
      return family === 'js' && brackets[brackets.length - 1] === '{' && tokens[i + 1]?.text === ':' && /^[{,]$/.test(tokens[i - 1]?.text ?? '');
    }
    return (t.kind === 'op' || t.kind === 'punct') && LITERAL_OPS[family].has(t.text);
  });
}

/**
 * The tokens' source text on one line (the prompt is one line): spaces between tokens kept
 * as written, a gap holding a line break or a comment becomes one space (none after an
 * opening bracket or before a closing one or a comma).
 */
function oneLine(text: string, tokens: readonly ArgToken[]): string {
  let out = '';
  tokens.forEach((t, i) => {
    if (i > 0) {
      const gap = text.slice(tokens[i - 1].end, t.start);
      if (/^[ \t]*$/.test(gap)) out += gap;
      else if (!OPEN.has(tokens[i - 1].text) && !CLOSE.has(t.text) && t.text !== ',') out += ' ';
    }
    out += t.text;
  });
  return out;
}
