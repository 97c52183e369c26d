/**
 * The figure under the headline (issue 16): each measured mode's longest lag as a dot
 * against the lag budget, dashed. The headline's rule is "max lag within the budget"
 * (advice/budget.ts withinBudget), so this is the figure that decides it, every mode
 * at once: the planned mode over the line, the alternative under it. A log scale, as
 * lags run from a fraction of a millisecond to seconds: dots, not bars, since a bar's
 * length on a log axis says nothing. Each dot says its value; one over the budget is
 * marked ▲ as the table's cells are (not by colour alone), one cut short says so.
 */
import uPlot from 'uplot';
import type { ModeRun } from '../shared/protocol';
import { fmtMs } from '../shared/format';
import type { Chart } from './charts';
import type { Theme } from './theme';

const HEIGHT = 190;
/** A log scale cannot show zero: a loop that never lagged is drawn at 10 µs. */
const FLOOR_MS = 0.01;

export interface BudgetChartOptions {
  width: number;
  theme: Theme;
  budgetMs: number;
  /** The mode the headline judges, named as such under its bar. */
  planned: string;
}

export function budgetChart(el: HTMLElement, runs: ModeRun[], opts: BudgetChartOptions): Chart {
  const maxes = runs.map((r) => Math.max(FLOOR_MS, r.lag.maxMs));
  // A budget of 0 (allowed) has no place on a log scale: its line sits at the floor.
  const budgetAt = Math.max(FLOOR_MS, opts.budgetMs);
  const lo = Math.min(budgetAt, ...maxes);
  const hi = Math.max(budgetAt, ...maxes);
  const font = getComputedStyle(document.body).fontFamily || 'sans-serif';
  const u = new uPlot(
    {
      width: opts.width,
      height: HEIGHT,
      legend: { show: false },
      cursor: { show: false, drag: { x: false, y: false } },
      scales: {
        x: { time: false, auto: false, range: () => [-0.5, runs.length - 0.5] },
        // Room above the tallest bar for its value, below the lowest for its base.
        y: { distr: 3, auto: false, range: () => [Math.max(FLOOR_MS / 2, lo / 4), hi * 6] },
      },
      series: [{}, { label: 'max lag', stroke: 'transparent', width: 0, points: { show: false } }],
      axes: [
        {
          stroke: opts.theme.fg, grid: { show: false }, ticks: { show: false }, size: 30,
          splits: () => runs.map((_, i) => i),
          values: (_u, splits) => splits.map((s) => (runs[s] ? `${runs[s].mode}${runs[s].mode === opts.planned ? ' (planned)' : ''}` : '')),
        },
        {
          stroke: opts.theme.fg, grid: { stroke: opts.theme.grid, width: 1 }, ticks: { stroke: opts.theme.grid, width: 1 },
          label: 'max lag', size: 78, labelSize: 18,
          // Decades only, for the grid too: a log scale's other ticks crowd a short plot.
          splits: (_u, _axis, min, max) => decades(min, max),
          values: (_u, splits) => splits.map((v) => fmtMs(v)),
        },
      ],
      hooks: { draw: [(self) => drawDots(self, runs, maxes, budgetAt, opts, font)] },
    },
    [runs.map((_, i) => i), maxes],
    el,
  );
  return { destroy: () => u.destroy(), resize: (width) => u.setSize({ width, height: HEIGHT }), pointCount: () => runs.length, view: () => null };
}

/** The dots, their values and the budget line, on top of the axes uPlot drew. */
function drawDots(u: uPlot, runs: ModeRun[], maxes: number[], budgetAt: number, opts: BudgetChartOptions, font: string): void {
  const ctx = u.ctx;
  const px = uPlot.pxRatio;
  const { left, width } = u.bbox;
  const radius = 7 * px;
  ctx.save();
  const y = Math.round(u.valToPos(budgetAt, 'y', true)) + 0.5;
  ctx.strokeStyle = opts.theme.threshold;
  ctx.lineWidth = 2 * px;
  ctx.setLineDash([8 * px, 4 * px]);
  ctx.beginPath();
  ctx.moveTo(left, y);
  ctx.lineTo(left + width, y);
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.font = `${12 * px}px ${font}`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'bottom';
  runs.forEach((run, i) => {
    const x = u.valToPos(i, 'x', true);
    const yv = u.valToPos(maxes[i], 'y', true);
    ctx.fillStyle = opts.theme.mode(run.mode);
    ctx.strokeStyle = opts.theme.fg;
    ctx.lineWidth = 1 * px;
    ctx.beginPath();
    ctx.arc(x, yv, radius, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
    ctx.fillStyle = opts.theme.fg;
    ctx.fillText(`${run.lag.maxMs > opts.budgetMs ? '▲ ' : ''}${fmtMs(run.lag.maxMs)}${run.partial ? ' (cut short)' : ''}`, x, yv - radius - 3 * px);
  });
  ctx.restore();
}

/** The powers of ten from `min` to `max`. */
function decades(min: number, max: number): number[] {
  const out: number[] = [];
  for (let e = Math.ceil(Math.log10(min) - 1e-9); 10 ** e <= max * (1 + 1e-9); e++) out.push(10 ** e);
  return out;
}
