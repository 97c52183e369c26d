/**
 * Hints before any measurement, JS/TS: a core module's `…Sync` function (n/no-sync, kept to
 * fs, crypto, zlib and child_process resolved through the file's imports) called in an async
 * function, async arrow or async method, or in a function Express, Fastify or Koa calls as a
 * route handler; not in a plain function nested in one, nor at the top level.
 */
import type { LanguageName } from '../shared/modes';
import { NODE_SYNC_MODULES } from './blockingApis';
import { hintMessage, type Finding } from './findings';
import { jsBindings, jsFunctionAt, parseJs, type JsSource } from './jsSource';
import { LineIndex } from './text';

/** The qualified API a callee names (`rfs` → `fs.readFileSync`), if it is a core `…Sync` function. */
export function syncApiOf(callee: string, bindings: Map<string, string>): string | undefined {
  const [root, ...rest] = callee.split('.');
  const q = bindings.get(root);
  if (q === undefined) return undefined;
  const parts = [...q.split('.'), ...rest];
  return parts.length === 2 && NODE_SYNC_MODULES.has(parts[0]) && /.Sync$/.test(parts[1]) ? parts.join('.') : undefined;
}

/** Findings for a JS or TS source text, in text order. */
export function scanJs(text: string, language: Exclude<LanguageName, 'python'>, source: JsSource = parseJs(text)): Finding[] {
  const bindings = jsBindings(source);
  const index = new LineIndex(text);
  const out: Finding[] = [];
  for (const call of source.calls) {
    const api = syncApiOf(call.callee, bindings);
    if (!api || call.awaited) continue;
    const fn = jsFunctionAt(source, call.start);
    if (!fn || fn.kind === 'sync') continue;
    out.push({ range: index.range(call.start, call.end), api, rule: 'n/no-sync', message: hintMessage(api), language });
  }
  return out;
}
