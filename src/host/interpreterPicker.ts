/**
 * Loop Lag: Select Python Interpreter. A QuickPick of the interpreters found on disk
 * (pythonDiscovery.ts) and the Python extension's choice, each with its version once it
 * has answered (asked in parallel, in child processes with a time limit), or a path typed
 * in and checked. The pick is written to `looplag.python.path` (the workspace folder's
 * settings in a workspace, else the user's), which the next run uses (interpreter.ts).
 */
import * as vscode from 'vscode';
import { SECTION } from './ids';
import { pythonExtensionInterpreter } from './interpreter';
import { foundDescription, foundLabel } from './interpreterLabel';
import { settingFile } from './interpreterStatus';
import { defaultPlaces, discoverPythons, FoundPython } from './pythonDiscovery';
import { PythonVersions, unsupportedReason, VersionAnswer } from './pythonVersion';
import { requireTrust } from './guards';

type Choice =
  | { kind: 'found'; found: FoundPython }
  | { kind: 'extension'; file: string }
  | { kind: 'enter' };

interface Item extends vscode.QuickPickItem {
  choice?: Choice;
}

const GROUPS: { kind: FoundPython['kind']; title: string }[] = [
  { kind: 'venv', title: 'Workspace virtual environments' },
  { kind: 'path', title: 'On PATH' },
  { kind: 'pyenv', title: 'pyenv' },
  { kind: 'system', title: 'System' },
];

const ENTER_LABEL = '$(folder-opened) Enter interpreter path…';

/**
 * The picker, then the setting written. Resolves with the path set ('' when the
 * setting was cleared to follow the Python extension), undefined when nothing changed.
 */
export async function selectPythonInterpreter(versions: PythonVersions, log: vscode.LogOutputChannel): Promise<string | undefined> {
  // Picking runs each interpreter (its version), and a workspace's setting is ignored in Restricted Mode.
  if (!requireTrust('Loop Lag runs each interpreter to read its version, and Restricted Mode ignores the workspace\'s interpreter setting: select an interpreter in a trusted workspace.')) return undefined;
  const resource = vscode.window.activeTextEditor?.document.uri;
  const folder = (resource && vscode.workspace.getWorkspaceFolder(resource)) ?? vscode.workspace.workspaceFolders?.[0];
  const current = vscode.workspace.getConfiguration(SECTION, folder?.uri ?? resource).get<string>('python.path')?.trim() ?? '';
  const choice = await pick(versions, log, resource, current);
  if (!choice) return undefined;
  let value: string | undefined;
  if (choice.kind === 'enter') value = await enterPath(versions);
  else if (choice.kind === 'extension') value = '';
  else value = await checked(choice.found.path, versions);
  if (value === undefined) return undefined;
  const target = folder ? vscode.ConfigurationTarget.WorkspaceFolder : vscode.ConfigurationTarget.Global;
  const config = vscode.workspace.getConfiguration(SECTION, folder?.uri);
  // Cleared here but set in a wider scope (user, workspace), the wider value would still win
  // over the Python extension: an empty value here counts as unset and hides it.
  const scopes = config.inspect<string>('python.path');
  const setElsewhere = [scopes?.globalValue, scopes?.workspaceValue].some((v) => v?.trim()) && target === vscode.ConfigurationTarget.WorkspaceFolder;
  await config.update('python.path', value || (setElsewhere ? '' : undefined), target);
  log.info(`looplag.python.path ${value ? `set to ${value}` : 'cleared (the Python extension\'s interpreter)'} in the ${folder ? `folder ${folder.uri.fsPath}` : 'user'} settings`);
  return value;
}

/** The QuickPick, filled at once and labelled with versions as they answer. */
async function pick(versions: PythonVersions, log: vscode.LogOutputChannel, resource: vscode.Uri | undefined, current: string): Promise<Choice | undefined> {
  const qp = vscode.window.createQuickPick<Item>();
  qp.title = 'Loop Lag: Select Python Interpreter';
  qp.placeholder = current ? `Current: ${current}` : 'The interpreter Loop Lag runs Python files with';
  qp.matchOnDescription = true;
  qp.matchOnDetail = true;
  qp.busy = true;
  const answers = new Map<string, VersionAnswer>();
  let found: FoundPython[] = [];
  let extension: string | undefined;
  let closed = false;
  const render = () => {
    if (closed) return;
    const active = qp.activeItems[0]?.choice;
    qp.items = items(found, extension, answers, current);
    const again = active && qp.items.find((i) => i.choice && sameChoice(i.choice, active));
    if (again) qp.activeItems = [again];
  };
  render();
  const result = new Promise<Choice | undefined>((resolve) => {
    qp.onDidAccept(() => {
      const chosen = qp.selectedItems[0]?.choice;
      if (chosen) resolve(chosen);
      qp.hide();
    });
    qp.onDidHide(() => resolve(undefined));
  });
  qp.show();
  // Filled in as the answers come, without holding up a pick made meanwhile.
  void (async () => {
    const places = defaultPlaces((vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath));
    const fromExtension = pythonExtensionInterpreter(resource, log);
    found = await discoverPythons(places);
    render();
    const probe = (file: string) => versions.get(file).then((a) => (answers.set(file, a), render()));
    const probes = found.map((f) => probe(f.path));
    extension = await fromExtension;
    render();
    if (extension) probes.push(probe(extension));
    await Promise.all(probes);
    if (!closed) qp.busy = false;
  })().catch((e) => log.warn(`Select Python Interpreter: ${(e as Error).message}`));
  const chosen = await result;
  closed = true;
  qp.dispose();
  return chosen;
}

function sameChoice(a: Choice, b: Choice): boolean {
  if (a.kind === 'found' && b.kind === 'found') return a.found.path === b.found.path;
  return a.kind === b.kind;
}

/** The picker's rows: the Python extension's choice, the groups found, the path entry. */
function items(found: FoundPython[], extension: string | undefined, answers: Map<string, VersionAnswer>, current: string): Item[] {
  const out: Item[] = [];
  if (extension) {
    out.push({
      label: `$(extensions) Use the Python extension's interpreter${answers.get(extension)?.ok ? ` (${foundLabel({ path: extension, freeThreadedName: false }, answers.get(extension))})` : ''}`,
      description: current ? 'clears looplag.python.path' : 'current',
      detail: extension,
      choice: { kind: 'extension', file: extension },
    });
  }
  for (const group of GROUPS) {
    const members = found.filter((f) => f.kind === group.kind);
    if (!members.length) continue;
    out.push({ label: group.title, kind: vscode.QuickPickItemKind.Separator });
    for (const f of members) {
      out.push({
        label: foundLabel(f, answers.get(f.path)),
        description: `${foundDescription(f)}${f.path === current ? ' · current' : ''}`,
        detail: f.path,
        choice: { kind: 'found', found: f },
      });
    }
  }
  out.push({ label: '', kind: vscode.QuickPickItemKind.Separator });
  out.push({ label: ENTER_LABEL, description: 'any Python 3.9 or newer', alwaysShow: true, choice: { kind: 'enter' } });
  return out;
}

/** A picked file that runs as Python 3.9+, or undefined (said in an error message). */
async function checked(file: string, versions: PythonVersions): Promise<string | undefined> {
  const problem = problemWith(await versions.get(file));
  if (!problem) return file;
  void vscode.window.showErrorMessage(`Loop Lag: ${file}: ${problem}. Pick another interpreter.`);
  return undefined;
}

function problemWith(answer: VersionAnswer): string | null {
  return answer.ok ? unsupportedReason(answer.version) : answer.reason;
}

/** The path typed in: it must run as Python 3.9+ (its version shown as it is checked). */
async function enterPath(versions: PythonVersions): Promise<string | undefined> {
  const pathEnv = process.env.PATH ?? '';
  return vscode.window.showInputBox({
    title: 'Loop Lag: Python interpreter path',
    prompt: 'The Python (3.9 or newer) to run your code with, e.g. /usr/bin/python3 or ~/.venvs/app/bin/python',
    ignoreFocusOut: true,
    validateInput: async (text) => {
      if (!text.trim()) return 'Enter the path of a Python interpreter';
      const file = await settingFile(text.trim(), pathEnv);
      if (!file) return `${text.trim()} is not on PATH`;
      const answer = await versions.get(file);
      const problem = problemWith(answer);
      if (problem) return `${file}: ${problem}`;
      return answer.ok ? { message: `Python ${answer.version.full}`, severity: vscode.InputBoxValidationSeverity.Info } : undefined;
    },
  }).then((text) => text?.trim() || undefined);
}
