import * as vscode from 'vscode';
import { runtimeCandidates } from '../engine/runtimes';
import type { HostSettings } from './config';
import { isNodeLanguage, Language, runtimeNoun } from '../engine/languageTools';

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

/**
 * The runtime for a file of `language`: for Python see resolveInterpreter; for JS/TS
 * `looplag.node.path`, else `node` on PATH, else the editor's own runtime.
 */
export async function resolveRuntime(resource: vscode.Uri, language: Language, settings: HostSettings, log: vscode.LogOutputChannel): Promise<Interpreter> {
  if (!isNodeLanguage(language)) return resolveInterpreter(resource, settings.pythonPath, log);
  if (settings.nodePath) return { path: settings.nodePath, source: 'looplag.node.path' };
  return { path: undefined, source: 'PATH', fallback: editorRuntime() };
}

/** The commands to try for a resolved runtime, in the engine's order (the same for runs and tools). */
export function candidatesFor(language: Language, interpreter: Interpreter): ReturnType<typeof runtimeCandidates> {
  return isNodeLanguage(language)
    ? runtimeCandidates({ node: interpreter.path, fallbackRuntime: interpreter.fallback }, language)
    : runtimeCandidates({ python: interpreter.path }, language);
}

/** For logs: the runtime as resolved, e.g. `node on PATH, else the editor's own runtime (/usr/share/code/code)`. */
export function describeRuntime(language: Language, interpreter: Interpreter): string {
  if (interpreter.path) return `${interpreter.path} (${interpreter.source})`;
  if (!isNodeLanguage(language)) return 'python3/python (PATH)';
  const fallback = interpreter.fallback ? `, else ${interpreter.fallback.label} (${interpreter.fallback.command})` : '';
  return `node on PATH${fallback}`;
}

const PYTHON_EXTENSION_ID = 'ms-python.python';
const API_TIMEOUT_MS = 5_000;

/**
 * The interpreter for a file: the Python extension's active environment when that
 * extension is installed, else `looplag.python.path`, else python3/python on PATH.
 */
export async function resolveInterpreter(resource: vscode.Uri, settingPath: string, log: vscode.LogOutputChannel): Promise<Interpreter> {
  if (vscode.extensions.getExtension(PYTHON_EXTENSION_ID)) {
    try {
      const found = await withTimeout(fromPythonExtension(resource), API_TIMEOUT_MS);
      if (found) return { path: found, source: 'python extension' };
    } catch (e) {
      log.warn(`Python extension did not give an interpreter: ${(e as Error).message}`);
    }
  }
  if (settingPath) return { path: settingPath, source: 'looplag.python.path' };
  return { path: undefined, source: 'PATH' };
}

async function fromPythonExtension(resource: vscode.Uri): Promise<string | undefined> {
  // Loaded lazily: only users with the Python extension pay for it.
  const { PythonExtension } = await import('@vscode/python-extension');
  const api = await PythonExtension.api();
  const envPath = api.environments.getActiveEnvironmentPath(resource);
  const env = await api.environments.resolveEnvironment(envPath);
  return env?.executable.uri?.fsPath;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then((v) => (clearTimeout(t), resolve(v)), (e) => (clearTimeout(t), reject(e)));
  });
}

/**
 * Actions for "no interpreter": select one in the Python extension, or set ours
 * (`looplag.python.path`, or `looplag.node.path` for JS/TS).
 */
export async function offerInterpreterFix(message: string, language: Language = 'python'): Promise<void> {
  const hasPython = !isNodeLanguage(language) && Boolean(vscode.extensions.getExtension(PYTHON_EXTENSION_ID));
  const actions = [...(hasPython ? ['Select Interpreter'] : []), 'Open Settings'];
  const pick = await vscode.window.showErrorMessage(message, ...actions);
  if (pick === 'Select Interpreter') await vscode.commands.executeCommand('python.setInterpreter');
  if (pick === 'Open Settings') await vscode.commands.executeCommand('workbench.action.openSettings', runtimeNoun(language).setting);
}
