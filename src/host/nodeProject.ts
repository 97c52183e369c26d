/**
 * What the worker pool fix needs to know of a Node project, read from disk (bounded, off the
 * host's loop): the nearest package.json's "type" (the module format of a `.js` or `.ts` file;
 * for `.ts` an explicit tsconfig `module` of CommonJS or ES modules first) and whether a `.ts`
 * file can load in worker threads (tsx, preloaded again in each worker through the inherited
 * execArgv, or tsc, whose output is JavaScript; not ts-node: its CLI hooks the main thread only).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { ModuleFormat } from '../fixes/nodeImports';

/** A package.json or a source file larger than this is not read (the fix is then not offered). */
export const MAX_READ_BYTES = 1_000_000;
const TS_LOADERS = ['tsx', 'typescript'];

/** A file's text, or undefined when missing or too large. */
export async function readBounded(file: string): Promise<string | undefined> {
  try {
    const st = await fs.stat(file);
    return st.isFile() && st.size <= MAX_READ_BYTES ? await fs.readFile(file, 'utf8') : undefined;
  } catch {
    return undefined;
  }
}

interface PackageJson {
  type?: unknown;
  dependencies?: Record<string, unknown>;
  devDependencies?: Record<string, unknown>;
}

/** The nearest package.json above `file` (parsed), or undefined. */
async function nearestPackage(file: string): Promise<PackageJson | undefined> {
  for (let dir = path.dirname(file), i = 0; i < 32; dir = path.dirname(dir), i++) {
    const text = await readBounded(path.join(dir, 'package.json'));
    if (text !== undefined) {
      try {
        return JSON.parse(text) as PackageJson;
      } catch {
        return undefined;
      }
    }
    if (path.dirname(dir) === dir) break;
  }
  return undefined;
}

/** The nearest tsconfig.json's explicit `module` (lower case), or undefined (none, unreadable, or extended from elsewhere). */
async function tsconfigModule(file: string): Promise<string | undefined> {
  for (let dir = path.dirname(file), i = 0; i < 32; dir = path.dirname(dir), i++) {
    const text = await readBounded(path.join(dir, 'tsconfig.json'));
    // JSON with comments: the one setting is read by pattern, not parsed.
    if (text !== undefined) return /"module"\s*:\s*"([^"]+)"/.exec(text)?.[1].toLowerCase();
    if (path.dirname(dir) === dir) break;
  }
  return undefined;
}

/**
 * A `.js` or `.ts`/`.tsx` file's format: for TypeScript a tsconfig `module` of CommonJS or
 * ES modules says (tsc emits that, and `import.meta` is an error under CommonJS); else, as
 * Node, tsx and `node16`/`nodenext` do, package.json "type" (other extensions say it
 * themselves: undefined).
 */
export async function jsFileFormat(file: string): Promise<ModuleFormat | undefined> {
  const ext = path.extname(file);
  if (ext === '.ts' || ext === '.tsx') {
    const module = await tsconfigModule(file);
    if (module === 'commonjs') return 'cjs';
    if (module && /^es(\d+|next)$/.test(module)) return 'esm';
  } else if (ext !== '.js') {
    return undefined;
  }
  const pkg = await nearestPackage(file);
  return pkg ? (pkg.type === 'module' ? 'esm' : 'cjs') : undefined;
}

/** Why a `.ts` file beside `file` cannot load in a worker thread; null when the project has a way. */
export async function tsWorkerProblem(file: string): Promise<string | null> {
  const pkg = await nearestPackage(file);
  const deps = { ...pkg?.dependencies, ...pkg?.devDependencies };
  if (TS_LOADERS.some((d) => d in deps)) return null;
  return `no package.json above ${path.basename(file)} lists ${TS_LOADERS.join(', ')}: nothing would load the pool's .ts file in its worker threads (ts-node's CLI hooks the main thread only)`;
}
