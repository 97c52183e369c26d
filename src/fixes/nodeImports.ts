/**
 * Imports a Node fix adds, in the file's own module format (ESM `import`, CommonJS `require`;
 * TypeScript as ESM), quotes and semicolons, once: a name the file already binds to the same
 * thing is reused, never imported twice.
 */
import type { JsSource } from './jsSource';
import { eolOf, LineIndex, type TextEdit } from './text';

/** Core modules a file may import without `node:` (to tell its habit). */
const CORE = new Set(['fs', 'fs/promises', 'crypto', 'zlib', 'util', 'child_process', 'path', 'os', 'http', 'https', 'events', 'stream']);

export type ModuleFormat = 'esm' | 'cjs';

/**
 * The module format: the extension's when it says (.mjs/.mts, .cjs/.cts), else the file's own
 * imports, else ESM for TypeScript and CommonJS for plain .js (package.json "type" is the
 * caller's to read: pass it to the builder).
 */
export function detectModuleFormat(source: JsSource, fileName: string): ModuleFormat {
  if (/\.m[jt]s$/.test(fileName)) return 'esm';
  if (/\.c[jt]s$/.test(fileName)) return 'cjs';
  if (source.imports.some((i) => i.form === 'import')) return 'esm';
  if (source.imports.some((i) => i.form === 'require')) return 'cjs';
  return /\.tsx?$/.test(fileName) ? 'esm' : 'cjs';
}

/** A name to import: `name` from core module `module` (`fs/promises`, `util`). */
export interface NamedImport {
  module: string;
  name: string;
}

/** How the file already reaches `module.name`: a named binding, or a namespace's member. */
export function jsRefersTo(source: JsSource, module: string, name: string): string | undefined {
  for (const imp of source.imports) {
    for (const [local, q] of imp.bindings) if (q === `${module}.${name}`) return local;
  }
  for (const imp of source.imports) {
    for (const [local, q] of imp.bindings) if (q === module) return `${local}.${name}`;
  }
  return undefined;
}

/** Every name bound by an import, to keep an added one from colliding. */
export function boundNames(source: JsSource): Set<string> {
  return new Set(source.imports.flatMap((i) => [...i.bindings.keys()]));
}

/** The import lines, in the file's format and style, inserted after its last top-level import (or its directives). */
export function jsInsertImports(source: JsSource, format: ModuleFormat, adds: readonly (NamedImport & { local: string })[]): TextEdit[] {
  if (!adds.length) return [];
  const { text, tokens } = source;
  const sample = source.imports[0] ? text.slice(source.imports[0].start, source.imports[0].end) : '';
  const quote = sample.includes('"') && !sample.includes("'") ? '"' : "'";
  const semi = sample && !sample.trimEnd().endsWith(';') ? '' : ';';
  // Keep the file's habit: `node:` unless it imports core modules without it.
  const bare = !source.imports.some((i) => i.specifier.startsWith('node:')) && source.imports.some((i) => CORE.has(i.specifier));
  const spec = (m: string) => `${quote}${bare ? m : `node:${m}`}${quote}`;
  const lines = adds.map(({ module, name, local }) => {
    const named = local === name ? name : format === 'esm' ? `${name} as ${local}` : `${name}: ${local}`;
    return format === 'esm' ? `import { ${named} } from ${spec(module)}${semi}` : `const { ${named} } = require(${spec(module)})${semi}`;
  });
  const last = source.imports[source.imports.length - 1];
  let at: number;
  if (last) {
    const nl = text.indexOf('\n', last.end);
    at = nl < 0 ? text.length : nl + 1;
  } else {
    // After a shebang and a 'use strict' directive; before everything else.
    const first = tokens[0];
    const directive = first?.kind === 'string' && /^['"]use strict['"]$/.test(first.text) ? (tokens[1]?.text === ';' ? tokens[1] : first) : undefined;
    const index = new LineIndex(text);
    if (directive) {
      const nl = text.indexOf('\n', directive.end);
      at = nl < 0 ? text.length : nl + 1;
    } else at = first ? index.lineStart(first.start) : text.length;
  }
  const eol = eolOf(text);
  const lead = at === text.length && text.length && !text.endsWith('\n') ? eol : '';
  return [{ range: new LineIndex(text).range(at, at), newText: lead + lines.map((l) => `${l}${eol}`).join('') }];
}
