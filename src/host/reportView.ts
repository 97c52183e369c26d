/**
 * What the report panel shows and what it asks for: the report on show (or the worker
 * sweep), the one to compare with, the history list, and the panel's actions (select,
 * compare, export, copy). The runs themselves belong to the RunController; this only
 * hears what they produced.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { documentJson, reportHtml, serveHtml, sweepHtml } from '../report/export';
import { HistoryStore } from '../report/historyStore';
import { reportMarkdown } from '../report/markdown';
import { liveDelta } from '../shared/liveReport';
import type { Report, Sweep } from '../shared/protocol';
import type { FromWebview, HistoryEntry, LiveProgress, ServeLive, ToWebview } from '../shared/webviewProtocol';
import type { ServeReport } from '../shared/protocol/serveReport';
import { serveMarkdown } from '../report/serveText';
import { sweepHistoryLabel, sweepMarkdown } from '../report/sweepText';
import { ReportPanelController } from '../panel/reportPanel';
import { ExportKind, saveDocument } from './exportFile';
import { openReportLocation, openServeLocation } from './reveal';
import { COMMANDS, executeCommand } from './ids';
import type { RunKind } from './runController';

/** Where it lived before (runController.ts and the tests import it from here). */
export { startingSweep } from './sweepStart';

/** The run or sweep in progress, as the view needs it. */
export interface ActiveRun {
  kind: RunKind;
  /** The last progress shown, else starting (see RunController.activeRun). */
  progress: LiveProgress;
  label: string;
  concurrency: number;
}

/** What the view asks of the RunController. */
export interface ReportViewHost {
  active(): ActiveRun | undefined;
  /** The lag budget of the last run's settings (the view's budget line). */
  lagBudgetMs(): number;
  rerun(): Promise<void>;
  cancel(why: string): void;
}

/** The panel's Export JSON, Save as HTML and Copy Markdown in a sweep view ask for this id (the sweep on show). */
const SWEEP_EXPORT_ID = 'sweep';
/** …and in a service-mode view this one (or none, while that view is on show). */
export const SERVE_EXPORT_ID = 'serve';

export class ReportView implements vscode.Disposable {
  private current: { id: string | null; report: Report } | null = null;
  private compare: { id: string; report: Report } | null = null;
  /** The worker sweep on show (instead of the report, which it does not replace), or the last one; `id`: its history entry (null: running, or not kept). */
  private sweepShown: { sweep: Sweep; visible: boolean; id: string | null } | null = null;
  /** The service-mode session on show (instead of a report), or the last one; `running` while it runs. */
  private serveShown: { report: ServeReport; visible: boolean; running: ServeLive | null } | null = null;
  private historyEntries: HistoryEntry[] = [];
  private readonly shown = new vscode.EventEmitter<Report | null>();
  /** The report on show after a run or picked from the history (the editor annotates its lines); null when a run starts. */
  readonly onDidShowReport = this.shown.event;
  /** The run in progress as the webview has it: live updates send only what it lacks. */
  private liveBase: Report | null = null;
  readonly panel: ReportPanelController;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly history: HistoryStore,
    private readonly log: vscode.LogOutputChannel,
    private readonly host: ReportViewHost,
  ) {
    this.panel = new ReportPanelController(extensionUri, {
      state: () => this.state(),
      onMessage: (m) => this.onPanelMessage(m).catch((e: Error) => {
        this.log.error(`report panel action ${m.type} failed: ${e.stack ?? e}`);
        void vscode.window.showErrorMessage(`Loop Lag: ${m.type} failed: ${e.message}`);
      }),
      onClosed: () => this.host.cancel('the report panel was closed'),
      log: (t) => this.log.warn(t),
    });
  }

  /** The report on show (Re-run repeats it). */
  get shownReport(): Report | undefined {
    return this.current?.report;
  }

  /** The run, sweep or session holding the one slot, if any (the Testing view refuses to start beside it). */
  get activeRun(): ActiveRun | undefined {
    return this.host.active();
  }

  /** A service-mode report is on show (not a run's report or a sweep). */
  get serveVisible(): boolean {
    return this.serveShown?.visible ?? false;
  }

  get hasSweep(): boolean {
    return this.sweepShown !== null;
  }

  /**
   * The report view with the history (a sweep in progress stays on show); `id`: that report
   * of the history on show (the status bar's, which describes one run, whatever was picked since).
   */
  async showReport(id?: string): Promise<void> {
    await this.loadHistory();
    if (id && id !== this.current?.id && !this.host.active()) await this.select(id);
    if (this.sweepShown && this.host.active()?.kind !== 'sweep') this.sweepShown.visible = false;
    if (this.serveShown && this.host.active()?.kind !== 'serve') this.serveShown.visible = false;
    this.panel.show(false);
    this.panel.refresh();
  }

  /** The last worker sweep in the panel again, or the history's sweep `id` (the status bar's); false when there is none. */
  async showSweep(id?: string): Promise<boolean> {
    if (id && id !== this.sweepShown?.id && this.host.active()?.kind !== 'sweep') {
      const sweep = await this.history.getSweep(id);
      // That sweep is gone (past the history's limit, unreadable): not another one in its place.
      if (!sweep) return false;
      this.sweepShown = { sweep, visible: true, id };
    }
    if (!this.sweepShown) return false;
    this.historyEntries = await this.history.list();
    this.sweepShown.visible = true;
    if (this.serveShown) this.serveShown.visible = false;
    this.panel.show(false);
    this.panel.refresh();
    return true;
  }

  /** The last service-mode report in the panel again (after a reload, the workspace's last one kept); false when there is none. */
  async showServe(): Promise<boolean> {
    if (!this.serveShown) {
      const last = await this.history.lastServe();
      if (last) this.serveShown = { report: last, visible: true, running: null };
    }
    if (!this.serveShown) return false;
    this.serveShown.visible = true;
    if (this.sweepShown) this.sweepShown.visible = false;
    this.panel.show(false);
    this.panel.refresh();
    return true;
  }

  /** A run starts: the panel shows it from its first mode on, not the previous report (or sweep). */
  runStarted(): void {
    this.current = null;
    this.shown.fire(null);
    this.compare = null;
    if (this.sweepShown) this.sweepShown.visible = false;
    if (this.serveShown) this.serveShown.visible = false;
  }

  /** A mode finished: the report so far, live. */
  runProgressed(partial: Report): void {
    this.current = { id: null, report: partial };
    const delta = liveDelta(this.liveBase, partial);
    if (this.panel.post({ type: 'liveDelta', ...delta, progress: this.host.active()?.progress ?? null })) this.liveBase = partial;
  }

  /** A run ended with a report: into the history, and on show. Its history id (null: not saved). */
  async runFinished(report: Report, label: string, headline: string): Promise<string | null> {
    if (this.sweepShown) this.sweepShown.visible = false; // the run's end is on show
    try {
      const entry = await this.history.add(report, label, headline);
      this.current = { id: entry.id, report };
      this.historyEntries = await this.history.list();
    } catch (e) {
      this.current = { id: null, report };
      this.log.error(`could not save the report to history: ${(e as Error).message}`);
    }
    this.shown.fire(report);
    return this.current.id;
  }

  /** A sweep starts: its plan on show, no points yet. */
  sweepStarted(sweep: Sweep): void {
    this.sweepShown = { sweep, visible: true, id: null };
    if (this.serveShown) this.serveShown.visible = false;
  }

  /** The service-mode session on show so far (the variants that ended), live; `running: null` once it ended. */
  serveProgressed(report: ServeReport, running: ServeLive | null): void {
    this.serveShown = { report, visible: this.serveShown?.visible ?? true, running };
    if (this.sweepShown) this.sweepShown.visible = false;
    if (this.serveShown.visible) this.panel.post({ type: 'serve', report, running });
  }

  /** A service-mode session starts: on show from its plan on. */
  serveStarted(report: ServeReport, running: ServeLive): void {
    this.serveShown = { report, visible: true, running };
    if (this.sweepShown) this.sweepShown.visible = false;
  }

  /** A session ended: its document on show (unless the user went elsewhere meanwhile) and kept as the workspace's last. */
  async serveFinished(report: ServeReport): Promise<void> {
    this.serveProgressed(report, null);
    await this.history.saveServe(report).catch((e: Error) => this.log.error(`could not keep the service report: ${e.message}`));
  }

  /** The last service-mode document (the panel's Export JSON; the e2e test reads it). */
  get serveReport(): ServeReport | undefined {
    return this.serveShown?.report;
  }

  /** A sweep measured one more pool size: on show, live. */
  sweepProgressed(partial: Sweep): void {
    this.sweepShown = { sweep: partial, visible: true, id: null };
    this.panel.post({ type: 'sweep', sweep: partial, running: this.host.active()?.progress ?? null });
  }

  /** A sweep ended: into the history when it measured any pool size (cancelled too); on show unless the user went elsewhere. Its history id (null: not kept). */
  async sweepFinished(sweep: Sweep): Promise<string | null> {
    let id: string | null = null;
    if (sweep.points.length) {
      try {
        id = (await this.history.addSweep(sweep, sweepHistoryLabel(sweep), sweep.headline)).id;
        this.historyEntries = await this.history.list();
      } catch (e) {
        this.log.error(`could not save the sweep to history: ${(e as Error).message}`);
      }
    }
    this.sweepShown = { sweep, visible: this.sweepShown?.visible ?? true, id };
    return id;
  }

  /** A sweep failed unexpectedly: no "Measuring…" view left behind. */
  sweepFailed(): void {
    if (this.sweepShown && !this.sweepShown.sweep.points.length) this.sweepShown = null;
  }

  refresh(): void {
    this.panel.refresh();
  }

  private state(): Extract<ToWebview, { type: 'state' | 'sweep' | 'serve' }> {
    const active = this.host.active();
    // The whole state goes out: a live report in it is the base of the next update.
    this.liveBase = !this.sweepShown?.visible && this.current?.id === null ? this.current.report : null;
    if (this.serveShown?.visible) return { type: 'serve', report: this.serveShown.report, running: this.serveShown.running };
    if (this.sweepShown?.visible) {
      return { type: 'sweep', sweep: this.sweepShown.sweep, running: active?.kind === 'sweep' ? active.progress : null, id: this.sweepShown.id, history: this.historyEntries };
    }
    return {
      type: 'state',
      currentId: this.current?.id ?? null,
      current: this.current?.report ?? null,
      compare: this.compare?.report ?? null,
      history: this.historyEntries,
      running: active?.progress ?? null,
      options: { lagBudgetMs: this.host.lagBudgetMs(), host: 'vscode' },
    };
  }

  /** Load the history; with no report shown yet, show the newest report (e.g. after a reload; a newer sweep stays in the list). */
  async loadHistory(): Promise<void> {
    this.historyEntries = await this.history.list();
    const newest = this.historyEntries.find((e) => e.kind !== 'sweep');
    if (!this.current && !this.host.active() && newest) {
      await this.select(newest.id);
      this.panel.refresh();
    }
  }

  /** A history entry on show: a report (the report view), or a sweep (the sweep view; the report on show stays the same). */
  private async select(id: string): Promise<void> {
    if (this.historyEntries.find((e) => e.id === id)?.kind === 'sweep') {
      // A run or sweep in progress stays on show: a stored sweep over it would hide its end.
      if (this.host.active()) return;
      const sweep = await this.history.getSweep(id);
      if (sweep) this.sweepShown = { sweep, visible: true, id };
      return;
    }
    if (this.sweepShown && this.host.active()?.kind !== 'sweep') this.sweepShown.visible = false;
    const report = await this.history.get(id);
    if (report) this.current = { id, report };
    if (report) this.shown.fire(report);
    if (this.compare?.id === id) this.compare = null;
  }

  private async reportFor(id: string | undefined): Promise<Report | null> {
    if (id && id !== this.current?.id) return this.history.get(id);
    return this.current?.report ?? null;
  }

  private async onPanelMessage(m: FromWebview): Promise<void> {
    switch (m.type) {
      case 'ready':
        return;
      case 'rerun':
        return this.host.rerun();
      case 'cancel':
        return this.host.cancel('cancelled from the report panel');
      case 'openSettings':
        await executeCommand(COMMANDS.openSettings);
        return;
      case 'selectInterpreter':
        await executeCommand(COMMANDS.selectPythonInterpreter);
        return;
      case 'select':
        if (this.serveShown) this.serveShown.visible = false;
        await this.select(m.id);
        break;
      case 'compare': {
        const report = m.id ? await this.history.get(m.id) : null;
        this.compare = m.id && report ? { id: m.id, report } : null;
        break;
      }
      case 'exportJson': {
        if (m.id === SWEEP_EXPORT_ID) {
          const sweep = this.sweepShown?.sweep;
          if (sweep) await this.save(sweep.target, 'sweep', documentJson(sweep));
          return;
        }
        const serve = this.serveFor(m.id);
        if (serve) {
          await this.save(serveTarget(serve), 'serve', documentJson(serve));
          return;
        }
        const report = await this.reportFor(m.id);
        if (report) await this.save(report.target, 'json', documentJson(report));
        return;
      }
      case 'saveHtml': {
        const sweep = m.id === SWEEP_EXPORT_ID ? this.sweepShown?.sweep : undefined;
        if (sweep) {
          await this.save(sweep.target, 'sweepHtml', sweepHtml(sweep, path.join(this.extensionUri.fsPath, 'dist', 'webview')));
          return;
        }
        const serve = this.serveFor(m.id);
        if (serve) {
          await this.save(serveTarget(serve), 'serveHtml', serveHtml(serve, path.join(this.extensionUri.fsPath, 'dist', 'webview')));
          return;
        }
        const report = await this.reportFor(m.id);
        // The report on show while comparing: the page shows the comparison, as the panel does.
        const compare = report && report === this.current?.report ? this.compare?.report ?? null : null;
        if (report) await this.save(report.target, 'html', reportHtml(report, path.join(this.extensionUri.fsPath, 'dist', 'webview'), compare));
        return;
      }
      case 'openLocation': {
        const serve = this.serveShown?.visible ? this.serveShown.report : undefined;
        if (serve) {
          await openServeLocation(serve, m.file, m.line, (t) => this.log.warn(t));
          return;
        }
        const report = m.column === 'compare' ? this.compare?.report : this.current?.report;
        if (report) await openReportLocation(report, m.file, m.line, (t) => this.log.warn(t));
        return;
      }
      case 'copyMarkdown': {
        const sweep = m.id === SWEEP_EXPORT_ID ? this.sweepShown?.sweep : undefined;
        if (sweep) {
          await vscode.env.clipboard.writeText(sweepMarkdown(sweep));
          this.panel.post({ type: 'notice', text: 'Markdown summary copied to the clipboard.' });
          return;
        }
        const serve = this.serveFor(m.id);
        if (serve) {
          await vscode.env.clipboard.writeText(serveMarkdown(serve));
          this.panel.post({ type: 'notice', text: 'Markdown summary copied to the clipboard.' });
          return;
        }
        const report = await this.reportFor(m.id);
        if (!report) return;
        await vscode.env.clipboard.writeText(reportMarkdown(report));
        this.panel.post({ type: 'notice', text: 'Markdown summary copied to the clipboard.' });
        return;
      }
    }
    this.panel.refresh();
  }

  /** The serve document an action is about: asked by its id, or the serve view on show when no id is given. */
  private serveFor(id: string | undefined): ServeReport | undefined {
    if (id === SERVE_EXPORT_ID || (id === undefined && this.serveShown?.visible)) return this.serveShown?.report;
    return undefined;
  }

  private async save(target: Pick<Report['target'], 'file' | 'qualname'>, kind: ExportKind, data: string): Promise<void> {
    const saved = await saveDocument(target, kind, data);
    if (!saved) return;
    this.log.info(`saved ${saved}`);
    this.panel.post({ type: 'notice', text: `Saved ${path.basename(saved)}.` });
  }

  dispose(): void {
    this.panel.dispose();
    this.shown.dispose();
  }
}

/** A serve document's file and name as the save dialog proposes them: `looplag-serve-main_app.json`. */
function serveTarget(report: ServeReport): Pick<Report['target'], 'file' | 'qualname'> {
  const app = report.app;
  return app.type === 'asgi'
    ? { file: path.join(app.appDir, 'app.py'), qualname: app.target.replace(/[:.]/g, '_') }
    : { file: app.script, qualname: path.basename(app.script).replace(/\.[^.]+$/, '') };
}
