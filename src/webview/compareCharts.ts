/**
 * The compare view's charts: both runs in one chart, on the same axes. Per mode, lag over
 * time from the window's start (before dashed, after solid), with one y scale for every
 * mode's chart so a taller line is a longer lag; and one lag distribution (CDF) with both
 * runs of every mode. Each chart writes the scales it drew with on its figure
 * (`data-y-min`, `data-y-max`, `data-runs`), which the Chromium tests read.
 */
import uPlot from 'uplot';
import { cdfOnGrid, decimateMinMax, logGrid } from '../stats/decimate';
import { sortedCopy } from '../stats/percentiles';
import type { ModeRun } from '../shared/protocol';
import { fmtMs } from '../shared/format';
import { axes, Chart, ChartView, hiddenView, isDecade, Theme } from './charts';

const HEIGHT = 170;
const CDF_HEIGHT = 220;
/** Log scales cannot show zero: lags below a microsecond are drawn at 1 µs. */
const LOG_FLOOR_MS = 0.001;
/** Before is drawn dashed and thinner, after solid: told apart without colour. */
const BEFORE_DASH = [6, 4];

/** One run of a mode in a compare chart: its label in the legend (`before 16:02`) and its run, if it has one. */
export interface ComparedRun {
  label: string;
  run: ModeRun | undefined;
}

export interface LagScale {
  /** The y range every lag chart shares. */
  yMax: number;
  log: boolean;
  stallMs: number;
}

/** The y scale every mode's lag chart shares: the longest lag of either run, the stall threshold at least. */
export function sharedLagScale(runs: (ModeRun | undefined)[], stallMs: number, log: boolean): LagScale {
  const longest = Math.max(stallMs, ...runs.map((r) => (r && r.status !== 'skipped' ? r.lag.maxMs : 0)));
  return { yMax: log ? longest * 2 : longest * 1.15, log, stallMs };
}

/** Writes the scales a chart drew with onto its figure, for the tests and anyone reading the page. */
function recordScales(el: HTMLElement, runs: number): uPlot.Hooks.Arrays['setScale'] {
  return [(u, key) => {
    if (key !== 'y') return;
    el.dataset.yMin = String(u.scales.y.min);
    el.dataset.yMax = String(u.scales.y.max);
    el.dataset.runs = String(runs);
  }];
}

function stepSeries(run: ModeRun | undefined, width: number, log: boolean): { x: number[]; y: number[] } {
  if (!run || run.status === 'skipped') return { x: [], y: [] };
  const xs = run.lag.samples.map((s) => s[0]);
  const ys = run.lag.samples.map((s) => (log ? Math.max(LOG_FLOOR_MS, s[1]) : s[1]));
  const d = decimateMinMax(xs, ys, Math.max(50, Math.floor(width)));
  // A lag covers the gap that ends at its wake-up: a zero at the window's start gives the first its gap.
  if (!d.x.length || d.x[0] > 0) {
    d.x.unshift(0);
    d.y.unshift(log ? LOG_FLOOR_MS : 0);
  }
  return d;
}

/** Two step series on the union of their times; each is null where only the other has a sample (spanned). */
function merged(a: { x: number[]; y: number[] }, b: { x: number[]; y: number[] }): [number[], (number | null)[], (number | null)[]] {
  const xs = [...new Set([...a.x, ...b.x])].sort((p, q) => p - q);
  const at = (s: { x: number[]; y: number[] }) => {
    const m = new Map<number, number>();
    s.x.forEach((x, i) => m.set(x, Math.max(m.get(x) ?? -Infinity, s.y[i])));
    return xs.map((x) => m.get(x) ?? null);
  };
  return [xs, at(a), at(b)];
}

/** Lag over time of one mode, before and after overlaid, on the shared y scale. */
export function compareLagChart(el: HTMLElement, mode: string, before: ComparedRun, after: ComparedRun,
  opts: { scale: LagScale; width: number; theme: Theme; view?: ChartView | null }): Chart {
  const color = opts.theme.mode(mode);
  const data = merged(stepSeries(before.run, opts.width, opts.scale.log), stepSeries(after.run, opts.width, opts.scale.log));
  const xs = data[0];
  const xMax = Math.max(1, before.run?.wallMs ?? 0, after.run?.wallMs ?? 0, xs[xs.length - 1] ?? 0);
  const { scale } = opts;
  const hidden = (i: number) => opts.view?.hidden?.includes(i) ?? false;
  const u = new uPlot(
    {
      width: opts.width,
      height: HEIGHT,
      legend: { show: true, live: false },
      scales: {
        x: { time: false, auto: false, range: [0, xMax] },
        y: scale.log
          ? { distr: 3, auto: false, range: [LOG_FLOOR_MS * 10, scale.yMax] }
          : { auto: false, range: [0, scale.yMax] },
      },
      cursor: { drag: { x: false, y: false } },
      series: [
        {},
        { label: before.label, show: !hidden(1), stroke: color, width: 1.25, dash: BEFORE_DASH, spanGaps: true, paths: uPlot.paths.stepped!({ align: -1 }), points: { show: false } },
        { label: after.label, show: !hidden(2), stroke: color, width: 2, spanGaps: true, paths: uPlot.paths.stepped!({ align: -1 }), points: { show: false } },
        { label: `stall ≥ ${fmtMs(scale.stallMs)}`, show: !hidden(3), stroke: opts.theme.threshold, width: 1, dash: [2, 3], points: { show: false } },
      ],
      axes: axes(opts.theme, 'lag'),
      hooks: { setScale: recordScales(el, 2) },
    },
    [...data, xs.map(() => scale.stallMs)],
    el,
  );
  return {
    destroy: () => u.destroy(),
    resize: (width) => u.setSize({ width, height: HEIGHT }),
    pointCount: () => xs.length,
    view: () => hiddenView(u),
  };
}

/** Every mode's lag distribution, before (dashed) and after (solid), as CDFs on one log-spaced grid. */
export function compareCdfChart(el: HTMLElement, modes: { mode: string; before: ComparedRun; after: ComparedRun }[],
  opts: { width: number; theme: Theme; stallMs: number; view?: ChartView | null }): Chart {
  const lines: { label: string; mode: string; dashed: boolean; sorted: Float64Array }[] = [];
  for (const m of modes) {
    for (const [side, dashed] of [[m.before, true], [m.after, false]] as const) {
      const r = side.run;
      if (!r || r.status === 'skipped' || r.lag.sampleCount === 0) continue;
      lines.push({ label: `${m.mode} ${side.label}`, mode: m.mode, dashed, sorted: sortedCopy(r.lag.samples.map((s) => Math.max(LOG_FLOOR_MS * 10, s[1]))) });
    }
  }
  const hi = Math.max(opts.stallMs, ...lines.map((l) => l.sorted[l.sorted.length - 1] ?? 0));
  const grid = logGrid(0.01, hi * 1.05, 240);
  const u = new uPlot(
    {
      width: opts.width,
      height: CDF_HEIGHT,
      legend: { show: true, live: false },
      scales: { x: { time: false, distr: 3 }, y: { auto: false, range: [0, 1] } },
      cursor: { drag: { x: false, y: false } },
      series: [
        { label: 'lag' },
        ...lines.map((l, i) => ({
          label: l.label, show: !opts.view?.hidden?.includes(i + 1), stroke: opts.theme.mode(l.mode),
          width: l.dashed ? 1.25 : 2, ...(l.dashed ? { dash: BEFORE_DASH } : {}), points: { show: false },
        })),
      ],
      axes: [
        { stroke: opts.theme.fg, grid: { stroke: opts.theme.grid }, label: 'lag', values: (_u, s) => s.map((v) => (v !== null && isDecade(v) ? fmtMs(v) : '')) },
        { stroke: opts.theme.fg, grid: { stroke: opts.theme.grid }, label: 'beats ≤ lag', size: 52, labelSize: 22, values: (_u, s) => s.map((v) => `${Math.round(v * 100)}%`) },
      ],
      hooks: { setScale: recordScales(el, lines.length) },
    },
    [grid, ...lines.map((l) => cdfOnGrid(l.sorted, grid))],
    el,
  );
  return { destroy: () => u.destroy(), resize: (width) => u.setSize({ width, height: CDF_HEIGHT }), pointCount: () => grid.length * lines.length, view: () => hiddenView(u) };
}

