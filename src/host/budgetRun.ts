/**
 * The Testing view's Run profile: the requested budgets (a file's, one, or all; less the
 * excluded), file by file in the view's order, each file's in its own order, through
 * runBudgets (budgets/run.ts, as `looplag test` runs them) with the interpreter and Node
 * the editor's Measure Function would use. Only in a trusted workspace, and in the editor's
 * one measurement slot (RunController.prepare): while anything else measures, the budgets
 * are errored with the reason and nothing starts. Cancel aborts the running budget (its
 * sidecar or server and load generator are stopped by the engine) and skips the rest.
 */
import * as vscode from 'vscode';
import type { BudgetConfig } from '../budgets/config';
import { BudgetResult, resultLine, runBudgets, summaryLine } from '../budgets/run';
import { budgetTestState } from '../budgets/testItems';
import { compactHeadline } from '../report/verdict';
import type { Report } from '../shared/protocol';
import type { ServeReport } from '../shared/protocol/serveReport';
import type { BudgetFile, BudgetTests } from './budgetTests';
import { readSettings } from './config';
import { hostRuntime, resolveRuntime } from './interpreter';
import type { RunController } from './runController';

export const TRUST_MESSAGE = 'Loop Lag runs your code: trust the workspace to run budgets';
/** The items' message while another measurement holds the slot (`what`: its label). */
export function busyMessage(what: string): string {
  return `Loop Lag is already running ${what}: runs go one at a time. Cancel it or wait for it, then run the budgets again`;
}

/** What a run needs of the editor's measurement slot and report history. */
export type BudgetRunHost = Pick<RunController, 'prepare' | 'reportView'>;

/** A file and the items of it the request runs: its budgets' (all of them for the file's item), less the excluded. */
interface Requested {
  file: BudgetFile;
  /** Budget names; null: every budget of the file. */
  names: Set<string> | null;
}

export async function runBudgetTests(tests: BudgetTests, runs: BudgetRunHost, log: vscode.LogOutputChannel, request: vscode.TestRunRequest, token: vscode.CancellationToken): Promise<void> {
  const run = tests.controller.createTestRun(request, undefined, true);
  try {
    const requested = await requestedFiles(tests, request);
    const leaves = requested.flatMap((r) => leavesOf(r));
    for (const item of leaves) run.enqueued(item);
    // Restricted Mode: nothing runs; each item says why (finding the budgets runs no code).
    if (!vscode.workspace.isTrusted) {
      for (const item of leaves) run.errored(item, messageAt(TRUST_MESSAGE, item));
      return;
    }
    // A measurement running: refused here, not by prepare, whose prompt (Cancel That Run)
    // the run would wait on until the notification is dismissed.
    const busy = runs.reportView.activeRun;
    if (busy) {
      for (const item of leaves) run.errored(item, messageAt(busyMessage(busy.label), item));
      return;
    }
    const ran = await runs.prepare(`the budgets of ${requested.map((r) => vscode.workspace.asRelativePath(r.file.uri)).join(', ') || 'looplag.json'}`, async (slot) => {
      const stop = new AbortController();
      const cancel = token.onCancellationRequested(() => stop.abort());
      slot.addEventListener('abort', () => stop.abort());
      const results: BudgetResult[] = [];
      try {
        for (const r of requested) {
          if (stop.signal.aborted) {
            for (const item of leavesOf(r)) run.skipped(item);
            continue;
          }
          results.push(...await runFile(r, runs, log, run, stop.signal));
        }
      } finally {
        cancel.dispose();
      }
      if (results.length) run.appendOutput(`${summaryLine(results)}\r\n`);
      if (results.some((r) => r.kind === 'function' && r.report)) run.appendOutput('Loop Lag: Show Report opens the last function budget\'s report.\r\n');
      return true;
    });
    // User code started before a run (an app listing its routes): prepare refused, with a notification.
    if (!ran) for (const item of leaves) run.errored(item, messageAt(busyMessage('another measurement'), item));
  } catch (e) {
    // Our bug, not the user's code (runBudgets never rejects for that): said on the run, logged in full.
    log.error(`budget run failed: ${(e as Error).stack ?? e}`);
    run.appendOutput(`Loop Lag failed unexpectedly: ${(e as Error).message}\r\n`);
  } finally {
    run.end();
  }
}

/** One file's requested budgets. */
async function runFile(r: Requested, runs: BudgetRunHost, log: vscode.LogOutputChannel, run: vscode.TestRun, signal: AbortSignal): Promise<BudgetResult[]> {
  const { file } = r;
  if (!file.config) {
    for (const item of leavesOf(r)) run.errored(item, messageAt(file.error ?? 'looplag.json does not load', item));
    return [];
  }
  const itemOf = (name: string) => file.item.children.get(`${file.item.id}#${name}`);
  const config: BudgetConfig = { ...file.config, budgets: file.config.budgets.filter((b) => !r.names || r.names.has(b.name)) };
  const runtimes = await editorRuntimes(file.uri, log);
  log.info(`budgets of ${config.file}: ${config.budgets.map((b) => b.name).join(', ')} (python ${runtimes.python ?? 'on PATH'}, node ${runtimes.node ?? 'on PATH'})`);
  return runBudgets(config, {
    ...runtimes,
    signal,
    onStderr: (text) => log.warn(`budget stderr: ${text.trimEnd()}`),
    onStart: (b) => {
      const item = itemOf(b.name);
      if (item) run.started(item);
      run.appendOutput(`▶ ${b.name}\r\n`, undefined, item);
    },
  }, (result) => {
    const item = itemOf(result.name);
    if (item) report(run, item, result);
    void keepReport(runs, result, log);
  });
}

/** The result on its item: its state, its message on its entry, its line in the output. */
function report(run: vscode.TestRun, item: vscode.TestItem, r: BudgetResult): void {
  const s = budgetTestState(r);
  if (s.state === 'passed') run.passed(item, s.durationMs);
  else if (s.state === 'failed') run.failed(item, messageAt(paragraphs(s.summary, s.detail), item), s.durationMs);
  else if (s.state === 'errored') run.errored(item, messageAt(paragraphs(s.summary, s.detail), item), s.durationMs);
  else run.skipped(item);
  const where = item.uri && item.range ? new vscode.Location(item.uri, item.range) : undefined;
  run.appendOutput(`${resultLine(r)}\r\n`, where, item);
}

/** A function budget's report joins the history as a Measure Function run's does (Show Report shows the newest); an endpoint's is kept as the last service report. */
async function keepReport(runs: BudgetRunHost, r: BudgetResult, log: vscode.LogOutputChannel): Promise<void> {
  try {
    if (r.kind === 'function' && r.report) await runs.reportView.runFinished(r.report as Report, r.name, compactHeadline(r.report as Report));
    else if (r.kind === 'endpoint' && r.report) await runs.reportView.serveFinished(r.report as ServeReport);
  } catch (e) {
    log.error(`could not keep the report of budget ${r.name}: ${(e as Error).message}`);
  }
}

/** The interpreter and Node the editor's Measure Function uses for this file (a budget naming its own keeps it). */
async function editorRuntimes(uri: vscode.Uri, log: vscode.LogOutputChannel) {
  const python = await resolveRuntime(uri, 'python', readSettings(uri, 'python'), log);
  const node = await resolveRuntime(uri, 'javascript', readSettings(uri, 'javascript'), log);
  return { ...hostRuntime('python').choice(python), ...hostRuntime('javascript').choice(node) };
}

/**
 * The request's files, in the view's order, each with the budgets asked for, read again
 * first (unsaved edits included) so the run is of each file as it is shown.
 */
async function requestedFiles(tests: BudgetTests, request: vscode.TestRunRequest): Promise<Requested[]> {
  const excluded = new Set((request.exclude ?? []).map((i) => i.id));
  const byFile = new Map<string, Requested>();
  for (const item of request.include ?? tests.allFiles().map((f) => f.item)) {
    const file = tests.fileOf(item);
    if (!file || excluded.has(item.id) || excluded.has(file.item.id)) continue;
    const entry = byFile.get(file.item.id) ?? { file, names: new Set<string>() };
    if (!item.parent) entry.names = null;
    else entry.names?.add(item.label);
    byFile.set(file.item.id, entry);
  }
  for (const [key, entry] of byFile) {
    const file = await tests.reload(entry.file.uri);
    if (file) entry.file = file;
    else byFile.delete(key);
  }
  // Excluded budgets of a file asked for whole: every other budget of it.
  for (const entry of byFile.values()) {
    if (entry.names === null && excluded.size) {
      const all: string[] = [];
      entry.file.item.children.forEach((c) => void (!excluded.has(c.id) && all.push(c.label)));
      if (all.length !== entry.file.item.children.size) entry.names = new Set(all);
    }
  }
  return tests.allFiles().flatMap((f) => byFile.get(f.item.id) ?? []);
}

/** The items a file's request reports on: its budgets asked for, or the file itself when it lists none (it does not load). */
function leavesOf(r: Requested): vscode.TestItem[] {
  const out: vscode.TestItem[] = [];
  r.file.item.children.forEach((c) => void ((!r.names || r.names.has(c.label)) && out.push(c)));
  return out.length || r.file.item.children.size ? out : [r.file.item];
}

/**
 * What went over, then the report's headline, as paragraphs: a plain message is shown
 * unwrapped in one line. Markdown only for the wrapping: every part is the user's or the
 * report's text, escaped (appendText), and the string is not trusted.
 */
function paragraphs(...parts: string[]): vscode.MarkdownString {
  const md = new vscode.MarkdownString();
  parts.filter(Boolean).forEach((p, i) => (i && md.appendMarkdown('\n\n'), md.appendText(p)));
  return md;
}

function messageAt(text: string | vscode.MarkdownString, item: vscode.TestItem): vscode.TestMessage {
  const m = new vscode.TestMessage(text);
  if (item.uri) m.location = new vscode.Location(item.uri, item.range ?? new vscode.Range(0, 0, 0, 0));
  return m;
}
