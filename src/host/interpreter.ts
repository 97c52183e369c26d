import * as vscode from 'vscode';

export interface Interpreter {
  /** undefined: let the engine try `python3`, then `python`, on PATH. */
  path: string | undefined;
  source: 'python extension' | 'looplag.python.path' | 'PATH';
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

/** Actions for "no interpreter": select one in the Python extension, or set ours. */
export async function offerInterpreterFix(message: string): Promise<void> {
  const hasPython = Boolean(vscode.extensions.getExtension(PYTHON_EXTENSION_ID));
  const actions = [...(hasPython ? ['Select Interpreter'] : []), 'Open Settings'];
  const pick = await vscode.window.showErrorMessage(message, ...actions);
  if (pick === 'Select Interpreter') await vscode.commands.executeCommand('python.setInterpreter');
  if (pick === 'Open Settings') await vscode.commands.executeCommand('workbench.action.openSettings', 'looplag.python.path');
}
