/**
 * The status bar item naming the interpreter the next run of the active Python file
 * uses (`Python 3.11.7 (pyenv)`, `.venv (3.12.1)`), its path and where the choice came
 * from in the tooltip; a click opens Select Python Interpreter. Shown for Python files
 * only; updated on the active editor, the settings, trust, a pick and the Python extension's picks.
 */
import * as path from 'node:path';
import * as os from 'node:os';
import * as vscode from 'vscode';
import { readSettings } from './config';
import { COMMANDS, SECTION, SettingTypes } from './ids';
import { candidatesFor, onPythonExtensionEnvironment, resolveInterpreter } from './interpreter';
import { NextPython, statusText, statusTooltip } from './interpreterLabel';
import { defaultPlaces, placeOf, whichOnPath } from './pythonDiscovery';
import type { PythonVersions } from './pythonVersion';
import { selectPythonInterpreter } from './interpreterPicker';

/** A setting's value as the runtime would start it: `~` expanded, a bare name looked up on PATH. */
export async function settingFile(value: string, pathEnv: string): Promise<string | undefined> {
  const expanded = value.startsWith('~') ? path.join(os.homedir(), value.slice(1)) : value;
  if (path.isAbsolute(expanded)) return expanded;
  if (!/[\\/]/.test(expanded)) return whichOnPath([expanded], pathEnv, process.platform === 'win32');
  return expanded;
}

/** Which settings `looplag.python.path` came from, for the tooltip. */
function settingScope(resource: vscode.Uri | undefined): string | undefined {
  const seen = vscode.workspace.getConfiguration(SECTION, resource).inspect<SettingTypes['python.path']>('python.path');
  if (seen?.workspaceFolderValue) return 'workspace folder settings';
  if (seen?.workspaceValue) return 'workspace settings';
  if (seen?.globalValue) return 'user settings';
  return undefined;
}

/**
 * The interpreter the next run of `resource` uses, resolved as a run resolves it
 * (interpreter.ts), with its version; in Restricted Mode nothing is run, not even the
 * version query.
 */
export async function nextPython(resource: vscode.Uri | undefined, versions: PythonVersions, log: vscode.LogOutputChannel): Promise<NextPython> {
  const places = defaultPlaces((vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath));
  const settings = readSettings(resource, 'python');
  const chosen = resource ? await resolveInterpreter(resource, settings.pythonPath, log) : { path: settings.pythonPath || undefined, source: settings.pythonPath ? 'looplag.python.path' as const : 'PATH' as const };
  const names = candidatesFor('python', { path: undefined, source: 'PATH' }).map((c) => c.command);
  const file = chosen.path
    ? await settingFile(chosen.path, places.pathEnv)
    : await whichOnPath(names, places.pathEnv, places.windows);
  const source = chosen.source === 'python extension' ? 'python extension' : chosen.source === 'looplag.python.path' ? 'looplag.python.path' : 'PATH';
  return {
    file,
    command: chosen.path ?? names.join('/'),
    source,
    ...(source === 'looplag.python.path' ? { settingScope: settingScope(resource) } : {}),
    place: file ? await placeOf(file, places.pyenvRoot) : null,
    answer: file && vscode.workspace.isTrusted ? await versions.get(file) : null,
  };
}

export class InterpreterStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[];
  /** The newest refresh: an older one finishing later must not overwrite it. */
  private generation = 0;
  private disposed = false;

  constructor(private readonly versions: PythonVersions, private readonly log: vscode.LogOutputChannel) {
    this.item = vscode.window.createStatusBarItem('looplag.interpreter', vscode.StatusBarAlignment.Right, 99);
    this.item.name = 'Loop Lag: Python Interpreter';
    this.item.command = COMMANDS.selectPythonInterpreter;
    this.disposables = [
      this.item,
      vscode.window.onDidChangeActiveTextEditor(() => void this.refresh()),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration(`${SECTION}.python.path`) && void this.refresh()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.refresh()),
    ];
    // Without looplag.python.path a run uses the Python extension's choice: follow its picks too.
    void onPythonExtensionEnvironment(() => void this.refresh(), log).then((d) => {
      if (!d) return;
      if (this.disposed) d.dispose();
      else this.disposables.push(d);
    });
  }

  /** Select Python Interpreter, then the item again (the setting's change event may come later). */
  async select(): Promise<void> {
    if ((await selectPythonInterpreter(this.versions, this.log)) !== undefined) await this.refresh();
  }

  /** Shows the active Python file's interpreter, or hides the item for any other editor. */
  async refresh(): Promise<void> {
    const generation = ++this.generation;
    const doc = vscode.window.activeTextEditor?.document;
    if (!doc || doc.languageId !== 'python' || doc.uri.scheme !== 'file') {
      this.item.hide();
      return;
    }
    try {
      const next = await nextPython(doc.uri, this.versions, this.log);
      if (generation !== this.generation) return;
      this.item.text = statusText(next);
      this.item.tooltip = statusTooltip(next);
      this.item.show();
    } catch (e) {
      this.log.warn(`status bar: could not resolve the Python interpreter: ${(e as Error).message}`);
    }
  }

  dispose(): void {
    this.disposed = true;
    for (const d of this.disposables) d.dispose();
  }
}
