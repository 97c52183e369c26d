/**
 * A small stand-in for the `vscode` module for unit tests of host-side plumbing
 * (the test build aliases `vscode` to this file). The real thing is exercised by
 * the code-server end-to-end tests.
 */
import * as path from 'node:path';

type Listener<T> = (e: T) => void;

export class EventEmitter<T> {
  private listeners: Listener<T>[] = [];
  event = (listener: Listener<T>) => {
    this.listeners.push(listener);
    return { dispose: () => (this.listeners = this.listeners.filter((l) => l !== listener)) };
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) l(e);
  }
  dispose(): void {
    this.listeners = [];
  }
}

export class Uri {
  constructor(readonly scheme: string, readonly path: string) {}
  get fsPath(): string {
    return this.path;
  }
  static file(p: string): Uri {
    return new Uri('file', p);
  }
  static joinPath(base: Uri, ...parts: string[]): Uri {
    return new Uri(base.scheme, [base.path, ...parts].join('/'));
  }
  toString(): string {
    return `${this.scheme}://${this.path}`;
  }
}

export enum ViewColumn { Active = -1, Beside = -2, One = 1 }

export class FakeWebview {
  html = '';
  options: unknown;
  readonly cspSource = 'https://fake.vscode-cdn.net';
  readonly posted: unknown[] = [];
  readonly received = new EventEmitter<unknown>();
  readonly onDidReceiveMessage = this.received.event;
  asWebviewUri(uri: Uri): Uri {
    return new Uri('https', `fake.vscode-cdn.net${uri.path}`);
  }
  postMessage(message: unknown): Promise<boolean> {
    this.posted.push(message);
    return Promise.resolve(true);
  }
}

export class FakePanel {
  readonly webview = new FakeWebview();
  visible = true;
  iconPath: unknown;
  revealed = 0;
  disposed = false;
  private readonly viewState = new EventEmitter<{ webviewPanel: FakePanel }>();
  private readonly disposeEmitter = new EventEmitter<void>();
  readonly onDidChangeViewState = this.viewState.event;
  readonly onDidDispose = this.disposeEmitter.event;
  constructor(readonly viewType: string, readonly title: string, readonly showOptions: unknown, options: unknown) {
    this.webview.options = options;
  }
  reveal(): void {
    this.revealed++;
  }
  setVisible(visible: boolean): void {
    this.visible = visible;
    this.viewState.fire({ webviewPanel: this });
  }
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.disposeEmitter.fire();
  }
}

export const created: FakePanel[] = [];
export const serializers = new Map<string, { deserializeWebviewPanel(panel: FakePanel, state: unknown): Promise<void> }>();

export const window = {
  createWebviewPanel(viewType: string, title: string, showOptions: unknown, options: unknown): FakePanel {
    const panel = new FakePanel(viewType, title, showOptions, options);
    created.push(panel);
    return panel;
  },
  registerWebviewPanelSerializer(viewType: string, serializer: { deserializeWebviewPanel(panel: FakePanel, state: unknown): Promise<void> }) {
    serializers.set(viewType, serializer);
    return { dispose: () => serializers.delete(viewType) };
  },
};

/** Settings for `workspace.getConfiguration`, keyed like `looplag.concurrency`; tests set them. */
export const settings = new Map<string, unknown>();

const noEvent = () => ({ dispose() {} });

export const workspace = {
  isTrusted: true,
  getConfiguration(section: string) {
    return {
      get<T>(key: string): T | undefined {
        return settings.get(`${section}.${key}`) as T | undefined;
      },
    };
  },
  onDidGrantWorkspaceTrust: noEvent,
  onDidChangeConfiguration: noEvent,
  onDidCloseTextDocument: noEvent,
};

/** What `activate()` touches, recorded for the tests and the bench. */
export const registered = { commands: new Map<string, (...args: unknown[]) => unknown>(), codeLensProviders: [] as unknown[] };

export const commands = {
  registerCommand(id: string, fn: (...args: unknown[]) => unknown) {
    registered.commands.set(id, fn);
    return { dispose: () => registered.commands.delete(id) };
  },
  executeCommand: async () => undefined,
};

export const languages = {
  registerCodeLensProvider(_selector: unknown, provider: unknown) {
    registered.codeLensProviders.push(provider);
    return { dispose() {} };
  },
};

export enum StatusBarAlignment { Left = 1, Right = 2 }

export const logLines: string[] = [];
const logger = (level: string) => (text: string) => void logLines.push(`[${level}] ${text}`);

Object.assign(window, {
  createOutputChannel: () => ({ info: logger('info'), warn: logger('warn'), error: logger('error'), show() {}, dispose() {} }),
  createStatusBarItem: () => ({ text: '', show() {}, hide() {}, dispose() {} }),
});

// Shapes the host code names but unit tests do not exercise (real VS Code covers them).
export class Position { constructor(readonly line: number, readonly character: number) {} }
export class Range { constructor(readonly start: unknown, readonly end: unknown, ..._rest: unknown[]) {} }
export class Selection extends Range {}
export class CodeLens { constructor(readonly range: Range, readonly command?: unknown) {} }
export enum ConfigurationTarget { Global = 1, Workspace = 2, WorkspaceFolder = 3 }
export enum TextEditorRevealType { Default = 0, InCenter = 2 }
export enum ProgressLocation { SourceControl = 1, Window = 10, Notification = 15 }
export const extensions = { getExtension: () => undefined };
export const env = { clipboard: { writeText: async () => undefined } };

/** Replace members of the fake `vscode.window`/`workspace`/`commands` for one test; `restore()` (in afterEach) puts them back. */
export function stubs(): { stub<T extends object>(target: T, members: Partial<Record<keyof T | string, unknown>>): void; restore(): void } {
  const undo: (() => void)[] = [];
  return {
    stub(target, members) {
      const before = Object.fromEntries(Object.keys(members).map((k) => [k, (target as Record<string, unknown>)[k]]));
      Object.assign(target, members);
      undo.push(() => Object.assign(target, before));
    },
    restore() {
      for (const r of undo.splice(0).reverse()) r();
    },
  };
}

/**
 * The fake editor the report panel opens lines in, for one test (`with` from stubs()): the
 * workspace folder is `folder` (named `name`); what opened and where the cursor went, the
 * warnings, with `centred` whether the line was revealed in the centre, and with `commands`
 * the commands run. Each call settles the promise `next()`
 * returned, which the test awaits (no sleeps).
 */
export function fakeEditor(using: ReturnType<typeof stubs>, folder: string, name: string, { commands: recordCommands = false, centred: recordCentred = false } = {}) {
  const opened: { file: string; line: number; centred?: boolean }[] = [];
  const warnings: string[] = [];
  const executed: unknown[][] = [];
  let settle: () => void = () => undefined;
  const next = () => new Promise<void>((resolve) => (settle = resolve));
  using.stub(workspace, {
    // Files outside `folder` are in no workspace folder (their root is their own folder).
    getWorkspaceFolder: (uri: Uri) => (uri.fsPath.startsWith(folder + path.sep) ? { uri: Uri.file(folder), name, index: 0 } : undefined),
  });
  using.stub(window, {
    showTextDocument: async (uri: Uri) => {
      const editor = {
        selection: null as unknown as { start: Position },
        revealRange: (_r: unknown, type?: TextEditorRevealType) => {
          opened.push({ file: uri.fsPath, line: editor.selection.start.line + 1, ...(recordCentred ? { centred: type === TextEditorRevealType.InCenter } : {}) });
          settle();
        },
      };
      return editor;
    },
    showWarningMessage: async (text: string) => {
      warnings.push(text);
      settle();
      return undefined;
    },
  });
  if (recordCommands) {
    using.stub(commands, {
      executeCommand: async (...args: unknown[]) => {
        executed.push(args);
        settle();
        return undefined;
      },
    });
  }
  return { opened, warnings, executed, next };
}

// The editor's annotations (host/annotations.ts): decorations, visible editors, document
// edits, configuration changes and hovers, fired by the tests.
export const editorEvents = {
  visibleEditors: new EventEmitter<unknown[]>(),
  documentChanged: new EventEmitter<unknown>(),
  configurationChanged: new EventEmitter<{ affectsConfiguration(section: string): boolean }>(),
};
export const hoverProviders: { selector: unknown; provider: { provideHover(doc: unknown, pos: unknown): unknown } }[] = [];
export class ThemeColor { constructor(readonly id: string) {} }
export class MarkdownString {
  isTrusted?: boolean;
  supportHtml?: boolean;
  constructor(readonly value = '') {}
}
export class Hover { constructor(readonly contents: MarkdownString, readonly range?: Range) {} }
export enum DecorationRangeBehavior { OpenOpen = 0, ClosedClosed = 1, OpenClosed = 2, ClosedOpen = 3 }
Object.assign(window, {
  visibleTextEditors: [] as unknown[],
  createTextEditorDecorationType: (options: unknown) => ({ options, dispose() {} }),
  onDidChangeVisibleTextEditors: editorEvents.visibleEditors.event,
});
Object.assign(workspace, {
  onDidChangeTextDocument: editorEvents.documentChanged.event,
  onDidChangeConfiguration: editorEvents.configurationChanged.event,
  getWorkspaceFolder: () => undefined,
});
Object.assign(languages, {
  registerHoverProvider(selector: unknown, provider: { provideHover(doc: unknown, pos: unknown): unknown }) {
    const entry = { selector, provider };
    hoverProviders.push(entry);
    return { dispose: () => void hoverProviders.splice(hoverProviders.indexOf(entry), 1) };
  },
});

// Diagnostics and code actions: the measured diagnostics (host/measuredDiagnostics.ts,
// measuredActions.ts) and the static hints (host/hints.ts, hintActions.ts). A collection
// keeps what was set; the document events are fired by the tests.
export enum DiagnosticSeverity { Error = 0, Warning = 1, Information = 2, Hint = 3 }
export class Diagnostic {
  source?: string;
  code?: string | number | { value: string | number; target: Uri };
  constructor(readonly range: Range, readonly message: string, readonly severity: DiagnosticSeverity = DiagnosticSeverity.Error) {}
}
export enum CodeActionTriggerKind { Invoke = 1, Automatic = 2 }
export class CodeActionKind {
  static readonly Empty = new CodeActionKind('');
  static readonly QuickFix = new CodeActionKind('quickfix');
  constructor(readonly value: string) {}
  append(part: string): CodeActionKind { return new CodeActionKind(this.value ? `${this.value}.${part}` : part); }
}
export class CodeAction {
  command?: unknown;
  edit?: WorkspaceEdit;
  diagnostics?: Diagnostic[];
  isPreferred?: boolean;
  disabled?: { reason: string };
  constructor(readonly title: string, readonly kind?: CodeActionKind) {}
}
export class TextEdit { constructor(readonly range: Range, readonly newText: string) {} }
/** `set` (whole lists of edits per file) and `replace` (one edit) as the two hosts build them. */
export class WorkspaceEdit {
  readonly sets: [unknown, TextEdit[]][] = [];
  readonly edits: { uri: unknown; range: Range; newText: string }[] = [];
  set(uri: unknown, edits: TextEdit[]): void {
    this.sets.push([uri, edits]);
  }
  replace(uri: unknown, range: Range, newText: string): void { this.edits.push({ uri, range, newText }); }
  /** Files created (the worker pool fix's module), with their options; `insert` records as `replace` at a position. */
  readonly created: { uri: unknown; options: unknown }[] = [];
  createFile(uri: unknown, options?: unknown): void { this.created.push({ uri, options }); }
  insert(uri: unknown, position: Position, newText: string): void { this.edits.push({ uri, range: new Range(position, position), newText }); }
}
/**
 * Each document's diagnostics as the extension last set them (keyed by `uri.toString()`), a
 * map per collection as VS Code keeps them: the hints' (`looplag.hints`) and the measured ones'.
 */
export const diagnostics = new Map<string, Diagnostic[]>();
export const diagnosticSets = new Map<string, Diagnostic[]>();
export const documentEvents = { saved: new EventEmitter<unknown>(), opened: new EventEmitter<unknown>(), closed: new EventEmitter<unknown>() };
export const hintEvents = { opened: documentEvents.opened, closed: documentEvents.closed };
export const codeActionProviders: unknown[] = [];
Object.assign(workspace, {
  textDocuments: [] as unknown[],
  onDidSaveTextDocument: documentEvents.saved.event,
  onDidOpenTextDocument: documentEvents.opened.event,
  onDidCloseTextDocument: documentEvents.closed.event,
  findFiles: async () => [],
  asRelativePath: (p: unknown) => String(p),
});
Object.assign(languages, {
  createDiagnosticCollection: (name?: string) => {
    const sets = name === 'looplag.hints' ? diagnostics : diagnosticSets;
    return {
      set: (uri: Uri, list: Diagnostic[]) => void sets.set(uri.toString(), list),
      delete: (uri: Uri) => void sets.delete(uri.toString()),
      clear: () => sets.clear(),
      dispose: () => sets.clear(),
    };
  },
  registerCodeActionsProvider(_selector: unknown, provider: unknown) {
    codeActionProviders.push(provider);
    return { dispose: () => void codeActionProviders.splice(codeActionProviders.indexOf(provider), 1) };
  },
});
Object.assign(Uri, {
  parse(text: string): Uri {
    const m = /^([\w+.-]+):(?:\/\/)?(.*)$/.exec(text);
    return new Uri(m?.[1] ?? 'file', m?.[2] ?? text);
  },
});
// The interpreter status bar and picker (host/interpreterStatus.ts, interpreterPicker.ts).
export const activeEditor = new EventEmitter<unknown>();
export enum QuickPickItemKind { Separator = -1, Default = 0 }
export enum InputBoxValidationSeverity { Info = 1, Warning = 2, Error = 3 }
Object.assign(window, {
  activeTextEditor: undefined as unknown,
  onDidChangeActiveTextEditor: activeEditor.event,
});
Object.assign(workspace, { workspaceFolders: undefined as unknown });
// The Testing API (host/budgetTests.ts, budgetRun.ts): controllers, items, runs recorded
// for the tests; the workspace's files as the tests set them.
export class TestItemCollectionFake {
  private readonly map = new Map<string, FakeTestItem>();
  constructor(private readonly parent: FakeTestItem | undefined) {}
  get size(): number {
    return this.map.size;
  }
  get(id: string): FakeTestItem | undefined {
    return this.map.get(id);
  }
  add(item: FakeTestItem): void {
    item.parent = this.parent;
    this.map.set(item.id, item);
  }
  delete(id: string): void {
    this.map.delete(id);
  }
  replace(items: readonly FakeTestItem[]): void {
    this.map.clear();
    for (const i of items) this.add(i);
  }
  forEach(fn: (item: FakeTestItem) => unknown): void {
    this.map.forEach((i) => fn(i));
  }
  [Symbol.iterator](): Iterator<[string, FakeTestItem]> {
    return this.map[Symbol.iterator]();
  }
}
export class FakeTestItem {
  parent: FakeTestItem | undefined;
  description?: string;
  range?: Range;
  error?: string;
  readonly children: TestItemCollectionFake = new TestItemCollectionFake(this);
  constructor(readonly id: string, public label: string, readonly uri?: Uri) {}
}
export class TestMessage {
  location?: unknown;
  constructor(readonly message: string) {}
}
export class Location { constructor(readonly uri: Uri, readonly range: unknown) {} }
export enum TestRunProfileKind { Run = 1, Debug = 2, Coverage = 3 }
export class RelativePattern { constructor(readonly base: unknown, readonly pattern: string) {} }
/** Each run's calls in order, e.g. `['enqueued', 'looplag.json#spin']`, `['errored', id, message]`. */
export interface FakeTestRun { calls: unknown[][]; output: string[]; ended: boolean }
export interface FakeTestController {
  items: TestItemCollectionFake;
  runs: FakeTestRun[];
  runHandler?: (request: { include?: FakeTestItem[]; exclude?: FakeTestItem[] }, token: unknown) => Promise<void> | void;
  resolveHandler?: unknown;
  refreshHandler?: unknown;
}
export const testControllers: FakeTestController[] = [];
export const tests = {
  createTestController(_id: string, _label: string) {
    const runs: FakeTestRun[] = [];
    const controller: FakeTestController & Record<string, unknown> = {
      items: new TestItemCollectionFake(undefined),
      runs,
      createTestItem: (id: string, label: string, uri?: Uri) => new FakeTestItem(id, label, uri),
      createRunProfile(_label: string, _kind: TestRunProfileKind, handler: FakeTestController['runHandler']) {
        controller.runHandler = handler;
        return { dispose() {} };
      },
      createTestRun() {
        const run: FakeTestRun = { calls: [], output: [], ended: false };
        runs.push(run);
        const call = (name: string) => (item: FakeTestItem, m?: TestMessage | number) => void run.calls.push([name, item.id, ...(m instanceof TestMessage ? [m.message] : [])]);
        return {
          enqueued: call('enqueued'), started: call('started'), passed: call('passed'), failed: call('failed'), errored: call('errored'), skipped: call('skipped'),
          appendOutput: (text: string) => void run.output.push(text),
          end: () => void (run.ended = true),
        };
      },
      dispose() {},
    };
    testControllers.push(controller);
    return controller;
  },
};
/** The files `workspace.findFiles` finds and the documents open, set by the tests. */
export const workspaceFiles = { found: [] as Uri[] };
Object.assign(workspace, {
  findFiles: async () => [...workspaceFiles.found],
  createFileSystemWatcher: () => ({ onDidCreate: noEvent, onDidChange: noEvent, onDidDelete: noEvent, dispose() {} }),
  onDidChangeWorkspaceFolders: noEvent,
  textDocuments: [] as unknown[],
  asRelativePath: (uri: Uri | string) => (typeof uri === 'string' ? uri : uri.fsPath).split('/').pop(),
});
