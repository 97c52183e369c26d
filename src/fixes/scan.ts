/** The static "may block the loop" hints, one scanner per language (the editor calls `scanBlockingCalls`). */
import type { LanguageName } from '../shared/modes';
import type { Finding } from './findings';
import { scanJs } from './scanJs';
import { scanPython } from './scanPython';

const SCANNERS: { readonly [L in LanguageName]: (text: string) => Finding[] } = {
  python: (text) => scanPython(text),
  javascript: (text) => scanJs(text, 'javascript'),
  typescript: (text) => scanJs(text, 'typescript'),
};

/** Calls to well-known blocking APIs in code that runs on the event loop, in text order. */
export function scanBlockingCalls(text: string, language: LanguageName): Finding[] {
  return SCANNERS[language](text);
}
