/**
 * Which runtime runs a language's sidecar, and where the sidecars are: the candidates
 * tried in order, the sidecar folders next to the bundle, the free-threaded interpreter.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
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

/** The first folder holding `marker`, looked for next to the bundle and up from it. */
function sidecarDir(candidates: string[], marker: string): string {
  return candidates.find((d) => fs.existsSync(path.join(d, marker))) ?? candidates[0];
}

/** The sidecar folder shipped next to the bundle (dist/sidecars/python), or the source tree's. */
export function defaultPythonSidecarDir(): string {
  return sidecarDir([
    path.join(__dirname, 'sidecars', 'python'),
    path.join(__dirname, '..', 'sidecars', 'python'),
    path.resolve(__dirname, '..', '..', 'src', 'sidecars', 'python'),
    path.resolve(__dirname, '..', '..', '..', 'src', 'sidecars', 'python'),
  ], 'run_sidecar.py');
}

/** The Node sidecar folder shipped next to the bundle (dist/sidecars/node); built, so never the source tree's. */
export function defaultNodeSidecarDir(): string {
  return sidecarDir([
    path.join(__dirname, 'sidecars', 'node'),
    path.join(__dirname, '..', 'sidecars', 'node'),
    path.resolve(__dirname, '..', '..', 'dist', 'sidecars', 'node'),
    path.resolve(__dirname, '..', '..', '..', 'dist', 'sidecars', 'node'),
  ], 'sidecar.js');
}

export interface Candidate {
  command: string;
  env?: NodeJS.ProcessEnv;
  /** Only the last try of the usual names reports "not found"; an explicit path always does. */
  explicit: boolean;
  label?: string;
}

/** The runtimes to try for a language, in order. */
export function runtimeCandidates(opts: RuntimeChoice, language: Language): Candidate[] {
  if (language === 'python') return pythonCandidates(opts.python).map((command) => ({ command, explicit: Boolean(opts.python) }));
  if (opts.node) return [{ command: opts.node, explicit: true }];
  const fallback = opts.fallbackRuntime ?? { command: process.execPath, label: 'the CLI\'s own Node' };
  return [{ command: 'node', explicit: false }, { command: fallback.command, env: fallback.env, explicit: false, label: fallback.label }];
}

/** The interpreters to try, in order: the one given, else the usual names on PATH. */
export function pythonCandidates(explicit: string | undefined): string[] {
  if (explicit) return [explicit];
  return process.platform === 'win32' ? ['python', 'python3', 'py'] : ['python3', 'python'];
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
