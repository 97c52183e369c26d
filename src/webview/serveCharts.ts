/**
 * Service mode's charts, per variant: the server loops' lag over the load's measured part
 * with the probe's latency as dots on the same time axis (what a trivial request waited
 * while the loop was late), and every endpoint's and the probe's request latency over that
 * time; the budget dashed. Every variant's chart of a kind gets the same axes, so small
 * multiples compare by eye.
 */
import uPlot from 'uplot';
import { decimateMinMax } from '../stats/decimate';
import type { ServeVariantReport } from '../shared/protocol/serveReport';
import { fmtMs } from '../shared/format';
import type { Chart } from './charts';
import type { Theme } from './theme';

const HEIGHT = 170;

/** The axes every variant's latency chart shares: the longest measured part, the slowest request. */
export function sharedLatencyAxes(variants: readonly ServeVariantReport[], budgetMs: number): { xMaxMs: number; yMaxMs: number } {
  return axesOver(variants.flatMap((v) => [...v.endpoints, ...(v.probe ? [v.probe] : [])].map((e) => e.timeline)), budgetMs);
}

/**
 * One variant's request latency over time: a series of dots per endpoint (the process
 * colours, in the document's order), the probe's in the foreground colour, the budget dashed.
 */
export function serveLatencyChart(el: HTMLElement, v: ServeVariantReport, opts: ChartOptions): Chart {
  const streams = [...v.endpoints, ...(v.probe ? [v.probe] : [])];
  const points: Point[] = [];
  streams.forEach((e, i) => {
    for (const [t, l] of e.timeline) points.push({ x: t, series: i, y: l });
  });
  const fg = opts.theme.fg;
  return timeChart(el, opts, points, streams.map((e, i) => dots(e.name, e === v.probe ? fg : opts.theme.process(i))),
    ['time since the measured load began (each request at its intended start)', 'latency']);
}

/** `[tMs, lagMs]` of every process of a variant, on the load's timeline (ServeProcess.offsetMs). */
function processSeries(v: ServeVariantReport): { xs: number[]; ys: number[] }[] {
  return v.loop.processes.map((p) => ({
    xs: p.lag.samples.map((s) => s[0] + (p.offsetMs ?? 0)),
    ys: p.lag.samples.map((s) => s[1]),
  }));
}

/** The axes every variant's lag chart shares: the longest measured part, the worst lag or probe latency. */
export function sharedAxes(variants: readonly ServeVariantReport[], budgetMs: number): { xMaxMs: number; yMaxMs: number } {
  return axesOver(variants.flatMap((v) => [...processSeries(v).map((s) => s.xs.map((x, i) => [x, s.ys[i]])), v.probe?.timeline ?? []]), budgetMs);
}

/** The furthest time and the highest value over `[t, y]` series (the budget at least), with 10% headroom above. */
function axesOver(series: readonly (readonly (readonly number[])[])[], budgetMs: number): { xMaxMs: number; yMaxMs: number } {
  let xMaxMs = 1;
  let yMaxMs = budgetMs;
  for (const s of series) {
    for (const [t, y] of s) {
      xMaxMs = Math.max(xMaxMs, t);
      yMaxMs = Math.max(yMaxMs, y);
    }
  }
  return { xMaxMs, yMaxMs: yMaxMs * 1.1 };
}

interface Point { x: number; series: number; y: number }

type ChartOptions = { width: number; theme: Theme; budgetMs: number; xMaxMs: number; yMaxMs: number };

/** A series drawn as dots only (a request's latency at its time). */
function dots(label: string, colour: string): uPlot.Series {
  return { label, stroke: colour, width: 0, paths: () => null, points: { show: true, size: 4, stroke: colour, fill: colour } };
}

/**
 * A chart over the load's timeline with the given axes: `series[i]` draws the points whose
 * `series` is i, then the budget dashed. Each point is its own row (the series do not share
 * x values); lines span the other series' rows.
 */
function timeChart(el: HTMLElement, opts: ChartOptions, points: Point[], series: uPlot.Series[], [xLabel, yLabel]: [string, string]): Chart {
  points.sort((a, b) => a.x - b.x);
  const data: (number | null)[][] = [points.map((p) => p.x)];
  for (let c = 0; c < series.length; c++) data.push(points.map((p) => (p.series === c ? p.y : null)));
  data.push(points.map(() => opts.budgetMs));
  const common = { stroke: opts.theme.fg, grid: { stroke: opts.theme.grid, width: 1 }, ticks: { stroke: opts.theme.grid, width: 1 } };
  const u = new uPlot(
    {
      width: opts.width,
      height: HEIGHT,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: false, range: () => [0, opts.xMaxMs] },
        y: { range: () => [0, opts.yMaxMs] },
      },
      series: [{}, ...series, { label: 'budget', stroke: opts.theme.threshold, width: 1, dash: [6, 4], points: { show: false } }],
      axes: [
        { ...common, label: xLabel, space: 80, values: (_u, splits) => splits.map((s) => fmtMs(s)) },
        { ...common, label: yLabel, size: 78, labelSize: 18, values: (_u, splits) => splits.map((s) => fmtMs(s)) },
      ],
    },
    data as uPlot.AlignedData,
    el,
  );
  return {
    destroy: () => u.destroy(),
    resize: (width) => u.setSize({ width, height: HEIGHT }),
    pointCount: () => points.length,
    view: () => null,
  };
}

/**
 * One variant's loop chart: the processes' lag (stepped: a lag covers the gap it ends),
 * then the probe's latency (dots only), then the budget.
 */
export function serveLagChart(el: HTMLElement, v: ServeVariantReport, opts: ChartOptions): Chart {
  const procs = processSeries(v);
  const buckets = Math.max(50, Math.floor(opts.width));
  const points: Point[] = [];
  procs.forEach((s, i) => {
    const d = decimateMinMax(Float64Array.from(s.xs), Float64Array.from(s.ys), buckets);
    d.x.forEach((x, j) => points.push({ x, series: i, y: d.y[j] }));
  });
  for (const [t, l] of v.probe?.timeline ?? []) points.push({ x: t, series: procs.length, y: l });
  const lines = procs.map((_, i): uPlot.Series => {
    const colour = opts.theme.process(i);
    return { label: `pid ${v.loop.processes[i].pid} lag`, stroke: colour, width: 1.5, spanGaps: true, paths: uPlot.paths.stepped!({ align: -1 }), points: { show: false } };
  });
  return timeChart(el, opts, points, [...lines, dots('probe latency', opts.theme.fg)], ['time since the measured load began', 'lag · probe']);
}
