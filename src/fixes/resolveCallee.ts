/**
 * Where a called function is defined, from the source text and the files it imports (no
 * language server, no process): the same file; a Python `from pkg.mod import fn`, `import
 * pkg.mod` + `pkg.mod.fn(…)`, a relative import (`from .mod import fn`, `from . import mod`),
 * one re-export hop per package `__init__.py` (up to a few); a JS/TS relative import (named,
 * default, namespace, `require`), `.js` specifiers resolved to their `.ts` sources as
 * TypeScript does. Files are read through `read` (the editor's open documents first, then
 * the disk), so this stays pure and testable; a file `read` cannot give is not there.
 */
import * as path from 'node:path';
import type { LanguageName } from '../shared/modes';
import { parseJs } from './jsSource';
import { parsePython, type PySource } from './pySource';

/** A function definition: the file, and the name Measure Function knows it by (`fn`, `Cls.fn`, JS `default`). */
export interface Definition {
  file: string;
  qualname: string;
}

/** The text of a file, or undefined when there is none (or it is too large to read). */
export type ReadFile = (file: string) => Promise<string | undefined>;

/** How many `from .x import fn` re-exports are followed before giving up. */
const MAX_REEXPORT_HOPS = 4;

/**
 * The definition `callee` (as written at the call) refers to in `file`, whose text is
 * `text`; `roots` are the workspace folders (Python's absolute imports are looked up from
 * the file's own folder, its top package's parent, each root and each root's `src/`).
 */
export async function resolveCallee(file: string, text: string, language: LanguageName, callee: string, read: ReadFile, roots: readonly string[] = []): Promise<Definition | undefined> {
  return language === 'python' ? resolvePython(file, parsePython(text), callee, read, roots, 0) : resolveJs(file, text, callee, read);
}

/** One name a Python import binds: `local` is `name` of `module` (name null: the module itself). */
interface PyImportedName {
  local: string;
  /** With its leading dots when relative (`.mod`, `..`, `.`). */
  module: string;
  name: string | null;
}

/** Every name the file's import statements bind, relative imports included (pySource keeps absolute ones only). */
export function pyImportedNames(source: PySource): PyImportedName[] {
  const out: PyImportedName[] = [];
  for (const imp of source.imports) {
    const t = imp.line.tokens.filter((x) => x.text !== '(' && x.text !== ')');
    let j = 1;
    const dotted = (): string => {
      let s = '';
      while (j < t.length && (t[j].kind === 'name' || t[j].text === '.' || t[j].text === '...') && t[j].text !== 'import' && t[j].text !== 'as') s += t[j++].text;
      return s;
    };
    if (t[0].text === 'import') {
      while (j < t.length) {
        const mod = dotted();
        if (t[j]?.text === 'as') (out.push({ local: t[j + 1]?.text ?? '', module: mod, name: null }), (j += 2));
        else out.push({ local: mod, module: mod, name: null }); // `import a.b` reached as `a.b.fn`
        if (t[j]?.text !== ',') break;
        j++;
      }
      continue;
    }
    const mod = dotted();
    j++; // `import`
    while (j < t.length) {
      const name = t[j].text;
      if (t[j + 1]?.text === 'as') (out.push({ local: t[j + 2]?.text ?? '', module: mod, name }), (j += 3));
      else (name !== '*' && out.push({ local: name, module: mod, name }), (j += 1));
      if (t[j]?.text !== ',') break;
      j++;
    }
  }
  return out;
}

async function resolvePython(file: string, source: PySource, callee: string, read: ReadFile, roots: readonly string[], hops: number): Promise<Definition | undefined> {
  const parts = callee.split('.');
  const own = pyDefines(source, parts);
  if (own) return { file, qualname: own };
  const names = pyImportedNames(source);
  for (const imp of names) {
    // `from m import x` + `x(…)` / `x.f(…)`; `import a.b as m` + `m.f(…)`; `import a.b` + `a.b.f(…)`.
    const local = imp.local.split('.');
    if (local.some((p, i) => parts[i] !== p) || parts.length <= local.length - (imp.name ? 1 : 0)) continue;
    const rest = parts.slice(local.length);
    if (imp.name !== null) {
      // The name may be a module (`from pkg import mod` + `mod.f`) or a function (`from pkg.mod import f`).
      if (rest.length) {
        const sub = await pyModuleFile(file, joinModule(imp.module, imp.name), read, roots);
        if (sub) return pyDefinitionIn(sub, rest, read, roots, hops);
      }
      const mod = await pyModuleFile(file, imp.module, read, roots);
      if (mod) return pyDefinitionIn(mod, [imp.name, ...rest], read, roots, hops);
    } else if (rest.length) {
      const mod = await pyModuleFile(file, imp.module, read, roots);
      if (mod) return pyDefinitionIn(mod, rest, read, roots, hops);
    }
  }
  return undefined;
}

function joinModule(module: string, name: string): string {
  return /\.$/.test(module) ? `${module}${name}` : `${module}.${name}`;
}

/** A module's file and text. */
interface PyModule {
  file: string;
  text: string;
}

async function pyDefinitionIn(mod: PyModule, parts: string[], read: ReadFile, roots: readonly string[], hops: number): Promise<Definition | undefined> {
  const source = parsePython(mod.text);
  const own = pyDefines(source, parts);
  if (own) return { file: mod.file, qualname: own };
  // A package re-exporting it: `from .render import render` in `__init__.py`.
  if (hops >= MAX_REEXPORT_HOPS) return undefined;
  return resolvePython(mod.file, source, parts.join('.'), read, roots, hops + 1);
}

/** `fn` or `Cls.fn` when the module defines it at its top level (a method inside a top-level class). */
function pyDefines(source: PySource, parts: string[]): string | undefined {
  const top = source.scopes.filter((s) => s.line.indent === 0);
  const nameOf = (s: { line: { tokens: { text: string }[] } }) => s.line.tokens[s.line.tokens[0].text === 'async' ? 2 : 1]?.text;
  if (parts.length === 1) return top.some((s) => s.kind !== 'class' && s.kind !== 'lambda' && nameOf(s) === parts[0]) ? parts[0] : undefined;
  if (parts.length !== 2) return undefined;
  const cls = top.find((s) => s.kind === 'class' && nameOf(s) === parts[0]);
  if (!cls) return undefined;
  const method = source.scopes.find((s) => (s.kind === 'def' || s.kind === 'async def') && s.headerStart > cls.bodyStart && s.headerStart <= cls.bodyEnd && nameOf(s) === parts[1]);
  return method ? parts.join('.') : undefined;
}

/** The file a module name means from `file`: relative to its package, else on the search roots. */
async function pyModuleFile(file: string, module: string, read: ReadFile, roots: readonly string[]): Promise<PyModule | undefined> {
  const dots = /^\.*/.exec(module)![0].length;
  const rel = module.slice(dots).split('.').filter(Boolean);
  let bases: string[];
  if (dots) {
    let base = path.dirname(file);
    for (let i = 1; i < dots; i++) base = path.dirname(base);
    bases = [base];
  } else {
    const dir = path.dirname(file);
    bases = [dir, await topPackageParent(dir, read), ...roots.flatMap((r) => [r, path.join(r, 'src')])];
  }
  for (const base of [...new Set(bases)]) {
    const stem = path.join(base, ...rel);
    for (const candidate of rel.length ? [`${stem}.py`, path.join(stem, '__init__.py')] : [path.join(stem, '__init__.py')]) {
      const text = await read(candidate);
      if (text !== undefined) return { file: candidate, text };
    }
  }
  return undefined;
}

/** The folder above the file's outermost package (where `python -m pkg.mod` would run). */
async function topPackageParent(dir: string, read: ReadFile): Promise<string> {
  let d = dir;
  for (let i = 0; i < 16 && (await read(path.join(d, '__init__.py'))) !== undefined; i++) d = path.dirname(d);
  return d;
}

/** TypeScript's resolution of a relative specifier: the `.ts` source of a `.js` import, an extensionless one, a folder's index. */
const TS_FOR_JS: { readonly [ext: string]: readonly string[] } = { '.js': ['.ts', '.tsx'], '.mjs': ['.mts'], '.cjs': ['.cts'], '.jsx': ['.tsx'] };
const EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts', '.js', '.mjs', '.cjs', '.jsx'];

async function resolveJs(file: string, text: string, callee: string, read: ReadFile): Promise<Definition | undefined> {
  const source = parseJs(text);
  const parts = callee.split('.');
  if (parts.length === 1 && jsDefinesTopLevel(source, parts[0])) return { file, qualname: parts[0] };
  if (parts.length === 2 && jsDefinesClass(source, parts[0])) return { file, qualname: callee };
  for (const imp of source.imports) {
    if (!imp.specifier.startsWith('.')) continue;
    const q = imp.bindings.get(parts[0]);
    if (q === undefined) continue;
    let qualname: string;
    // The module itself (`import * as m`, `const m = require(…)` + `m.f(…)`; a default import called as is).
    if (q === imp.specifier) qualname = parts.length === 1 ? 'default' : parts.slice(1).join('.');
    else qualname = [q.slice(imp.specifier.length + 1), ...parts.slice(1)].join('.');
    const target = await jsModuleFile(path.resolve(path.dirname(file), imp.specifier), read);
    return target ? { file: target, qualname } : undefined;
  }
  return undefined;
}

async function jsModuleFile(base: string, read: ReadFile): Promise<string | undefined> {
  const ext = path.extname(base);
  const candidates = EXTENSIONS.includes(ext)
    ? [...(TS_FOR_JS[ext] ?? []).map((e) => base.slice(0, -ext.length) + e), base]
    : [...EXTENSIONS.map((e) => base + e), ...EXTENSIONS.map((e) => path.join(base, `index${e}`))];
  for (const c of candidates) if ((await read(c)) !== undefined) return c;
  return undefined;
}

/** `function name(`, `async function name(`, `const name = (…) =>` / `= function` at the top level. */
function jsDefinesTopLevel(source: ReturnType<typeof parseJs>, name: string): boolean {
  const { tokens } = source;
  const topLevel = (i: number) => !source.functions.some((f) => f.bodyStart <= tokens[i].start && tokens[i].start <= f.bodyEnd);
  return tokens.some((t, i) => {
    if (t.text !== name || t.kind !== 'name' || !topLevel(i)) return false;
    if (tokens[i - 1]?.text === 'function' || (tokens[i - 1]?.text === '*' && tokens[i - 2]?.text === 'function')) return true;
    if (!['const', 'let', 'var'].includes(tokens[i - 1]?.text ?? '') || tokens[i + 1]?.text !== '=') return false;
    const next = tokens[i + 2]?.text === 'async' ? i + 3 : i + 2;
    return tokens[next]?.text === 'function' || tokens[next]?.text === '(' || (tokens[next]?.kind === 'name' && tokens[next + 1]?.text === '=>');
  });
}

function jsDefinesClass(source: ReturnType<typeof parseJs>, name: string): boolean {
  return source.tokens.some((t, i) => t.text === 'class' && t.kind === 'name' && source.tokens[i + 1]?.text === name);
}
