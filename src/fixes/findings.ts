/** A static hint: a call to a well-known blocking API in code that runs on the loop. */
import type { LanguageName } from '../shared/modes';
import type { Range } from './text';

export interface Finding {
  /** The call, from its callee to its closing parenthesis. */
  range: Range;
  /** The API as the reference lists name it (`time.sleep`, `fs.readFileSync`), whatever the file's alias. */
  api: string;
  /** The linter rule the entry mirrors (`ASYNC251`, `n/no-sync`; `blockbuster` for the few beyond them). */
  rule: string;
  message: string;
  language: LanguageName;
}

/** The hint's wording: a guess, with the way to know (information severity, never a warning without a measurement). */
export function hintMessage(api: string): string {
  return `\`${api}\` may block the loop — Measure`;
}
