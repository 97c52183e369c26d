/**
 * Where a decorated definition starts, read from the text (pure: no vscode, no process):
 * the first line of the decorators stacked above a line, across decorators whose call
 * spans lines (`@app.post(\n    "/items",\n)`) and comment lines between them. The
 * endpoint CodeLens's lexical scan uses it; the function CodeLens has the parser's own
 * answer (the outline's `line`), and a test checks that the two agree.
 */

/** A decorator's call rarely spans more; the walk stops there rather than read the whole file. */
const MAX_DECORATOR_LINES = 60;

/** The line without its string literals and its trailing comment, so their brackets do not count. */
function code(text: string): string {
  return text
    .replace(/(["'`])(?:\\.|(?!\1).)*\1/g, '""')
    .replace(/\s(#|\/\/).*$/, '')
    .replace(/^\s*(#|\/\/).*$/, '');
}

function bracketBalance(text: string): number {
  let n = 0;
  for (const c of code(text)) {
    if (c === '(' || c === '[' || c === '{') n++;
    else if (c === ')' || c === ']' || c === '}') n--;
  }
  return n;
}

/**
 * The first decorator line (0-based) of what is defined at `line` (a `def`, a method, or a
 * decorator of it); `line` itself when nothing decorates it. Python `@decorator` and
 * TypeScript `@Decorator()` alike.
 */
export function firstDecoratorLine(lines: readonly string[], line: number): number {
  let first = line;
  // Closing brackets seen walking up and not yet opened: inside a call spanning lines.
  let open = 0;
  for (let i = line - 1; i >= 0 && line - i <= MAX_DECORATOR_LINES; i--) {
    open -= bracketBalance(lines[i]);
    if (open < 0) break; // an unclosed bracket above: an enclosing expression, not a decorator
    if (open > 0) continue;
    if (/^\s*@/.test(lines[i])) first = i;
    else if (!/^\s*(#|\/\/)/.test(lines[i])) break;
  }
  return first;
}
