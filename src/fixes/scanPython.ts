/**
 * Hints before any measurement, Python: calls to well-known blocking APIs (blockingApis.ts)
 * inside an `async def`, the function itself and not a plain `def`, class body or lambda nested
 * in it (those run wherever they are called, maybe on a thread). Strings and comments are
 * never read as code (pyLex.ts).
 */
import type { Finding } from './findings';
import { hintMessage } from './findings';
import { PYTHON_BLOCKING, PYTHON_FILE_IO } from './blockingApis';
import { bindingsOf, parsePython, resolve, scopeAt, type PySource } from './pySource';
import { matchingClose } from './pyLex';
import { LineIndex } from './text';

/** Findings for a Python source text, in text order. */
export function scanPython(text: string, source: PySource = parsePython(text)): Finding[] {
  const bindings = bindingsOf(source);
  const index = new LineIndex(text);
  const out: Finding[] = [];
  for (const call of source.calls) {
    if (call.awaited) continue;
    const api = resolve(call.callee, bindings);
    const rule = PYTHON_BLOCKING[api];
    if (!rule || scopeAt(source, call.start)?.kind !== 'async def') continue;
    // `open(p).read()`: the read is what takes the time; the hint covers both.
    let end = call.end;
    let shown = api;
    const t = call.line.tokens;
    const k = call.closeIndex;
    if (rule === 'ASYNC230' && t[k + 1]?.text === '.' && PYTHON_FILE_IO.has(t[k + 2]?.text) && t[k + 3]?.text === '(') {
      const close = matchingClose(t, k + 3);
      if (close > 0) {
        end = t[close].end;
        shown = `${api}(…).${t[k + 2].text}`;
      }
    }
    out.push({ range: index.range(call.start, end), api: shown, rule, message: hintMessage(shown), language: 'python' });
  }
  return out;
}
