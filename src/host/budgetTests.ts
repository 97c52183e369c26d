/**
 * looplag.json's budgets in the editor's Testing view (issue 15): an item per file in the
 * workspace folders, a child per budget on its entry (the gutter shows its result there).
 * Found at activation, kept current by a file watcher and by edits to an open looplag.json
 * (its text re-read once per document version, after a pause in typing); a file that does
 * not load shows the loader's message on its item, as `looplag test` prints it. Running is
 * budgetRun.ts's.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { BudgetConfig, BudgetFileError, DEFAULT_BUDGETS_FILE, parseBudgetText } from '../budgets/config';
import { budgetEntrySpans, EntrySpan, positionAt } from '../budgets/positions';
import { describeBudget } from '../budgets/testItems';
import { runBudgetTests } from './budgetRun';
import type { RunController } from './runController';

/** A larger looplag.json is not read in the editor (the host's loop would pay for it); the CLI still reads it. */
export const MAX_BUDGET_FILE_BYTES = 1_000_000;
/** Edits are re-read after this pause in typing, not on every keystroke. */
const EDIT_DEBOUNCE_MS = 300;
/** Created paths are looked at in batches: a checkout or a build creates many at once. */
const CREATED_BATCH_MS = 500;
/** More created at once than this: one search of the whole workspace instead of a stat each. */
const CREATED_BATCH_MAX = 200;
const GLOB = `**/${DEFAULT_BUDGETS_FILE}`;
const EXCLUDE = '**/node_modules/**';

/** A looplag.json as last read: its budgets (null when it does not load, `error` says why) and each entry's place. */
export interface BudgetFile {
  uri: vscode.Uri;
  item: vscode.TestItem;
  config: BudgetConfig | null;
  error: string | null;
  /** The text's document version when read from an open editor; null when read from disk. */
  version: number | null;
}

export class BudgetTests implements vscode.Disposable {
  readonly controller = vscode.tests.createTestController('looplag', 'Loop Lag');
  private readonly files = new Map<string, BudgetFile>();
  private readonly pending = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly created = new Set<string>();
  private createdTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly disposables: vscode.Disposable[] = [this.controller];

  constructor(runs: RunController, private readonly log: vscode.LogOutputChannel) {
    this.controller.createRunProfile('Run', vscode.TestRunProfileKind.Run, (request, token) => runBudgetTests(this, runs, log, request, token), true);
    // The view asks for the items when it opens; Refresh Tests finds them again.
    this.controller.resolveHandler = (item) => (item ? undefined : this.discover());
    this.controller.refreshHandler = () => this.discover();
    const watcher = vscode.workspace.createFileSystemWatcher(GLOB);
    // A folder created with its files at once (a checkout, an unpacked copy) reaches the
    // watcher as the folder alone: folders created are searched for a looplag.json.
    const creations = vscode.workspace.createFileSystemWatcher('**/*', false, true, true);
    this.disposables.push(
      watcher,
      creations,
      creations.onDidCreate((uri) => this.onCreated(uri)),
      watcher.onDidCreate((uri) => this.background(this.reload(uri))),
      watcher.onDidChange((uri) => this.background(this.reload(uri))),
      watcher.onDidDelete((uri) => this.remove(uri)),
      vscode.workspace.onDidChangeTextDocument((e) => this.edited(e.document)),
      // Unsaved edits are gone with the editor: the file on disk again.
      vscode.workspace.onDidCloseTextDocument((doc) => this.files.has(doc.uri.toString()) && this.background(this.reload(doc.uri))),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.background(this.discover())),
    );
    this.background(this.discover());
  }

  /** Every looplag.json in the workspace folders (outside node_modules), read again; items of files gone are removed. */
  async discover(): Promise<void> {
    const found = await vscode.workspace.findFiles(GLOB, EXCLUDE);
    const keep = new Set(found.map((u) => u.toString()));
    for (const key of [...this.files.keys()]) if (!keep.has(key)) this.remove(this.files.get(key)!.uri);
    found.sort((a, b) => a.fsPath.localeCompare(b.fsPath));
    await Promise.all(found.map((uri) => this.reload(uri)));
  }

  /** The file of an item (a file's or a budget's), as last read. */
  fileOf(item: vscode.TestItem): BudgetFile | undefined {
    return this.files.get((item.parent ?? item).id);
  }

  /** The files in the view's order. */
  allFiles(): BudgetFile[] {
    return [...this.files.values()].sort((a, b) => a.uri.fsPath.localeCompare(b.uri.fsPath));
  }

  /** Reads the file (the open document's text when there is one, unsaved edits included) and updates its items. */
  async reload(uri: vscode.Uri): Promise<BudgetFile | undefined> {
    if (!isBudgetFile(uri)) return undefined;
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    let text: string;
    try {
      if (doc) {
        text = doc.getText();
      } else {
        const size = (await fs.promises.stat(uri.fsPath)).size;
        if (size > MAX_BUDGET_FILE_BYTES) return this.update(uri, null, tooLarge(size), null, '');
        text = await fs.promises.readFile(uri.fsPath, 'utf8');
      }
    } catch (e) {
      // Gone between the event and the read: the delete event removes it.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return this.remove(uri);
      return this.update(uri, null, `${vscode.workspace.asRelativePath(uri)}: ${(e as Error).message}`, null, '');
    }
    if (text.length > MAX_BUDGET_FILE_BYTES) return this.update(uri, null, tooLarge(text.length), doc?.version ?? null, '');
    return this.read(uri, text, doc?.version ?? null);
  }

  private read(uri: vscode.Uri, text: string, version: number | null): BudgetFile {
    const name = vscode.workspace.asRelativePath(uri);
    try {
      return this.update(uri, parseBudgetText(text, name, path.dirname(uri.fsPath)), null, version, text);
    } catch (e) {
      if (!(e instanceof BudgetFileError)) throw e;
      return this.update(uri, null, e.message, version, text);
    }
  }

  /** The file's item (created once), its error and its budgets' children on their entries. */
  private update(uri: vscode.Uri, config: BudgetConfig | null, error: string | null, version: number | null, text: string): BudgetFile {
    const key = uri.toString();
    const item = this.files.get(key)?.item ?? this.controller.createTestItem(key, vscode.workspace.asRelativePath(uri), uri);
    item.error = error ?? undefined;
    const spans = config ? budgetEntrySpans(text) : [];
    // A budget keeps its item (by name) across reads: a run in progress reports on the same objects.
    item.children.replace((config?.budgets ?? []).map((b) => {
      const id = `${key}#${b.name}`;
      const child = item.children.get(id) ?? this.controller.createTestItem(id, b.name, uri);
      child.description = describeBudget(b, config!.dir);
      const span: EntrySpan | undefined = spans[b.index];
      child.range = span ? rangeOf(text, span) : undefined;
      return child;
    }));
    if (!this.controller.items.get(key)) this.controller.items.add(item);
    const file = { uri, item, config, error, version };
    this.files.set(key, file);
    this.log.info(`Testing view: ${item.label}: ${error ?? `${config!.budgets.length} budget${config!.budgets.length === 1 ? '' : 's'}`}`);
    return file;
  }

  private remove(uri: vscode.Uri): undefined {
    this.files.delete(uri.toString());
    this.controller.items.delete(uri.toString());
    return undefined;
  }

  private onCreated(uri: vscode.Uri): void {
    if (uri.scheme !== 'file' || isBudgetFile(uri) || uri.fsPath.split(/[\\/]/).includes('node_modules')) return;
    this.created.add(uri.fsPath);
    this.createdTimer ??= setTimeout(() => this.background(this.searchCreated()), CREATED_BATCH_MS);
  }

  /** The looplag.json files in the folders created since the last batch. */
  private async searchCreated(): Promise<void> {
    this.createdTimer = undefined;
    const paths = [...this.created];
    this.created.clear();
    if (paths.length > CREATED_BATCH_MAX) return this.discover();
    const folders = (await Promise.all(paths.map((p) => fs.promises.stat(p).then((st) => (st.isDirectory() ? p : null), () => null))))
      .filter((p): p is string => p !== null);
    for (const folder of folders) {
      const found = await vscode.workspace.findFiles(new vscode.RelativePattern(vscode.Uri.file(folder), GLOB), EXCLUDE);
      await Promise.all(found.map((uri) => this.reload(uri)));
    }
  }

  /** An edit to an open looplag.json: read once typing pauses, once per document version. */
  private edited(doc: vscode.TextDocument): void {
    if (!isBudgetFile(doc.uri) || !vscode.workspace.getWorkspaceFolder(doc.uri)) return;
    const key = doc.uri.toString();
    clearTimeout(this.pending.get(key));
    this.pending.set(key, setTimeout(() => {
      this.pending.delete(key);
      if (this.files.get(key)?.version === doc.version || doc.isClosed) return;
      this.background(this.reload(doc.uri));
    }, EDIT_DEBOUNCE_MS));
  }

  /** Work started by an event: a failure is our bug, logged, never an unhandled rejection in the host. */
  private background(work: Promise<unknown>): void {
    work.catch((e: Error) => this.log.error(`Testing view: ${e.stack ?? e}`));
  }

  dispose(): void {
    for (const t of this.pending.values()) clearTimeout(t);
    this.pending.clear();
    clearTimeout(this.createdTimer);
    for (const d of this.disposables) d.dispose();
  }
}

/** Named looplag.json, and not in a node_modules folder (a package's own budgets are not the workspace's). */
function isBudgetFile(uri: vscode.Uri): boolean {
  return uri.scheme === 'file' && path.basename(uri.fsPath) === DEFAULT_BUDGETS_FILE && !uri.fsPath.split(/[\\/]/).includes('node_modules');
}

function tooLarge(bytes: number): string {
  return `${DEFAULT_BUDGETS_FILE} is ${(bytes / 1e6).toFixed(1)} MB: the editor reads budget files up to ${MAX_BUDGET_FILE_BYTES / 1e6} MB (\`looplag test\` reads it on the command line)`;
}

function rangeOf(text: string, span: EntrySpan): vscode.Range {
  const a = positionAt(text, span.start);
  const b = positionAt(text, span.end);
  return new vscode.Range(a.line, a.character, b.line, b.character);
}
