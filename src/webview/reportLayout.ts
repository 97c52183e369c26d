/**
 * One report, verdict first (issue 16). Above the fold of a half-width panel: the header
 * with the headline, the one change to make with its code (report/nextStep.ts: the CLI's
 * and Markdown's choice), the figure that decides it (budgetChart.ts) and one line per
 * mode. Below: the summary table folded, where the loop was blocked, the charts, the
 * advice, errors and output. Nothing is dropped: every figure is one click or a scroll away.
 */
import type { ModeRun, Report } from '../shared/protocol';
import type { LiveProgress } from '../shared/webviewProtocol';
import { plannedModeOf } from '../advice/advise';
import { withinBudget } from '../advice/budget';
import { keyLineOf, nextStep, NextStep } from '../report/nextStep';
import { hasLag } from '../report/textTable';
import { verdicts } from '../report/verdict';
import { budgetChart } from './budgetChart';
import { cdfChart, lagChart, swatch, timelineChart } from './charts';
import { ChartSet, chartWidth } from './chartSet';
import { Child, h, icon } from './dom';
import { errorCard, ErrorActions, nothingMeasured, raisedCalls } from './errorView';
import { blockersSection } from './blockersView';
import { explain, term } from './terms';
import { readTheme } from './theme';
import { adviceList, details, header, summaryTable } from './views';
import { fmtMs } from '../shared/format';

export interface ReportLayoutContext {
  /** The run's progress while it goes on: no charts until it ends. */
  running: LiveProgress | null;
  budgetMs: number;
  charts: ChartSet;
  logScale: boolean;
  errors: ErrorActions;
  /** Open a user's line in the editor; absent in the standalone page. */
  open?: (file: string, line: number) => void;
  /** Copies text and says so (`what`: "the code"). */
  copy?: (text: string, what: string) => void;
  folds: Folds;
}

/**
 * Which folded sections are open, kept while the same report is drawn again (a notice,
 * the log-scale toggle, a live update) and forgotten when another report is shown.
 */
export class Folds {
  private key: string | null = null;
  private readonly open = new Set<string>();

  /** A `<details>` named `name`, open if it was when this report was last drawn. */
  details(report: Report, name: string, summary: Child, ...content: Child[]): HTMLDetailsElement {
    const key = `${report.createdAt}\u0000${report.target.file}\u0000${report.target.qualname ?? ''}`;
    if (key !== this.key) {
      this.key = key;
      this.open.clear();
    }
    const el = h('details', { class: 'fold', 'data-fold': name, open: this.open.has(name) }, h('summary', {}, summary), ...content);
    el.addEventListener('toggle', () => (el.open ? this.open.add(name) : this.open.delete(name)));
    return el;
  }
}

/** Renders `report` into `col`; returns the chart draws to run once the column is in the page (they need its width). */
export function reportLayout(col: HTMLElement, report: Report, ctx: ReportLayoutContext): (() => void)[] {
  // Nothing measured: the error is the verdict, one card, no table of dashes.
  if (nothingMeasured(report)) {
    col.appendChild(header(report, ctx.running, true));
    col.appendChild(errorCard(report, ctx.errors));
    return [];
  }
  const draws: (() => void)[] = [];
  const measured = report.runs.filter((r) => r.status !== 'skipped');
  const top = h('section', { class: 'verdict-top', 'data-testid': 'verdict-top', 'aria-label': 'Verdict' }, header(report, ctx.running));
  col.appendChild(top);
  const step = nextStep(report);
  if (step) {
    const block = changeBlock(step, report.target.qualname, ctx.copy);
    top.appendChild(block.el);
    draws.push(block.reveal);
  }
  const figure = ctx.running ? null : budgetFigure(report, measured.filter(hasLag), ctx);
  if (figure) {
    top.appendChild(figure.el);
    draws.push(figure.draw);
  }
  top.appendChild(modeLines(report, ctx.budgetMs));
  const raised = raisedCalls(report, ctx.errors);
  if (raised) col.appendChild(raised);
  // The table without skipped modes' columns (a column of dashes): they are one line above.
  if (measured.length) {
    col.appendChild(ctx.folds.details(report, 'summary',
      h('span', { 'data-testid': 'summary-toggle' }, `All figures per mode (${measured.map((r) => r.mode).join(', ')})`),
      summaryTable({ ...report, runs: measured }, ctx.budgetMs)));
  }
  const blockers = blockersSection(report, { idPrefix: '', open: ctx.open });
  if (blockers) col.appendChild(blockers);
  draws.push(...chartSections(col, report, measured, ctx));
  const advice = adviceList(report.advice);
  if (advice) col.appendChild(advice);
  col.appendChild(details(report));
  return draws;
}

/**
 * The change the headline asks for ("Change:"), or how to write a safe plan ("How:"), with
 * its code and a Copy button. The line making the call is marked and scrolled into the
 * box (`reveal`, once laid out): a setup block opens on imports, and the call comes last.
 */
function changeBlock(step: NextStep, qualname: string | null, copy: ReportLayoutContext['copy']): { el: HTMLElement; reveal: () => void } {
  const fix = step.advice.fix;
  const key = keyLineOf(fix, qualname);
  const lines = fix.split('\n');
  const mark = key === null ? null : h('mark', { class: 'key-line', 'data-testid': 'next-step-key' }, lines[key]);
  const code = key === null
    ? h('code', {}, fix)
    : h('code', {}, lines.slice(0, key).map((l) => `${l}\n`).join(''), mark, lines.slice(key + 1).map((l) => `\n${l}`).join(''));
  const pre = h('pre', { class: 'fix', 'data-testid': 'next-step-code', tabindex: 0, 'aria-label': 'The code for this change' }, code);
  const el = h('section', { class: `next-step ${step.kind}`, 'data-testid': 'next-step', 'data-advice-id': step.advice.id, 'aria-labelledby': 'next-step-h' },
    h('h2', { id: 'next-step-h' }, h('span', { class: 'step-kind' }, step.kind === 'change' ? 'Change: ' : 'How: '), step.advice.title),
    // Focusable: a long block scrolls in its own box, by keyboard too.
    h('div', { class: 'fix-wrap' }, pre,
      copy ? h('button', { class: 'secondary small copy-fix', 'data-action': 'copy-fix', 'aria-label': 'Copy the code', title: 'Copy the code', onclick: () => copy(fix, 'the code') }, icon('copy'), 'Copy') : null,
    ),
  );
  const reveal = () => {
    if (!mark || pre.scrollHeight <= pre.clientHeight) return;
    // The marked line with two lines after it in view, or the end of the block.
    const below = 2 * mark.offsetHeight;
    pre.scrollTop = Math.min(pre.scrollHeight - pre.clientHeight, Math.max(0, mark.offsetTop + mark.offsetHeight + below - pre.clientHeight));
  };
  return { el, reveal };
}

/** Max lag per measured mode against the budget; null when no mode has lag samples. */
function budgetFigure(report: Report, runs: ModeRun[], ctx: ReportLayoutContext): { el: HTMLElement; draw: () => void } | null {
  if (!runs.length) return null;
  const planned = plannedModeOf(report);
  // The headline's rule (withinBudget): over the budget, or cut short (no verdict either way).
  const over = runs.filter((r) => r.lag.maxMs > ctx.budgetMs).map((r) => r.mode);
  const cut = runs.filter((r) => r.partial || r.status !== 'ok').map((r) => r.mode);
  const within = runs.filter((r) => withinBudget(r, ctx.budgetMs));
  const verdict = [over.length ? `over the budget: ${over.join(', ')}` : '', cut.length ? `cut short: ${cut.join(', ')}` : '',
    within.length === runs.length ? 'every mode within it' : ''].filter(Boolean).join('; ');
  const el = h('figure', {
    class: 'chart budget-figure', 'data-chart': 'budget',
    'aria-label': `Max lag per mode against the ${fmtMs(ctx.budgetMs)} budget: ${runs.map((r) => `${r.mode} ${fmtMs(r.lag.maxMs)}`).join(', ')}${verdict ? `; ${verdict}` : ''}`,
  }, h('figcaption', {}, 'Longest ', term('lag', 'lag'), ' per mode (log scale) against the ', term('budget', `${fmtMs(ctx.budgetMs)} budget`), ' (dashed); ▲ over it'));
  const theme = readTheme();
  return { el, draw: () => ctx.charts.add(el, (t) => budgetChart(el, runs, { width: chartWidth(el), theme: t, budgetMs: ctx.budgetMs, planned }), theme) };
}

/**
 * One line per measured mode (verdict.ts), and the skipped modes in one line per reason
 * ("interpreter: skipped — InterpreterPoolExecutor needs Python 3.14 or newer"). A mode
 * skipped for the run's own error repeats the error banner, so it is not listed.
 */
function modeLines(report: Report, budgetMs: number): HTMLElement {
  const skippedModes = new Set<string>(report.runs.filter((r) => r.status === 'skipped').map((r) => r.mode));
  const lines = verdicts(report, budgetMs).filter((v) => !skippedModes.has(v.mode));
  const notMeasured = (m: string) => m.replace(/^not measured:\s*/i, '');
  const runError = report.error ? notMeasured(report.error.message) : null;
  const skipped = new Map<string, string[]>();
  for (const r of report.runs.filter((x) => x.status === 'skipped')) {
    const why = notMeasured(r.error?.message ?? 'not run');
    if (why !== runError) skipped.set(why, [...(skipped.get(why) ?? []), r.mode]);
  }
  return h('section', { class: 'verdicts compact', 'aria-label': 'Verdict per mode' },
    h('ul', {},
      lines.map((v) => h('li', { class: `verdict ${v.level}`, 'data-mode': v.mode },
        icon(levelIcon(v.level)), h('span', { class: 'sr-only' }, `${v.level}: `), v.text)),
      [...skipped].map(([why, modes]) => h('li', { class: 'verdict skipped', 'data-testid': 'skipped', 'data-mode': modes.join(' ') },
        icon('circle-slash'), `${modes.join(', ')}: skipped — ${why}`)),
    ),
  );
}

function levelIcon(level: string): string {
  return level === 'critical' ? 'error' : level === 'warning' ? 'warning' : level === 'ok' ? 'pass' : 'info';
}

/**
 * Every mode's lag over time, the distribution and the task timelines, as before the
 * verdict came first; while a run goes on, a line saying they come at its end (drawing
 * them between windows loaded the machine being measured).
 */
function chartSections(col: HTMLElement, report: Report, measured: ModeRun[], ctx: ReportLayoutContext): (() => void)[] {
  const draws: (() => void)[] = [];
  if (!measured.length) return draws;
  if (ctx.running) {
    col.appendChild(h('section', { class: 'charts', 'aria-labelledby': 'lag-h' }, h('h2', { id: 'lag-h' }, 'Charts'),
      h('p', { class: 'charts-deferred', 'data-testid': 'charts-deferred' }, 'Charts are drawn when the run ends: drawing them now would load the machine it is measuring.')));
    return draws;
  }
  const theme = readTheme();
  const stallMs = report.settings.stallMs;
  const section = h('section', { class: 'charts', 'aria-labelledby': 'lag-h' }, h('h2', { id: 'lag-h' }, ...explain('Loop lag over time')));
  col.appendChild(section);
  for (const run of measured) {
    const fig = h('figure', { class: 'chart', 'data-chart': `lag-${run.mode}`, 'aria-label': `${run.mode}: lag over time, max ${run.lag.maxMs} ms, ${run.lag.stallCount} stalls. Drag to zoom, double-click to reset.` },
      h('figcaption', {}, swatch(run.mode, theme), run.mode, ' — ', ...explain(`${run.lag.sampleCount} heartbeats over ${Math.round(run.wallMs)} ms`), ' · dashed: the ', term('stall', 'stall'), ` threshold (${fmtMs(stallMs)})`,
        // Node: how busy the loop was, next to how late it was.
        run.elu !== undefined && run.elu !== null ? h('span', { class: 'elu', 'data-testid': `elu-${run.mode}` }, ` · event loop busy ${Math.round(run.elu * 100)}% (`, term('elu', 'ELU'), ')') : null));
    section.appendChild(fig);
    draws.push(() => ctx.charts.add(fig, (t, view) => lagChart(fig, run, { stallMs, log: ctx.logScale, width: chartWidth(fig), theme: t, view }), theme));
  }
  const dist = h('figure', { class: 'chart', 'data-chart': 'cdf', 'aria-label': 'Lag distribution of each mode (cumulative)' },
    h('figcaption', {}, ...explain('Lag distribution (share of heartbeats at or below each lag)')));
  col.appendChild(h('section', { class: 'charts', 'aria-labelledby': 'cdf-h' }, h('h2', { id: 'cdf-h' }, 'Distribution'), dist));
  draws.push(() => ctx.charts.add(dist, (t, view) => cdfChart(dist, measured, { width: chartWidth(dist), theme: t, stallMs, view }), theme));
  const withTasks = measured.filter((r) => r.tasks.length);
  if (!withTasks.length) return draws;
  const tl = h('section', { class: 'charts', 'aria-labelledby': 'tl-h' }, h('h2', { id: 'tl-h' }, 'Tasks by worker'));
  col.appendChild(tl);
  for (const run of withTasks) {
    const fig = h('figure', { class: 'chart', 'data-chart': `timeline-${run.mode}`, 'aria-label': `${run.mode}: ${run.tasks.length} tasks on ${new Set(run.tasks.map((t) => t.worker)).size} workers; grey is time queued, colour is time running` },
      h('figcaption', {}, `${run.mode} — queued (grey) and running (colour) per worker`));
    tl.appendChild(fig);
    draws.push(() => ctx.charts.add(fig, (t) => timelineChart(fig, run, { width: chartWidth(fig), theme: t }), theme));
  }
  return draws;
}
