/**
 * The report UI. One bundle, two hosts: the VS Code webview (state arrives by message
 * after we say `ready`) and a standalone HTML file (state read from an inert JSON
 * script element). Every incoming message is validated, never cast.
 */
import { Report, Sweep } from '../shared/protocol';
import { applyLiveDelta } from '../shared/liveReport';
import { FromWebview, LiveProgress, ServeLive, ToWebview, ViewOptions } from '../shared/webviewProtocol';
import { ServeReport } from '../shared/protocol/serveReport';
import type { HistoryEntry } from '../shared/webviewProtocol';
import { obj, nullable } from '../shared/validate';
import { reportMarkdown } from '../report/markdown';
import { serveMarkdown } from '../report/serveText';
import { budgetOf } from '../shared/format';
import { swatch, sweepChart } from './charts';
import { ChartSet, chartWidth } from './chartSet';
import { publishHues, readTheme, watchTheme } from './theme';
import { sweepHeader, sweepRecommendations, sweepTable, sweepToolbar } from './sweepView';
import { sweepMarkdown } from '../report/sweepText';
import { clear, h, icon, progressIcon } from './dom';
import { historyList } from './views';
import { ErrorActions } from './errorView';
import { finishedKey, serveView, ServeViewParts } from './serveView';
import { serveLagChart, serveLatencyChart, sharedAxes, sharedLatencyAxes } from './serveCharts';
import { KNOBS } from '../shared/settings';
import { renderCompare } from './compareView';
import { Folds, reportLayout } from './reportLayout';

declare function acquireVsCodeApi(): { postMessage(m: unknown): void; setState(s: unknown): void; getState(): unknown };

interface ViewState {
  currentId: string | null;
  current: Report | null;
  compare: Report | null;
  history: HistoryEntry[];
  running: LiveProgress | null;
  options: ViewOptions;
  notice: string | null;
  /** A worker sweep on show (instead of a report), and its history entry (null: running, or not kept). */
  sweep: Sweep | null;
  sweepId: string | null;
  /** A service-mode document on show (instead of a report), and its session's progress while it runs. */
  serve: ServeReport | null;
  serveRunning: ServeLive | null;
}

/** The standalone file's embedded payload: a report (report/html.ts standaloneHtml), a service-mode document (serveStandaloneHtml) or a sweep (sweepStandaloneHtml). */
const StandalonePayload = obj({ report: Report, compare: nullable(Report) });
const ServeStandalonePayload = obj({ serve: ServeReport });
const SweepStandalonePayload = obj({ sweep: Sweep });

class App {
  private state: ViewState = {
    currentId: null, current: null, compare: null, history: [], running: null, notice: null, sweep: null, sweepId: null, serve: null, serveRunning: null,
    options: { lagBudgetMs: KNOBS.lagBudgetMs.default, host: 'standalone' },
  };
  private readonly charts = new ChartSet();
  /** The serve view on show, whose progress line a `serve` message may move without a redraw. */
  private serveShown: { key: string; parts: ServeViewParts } | null = null;
  private logScale = false;
  /** Which folded sections of the report on show are open (reportLayout.ts). */
  private readonly folds = new Folds();
  private readonly vscode = typeof acquireVsCodeApi === 'function' ? acquireVsCodeApi() : null;
  private resizeObserver = new ResizeObserver(() => this.charts.resize());

  constructor(private readonly root: HTMLElement) {
    this.resizeObserver.observe(root);
    // A canvas keeps the colours it was drawn in: every chart again when the theme changes.
    publishHues(readTheme());
    watchTheme(() => this.charts.retheme(this.root));
    if (this.vscode) this.state.options = { ...this.state.options, host: 'vscode' };
  }

  start(): void {
    if (this.vscode) {
      window.addEventListener('message', (e: MessageEvent) => this.onMessage(e.data));
      this.post({ type: 'ready' });
      return;
    }
    const el = document.getElementById('looplag-data');
    try {
      const data: unknown = JSON.parse(el?.textContent ?? 'null');
      if (typeof data === 'object' && data !== null && 'serve' in data) {
        this.state = { ...this.state, serve: ServeStandalonePayload.parse(data).serve };
      } else if (typeof data === 'object' && data !== null && 'sweep' in data) {
        this.state = { ...this.state, sweep: SweepStandalonePayload.parse(data).sweep };
      } else {
        const payload = StandalonePayload.parse(data);
        this.state = { ...this.state, current: payload.report, compare: payload.compare };
      }
      this.render();
    } catch (e) {
      this.fail(`This file does not contain a valid Loop Lag report: ${(e as Error).message}`);
    }
  }

  private post(message: FromWebview): void {
    this.vscode?.postMessage(FromWebview.parse(message));
  }

  private onMessage(data: unknown): void {
    let message: ToWebview;
    try {
      message = ToWebview.parse(data);
    } catch (e) {
      console.error(`Loop Lag: ignored an invalid message: ${(e as Error).message}`);
      return;
    }
    switch (message.type) {
      case 'state':
        this.state = { ...this.state, ...message, notice: null, sweep: null, serve: null, serveRunning: null };
        this.vscode?.setState({ currentId: message.currentId });
        break;
      case 'live':
        this.state = { ...this.state, current: message.report, running: message.progress, currentId: null, sweep: null, serve: null, serveRunning: null };
        break;
      case 'liveDelta': {
        const report = applyLiveDelta(this.state.currentId === null && !this.state.sweep && !this.state.serve ? this.state.current : null, message);
        // A missed update: `ready` has the host send the whole state again.
        if (!report) return this.post({ type: 'ready' });
        this.state = { ...this.state, current: report, running: message.progress, currentId: null, sweep: null, serve: null, serveRunning: null };
        break;
      }
      case 'sweep':
        this.state = {
          ...this.state, sweep: message.sweep, running: message.running, serve: null, serveRunning: null,
          sweepId: message.id ?? null, history: message.history ?? this.state.history,
        };
        break;
      case 'serve': {
        this.state = { ...this.state, serve: message.report, serveRunning: message.running, sweep: null };
        // Under load, the same variants ended: move the progress line only. Charts are
        // redrawn when a variant ends (issue 16: our own rendering made the machine look busy).
        if (message.running && this.serveShown?.key === finishedKey(message.report)) {
          this.serveShown.parts.progress(message.running);
          return;
        }
        break;
      }
      case 'notice':
        this.state = { ...this.state, notice: message.text };
        break;
    }
    this.render();
  }

  private fail(text: string): void {
    clear(this.root);
    this.root.appendChild(h('div', { class: 'banner error', role: 'alert' }, text));
  }

  render(): void {
    const started = performance.now();
    this.charts.destroy();
    clear(this.root);
    this.serveShown = null;
    const { current, compare, options } = this.state;
    if (this.state.serve) {
      this.renderServe(this.state.serve, this.state.serveRunning);
      document.body.dataset.rendered = 'true';
      document.body.dataset.charts = String(this.charts.length);
      return;
    }
    if (this.state.sweep) {
      this.renderSweep(this.state.sweep);
      document.body.dataset.rendered = 'true';
      document.body.dataset.charts = String(this.charts.length);
      return;
    }
    if (!current) {
      const running = this.state.running;
      this.root.appendChild(running
        ? h('div', { class: 'empty' },
          h('div', { class: 'running', role: 'status', 'data-testid': 'running' }, progressIcon(),
            running.phase === 'starting' ? ` Starting: loading ${running.mode} and measuring the idle loop…` : ` Measuring ${running.mode}: ${running.phase}`),
          inVsCodeCancel(this.vscode ? () => this.post({ type: 'cancel' }) : null))
        : h('div', { class: 'empty' }, h('p', {}, 'No report yet. Run “Loop Lag: Measure Function” on a function.')));
      document.body.dataset.rendered = 'true';
      return;
    }
    this.root.appendChild(this.toolbar());
    if (this.state.notice) this.root.appendChild(h('div', { class: 'notice', role: 'status' }, this.state.notice));
    // Two finished reports: one view of what changed (compareView.ts). A run going on is shown alone.
    if (compare && !this.state.running) return this.renderCompared(current, compare, started);
    // One report (a run going on is shown alone): verdict first, the rest folded below (reportLayout.ts).
    const col = h('div', { class: 'column', 'data-column': 'current' });
    this.root.appendChild(h('div', { class: 'single' }, col));
    const pending = reportLayout(col, current, {
      running: this.state.running, budgetMs: budgetOf(current, options.lagBudgetMs), charts: this.charts, logScale: this.logScale,
      errors: this.errorActions('current'), folds: this.folds,
      // Lines open only in the editor; the standalone page has nowhere to open them.
      open: this.vscode ? (file, line) => this.post({ type: 'openLocation', file, line, column: 'current' }) : undefined,
      copy: (text, what) => this.copyText(text, `Copied ${what}.`),
    });
    const history = historyList(this.state.history, this.state.currentId, compare ? findId(this.state.history, compare) : null, {
      select: (id) => this.post({ type: 'select', id }),
      compare: (id) => this.post({ type: 'compare', id }),
    });
    if (history) this.root.appendChild(history);
    for (const draw of pending) draw();
    this.rendered(started);
  }

  /** What tests and the busy check read of the last render: done, its time, when, and how many charts. */
  private rendered(started: number): void {
    document.body.dataset.rendered = 'true';
    document.body.dataset.renderMs = String(Math.round(performance.now() - started));
    document.body.dataset.renderedAtMs = String(Math.round(performance.now()));
    document.body.dataset.charts = String(this.charts.length);
  }

  /** `current` and `compare` as one comparison, the history under it. */
  private renderCompared(current: Report, compare: Report, started: number): void {
    renderCompare(this.root, current, compare, {
      charts: this.charts, lagBudgetMs: this.state.options.lagBudgetMs, log: this.logScale,
      // Lines open only in the editor; the standalone page has nowhere to open them.
      open: this.vscode ? (file, line, column) => this.post({ type: 'openLocation', file, line, column }) : undefined,
    });
    const history = historyList(this.state.history, this.state.currentId, findId(this.state.history, compare), {
      select: (id) => this.post({ type: 'select', id }),
      compare: (id) => this.post({ type: 'compare', id }),
    });
    if (history) this.root.appendChild(history);
    this.rendered(started);
  }



  /** The error card's buttons and traceback links: the host's in the panel; in the standalone page, copying only. */
  private errorActions(column: 'current' | 'compare'): ErrorActions {
    const copy = (text: string) => navigator.clipboard?.writeText(text).then(
      () => this.onMessage({ type: 'notice', text: `Copied: ${text}` }),
      () => this.onMessage({ type: 'notice', text: 'Copying is not allowed here.' }),
    );
    const idPrefix = column === 'current' ? '' : 'compare-';
    if (!this.vscode) return { idPrefix, copy };
    return {
      idPrefix,
      open: (file, line) => this.post({ type: 'openLocation', file, line, column }),
      selectInterpreter: () => this.post({ type: 'selectInterpreter' }),
      copy,
    };
  }

  private copyText(text: string, done: string): void {
    navigator.clipboard?.writeText(text).then(
      () => this.onMessage({ type: 'notice', text: done }),
      () => this.onMessage({ type: 'notice', text: 'Copying is not allowed here.' }),
    );
  }

  private renderSweep(s: Sweep): void {
    const theme = readTheme();
    // `id: 'sweep'`: the sweep on show (the host writes it with report/export.ts sweepHtml).
    this.root.appendChild(sweepToolbar({
      cancel: this.vscode && this.state.running ? () => this.post({ type: 'cancel' }) : undefined,
      exportJson: () => this.exportSweep(s),
      copyMarkdown: () => this.copySweepMarkdown(s),
      saveHtml: this.vscode ? () => this.post({ type: 'saveHtml', id: 'sweep' }) : undefined,
    }));
    if (this.state.notice) this.root.appendChild(h('div', { class: 'notice', role: 'status' }, this.state.notice));
    this.root.appendChild(sweepHeader(s, this.state.running));
    const section = h('section', { class: 'charts', 'aria-labelledby': 'sweep-h' }, h('h2', { id: 'sweep-h' }, 'Throughput and loop lag by pool size'));
    this.root.appendChild(section);
    const draws: (() => void)[] = [];
    // As a run's: the charts when the sweep ends, not between its back-to-back windows.
    if (this.state.running) section.appendChild(chartsDeferred());
    for (const mode of this.state.running ? [] : [...new Set(s.points.map((p) => p.mode))]) {
      const points = s.points.filter((p) => p.mode === mode);
      const rec = s.recommendations.find((r) => r.mode === mode)?.workers ?? null;
      const fig = h('figure', { class: 'chart', 'data-chart': `sweep-${mode}`, role: 'img', 'aria-label': `${mode}: calls per second and loop lag for W = ${points.map((p) => p.workers).join(', ')}${rec !== null ? `; recommended W = ${rec}` : ''}` },
        h('figcaption', {}, swatch(mode, theme), `${mode}${rec !== null ? ` — recommended W = ${rec}` : ' — no pool size within budget'}`));
      section.appendChild(fig);
      draws.push(() => this.charts.add(fig, (t, view) => sweepChart(fig, points, { width: chartWidth(fig), theme: t, budgetMs: s.settings.lagBudgetMs, recommended: rec, mode, view }), theme));
    }
    this.root.appendChild(sweepTable(s));
    this.root.appendChild(sweepRecommendations(s));
    if (s.quality.notes.length) this.root.appendChild(h('ul', { class: 'notes' }, s.quality.notes.map((n) => h('li', {}, n))));
    // The reports and sweeps of the history one click away (a sweep does not replace the last report); not while it runs.
    const history = this.state.running ? null : historyList(this.state.history, this.state.sweepId, null, { select: (id) => this.post({ type: 'select', id }) });
    if (history) this.root.appendChild(history);
    for (const d of draws) d();
  }

  private renderServe(r: ServeReport, running: ServeLive | null): void {
    const button = (label: string, iconName: string, onclick: () => void, action: string) =>
      h('button', { class: 'secondary', 'aria-label': label, title: label, 'data-action': action, onclick }, icon(iconName), h('span', { class: 'label' }, label));
    this.root.appendChild(h('nav', { class: 'toolbar', 'aria-label': 'Service report actions' },
      this.vscode && !running ? button('Re-run', 'debug-rerun', () => this.post({ type: 'rerun' }), 'rerun') : null,
      this.vscode && running ? button('Cancel', 'debug-stop', () => this.post({ type: 'cancel' }), 'cancel') : null,
      button('Export JSON', 'json', () => this.exportServe(r), 'export-json'),
      button('Copy Markdown', 'copy', () => this.copyServeMarkdown(r), 'copy-markdown'),
      // `id: 'serve'`: the document on show (the host writes it with report/export.ts serveHtml).
      this.vscode ? button('Save as HTML', 'file-code', () => this.post({ type: 'saveHtml', id: 'serve' }), 'save-html') : null,
    ));
    if (this.state.notice) this.root.appendChild(h('div', { class: 'notice', role: 'status' }, this.state.notice));
    // Lines open only in the editor; the standalone page has nowhere to open them.
    const parts = serveView(r, running, this.vscode ? (file, line) => this.post({ type: 'openLocation', file, line }) : undefined);
    this.root.appendChild(parts.el);
    const theme = readTheme();
    const budgetMs = r.settings.verdictBudgetMs;
    const lagAxes = sharedAxes(parts.figures.filter((f) => f.kind === 'lag').map((f) => f.variant), budgetMs);
    const latencyAxes = sharedLatencyAxes(parts.figures.filter((f) => f.kind === 'latency').map((f) => f.variant), budgetMs);
    for (const f of parts.figures) {
      const draw = f.kind === 'lag' ? serveLagChart : serveLatencyChart;
      this.charts.add(f.el, (t) => draw(f.el, f.variant, { width: chartWidth(f.el), theme: t, budgetMs, ...(f.kind === 'lag' ? lagAxes : latencyAxes) }), theme);
    }
    this.serveShown = { key: finishedKey(r), parts };
  }

  /** In the panel the host saves it (`id: 'serve'`: the document on show); standalone, a download. */
  private exportServe(r: ServeReport): void {
    if (this.vscode) return this.post({ type: 'exportJson', id: 'serve' });
    const blob = new Blob([JSON.stringify(r, null, 2)], { type: 'application/json' });
    h('a', { href: URL.createObjectURL(blob), download: 'looplag-serve.json' }).click();
  }

  private copyServeMarkdown(r: ServeReport): void {
    if (this.vscode) return this.post({ type: 'copyMarkdown', id: 'serve' });
    navigator.clipboard?.writeText(serveMarkdown(r)).then(
      () => this.onMessage({ type: 'notice', text: 'Markdown summary copied.' }),
      () => this.onMessage({ type: 'notice', text: 'Copying is not allowed here; use Export JSON instead.' }),
    );
  }

  private copySweepMarkdown(s: Sweep): void {
    if (this.vscode) return this.post({ type: 'copyMarkdown', id: 'sweep' });
    navigator.clipboard?.writeText(sweepMarkdown(s)).then(
      () => this.onMessage({ type: 'notice', text: 'Markdown summary copied.' }),
      () => this.onMessage({ type: 'notice', text: 'Copying is not allowed here; use Export JSON instead.' }),
    );
  }

  private exportSweep(s: Sweep): void {
    if (this.vscode) return this.post({ type: 'exportJson', id: 'sweep' });
    const blob = new Blob([JSON.stringify(s, null, 2)], { type: 'application/json' });
    h('a', { href: URL.createObjectURL(blob), download: 'looplag-sweep.json' }).click();
  }

  private toolbar(): HTMLElement {
    const inVsCode = this.state.options.host === 'vscode' && this.vscode;
    const button = (label: string, iconName: string, onclick: () => void, testid: string) =>
      h('button', { class: 'secondary', 'aria-label': label, title: label, 'data-action': testid, onclick }, icon(iconName), h('span', { class: 'label' }, label));
    return h('nav', { class: 'toolbar', 'aria-label': 'Report actions' },
      inVsCode && !this.state.running ? button('Re-run', 'debug-rerun', () => this.post({ type: 'rerun' }), 'rerun') : null,
      inVsCode && this.state.running ? button('Cancel', 'debug-stop', () => this.post({ type: 'cancel' }), 'cancel') : null,
      inVsCode ? button('Tune settings', 'settings-gear', () => this.post({ type: 'openSettings' }), 'settings') : null,
      button('Export JSON', 'json', () => this.exportJson(), 'export-json'),
      button('Copy Markdown', 'copy', () => this.copyMarkdown(), 'copy-markdown'),
      inVsCode ? button('Save as HTML', 'file-code', () => this.post({ type: 'saveHtml', id: this.state.currentId ?? undefined }), 'save-html') : null,
      h('label', { class: 'toggle' },
        h('input', { type: 'checkbox', 'data-action': 'log-scale', checked: this.logScale, onchange: (e: Event) => { this.logScale = (e.target as HTMLInputElement).checked; this.render(); } }),
        ' Log lag scale'),
    );
  }

  private exportJson(): void {
    if (this.vscode) return this.post({ type: 'exportJson', id: this.state.currentId ?? undefined });
    const blob = new Blob([JSON.stringify(this.state.current, null, 2)], { type: 'application/json' });
    const a = h('a', { href: URL.createObjectURL(blob), download: 'looplag-report.json' });
    a.click();
  }

  private copyMarkdown(): void {
    if (this.vscode) return this.post({ type: 'copyMarkdown', id: this.state.currentId ?? undefined });
    const text = reportMarkdown(this.state.current!);
    navigator.clipboard?.writeText(text).then(
      () => this.onMessage({ type: 'notice', text: 'Markdown summary copied.' }),
      () => this.onMessage({ type: 'notice', text: 'Copying is not allowed here; use Export JSON instead.' }),
    );
  }
}

function inVsCodeCancel(cancel: (() => void) | null): HTMLElement | null {
  return cancel ? h('button', { class: 'secondary', 'data-action': 'cancel', 'aria-label': 'Cancel', onclick: cancel }, icon('debug-stop'), 'Cancel') : null;
}

/** In place of the charts while a run or sweep goes on. */
function chartsDeferred(): HTMLElement {
  return h('p', { class: 'charts-deferred', 'data-testid': 'charts-deferred' }, 'Charts are drawn when the run ends: drawing them now would load the machine it is measuring.');
}

function findId(history: HistoryEntry[], report: Report): string | null {
  return history.find((e) => e.createdAt === report.createdAt)?.id ?? null;
}

new App(document.getElementById('app')!).start();
