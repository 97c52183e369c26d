/**
 * Names and imports a Python fix needs: how the module already refers to `asyncio` (or
 * `functools`, `concurrent.futures`), and where a missing import goes — after the header's
 * imports, else after the shebang, encoding line, leading comments and docstring, so
 * `from __future__` stays first.
 */
import type { PySource } from './pySource';
import { eolOf, LineIndex, type TextEdit } from './text';

/** The expression this module reaches `qualified` by (`aio` for `import asyncio as aio`), or undefined. */
export function pyRefersTo(source: PySource, qualified: string): string | undefined {
  for (const imp of source.imports) {
    if (imp.line.indent !== 0) continue;
    for (const b of imp.bindings) {
      if (b.qualified === qualified) return b.local;
      if (b.loaded === qualified || (b.loaded?.startsWith(`${qualified}.`) && qualified.includes('.'))) return qualified;
    }
  }
  return undefined;
}

/** The offset where new top-level lines go: the start of the line after the header's last import. */
export function pyInsertionPoint(source: PySource): number {
  const { text } = source;
  let after = -1;
  for (const [n, line] of source.lines.entries()) {
    if (line.indent !== 0) break;
    const first = line.tokens[0];
    const isImport = first.text === 'import' || (first.text === 'from' && line.tokens.some((t) => t.text === 'import'));
    const isDocstring = n === 0 && line.tokens.length === 1 && first.kind === 'string';
    if (!isImport && !isDocstring) {
      if (after < 0) return new LineIndex(text).lineStart(first.start);
      break;
    }
    after = line.tokens[line.tokens.length - 1].end;
  }
  if (after < 0) return text.length;
  const nl = text.indexOf('\n', after);
  return nl < 0 ? text.length : nl + 1;
}

/** One insertion of the given top-level lines (imports, then other statements after a blank line). */
export function pyInsertLines(source: PySource, imports: string[], statements: string[] = []): TextEdit[] {
  if (!imports.length && !statements.length) return [];
  const at = pyInsertionPoint(source);
  const index = new LineIndex(source.text);
  const eol = eolOf(source.text);
  const lead = at === source.text.length && source.text.length && !source.text.endsWith('\n') ? eol : '';
  const body = [...imports.map((l) => `${l}${eol}`), ...(statements.length ? [eol, ...statements.map((l) => `${l}${eol}`)] : [])].join('');
  return [{ range: index.range(at, at), newText: lead + body }];
}
