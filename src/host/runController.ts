/**
 * Runs and worker sweeps, one at a time: the trust check, progress, cancel, the status
 * bar and the result hints. The engine does the work in a sidecar process; nothing here
 * blocks. What the panel shows is the ReportView's; failures are explained by
 * errorPrompts.ts.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Progress, runSession } from '../engine/runSession';
import { runSweep } from '../engine/runSweep';
import { HistoryStore } from '../report/historyStore';
import { compactHeadline } from '../report/verdict';
import type { Mode, Report, Sweep } from '../shared/protocol';
import type { LiveProgress } from '../shared/webviewProtocol';
import type { ReportPanelController } from '../panel/reportPanel';
import { HostSettings, readSettings, sweepModes } from './config';
import { explainFailure } from './errorPrompts';
import { HostLagMonitor } from './hostLag';
import { CommandId, COMMANDS, RUNNING_CONTEXT } from './ids';
import { describeRuntime, hostRuntime, Interpreter } from './interpreter';
import { Language, SidecarDirs } from '../engine/languageTools';
import { RUNTIME_NAMES, RuntimeName, runtimeOf } from '../shared/modes';
import { progressText, ResultHint, resultHint } from './lensText';
import { requestFor, sameTarget } from './rerun';
import { ActiveRun, ReportView, startingSweep } from './reportView';
import { KNOBS } from '../shared/settings';
import { readServeSettings } from './serveConfig';
import { runServeInEditor, ServeRequest } from './serveRun';
import { sessionOptions } from './sessionOptions';

/** Everything needed to start (and later repeat) a measurement. */
export interface RunRequest {
  uri: vscode.Uri;
  language: Language;
  qualname: string | null;
  lines: { start: number; end: number } | null;
  args: string;
  label: string;
  settings: HostSettings;
  interpreter: Interpreter;
  workspaceRoot: string | null;
}

/** What kind of measurement holds the one slot: a run, a worker sweep, a service-mode session. */
export type RunKind = 'run' | 'sweep' | 'serve';

/** What the slot shows while it runs: the label, and the N of a run's progress. */
export interface RunSlot {
  label: string;
  concurrency: number;
}

function slotOf(request: RunRequest): RunSlot {
  return { label: request.label, concurrency: request.settings.report.concurrency };
}

type ProgressSink = vscode.Progress<{ message?: string; increment?: number }>;

export class RunController implements vscode.Disposable {
  private active: { controller: AbortController; progress: LiveProgress | null; slot: RunSlot; kind: RunKind } | undefined;
  /** User code started before a run (prepare), e.g. an app listing its routes. */
  private preparing: { label: string; controller: AbortController } | null = null;
  private lastRequest: RunRequest | undefined;
  private readonly headlines = new Map<string, ResultHint>();
  private readonly statusBar: vscode.StatusBarItem;
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when a run ends (CodeLens hints refresh). */
  readonly onDidChangeResults = this.changed.event;
  private readonly view: ReportView;

  constructor(
    private readonly context: vscode.ExtensionContext,
    history: HistoryStore,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.statusBar = vscode.window.createStatusBarItem('looplag.status', vscode.StatusBarAlignment.Left, 50);
    this.statusBar.name = 'Loop Lag';
    this.view = new ReportView(context.extensionUri, history, log, {
      active: () => this.activeRun(),
      lagBudgetMs: () => this.lastRequest?.settings.lagBudgetMs ?? KNOBS.lagBudgetMs.default,
      rerun: () => this.rerun(),
      cancel: (why) => this.cancel(why),
    });
  }

  /** What the panel shows (service mode's session posts its document through it). */
  get reportView(): ReportView {
    return this.view;
  }

  /** The report panel (the serializer revives it after a reload). */
  get panel(): ReportPanelController {
    return this.view.panel;
  }

  /** The report the panel shows after a run or from the history; null when a run starts (the editor's annotations). */
  get onDidShowReport(): vscode.Event<Report | null> {
    return this.view.onDidShowReport;
  }

  /** Each runtime's sidecar folder in the extension (dist/sidecars/<runtime>), for runs and the one-shot tools. */
  get sidecarDirs(): SidecarDirs {
    return Object.fromEntries(RUNTIME_NAMES.map((r) => [r, path.join(this.context.extensionUri.fsPath, 'dist', 'sidecars', r)])) as Record<RuntimeName, string>;
  }

  /** The last result's headline for a function, for the editor hint. */
  headlineFor(file: string, qualname: string): ResultHint | undefined {
    return this.headlines.get(`${file}::${qualname}`);
  }

  /** The report view with the history (a sweep in progress stays on show). */
  showReport(id?: string): Promise<void> {
    return this.view.showReport(id);
  }

  /** The history's sweep `id` (the status bar's after a sweep), or the last sweep, in the panel again; else the report view. */
  async showSweep(id?: string): Promise<void> {
    if (!(await this.view.showSweep(id))) await this.view.showReport();
  }

  /** Load the history; with no report shown yet, show the newest (e.g. after a reload). */
  loadHistory(): Promise<void> {
    return this.view.loadHistory();
  }

  private activeRun(): ActiveRun | undefined {
    const a = this.active;
    if (!a) return undefined;
    // Starting until a progress is shown (the engine holds a window's back): the panel draws charts only when nothing runs.
    const progress = a.progress ?? { mode: a.slot.label, phase: 'starting', done: 0, total: a.slot.concurrency };
    return { kind: a.kind, progress, label: a.slot.label, concurrency: a.slot.concurrency };
  }

  /** The last Measure Endpoint session's request (the panel's Re-run on a serve view repeats it). */
  lastServeRequest: ServeRequest | undefined;

  async rerun(): Promise<void> {
    // A serve view on show: its session again, with today's settings (the endpoints as picked).
    if (this.view.serveVisible) {
      const serve = this.lastServeRequest;
      if (serve) await runServeInEditor(this, { ...serve, host: readServeSettings(serve.uri) }, this.log);
      else void vscode.window.showInformationMessage('Loop Lag: this service report came from an earlier window: run "Loop Lag: Measure Endpoint…" again.');
      return;
    }
    // After a window reload the panel is revived showing the newest report of the history,
    // but the request that made it went with the old extension host: repeat that report's
    // target and arguments.
    // Re-run repeats the report on screen (which may be an older one picked from the history).
    const shown = this.view.shownReport;
    const request = shown && !sameTarget(this.lastRequest, shown) ? await requestFor(shown, this.log) : this.lastRequest;
    if (!request) {
      void vscode.window.showInformationMessage('Loop Lag: nothing to re-run yet. Run "Loop Lag: Measure Function" first.');
      return;
    }
    await this.run({ ...request, settings: readSettings(request.uri, request.language) });
  }

  cancel(why = 'cancelled'): void {
    if (!this.active) return;
    this.log.info(`cancelling the ${this.active.kind}: ${why}`);
    this.active.controller.abort();
  }

  async run(request: RunRequest): Promise<Report | undefined> {
    const s = request.settings.report;
    const comparesFreeThreaded = runtimeOf(request.language).freeThreaded;
    const freeThreaded = comparesFreeThreaded ? request.settings.freeThreaded : null;
    const report = await this.exclusive(slotOf(request), 'run', `Loop Lag: measuring ${request.label}`, () => {
      this.lastRequest = request;
      // The panel shows this run from its first mode on, not the previous report (or sweep) meanwhile.
      this.view.runStarted();
      this.log.info(`measuring ${request.label} in ${request.uri.fsPath} (args: ${request.args || 'none'}) with ` +
        `${describeRuntime(request.language, request.interpreter)}; modes ${s.modes.join(',')}, ` +
        `concurrency ${s.concurrency}, workers ${s.workers ?? 'default'}, timeout ${s.timeoutS} s` +
        `${comparesFreeThreaded ? `, free-threaded ${freeThreaded ?? 'off'}` : ''}, planned mode ${s.plannedMode ?? 'auto'}`);
    }, (signal, progress) => {
      let reported = 0;
      const show = (p: Progress) => {
        this.onProgress(p, progressText(p));
        // Progress increments are per mode and task; the bar spans all modes.
        const total = s.modes.length * Math.max(1, p.total);
        const doneSoFar = s.modes.indexOf(p.mode as never) * p.total + p.done;
        const increment = Math.max(0, (doneSoFar / total) * 100 - reported);
        reported += increment;
        progress.report({ message: progressText(p), increment });
      };
      return runSession({
        ...sessionOptions(request, signal, this.sidecarDirs, this.log),
        settings: s,
        freeThreaded,
        onProgress: show,
        onRun: (run, partial) => {
          // Between windows, with the panel's update: the engine may never have shown the window's own progress.
          show({ mode: run.mode, phase: 'done', done: s.concurrency, total: s.concurrency });
          this.view.runProgressed(partial);
        },
      });
    });
    if (!report) {
      this.setStatus(undefined);
      this.view.refresh();
      return undefined;
    }
    await this.finish(request, report);
    return report;
  }

  /**
   * A worker sweep of the request's target: the language's pool modes (kept to the modes
   * setting when that leaves any) for each pool size in `workers`, shown live in the panel.
   */
  async sweep(request: RunRequest, workers: number[]): Promise<Sweep | undefined> {
    const modes = sweepModes(request.language, request.settings.report.modes);
    const settings = { ...request.settings.report, modes, workers: null, lagBudgetMs: request.settings.lagBudgetMs };
    const windows = modes.length * workers.length;
    const sweep = await this.exclusive(slotOf(request), 'sweep', `Loop Lag: sweeping pool sizes for ${request.label}`, () => {
      this.view.sweepStarted(startingSweep(request, settings, workers));
      this.log.info(`sweeping ${request.label} in ${request.uri.fsPath} (args: ${request.args || 'none'}) with ` +
        `${describeRuntime(request.language, request.interpreter)}; modes ${modes.join(',')}, W ${workers.join(',')}, ` +
        `concurrency ${settings.concurrency}, lag budget ${settings.lagBudgetMs} ms, sweep budget ${request.settings.sweepBudgetS} s, timeout ${settings.timeoutS} s`);
    }, (signal, progress) => {
      const points: Record<string, number> = {};
      let reported = 0;
      const show = (p: Progress, label: string, done: number) => {
        const text = progressText({ ...p, mode: label });
        this.onProgress({ ...p, mode: label }, `sweep ${text}`);
        const increment = Math.max(0, (done / windows) * 100 - reported);
        reported += increment;
        progress.report({ message: text, increment });
      };
      const measured = () => Object.values(points).reduce((a, n) => a + n, 0);
      return runSweep({
        ...sessionOptions(request, signal, this.sidecarDirs, this.log),
        settings,
        workers,
        budgetS: request.settings.sweepBudgetS,
        onProgress: (p) => {
          // A window per pool size: the one running is the next size this mode has not measured.
          const w = p.phase === 'running' && modes.includes(p.mode as Mode) ? workers[points[p.mode] ?? 0] : undefined;
          // A sweep's window runs rounds, not a count of calls (total 0): the bar moves by window.
          show(p, w === undefined ? p.mode : `${p.mode} W=${w}`, measured());
        },
        onPoint: (point, partial) => {
          points[point.mode] = (points[point.mode] ?? 0) + 1;
          // Between windows, with the panel's update: the engine may never have shown the window's own progress.
          show({ mode: point.mode, phase: 'done', done: 0, total: 0 }, `${point.mode} W=${point.workers}`, measured());
          this.log.info(`sweep ${point.mode} W=${point.workers}: ${point.status}, ` +
            `${point.throughputPerS === null ? 'no throughput' : `${point.throughputPerS} calls/s`}, lag p99 ${point.lag.p99Ms} ms, max ${point.lag.maxMs} ms`);
          this.view.sweepProgressed(partial);
        },
      });
    });
    if (!sweep) {
      this.view.sweepFailed();
      this.setStatus(undefined);
      this.view.refresh();
      return undefined;
    }
    // Into the history beside the reports; the report on show (Show Report, Re-run) stays the last run's.
    const id = await this.view.sweepFinished(sweep);
    const total = sweep.settings.totalMs !== undefined ? `${(sweep.settings.totalMs / 1000).toFixed(1)} s` : '?';
    const windowsS = sweep.settings.windowsMs !== undefined ? `${(sweep.settings.windowsMs / 1000).toFixed(1)} s` : '?';
    this.log.info(`sweep of ${request.label}: ${sweep.status}${sweep.error ? ` (${sweep.error.kind}: ${sweep.error.message})` : ''} in ${total} ` +
      `(${sweep.points.length} windows, ${windowsS} measuring) — ${sweep.headline}`);
    for (const r of sweep.recommendations) this.log.info(`sweep ${r.mode}: ${r.workers === null ? 'no recommended W' : `W=${r.workers}`}: ${r.reason}`);
    const best = sweep.best ? `${sweep.best.mode} W=${sweep.best.workers}` : 'no pool size within budget';
    this.setStatus(`$(pulse) Loop Lag sweep: ${best}`, `Loop Lag: worker sweep of ${request.label}\n${sweep.headline}`, COMMANDS.showSweep, id ? [id] : []);
    this.view.refresh();
    // A cancel's sentence is the sweep's own error message (cancelText.ts), as the panel shows it.
    if (sweep.error) await explainFailure(sweep.error, request, `sweep ${sweep.error.message}`, this.log);
    return sweep;
  }

  /**
   * Nothing measuring and nothing starting user code before a run (prepare): true. Else
   * false, and the user is told (a run in progress may be cancelled from the message).
   */
  async free(): Promise<boolean> {
    if (this.preparing) {
      void vscode.window.showWarningMessage(`Loop Lag is already starting ${this.preparing.label}. Runs go one at a time.`);
      return false;
    }
    if (!this.active) return true;
    const pick = await vscode.window.showWarningMessage(
      `Loop Lag is already ${this.active.kind === 'sweep' ? 'sweeping pool sizes for' : 'measuring'} ${this.active.slot.label}. Runs go one at a time.`, 'Cancel That Run');
    if (pick) this.cancel('replaced by the user');
    return false;
  }

  /**
   * Work that starts the user's code before a run (an app started to list its routes): one
   * at a time with runs, so a second copy of the app never competes with one being measured,
   * and aborted when the extension shuts down. Undefined when refused.
   */
  async prepare<T>(label: string, work: (signal: AbortSignal) => PromiseLike<T>): Promise<T | undefined> {
    if (!(await this.free())) return undefined;
    const controller = new AbortController();
    this.preparing = { label, controller };
    try {
      return await work(controller.signal);
    } finally {
      this.preparing = null;
    }
  }

  /**
   * One measurement at a time, whatever kind: the trust check, the status bar, the
   * cancellable progress notification, the `looplag.running` context and the host's own
   * lag. `work` runs the engine; undefined when it did not run or failed unexpectedly.
   */
  async exclusive<T>(
    slot: RunSlot, kind: RunKind, title: string, onStart: () => void,
    work: (signal: AbortSignal, progress: ProgressSink) => Promise<T>,
  ): Promise<T | undefined> {
    // Every path that runs user code comes through here (commands, CodeLens, the panel's
    // Re-run, which survives a reload into Restricted Mode): check trust here too.
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage('Loop Lag runs your code to measure it, so it only runs in a trusted workspace.');
      return undefined;
    }
    if (!(await this.free())) return undefined;
    const controller = new AbortController();
    this.active = { controller, progress: null, slot, kind };
    void vscode.commands.executeCommand('setContext', RUNNING_CONTEXT, true);
    this.setStatus(`$(watch) Loop Lag: starting`, 'Cancel the Loop Lag run', COMMANDS.cancel);
    onStart();
    this.view.panel.show(true);
    this.view.refresh();
    const hostLag = new HostLagMonitor();
    hostLag.start();
    try {
      return await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title, cancellable: true },
        (progress, token) => {
          token.onCancellationRequested(() => this.cancel('cancelled from the notification'));
          // A bar at 0% rather than the endless one: nothing animates in the editor during a run
          // (a spinning glyph or an endless bar is redrawn every frame, on the cores being measured).
          progress.report({ increment: 0 });
          return work(controller.signal, progress);
        },
      );
    } catch (e) {
      // The engine reports user and interpreter problems in its result; anything
      // thrown here is our bug, and must not take the extension host down.
      this.log.error(`${kind} failed: ${(e as Error).stack ?? e}`);
      void vscode.window.showErrorMessage(`Loop Lag failed unexpectedly: ${(e as Error).message}. See the "Loop Lag" output.`);
      return undefined;
    } finally {
      const lag = hostLag.stop();
      this.log.info(`extension host event-loop lag during the ${kind}: p50 ${lag.p50Ms} ms, p99 ${lag.p99Ms} ms, max ${lag.maxMs} ms (${lag.samples} beats)`);
      this.active = undefined;
      void vscode.commands.executeCommand('setContext', RUNNING_CONTEXT, false);
    }
  }

  private async finish(request: RunRequest, report: Report): Promise<void> {
    const headline = compactHeadline(report);
    if (request.qualname) this.headlines.set(`${request.uri.fsPath}::${request.qualname}`, resultHint(report));
    const id = await this.view.runFinished(report, request.label, headline);
    const rt = report.runtime;
    if (rt) this.log.info(hostRuntime(request.language).describeReported(rt));
    this.log.info(`${request.label}: ${report.status}${report.error ? ` (${report.error.kind}: ${report.error.message})` : ''} — ${headline}`);
    if (report.headline) this.log.info(`${request.label}: ${report.headline}`);
    this.setStatus(`$(pulse) ${headline.length > 60 ? headline.slice(0, 57) + '…' : headline}`,
      `Loop Lag: ${request.label}\n${report.headline ? `${report.headline}\n` : ''}${headline}`, COMMANDS.showReport, id ? [id] : []);
    this.view.refresh();
    this.changed.fire();
    if (report.error) await explainFailure(report.error, request, `run ${report.error.message}`, this.log);
  }

  private onProgress(p: Progress, text: string): void {
    if (!this.active) return;
    this.active.progress = { mode: p.mode, phase: p.phase, done: p.done, total: p.total };
    this.setStatus(`$(watch) Loop Lag: ${text}`, 'Cancel the Loop Lag run', COMMANDS.cancel);
  }

  /** The status bar item: hidden without text. */
  setStatus(text: string | undefined, tooltip?: string, command?: CommandId, args: unknown[] = []): void {
    if (!text) {
      this.statusBar.hide();
      return;
    }
    this.statusBar.text = text;
    this.statusBar.tooltip = tooltip;
    // With its arguments: a click shows the run the item describes, not whatever is on show.
    this.statusBar.command = command && { command, title: tooltip ?? command, arguments: args };
    this.statusBar.show();
  }

  dispose(): void {
    this.preparing?.controller.abort();
    this.cancel('Loop Lag is shutting down');
    this.statusBar.dispose();
    this.view.dispose();
    this.changed.dispose();
  }
}
