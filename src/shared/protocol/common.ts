/** What every message and both documents name: the modes and the kinds of error. */
import { Infer, int, literal, nullable, obj, optional, str } from '../validate';
import { MODE_NAMES, RUNTIMES } from '../modes';

/** The modes per runtime and the mode names come from the tables in shared/modes.ts. */
export const PYTHON_MODES = RUNTIMES.python.modes;
export type PythonMode = (typeof PYTHON_MODES)[number];
/** Node: the main thread, a `worker_threads` pool, a pool of child processes. */
export const NODE_MODES = RUNTIMES.node.modes;
export type NodeMode = (typeof NODE_MODES)[number];
/** `free-threaded`: Python thread mode run again under a free-threaded interpreter (GIL off). */
export const Mode = literal(...MODE_NAMES);
export type Mode = Infer<typeof Mode>;

/** `call-timeout`: a window cut by --call-timeout (a mode's error, never the session's: not exit 124). */
export const ERROR_KINDS = [
  'syntax-error', 'import-error', 'target-not-found', 'unsupported-target', 'bad-arguments',
  'interpreter-not-found', 'not-picklable', 'not-transferable', 'timeout', 'crashed', 'cancelled', 'unsupported-mode',
  'protocol-error', 'internal-error',
  'call-timeout',
] as const;
export const ErrorKind = literal(...ERROR_KINDS);
export type ErrorKind = Infer<typeof ErrorKind>;

export const RunError = obj({
  kind: ErrorKind,
  message: str,
  detail: nullable(str),
  file: optional(nullable(str)),
  line: optional(nullable(int)),
});
export type RunError = Infer<typeof RunError>;
