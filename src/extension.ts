/**
 * Loop Lag's extension entry: compose and register, nothing else. The engine runs
 * user code in a sidecar process; the extension host only streams its messages.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { EditorAnnotations } from './host/annotations';
import { BudgetTests } from './host/budgetTests';
import { CODELENS_SELECTOR, LoopLagCodeLens } from './host/codeLens';
import { Commands } from './host/commands';
import { EndpointCodeLens } from './host/serveLens';
import { RunController } from './host/runController';
import { registerReportSerializer } from './panel/reportPanel';
import { HistoryStore } from './report/historyStore';

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Loop Lag', { log: true });
  const storage = context.storageUri ?? context.globalStorageUri;
  const history = new HistoryStore(path.join(storage.fsPath, 'history'));
  const runs = new RunController(context, history, log);
  const codeLens = new LoopLagCodeLens(runs, log);
  const annotations = new EditorAnnotations(runs.onDidShowReport);
  const endpointLens = new EndpointCodeLens();
  context.subscriptions.push(
    log,
    runs,
    codeLens,
    endpointLens,
    annotations,
    ...new Commands(context, runs, log, annotations).register(),
    vscode.languages.registerCodeLensProvider(CODELENS_SELECTOR, codeLens),
    vscode.languages.registerCodeLensProvider(CODELENS_SELECTOR, endpointLens),
    registerReportSerializer(runs.panel),
    new BudgetTests(runs, log),
  );
  void runs.loadHistory();
  log.info(`Loop Lag ${context.extension.packageJSON.version} activated (${process.platform}, Node ${process.versions.node})`);
}

/** Subscriptions are disposed by VS Code: a run in progress is cancelled and its sidecar killed. */
export function deactivate(): void {}
