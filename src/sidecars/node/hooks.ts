/**
 * ESM loader hooks (bundled to hooks.mjs, run on Node's hooks thread): TypeScript
 * files are transpiled, the target module gets its capture statement, and imports of
 * a TypeScript file resolve as tsx and bundlers resolve them (tsResolve.ts).
 */
import * as fs from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { instrument } from './instrument';
import type { LoadSpec } from './loader';
import { isTypeScript, moduleFormat, transpile } from './transpile';
import { TsResolver } from './tsResolve';

interface Context {
  parentURL?: string;
  format?: string;
  conditions?: string[];
  importAttributes?: Record<string, string>;
}
interface LoadResult {
  format?: string;
  source?: string | ArrayBuffer | Uint8Array | null;
  shortCircuit?: boolean;
}
type NextResolve = (specifier: string, context: Context) => Promise<{ url: string; format?: string | null }>;
type NextLoad = (url: string, context: Context) => Promise<LoadResult>;

let spec: LoadSpec | undefined;
/** This hooks thread's resolver (it caches the parsed tsconfig files). */
let resolver: TsResolver | undefined;

export async function initialize(data: { spec: LoadSpec }): Promise<void> {
  spec = data.spec;
}

export async function resolve(specifier: string, context: Context, next: NextResolve): Promise<{ url: string; format?: string | null }> {
  try {
    return await next(specifier, context);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if ((code !== 'ERR_MODULE_NOT_FOUND' && code !== 'ERR_UNSUPPORTED_DIR_IMPORT') || !spec || !context.parentURL?.startsWith('file:')) throw e;
    const parent = fileURLToPath(context.parentURL);
    if (!isTypeScript(parent)) throw e;
    const found = (resolver ??= new TsResolver(spec.baseDir)).resolve(specifier, parent);
    if (!found) throw e;
    return next(pathToFileURL(found).href, context);
  }
}

export async function load(url: string, context: Context, next: NextLoad): Promise<LoadResult> {
  if (!spec || !url.startsWith('file:')) return next(url, context);
  const file = fileURLToPath(url);
  if (isTypeScript(file)) {
    // CommonJS TypeScript is left to the require hook installed on the main thread.
    if (moduleFormat(file) === 'commonjs') return { format: 'commonjs', shortCircuit: true };
    let source = fs.readFileSync(file, 'utf8');
    if (file === spec.file) source = instrument(source, spec).code;
    return { format: 'module', shortCircuit: true, source: transpile({ file, source, format: 'esm', baseDir: spec.baseDir, cacheDir: spec.cacheDir }) };
  }
  const result = await next(url, context);
  if (file === spec.file && result.format === 'module' && result.source != null) {
    const text = typeof result.source === 'string' ? result.source : Buffer.from(result.source as ArrayBuffer).toString('utf8');
    return { ...result, source: instrument(text, spec).code };
  }
  return result;
}
