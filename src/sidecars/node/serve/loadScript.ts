/**
 * Runs the user's server script as `node script.js args…` would, with the Node sidecar's
 * loader (loader.ts: ESM or CommonJS by extension and package.json "type", TypeScript
 * transpiled, tsx-style resolution): `process.argv` is `[node, script, ...args]`, and a
 * CommonJS script is the main module (`require.main === module` holds, as servers often
 * check before they listen).
 */
import * as fs from 'node:fs';
import Module from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RunError } from '../../../shared/protocol';
import { instrument, Layout } from '../instrument';
import { installHooks, LoadSpec, loadErrorOf } from '../loader';
import { defaultCacheDir, isTypeScript, moduleFormat, transpile } from '../transpile';

type ModuleLoad = (request: string, parent: unknown, isMain: boolean) => unknown;

export interface ScriptSpec {
  script: string;
  args: string[];
  /** The harness's folder (hooks.mjs, typescript.js). */
  baseDir: string;
}

/**
 * Resolves once the script's top level has run (a server listens later, on its loop);
 * a RunError when it cannot load, or throws while it does.
 */
export async function loadScript(s: ScriptSpec): Promise<RunError | null> {
  let file: string;
  try {
    file = fs.realpathSync(path.resolve(s.script));
  } catch {
    return { kind: 'import-error', message: `no such file: ${s.script}`, detail: null, file: s.script };
  }
  // The loader's spec with no target: the statement it appends to the script hands over
  // nothing (no one listens for it), and keeps every line where it was.
  const spec: LoadSpec = {
    file, qualname: null, lines: null, args: '', baseDir: s.baseDir,
    cacheDir: isTypeScript(file) ? process.env.LOOPLAG_TS_CACHE || defaultCacheDir() : null,
  };
  installHooks(spec);
  process.argv = [process.argv[0], file, ...s.args];
  const format = moduleFormat(file);
  let layout: Layout | null = null;
  try {
    const instrumented = instrument(fs.readFileSync(file, 'utf8'), spec);
    layout = instrumented.layout;
    // TypeScript is checked here, so a syntax error keeps its line (see loadCaptured).
    if (isTypeScript(file)) transpile({ file, source: instrumented.code, format, baseDir: s.baseDir, cacheDir: spec.cacheDir });
    if (format === 'commonjs') (Module as unknown as { _load: ModuleLoad })._load(file, null, true);
    else await import(pathToFileURL(file).href);
  } catch (e) {
    const error = loadErrorOf(e, spec, layout);
    return { ...error, detail: withoutToolFrames(error.detail ?? null, s.baseDir) };
  }
  return null;
}

/** A stack without the harness's own frames (the bundle's) and Node's module loader under them. */
export function withoutToolFrames(stack: string | null, toolDir: string): string | null {
  if (stack === null) return null;
  const lines = stack.split('\n');
  const firstTool = lines.findIndex((l) => /^\s+at /.test(l) && l.includes(toolDir));
  // Everything from the first frame of ours down is how we called the script.
  const kept = firstTool < 0 ? lines : lines.slice(0, firstTool);
  // Node's loader frames just above ours called the script for us, too.
  while (kept.length > 1 && /^\s+at .*(node:internal\/modules\/|\(node:internal)/.test(kept[kept.length - 1])) kept.pop();
  return kept.join('\n');
}
