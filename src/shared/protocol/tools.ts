/**
 * The one-shot tools (sidecar → host): `outline FILE` and `check-args -` (the text on
 * stdin) print one ToolMessage as their last line on stdout; no user code runs.
 */
import { arr, bool, Infer, int, literal, nullable, obj, optional, str, tagged } from '../validate';
import { RunError } from './common';

export const OutlineParam = obj({
  /** As written: `*args`, `**kw` (Python), `...rest` (JS/TS) for the rest parameters. */
  name: str,
  required: bool,
  /** Python: the FastAPI marker its default is (`Body`, `Depends`, …): a marker, not a value, so it must be given. */
  marker: optional(str),
  /** Python: after `*` or `*args`, so only a keyword reaches it. */
  keywordOnly: optional(bool),
});
export type OutlineParam = Infer<typeof OutlineParam>;

export const OutlineFunction = obj({
  qualname: str,
  /** JS/TS has no `classmethod`; a class property holding an arrow function is a (static)method too. */
  kind: literal('function', 'staticmethod', 'classmethod', 'method', 'nested'),
  /** 1-based; `line` includes decorators, `defLine` is the `def` (or the name) itself. */
  line: int,
  defLine: int,
  endLine: int,
  isAsync: bool,
  isGenerator: bool,
  /** JS/TS only: `export`ed (either kind can be measured: the loader reaches module scope). */
  exported: optional(bool),
  params: arr(OutlineParam),
  /** JS/TS: other names it is exported as (`export default f`, `export { f as g }`, `module.exports = { g: f }`). */
  aliases: optional(arr(str)),
});
export type OutlineFunction = Infer<typeof OutlineFunction>;

/** JS/TS: `export { name as as } from 'from'`; `export * from 'from'` has name and as `*`. */
export const ReExport = obj({ name: str, as: str, from: str });
export type ReExport = Infer<typeof ReExport>;

export const ToolMessage = tagged({
  outline: obj({ type: literal('outline'), functions: arr(OutlineFunction), reexports: optional(arr(ReExport)) }),
  /** `problem`: null when the text reads as the inside of a call's parentheses, else why not. */
  'args-check': obj({ type: literal('args-check'), problem: nullable(str) }),
  /** The file does not parse (`syntax-error`, with its line), cannot be read, or the tool cannot run (an interpreter too old). */
  error: obj({ type: literal('error'), error: RunError }),
});
export type ToolMessage = Infer<typeof ToolMessage>;
