import * as vscode from 'vscode';
import { RuntimeChoice, runtimeCandidates } from '../engine/runtimes';
import type { HostSettings } from './config';
import { Language, runtimeNoun } from '../engine/languageTools';
import { RUNTIME_OF, RuntimeName } from '../shared/modes';
import type { Runtime } from '../shared/protocol';
import { COMMANDS } from './ids';

/** What runs JS/TS when no `node` is on PATH (the engine's `fallbackRuntime`). */
export interface FallbackRuntime {
  command: string;
  env?: NodeJS.ProcessEnv;
  label: string;
}

export interface Interpreter {
  /**
   * undefined: let the engine try the usual names on PATH (`python3`, then `python`;
   * `node`, then `fallback`).
   */
  path: string | undefined;
  source: 'python extension' | 'looplag.python.path' | 'looplag.node.path' | 'PATH';
  /** JS/TS only: the editor's own runtime, tried when no `node` is on PATH. */
  fallback?: FallbackRuntime;
}

/**
 * The runtime the extension host itself runs on: VS Code's Electron binary, which acts
 * as plain Node with ELECTRON_RUN_AS_NODE=1 (code-server's host is Node already, and
 * ignores the variable). Node users without `node` on PATH can still measure.
 */
export function editorRuntime(): FallbackRuntime {
  return { command: process.execPath, env: { ELECTRON_RUN_AS_NODE: '1' }, label: 'the editor\'s own runtime' };
}

const PYTHON_EXTENSION_ID = 'ms-python.python';

/** What the editor does per runtime: find it, hand it to the engine, and word its problems. */
export interface HostRuntime {
  /** The runtime for a file (see resolveRuntime). */
  resolve(resource: vscode.Uri, settings: HostSettings, log: vscode.LogOutputChannel): Promise<Interpreter>;
  /** The engine's options for a resolved runtime (RunOptions' `python`, or `node` and `fallbackRuntime`). */
  choice(interpreter: Interpreter): RuntimeChoice;
  /** For logs, when no path is set: what the engine tries on PATH. */
  onPath(interpreter: Interpreter): string;
  /**
   * The run uses the candidate the outline worked with; false: the run repeats the
   * engine's order itself (a fallback such as the editor's own runtime needs its environment).
   */
  pinsWorkingCandidate: boolean;
  /** The error when no candidate could outline the file (`setting`: looplag.…path). */
  noneWorks(tried: string, setting: string): string;
  /** The interpreter picker offered as "Select Interpreter" (Python: Loop Lag's own, which also lists the Python extension's choice). */
  picker?: { command: string };
  /** The log line for the runtime a run reported. */
  describeReported(rt: Runtime): string;
}

export const HOST_RUNTIMES: { readonly [R in RuntimeName]: HostRuntime } = {
  python: {
    resolve: (resource, settings, log) => resolveInterpreter(resource, settings.pythonPath, log),
    choice: (interpreter) => ({ python: interpreter.path }),
    onPath: () => 'python3/python (PATH)',
    pinsWorkingCandidate: true,
    noneWorks: (tried, setting) => `Loop Lag: no working Python interpreter (tried ${tried}). Select one, or set ${setting}.`,
    picker: { command: COMMANDS.selectPythonInterpreter },
    describeReported: (rt) => `runtime: ${rt.implementation} ${rt.version} at ${rt.executable} (GIL ${rt.gilEnabled ? 'on' : 'off'}, ${rt.cpuCount} cores, ${rt.platform})`,
  },
  node: {
    // `looplag.node.path`, else `node` on PATH, else the editor's own runtime.
    resolve: async (_resource, settings) => (settings.nodePath
      ? { path: settings.nodePath, source: 'looplag.node.path' }
      : { path: undefined, source: 'PATH', fallback: editorRuntime() }),
    choice: (interpreter) => ({ node: interpreter.path, fallbackRuntime: interpreter.fallback }),
    onPath: (interpreter) => `node on PATH${interpreter.fallback ? `, else ${interpreter.fallback.label} (${interpreter.fallback.command})` : ''}`,
    pinsWorkingCandidate: false,
    noneWorks: (tried, setting) => `Loop Lag: no working Node runtime (tried ${tried}). Set ${setting} to Node 18.19 or newer.`,
    // The implementation names the fallback when it ran, e.g. "node, the editor's own runtime".
    describeReported: (rt) => `runtime: Node ${rt.version} (${rt.implementation}) at ${rt.executable} (${rt.cpuCount} cores, ${rt.platform})`,
  },
};

/** The editor's entry for a language's runtime. */
export function hostRuntime(language: Language): HostRuntime {
  return HOST_RUNTIMES[RUNTIME_OF[language]];
}

/**
 * The runtime for a file of `language`: for Python see resolveInterpreter; for JS/TS
 * `looplag.node.path`, else `node` on PATH, else the editor's own runtime.
 */
export async function resolveRuntime(resource: vscode.Uri, language: Language, settings: HostSettings, log: vscode.LogOutputChannel): Promise<Interpreter> {
  return hostRuntime(language).resolve(resource, settings, log);
}

/** The commands to try for a resolved runtime, in the engine's order (the same for runs and tools). */
export function candidatesFor(language: Language, interpreter: Interpreter): ReturnType<typeof runtimeCandidates> {
  return runtimeCandidates(hostRuntime(language).choice(interpreter), language);
}

/** For logs: the runtime as resolved, e.g. `node on PATH, else the editor's own runtime (/usr/share/code/code)`. */
export function describeRuntime(language: Language, interpreter: Interpreter): string {
  if (interpreter.path) return `${interpreter.path} (${interpreter.source})`;
  return hostRuntime(language).onPath(interpreter);
}
const API_TIMEOUT_MS = 5_000;

/**
 * The interpreter for a file: `looplag.python.path` when set (what Select Python
 * Interpreter writes: the interpreter picked is the one the next run uses), else the
 * Python extension's active environment when that extension is installed, else
 * python3/python on PATH.
 */
export async function resolveInterpreter(resource: vscode.Uri, settingPath: string, log: vscode.LogOutputChannel): Promise<Interpreter> {
  if (settingPath) return { path: settingPath, source: 'looplag.python.path' };
  const found = await pythonExtensionInterpreter(resource, log);
  if (found) return { path: found, source: 'python extension' };
  return { path: undefined, source: 'PATH' };
}

/** The Python extension's interpreter for a file; undefined when it is not installed or does not answer in time. */
export async function pythonExtensionInterpreter(resource: vscode.Uri | undefined, log: vscode.LogOutputChannel): Promise<string | undefined> {
  if (!vscode.extensions.getExtension(PYTHON_EXTENSION_ID)) return undefined;
  try {
    return await withTimeout(fromPythonExtension(resource), API_TIMEOUT_MS);
  } catch (e) {
    log.warn(`Python extension did not give an interpreter: ${(e as Error).message}`);
    return undefined;
  }
}

async function fromPythonExtension(resource: vscode.Uri | undefined): Promise<string | undefined> {
  // Loaded lazily: only users with the Python extension pay for it.
  const { PythonExtension } = await import('@vscode/python-extension');
  const api = await PythonExtension.api();
  const envPath = api.environments.getActiveEnvironmentPath(resource);
  const env = await api.environments.resolveEnvironment(envPath);
  return env?.executable.uri?.fsPath;
}

/**
 * Calls `listener` when the Python extension's active environment changes (a pick in its
 * own picker); nothing when the extension is not installed or its API does not load.
 */
export async function onPythonExtensionEnvironment(listener: () => void, log: vscode.LogOutputChannel): Promise<vscode.Disposable | undefined> {
  if (!vscode.extensions.getExtension(PYTHON_EXTENSION_ID)) return undefined;
  try {
    const { PythonExtension } = await import('@vscode/python-extension');
    const api = await withTimeout(PythonExtension.api(), API_TIMEOUT_MS);
    return api.environments.onDidChangeActiveEnvironmentPath(() => listener());
  } catch (e) {
    log.warn(`Python extension: not following its interpreter changes: ${(e as Error).message}`);
    return undefined;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then((v) => (clearTimeout(t), resolve(v)), (e) => (clearTimeout(t), reject(e)));
  });
}

/**
 * Actions for "no interpreter": Select Python Interpreter (Loop Lag's picker: with or
 * without the Python extension), or the setting (`looplag.python.path`, or
 * `looplag.node.path` for JS/TS).
 */
export async function offerInterpreterFix(message: string, language: Language = 'python'): Promise<void> {
  const picker = hostRuntime(language).picker;
  const actions = [...(picker ? ['Select Interpreter'] : []), 'Open Settings'];
  const pick = await vscode.window.showErrorMessage(message, ...actions);
  if (pick === 'Select Interpreter' && picker) await vscode.commands.executeCommand(picker.command);
  if (pick === 'Open Settings') await vscode.commands.executeCommand('workbench.action.openSettings', runtimeNoun(language).setting);
}
