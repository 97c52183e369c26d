/**
 * The engine's table of runtimes (one entry per RuntimeName, see shared/modes.ts): how
 * each starts its sidecar and tools (the entry script and its folder next to the bundle,
 * the candidates tried in order, the environment), and the free-threaded interpreter.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RUNTIME_OF, RuntimeName } from '../shared/modes';
import type { Language } from '../shared/protocol';

/** The choices a run was given (see RunOptions in runSession.ts). */
export interface RuntimeChoice {
  /** Interpreter to use; default: `python3`, then `python`. */
  python?: string;
  /** Node to use for JS/TS targets; default: `node` on PATH, then `fallbackRuntime`. */
  node?: string;
  /**
   * The runtime to fall back on when no `node` is on PATH: the CLI's own Node, or the
   * editor's (Electron with ELECTRON_RUN_AS_NODE=1). Reported in `runtime.implementation`.
   */
  fallbackRuntime?: { command: string; env?: NodeJS.ProcessEnv; label: string };
}

export interface Candidate {
  command: string;
  env?: NodeJS.ProcessEnv;
  /** Only the last try of the usual names reports "not found"; an explicit path always does. */
  explicit: boolean;
  label?: string;
}

/** The engine's options a runtime's entry reads (see RunOptions in runSession.ts). */
export interface SidecarChoice extends RuntimeChoice {
  /** Folder holding run_sidecar.py; default: next to the bundle. */
  sidecarDir?: string;
  /** Folder holding the Node sidecar (sidecar.js, worker.js, hooks.mjs); default: next to the bundle. */
  nodeSidecarDir?: string;
}

/**
 * What the engine needs to start a runtime's sidecar and its one-shot tools. The sidecar
 * writes its protocol on fd PROTOCOL_FD whatever the runtime (sidecarProcess.ts).
 */
export interface EngineRuntime {
  /** The sidecar's entry script, in its folder. */
  sidecarEntry: string;
  /** Service mode's server harness (src/shared/protocol/serve.ts), in the same folder. */
  serveEntry: string;
  /**
   * Where its folder may be, first found (holding `sidecarEntry`) wins: next to the bundle
   * (dist/sidecars/…), then up from it (the source tree's, for a sidecar that is not built).
   */
  sidecarDirs(): string[];
  /** The folder a run was given, if any. */
  chosenSidecarDir(opts: SidecarChoice): string | undefined;
  /** The runtimes to try, in order. */
  candidates(opts: RuntimeChoice): Candidate[];
  /** The sidecar's environment, over the host's (the candidate's own, e.g. the editor's runtime as Node). */
  env(candidate: Candidate): NodeJS.ProcessEnv;
  /** Arguments after a one-shot tool's own, per language (the TypeScript parser for .ts). */
  toolArgs(language: Language): string[];
}

/**
 * Where a runtime's sidecar folder may be: next to the bundle (dist/ or out/…), then in
 * the checkout's `tree` (`src` for a sidecar run from source, `dist` for a built one).
 */
function bundleDirs(runtime: string, tree: 'src' | 'dist'): string[] {
  return [
    path.join(__dirname, 'sidecars', runtime),
    path.join(__dirname, '..', 'sidecars', runtime),
    path.resolve(__dirname, '..', '..', tree, 'sidecars', runtime),
    path.resolve(__dirname, '..', '..', '..', tree, 'sidecars', runtime),
  ];
}

export const ENGINE_RUNTIMES: { readonly [R in RuntimeName]: EngineRuntime } = {
  python: {
    sidecarEntry: 'run_sidecar.py',
    serveEntry: 'run_serve.py',
    sidecarDirs: () => bundleDirs('python', 'src'),
    chosenSidecarDir: (opts) => opts.sidecarDir,
    // The one given, else the usual names on PATH.
    candidates: (opts) => (opts.python ? [opts.python] : process.platform === 'win32' ? ['python', 'python3', 'py'] : ['python3', 'python'])
      .map((command) => ({ command, explicit: Boolean(opts.python) })),
    // No .pyc files left in the user's tree; the protocol and captured output in UTF-8 whatever the locale.
    env: () => ({ ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONIOENCODING: 'utf-8' }),
    toolArgs: () => [],
  },
  node: {
    sidecarEntry: 'sidecar.js',
    serveEntry: 'serve.js',
    // Built (bundled from TypeScript), so never the source tree's.
    sidecarDirs: () => bundleDirs('node', 'dist'),
    chosenSidecarDir: (opts) => opts.nodeSidecarDir,
    candidates: (opts) => {
      if (opts.node) return [{ command: opts.node, explicit: true }];
      const fallback = opts.fallbackRuntime ?? { command: process.execPath, label: 'the CLI\'s own Node' };
      return [{ command: 'node', explicit: false }, { command: fallback.command, env: fallback.env, explicit: false, label: fallback.label }];
    },
    env: (candidate) => ({ ...process.env, ...candidate.env }),
    toolArgs: (language) => (language === 'typescript' ? ['--typescript'] : []),
  },
};

/** The engine's entry for a language's runtime. */
export function engineRuntime(language: Language): EngineRuntime {
  return ENGINE_RUNTIMES[RUNTIME_OF[language]];
}

/** A runtime's sidecar folder: the first of its `sidecarDirs` holding its entry script. */
export function defaultSidecarDir(runtime: RuntimeName): string {
  const { sidecarDirs, sidecarEntry } = ENGINE_RUNTIMES[runtime];
  const candidates = sidecarDirs();
  return candidates.find((d) => fs.existsSync(path.join(d, sidecarEntry))) ?? candidates[0];
}

/** The sidecar's entry script for a run: in the folder given, else the one next to the bundle. */
export function sidecarScript(language: Language, opts: SidecarChoice): string {
  const runtime = RUNTIME_OF[language];
  return path.join(ENGINE_RUNTIMES[runtime].chosenSidecarDir(opts) ?? defaultSidecarDir(runtime), ENGINE_RUNTIMES[runtime].sidecarEntry);
}

/** The Python sidecar's folder (dist/sidecars/python, or the source tree's): for tests and tools. */
export function defaultPythonSidecarDir(): string {
  return defaultSidecarDir('python');
}

/** The Node sidecar's folder (dist/sidecars/node): for tests and tools. */
export function defaultNodeSidecarDir(): string {
  return defaultSidecarDir('node');
}

/** The runtimes to try for a language, in order. */
export function runtimeCandidates(opts: RuntimeChoice, language: Language): Candidate[] {
  return engineRuntime(language).candidates(opts);
}

/** The free-threaded interpreter to compare with: the one given, or python3.14t/3.13t on PATH for 'auto'. */
export function resolveFreeThreaded(setting: string | null | undefined): string | null {
  if (!setting || setting === 'off') return null;
  if (setting !== 'auto') return setting;
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const name of ['python3.14t', 'python3.13t']) {
    for (const dir of dirs) {
      const p = path.join(dir, process.platform === 'win32' ? `${name}.exe` : name);
      try {
        fs.accessSync(p, fs.constants.X_OK);
        return p;
      } catch {
        // not here
      }
    }
  }
  return null;
}
