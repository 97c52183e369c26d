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
import { MeasuredCodeActions } from './host/measuredActions';
import { MeasuredDiagnostics } from './host/measuredDiagnostics';
import { HintActions } from './host/hintActions';
import { BlockingHints, HINT_SCHEMES } from './host/hints';
import { MEASURED_LANGUAGE_IDS } from './engine/languageTools';
import { RunController } from './host/runController';
import { registerReportSerializer } from './panel/reportPanel';
import { HistoryStore } from './report/historyStore';
import { InterpreterStatusBar } from './host/interpreterStatus';
import { PythonVersions } from './host/pythonVersion';

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Loop Lag', { log: true });
  const storage = context.storageUri ?? context.globalStorageUri;
  const history = new HistoryStore(path.join(storage.fsPath, 'history'));
  const runs = new RunController(context, history, log);
  const codeLens = new LoopLagCodeLens(runs, log);
  const annotations = new EditorAnnotations(runs.onDidShowReport);
  const endpointLens = new EndpointCodeLens();
  const measured = new MeasuredDiagnostics(runs.onDidShowReport, history, log);
  // Clear Annotations clears what a report put in the editor: the line annotations and the measured diagnostics.
  const cleared = { clear: () => (annotations.clear(), measured.clear()) };
  const hints = new BlockingHints(log);
  const interpreterStatus = new InterpreterStatusBar(new PythonVersions(), log);
  context.subscriptions.push(
    log,
    runs,
    codeLens,
    endpointLens,
    annotations,
    measured,
    interpreterStatus,
    ...new Commands(context, runs, log, cleared, interpreterStatus).register(),
    vscode.languages.registerCodeLensProvider(CODELENS_SELECTOR, codeLens),
    vscode.languages.registerCodeLensProvider(CODELENS_SELECTOR, endpointLens),
    registerReportSerializer(runs.panel),
    vscode.languages.registerCodeActionsProvider(CODELENS_SELECTOR, new MeasuredCodeActions(measured, log), MeasuredCodeActions.metadata),
    hints,
    vscode.languages.registerCodeActionsProvider(
      MEASURED_LANGUAGE_IDS.flatMap((language) => [...HINT_SCHEMES].map((scheme) => ({ language, scheme }))),
      new HintActions(hints, runs, log), HintActions.metadata),
    new BudgetTests(runs, log),
  );
  void runs.loadHistory();
  measured.loadHistory().catch((e: unknown) => log.warn(`measured diagnostics: the history failed to load: ${(e as Error)?.stack ?? e}`));
  void interpreterStatus.refresh();
  log.info(`Loop Lag ${context.extension.packageJSON.version} activated (${process.platform}, Node ${process.versions.node})`);
}

/** Subscriptions are disposed by VS Code: a run in progress is cancelled and its sidecar killed. */
export function deactivate(): void {}
