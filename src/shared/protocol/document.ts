/** What the two documents (a report, a sweep) have in common; not re-exported by protocol.ts. */
import { int, literal, nullable, obj, str } from '../validate';
import { RunError } from './common';
import { LANGUAGES } from './inputs';

/** The head both documents (a report, a sweep) share. */
export const DOCUMENT_FIELDS = {
  tool: obj({ name: str, version: str }),
  createdAt: str,
  status: literal('complete', 'partial', 'failed'),
  /** Why the session ended early (timeout, crash, cancel, load failure); null when complete. */
  error: nullable(RunError),
};

/** What was measured, as both documents name it. */
export const TARGET_FIELDS = {
  file: str,
  qualname: nullable(str),
  lines: nullable(obj({ start: int, end: int })),
  language: literal(...LANGUAGES),
  args: str,
};
