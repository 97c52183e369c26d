/**
 * Charts drawn with uPlot. Lag samples are decimated min/max per pixel bucket, so a
 * stall never vanishes at any zoom; zooming re-decimates the visible range from the
 * full data.
 */
import uPlot from 'uplot';
import { cdfOnGrid, decimateMinMax, logGrid } from '../stats/decimate';
import { sortedCopy } from '../stats/percentiles';
import type { ModeRun, SweepPoint } from '../shared/protocol';
import { fmtMs } from '../shared/format';
import { h } from './dom';
import { readTheme, Theme } from './theme';

export type { Theme } from './theme';

/**
 * The square of a mode's colour next to its chart's caption, coloured as the chart is.
 * Set through the CSSOM, which the CSP (style-src without 'unsafe-inline') allows where a
 * style attribute would be blocked; `paintSwatches` recolours them when the theme changes.
 */
export function swatch(mode: string, theme: Theme = readTheme()): HTMLElement {
  const el = h('span', { class: `swatch mode-${mode}`, 'data-swatch': mode });
  el.style.setProperty('background', theme.mode(mode));
  return el;
}

/** Every swatch under `root` in the theme's colours. */
export function paintSwatches(root: ParentNode, theme: Theme): void {
  root.querySelectorAll<HTMLElement>('[data-swatch]').forEach((el) => el.style.setProperty('background', theme.mode(el.dataset.swatch!)));
}

/** What a chart shows beyond its data (a zoomed range, hidden series): kept when it is drawn again. */
export interface ChartView {
  x?: [number, number];
  /** Indexes of series hidden from the legend. */
  hidden?: number[];
}

export interface Chart {
  destroy(): void;
  resize(width: number): void;
  /** Number of points currently drawn (for tests and the bench). */
  pointCount(): number;
  /** The view to restore when the chart is drawn again (another theme). */
  view(): ChartView | null;
}

const HEIGHT = 170;
/** The distribution's y label needs the height (its caption explains it). */
const CDF_HEIGHT = 200;
/** Log scales cannot show zero: lags below a microsecond are drawn at 1 µs. */
const LOG_FLOOR_MS = 0.001;

/** A time axis (ms since the window opened) and a lag axis, in the theme's colours (the compare charts share them). */
export function axes(theme: Theme, yLabel: string, yValues?: uPlot.Axis['values']): uPlot.Axis[] {
  const common = { stroke: theme.fg, grid: { stroke: theme.grid, width: 1 }, ticks: { stroke: theme.grid, width: 1 } };
  return [
    { ...common, label: 'time since the window opened', space: 80, values: (_u, splits) => splits.map((s) => fmtMs(s)) },
    { ...common, label: yLabel, size: 78, labelSize: 18, values: yValues ?? ((_u, splits) => splits.map((s) => fmtMs(s))) },
  ];
}

function lowerBound(xs: Float64Array, x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Lag over time for one mode: a step line (each lag covers the gap it ends), the stall threshold dashed. */
export function lagChart(el: HTMLElement, run: ModeRun, opts: { stallMs: number; log: boolean; width: number; theme: Theme; view?: ChartView | null }): Chart {
  const xs = Float64Array.from(run.lag.samples, (s) => s[0]);
  const ys = Float64Array.from(run.lag.samples, (s) => (opts.log ? Math.max(LOG_FLOOR_MS, s[1]) : s[1]));
  const fullMax = Math.max(run.wallMs, xs.length ? xs[xs.length - 1] : 1);
  let drawn = 0;
  const build = (min: number, max: number, width: number): uPlot.AlignedData => {
    const i0 = Math.max(0, lowerBound(xs, min) - 1);
    const i1 = Math.min(xs.length, lowerBound(xs, max) + 1);
    const d = decimateMinMax(xs.subarray(i0, i1), ys.subarray(i0, i1), Math.max(50, Math.floor(width)));
    drawn = d.x.length;
    // A lag covers the gap that ends at its wake-up (stepped, align -1); a zero at the
    // window's start gives the first sample its gap to cover.
    if (i0 === 0 && (d.x.length === 0 || d.x[0] > 0)) {
      d.x.unshift(0);
      d.y.unshift(opts.log ? LOG_FLOOR_MS : 0);
    }
    return [d.x, d.y, d.x.map(() => opts.stallMs)];
  };
  const color = opts.theme.mode(run.mode);
  let u: uPlot;
  let zoomed: [number, number] | null = null;
  const zoomTo = (min: number, max: number) => {
    zoomed = min <= 0 && max >= fullMax ? null : [min, max];
    u.setData(build(min, max, u.bbox.width / devicePixelRatio), false);
    u.setScale('x', { min, max });
  };
  u = new uPlot(
    {
      width: opts.width,
      height: HEIGHT,
      legend: { show: false },
      scales: {
        x: { time: false, range: (_u, min, max) => [Math.max(0, min), Math.max(max, min + 1)] },
        y: opts.log
          ? { distr: 3, range: (_u, min, max) => [Math.max(LOG_FLOOR_MS, min / 2), Math.max(max, opts.stallMs) * 2] }
          : { range: (_u, _min, max) => [0, Math.max(max, opts.stallMs) * 1.15] },
      },
      cursor: { drag: { x: true, y: false, setScale: false } },
      series: [
        {},
        { label: `${run.mode} lag`, stroke: color, width: 1.5, fill: withAlpha(color, '22'), paths: uPlot.paths.stepped!({ align: -1 }), points: { show: xs.length < 60 } },
        { label: 'stall threshold', stroke: opts.theme.threshold, width: 1, dash: [6, 4], points: { show: false } },
      ],
      axes: axes(opts.theme, 'lag'),
      hooks: {
        setSelect: [
          (self) => {
            if (self.select.width > 3) {
              const min = self.posToVal(self.select.left, 'x');
              const max = self.posToVal(self.select.left + self.select.width, 'x');
              zoomTo(min, max);
            }
            self.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          },
        ],
      },
    },
    build(0, fullMax, opts.width),
    el,
  );
  if (opts.view?.x) zoomTo(...opts.view.x);
  else u.setScale('x', { min: 0, max: fullMax });
  u.over.addEventListener('dblclick', () => zoomTo(0, fullMax));
  return {
    destroy: () => u.destroy(),
    resize: (width) => u.setSize({ width, height: HEIGHT }),
    pointCount: () => drawn,
    view: () => (zoomed ? { x: zoomed } : null),
  };
}

/** The lag distribution of every measured mode as a CDF on a shared log-spaced grid. */
export function cdfChart(el: HTMLElement, runs: ModeRun[], opts: { width: number; theme: Theme; stallMs: number; view?: ChartView | null }): Chart {
  const measured = runs.filter((r) => r.status !== 'skipped' && r.lag.sampleCount > 0);
  const sorted = measured.map((r) => sortedCopy(r.lag.samples.map((s) => Math.max(LOG_FLOOR_MS * 10, s[1]))));
  const hi = Math.max(opts.stallMs, ...sorted.map((s) => s[s.length - 1] ?? 0));
  const grid = logGrid(0.01, hi * 1.05, 240);
  const u = new uPlot(
    {
      width: opts.width,
      height: CDF_HEIGHT,
      legend: { show: true, live: false },
      scales: { x: { time: false, distr: 3 }, y: { range: [0, 1] } },
      cursor: { drag: { x: true, y: false } },
      series: [
        { label: 'lag' },
        ...measured.map((r, i) => ({ label: r.mode, show: !opts.view?.hidden?.includes(i + 1), stroke: opts.theme.mode(r.mode), width: 2, points: { show: false } })),
      ],
      axes: [
        // Log axis: label the decades only, the other ticks stay as grid lines.
        { stroke: opts.theme.fg, grid: { stroke: opts.theme.grid }, label: 'lag', values: (_u, s) => s.map((v) => (v !== null && isDecade(v) ? fmtMs(v) : '')) },
        // A rotated label longer than the plot is tall is cut at the canvas's edge (it was):
        // short, and the figure's caption says the rest.
        { stroke: opts.theme.fg, grid: { stroke: opts.theme.grid }, label: 'beats ≤ lag', size: 52, labelSize: 22, values: (_u, s) => s.map((v) => `${Math.round(v * 100)}%`) },
      ],
    },
    [grid, ...sorted.map((s) => cdfOnGrid(s, grid))],
    el,
  );
  return { destroy: () => u.destroy(), resize: (width) => u.setSize({ width, height: CDF_HEIGHT }), pointCount: () => grid.length * measured.length, view: () => hiddenView(u) };
}

/** One lane per worker: each task's queued span (grey) and running span (mode colour). */
export function timelineChart(el: HTMLElement, run: ModeRun, opts: { width: number; theme: Theme }): Chart {
  const lanes = [...new Set(run.tasks.map((t) => t.worker ?? 'never started'))].sort(naturalCompare);
  const laneOf = new Map(lanes.map((w, i) => [w, i]));
  const height = 84 + lanes.length * 26; // the x axis and its label take ~80 px
  const end = Math.max(run.wallMs, ...run.tasks.map((t) => t.endMs ?? 0), 1);
  const spans = (kind: 'queued' | 'running'): uPlot.Series.PathBuilder => (u) => {
    const fill = new Path2D();
    const laneHeight = Math.abs(u.valToPos(0, 'y', true) - u.valToPos(1, 'y', true));
    for (const t of run.tasks) {
      const from = kind === 'queued' ? t.queuedMs : t.startMs;
      const to = kind === 'queued' ? t.startMs : t.endMs;
      if (from === null || to === null) continue;
      const lane = laneOf.get(t.worker ?? 'never started')!;
      const x0 = u.valToPos(from, 'x', true);
      const x1 = u.valToPos(to, 'x', true);
      const yc = u.valToPos(lane, 'y', true);
      const h = laneHeight * (kind === 'queued' ? 0.3 : 0.7);
      fill.rect(x0, yc - h / 2, Math.max(1, x1 - x0), h);
    }
    return { fill, stroke: null };
  };
  const u = new uPlot(
    {
      width: opts.width,
      height,
      legend: { show: false },
      scales: { x: { time: false, auto: false, range: [0, end] }, y: { auto: false, range: () => [-0.5, lanes.length - 0.5] } },
      cursor: { drag: { x: true, y: false }, points: { show: false } },
      series: [
        {},
        { label: 'queued', fill: opts.theme.queued, stroke: 'transparent', paths: spans('queued'), points: { show: false } },
        { label: 'running', fill: opts.theme.mode(run.mode), stroke: 'transparent', paths: spans('running'), points: { show: false } },
      ],
      axes: [
        axes(opts.theme, '')[0],
        {
          stroke: opts.theme.fg, grid: { show: false }, size: 120, label: 'worker',
          splits: () => lanes.map((_, i) => i),
          values: (_u, splits) => splits.map((s) => lanes[s] ?? ''),
        },
      ],
    },
    [[0, end], [0, 0], [0, 0]],
    el,
  );
  return { destroy: () => u.destroy(), resize: (width) => u.setSize({ width, height }), pointCount: () => run.tasks.length, view: () => null };
}

/** The series the legend hid, if any. */
export function hiddenView(u: uPlot): ChartView | null {
  const hidden = u.series.flatMap((s, i) => (i > 0 && s.show === false ? [i] : []));
  return hidden.length ? { hidden } : null;
}

/** A power of ten (log axes label only those). */
export function isDecade(v: number): boolean {
  const e = Math.log10(v);
  return Math.abs(e - Math.round(e)) < 1e-6;
}

function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, undefined, { numeric: true });
}

/** A translucent fill from a #rrggbb colour; other colour syntaxes get no fill. */
function withAlpha(color: string, alphaHex: string): string | undefined {
  return /^#[0-9a-f]{6}$/i.test(color) ? color + alphaHex : undefined;
}

/**
 * A sweep, one mode: throughput (left axis) and loop lag p99 and max (right axis, log)
 * against the pool size W (log₂ x), the lag budget dashed, the recommended W ringed.
 */
export function sweepChart(el: HTMLElement, points: SweepPoint[], opts: { width: number; theme: Theme; budgetMs: number; recommended: number | null; mode: string; view?: ChartView | null }): Chart {
  const ok = points.filter((p) => p.status === 'ok').sort((a, b) => a.workers - b.workers);
  const xs = ok.map((p) => p.workers);
  const color = opts.theme.mode(opts.mode);
  const lagFloor = (v: number) => Math.max(0.01, v);
  const data: uPlot.AlignedData = [
    xs,
    ok.map((p) => p.throughputPerS ?? null),
    ok.map((p) => lagFloor(p.lag.p99Ms)),
    ok.map((p) => lagFloor(p.lag.maxMs)),
    xs.map(() => opts.budgetMs),
    ok.map((p) => (p.workers === opts.recommended ? p.throughputPerS : null)),
  ];
  const common = { stroke: opts.theme.fg, grid: { stroke: opts.theme.grid, width: 1 }, ticks: { stroke: opts.theme.grid, width: 1 } };
  const u = new uPlot(
    {
      width: opts.width,
      height: 220,
      legend: { show: true, live: false },
      scales: {
        x: { time: false, distr: 3, log: 2 },
        tput: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.15] },
        lag: { distr: 3, range: (_u, min, max) => [Math.max(0.01, Math.min(min, opts.budgetMs) / 2), Math.max(max, opts.budgetMs) * 2] },
      },
      series: ([
        {},
        { label: 'calls/s', scale: 'tput', stroke: color, width: 2, points: { show: true, size: 6 } },
        { label: 'lag p99', scale: 'lag', stroke: opts.theme.fg, width: 1.5, dash: [4, 3], points: { show: true, size: 4 } },
        { label: 'lag max', scale: 'lag', stroke: opts.theme.threshold, width: 1.5, points: { show: true, size: 4 } },
        { label: 'lag budget', scale: 'lag', stroke: opts.theme.threshold, width: 1, dash: [8, 4], points: { show: false } },
        { label: 'recommended W', scale: 'tput', stroke: color, width: 0, points: { show: true, size: 14, width: 3, fill: 'transparent', stroke: color } },
      ] as uPlot.Series[]).map((s, i) => (opts.view?.hidden?.includes(i) ? { ...s, show: false } : s)),
      axes: [
        { ...common, label: 'workers (W)', values: (_u, splits) => splits.map((v) => (Number.isInteger(v) ? String(v) : '')) },
        { ...common, scale: 'tput', label: 'calls/s', size: 60 },
        { ...common, scale: 'lag', side: 1, label: 'loop lag', size: 78, grid: { show: false }, values: (_u, splits) => splits.map((v) => fmtMs(v)) },
      ],
    },
    data,
    el,
  );
  return {
    destroy: () => u.destroy(),
    resize: (width) => u.setSize({ width, height: 220 }),
    pointCount: () => xs.length,
    view: () => hiddenView(u),
  };
}
