/**
 * What a target's name may be: dotted identifiers as JavaScript reads them (Unicode
 * letters, `$`, `_`: `$fetch`, `func_ü`, `Klass.$m`), a superset of Python's. The
 * sidecar of each language says when a name is not one of its own.
 */
const IDENT = String.raw`[\p{ID_Start}$_][\p{ID_Continue}$\u200C\u200D]*`;

/** One identifier. */
export const IDENTIFIER = new RegExp(`^${IDENT}$`, 'u');

/** `name` or `Outer.inner…`: the `QUALNAME` of `FILE::QUALNAME`. */
export const QUALNAME = new RegExp(`^${IDENT}(?:\\.${IDENT})*$`, 'u');

/**
 * Words a JavaScript binding cannot be named, though an export can (`export default`,
 * `export { x as delete }`): such a target is reached through the module's exports.
 */
export const RESERVED_WORDS: ReadonlySet<string> = new Set([
  'await', 'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete', 'do', 'else', 'enum',
  'export', 'extends', 'false', 'finally', 'for', 'function', 'if', 'import', 'in', 'instanceof', 'new', 'null', 'return',
  'super', 'switch', 'this', 'throw', 'true', 'try', 'typeof', 'var', 'void', 'while', 'with', 'yield',
]);

/**
 * Words that are not binding names in strict code (ES modules, classes, `'use strict'`
 * files, TypeScript output): `() => package` there is "Unexpected strict mode reserved
 * word", a SyntaxError that would fail the whole module's load.
 */
export const STRICT_RESERVED_WORDS: ReadonlySet<string> = new Set([
  ...RESERVED_WORDS, 'implements', 'interface', 'let', 'package', 'private', 'protected', 'public', 'static', 'arguments', 'eval',
]);
