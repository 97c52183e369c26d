/**
 * Two reports compared (issue 16): whether the verdict changed, first; which run is
 * before and which after, and what makes them unlike; both headlines; one table of
 * deltas per figure and mode; and charts with both runs overlaid on the same axes.
 * The comparison itself is report/compare.ts (pure); this builds it with `h()` only.
 */
import type { Report } from '../shared/protocol';
import { budgetOf, fmtMs } from '../shared/format';
import { MODES, ModeName } from '../shared/modes';
import { Comparison, compareReports, Delta, interpreterPhrase, noiseFloorMs, NOISE_FRAC, targetPhrase } from '../report/compare';
import { blockersSection } from './blockersView';
import { ChartSet, chartWidth } from './chartSet';
import { swatch } from './charts';
import { compareCdfChart, compareLagChart, ComparedRun, sharedLagScale } from './compareCharts';
import { h, icon } from './dom';
import { readTheme } from './theme';

export interface CompareOptions {
  charts: ChartSet;
  /** The panel's lag budget, for a report that has none of its own. */
  lagBudgetMs: number;
  log: boolean;
  /** Opens a blocking line of the report on show (`current`) or the one compared with; absent in the standalone page. */
  open?: (file: string, line: number, column: 'current' | 'compare') => void;
}

/** Renders the comparison of `a` and `b` (either order) into `root` and draws its charts into `charts`. */
export function renderCompare(root: HTMLElement, a: Report, b: Report, opts: CompareOptions): Comparison {
  const c = compareReports(a, b, opts.lagBudgetMs);
  const view = h('div', { class: 'compare-view', 'data-testid': 'compare' });
  root.appendChild(view);
  view.appendChild(h('h1', { id: 'title' }, 'Compare: ', h('span', { class: 'fn', 'data-testid': 'target-name' }, targetPhrase(c.after))));
  view.appendChild(verdictChange(c));
  view.appendChild(runsHeader(c, opts.lagBudgetMs));
  view.appendChild(deltaTable(c));
  drawCharts(view, c, opts);
  view.appendChild(blockedLines(c, a, opts));
  return c;
}

/**
 * Where each run's loop was blocked, before beside after: a line of either opens in the
 * editor (the host reads `column` to know which report's workspace it belongs to).
 */
function blockedLines(c: Comparison, shown: Report, opts: CompareOptions): HTMLElement {
  const side = (r: Report) => {
    const column = r === shown ? 'current' : 'compare';
    const open = opts.open;
    const section = blockersSection(r, { idPrefix: column === 'current' ? '' : 'compare-', open: open ? (file, line) => open(file, line, column) : undefined });
    return h('div', { class: 'column', 'data-column': column, 'data-side': r === c.before ? 'before' : 'after' },
      h('p', { class: 'column-side' }, r === c.before ? 'Before' : 'After', ` · ${new Date(r.createdAt).toLocaleString()}`),
      section ?? h('p', { class: 'notes' }, 'No lines recorded.'));
  };
  return h('div', { class: 'compare compare-blockers' }, side(c.before), side(c.after));
}

/** The verdict of both runs in a word; when it changed, that is the first line. */
function verdictChange(c: Comparison): HTMLElement {
  const { before, after, changed } = c.verdicts;
  const how = (mode: string) => MODES[mode as ModeName]?.how ?? `in ${mode} mode`;
  const words = before.mode === after.mode ? `${before.word} → ${after.word} ${how(after.mode)}` : `${before.word} ${how(before.mode)} → ${after.word} ${how(after.mode)}`;
  const improved = after.word === 'Safe' && before.word !== 'Safe';
  const worsened = before.word === 'Safe' && after.word !== 'Safe';
  return h('p', {
    class: `verdict-change${changed ? ' changed' : ''}${improved ? ' better' : worsened ? ' worse' : ''}`,
    'data-testid': 'verdict-change', 'data-changed': String(changed),
  },
  icon(improved ? 'pass' : worsened ? 'error' : changed ? 'arrow-swap' : 'dash'), ' ',
  changed ? `Verdict changed: ${words}` : `Verdict unchanged: ${after.word} ${how(after.mode)}`,
  // At the budget's edge a change within the noise flips the verdict: say so rather than celebrate.
  c.verdicts.withinNoise ? h('span', { class: 'within-noise', 'data-testid': 'verdict-within-noise' }, ' — the longest lag moved within the noise, at the budget\'s edge: rerun both to confirm') : null);
}

function runsHeader(c: Comparison, fallbackBudgetMs: number): HTMLElement {
  const row = (side: 'before' | 'after', r: Report) => h('tr', { 'data-side': side },
    h('th', { scope: 'row' }, side === 'before' ? 'Before' : 'After'),
    h('td', {}, h('time', { datetime: r.createdAt }, new Date(r.createdAt).toLocaleString())),
    h('td', { class: 'target' }, targetPhrase(r)),
    h('td', {}, interpreterPhrase(r)),
    h('td', {}, `${r.settings.concurrency} concurrent calls · workers ${r.settings.workers ?? 'default'} · budget ${fmtMs(budgetOf(r, fallbackBudgetMs))}`),
  );
  const headline = (side: 'before' | 'after', r: Report) => h('p', { class: 'compare-headline' },
    h('span', { class: 'side' }, side === 'before' ? 'Before: ' : 'After: '), h('span', { 'data-testid': `headline-${side}` }, r.headline ?? '–'));
  return h('section', { class: 'compare-runs', 'aria-label': 'The two runs' },
    h('div', { class: 'table-scroll', tabindex: 0 },
      h('table', { 'data-testid': 'compare-runs' },
        h('caption', {}, 'The two runs (before is the older)'),
        h('thead', {}, h('tr', {}, ['', 'When', 'Target', 'Interpreter', 'Settings'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, row('before', c.before), row('after', c.after)))),
    headline('before', c.before),
    headline('after', c.after),
    c.unfair.length
      ? h('div', { class: 'banner warning', role: 'note', 'data-testid': 'unfair' }, icon('warning'),
        ' Not like for like: the deltas measure these differences too.', h('ul', {}, c.unfair.map((u) => h('li', {}, u))))
      : h('p', { class: 'fair', 'data-testid': 'fair' }, 'Same target, interpreter, concurrency, pool size and budget, on a quiet machine: the deltas are the change.'),
  );
}

const JUDGEMENT_WORD: Record<Delta['judgement'], string> = {
  better: 'better', worse: 'worse', noise: 'within noise', same: 'no change', 'only-before': 'not measured after', 'only-after': 'not measured before',
  'cut-short': 'cut short: not compared',
};

function deltaCell(d: Delta): HTMLElement {
  const pct = d.frac === null ? '' : ` (${d.frac > 0 ? '+' : d.frac < 0 ? '−' : '±'}${Math.abs(d.frac * 100) < 10 ? Math.abs(d.frac * 100).toFixed(1) : Math.round(Math.abs(d.frac * 100))}%)`;
  return h('td', { class: `delta ${d.judgement}`, 'data-judgement': d.judgement, 'data-arrow': d.arrow },
    d.arrow ? h('span', { class: 'arrow', 'aria-hidden': 'true' }, `${d.arrow} `) : null,
    d.diff !== null && d.diff !== 0 ? h('span', { class: 'diff' }, `${d.figure.fmtDelta(d.diff)}${pct} `) : null,
    h('span', { class: 'judgement' }, JUDGEMENT_WORD[d.judgement]),
  );
}

function deltaTable(c: Comparison): HTMLElement {
  const modes = [...new Set(c.deltas.map((d) => d.mode))];
  const noise = noiseFloorMs(c.before, c.after);
  return h('section', { class: 'deltas', 'aria-labelledby': 'deltas-h' },
    h('h2', { id: 'deltas-h' }, 'What changed'),
    h('p', { class: 'legend-note' },
      `▲ rose, ▼ fell; "better" and "worse" by the figure's direction (lower lag, stalls, wall time, errors, GIL wait and loop utilization are better; higher throughput is better). `,
      `≈: within the noise, a change under ${Math.round(NOISE_FRAC * 100)}%${noise > 0 ? ` or, for a lag, within the idle loop's own lag p99 (${fmtMs(noise)})` : ''}.`),
    h('div', { class: 'table-scroll', tabindex: 0 },
      h('table', { 'data-testid': 'deltas' },
        h('thead', {}, h('tr', {}, ['Mode', 'Figure', 'Before', 'After', 'Change'].map((t) => h('th', { scope: 'col' }, t)))),
        modes.map((mode) => {
          const rows = c.deltas.filter((d) => d.mode === mode);
          return h('tbody', { 'data-mode': mode }, rows.map((d, i) => h('tr', { 'data-mode': mode, 'data-metric': d.figure.key },
            i === 0 ? h('th', { scope: 'rowgroup', rowspan: rows.length, class: 'mode' }, swatch(mode), ` ${mode}`) : null,
            h('th', { scope: 'row' }, d.figure.label),
            h('td', { 'data-side': 'before' }, d.before === null ? '–' : d.figure.fmt(d.before)),
            h('td', { 'data-side': 'after' }, d.after === null ? '–' : d.figure.fmt(d.after)),
            deltaCell(d),
          )));
        }),
      )),
  );
}

function drawCharts(view: HTMLElement, c: Comparison, opts: CompareOptions): void {
  const theme = readTheme();
  const when = (r: Report) => new Date(r.createdAt).toLocaleTimeString();
  const modes = [...new Set(c.deltas.map((d) => d.mode))].map((mode) => ({
    mode,
    before: { label: `before ${when(c.before)} (dashed)`, run: c.before.runs.find((r) => r.mode === mode) } as ComparedRun,
    after: { label: `after ${when(c.after)}`, run: c.after.runs.find((r) => r.mode === mode) } as ComparedRun,
  })).filter((m) => [m.before.run, m.after.run].some((r) => r && r.status !== 'skipped' && r.lag.sampleCount > 0));
  if (!modes.length) return;
  const stallMs = Math.max(c.before.settings.stallMs, c.after.settings.stallMs);
  const scale = sharedLagScale(modes.flatMap((m) => [m.before.run, m.after.run]), stallMs, opts.log);
  const section = h('section', { class: 'charts', 'aria-labelledby': 'compare-lag-h' },
    h('h2', { id: 'compare-lag-h' }, 'Loop lag over time: before dashed, after solid, one scale'));
  view.appendChild(section);
  const draws: (() => void)[] = [];
  for (const m of modes) {
    const fig = h('figure', { class: 'chart', 'data-chart': `compare-lag-${m.mode}`, role: 'img',
      'aria-label': `${m.mode}: lag over time, before (dashed) max ${fmtMs(m.before.run?.lag.maxMs)}, after (solid) max ${fmtMs(m.after.run?.lag.maxMs)}` },
    h('figcaption', {}, swatch(m.mode, theme), `${m.mode} — time since the window opened; every mode's chart on the same lag scale (0–${fmtMs(scale.yMax)})`));
    section.appendChild(fig);
    draws.push(() => opts.charts.add(fig, (t, v) => compareLagChart(fig, m.mode, m.before, m.after, { scale, width: chartWidth(fig), theme: t, view: v }), theme));
  }
  const dist = h('figure', { class: 'chart', 'data-chart': 'compare-cdf', role: 'img', 'aria-label': 'Lag distribution of each mode, before (dashed) and after (solid), cumulative' },
    h('figcaption', {}, 'Lag distribution, before dashed and after solid (share of heartbeats at or below each lag)'));
  view.appendChild(h('section', { class: 'charts', 'aria-labelledby': 'compare-cdf-h' }, h('h2', { id: 'compare-cdf-h' }, 'Distribution'), dist));
  draws.push(() => opts.charts.add(dist, (t, v) => compareCdfChart(dist, modes, { width: chartWidth(dist), theme: t, stallMs, view: v }), theme));
  // Drawn once the figures are in the page, so each takes its width.
  for (const draw of draws) draw();
}
