/**
 * Two reports compared (issue 16: "show the deltas"): which run is before and which after,
 * what makes the comparison unfair, whether the verdict changed, and one delta per figure
 * and mode, judged by the figure's direction (lower lag is better, higher throughput is
 * better) and called "≈" inside the noise rather than coloured. Pure: the webview and the
 * unit tests import it.
 */
import { plannedModeOf } from '../advice/advise';
import { withinBudget } from '../advice/budget';
import { budgetOf, fmtMs, fmtPct } from '../shared/format';
import { MODES, ModeName } from '../shared/modes';
import type { ModeRun, Report } from '../shared/protocol';
import { allCallsRaised } from '../stats/callErrors';
import { hasLag } from './textTable';

/**
 * A change smaller than this share of the before value is called "≈": two runs of the
 * same code on the same machine differ by a few percent (the CI machine's repeated
 * windows: 2–4% on wall time and throughput), and a report has no spread of its own per
 * figure to judge by.
 */
export const NOISE_FRAC = 0.05;

export type Better = 'lower' | 'higher';

export interface DeltaFigure {
  key: string;
  label: string;
  better: Better;
  /** Lags are also ≈ within the idle loop's own lag (the reports' baselines): below that, the machine's noise. */
  lag?: boolean;
  /** A count the run states exactly (calls that raised): any change is one, never ≈. */
  exact?: boolean;
  /** Stops where a cut-short run was cut (its wall time, throughput, stalls): not comparable with such a run. */
  window?: boolean;
  /** Shown only when the report's runtime has it (GIL for Python, ELU for Node): a figure absent from both runs gets no row. */
  value(r: ModeRun): number | null;
  fmt(v: number): string;
  /** The difference as shown: ms for times, points for a share. */
  fmtDelta(d: number): string;
}

const signed = (s: string, d: number) => `${d > 0 ? '+' : d < 0 ? '−' : '±'}${s}`;
const lagOf = (get: (r: ModeRun) => number) => (r: ModeRun) => (hasLag(r) ? get(r) : null);
const ran = (get: (r: ModeRun) => number | null | undefined) => (r: ModeRun) => (r.status === 'skipped' ? null : get(r) ?? null);

/** The figures compared, in the table's order. */
export const DELTA_FIGURES: readonly DeltaFigure[] = [
  { key: 'p99', label: 'Lag p99', better: 'lower', lag: true, value: lagOf((r) => r.lag.p99Ms), fmt: fmtMs, fmtDelta: (d) => signed(fmtMs(Math.abs(d)), d) },
  { key: 'max', label: 'Lag max', better: 'lower', lag: true, value: lagOf((r) => r.lag.maxMs), fmt: fmtMs, fmtDelta: (d) => signed(fmtMs(Math.abs(d)), d) },
  { key: 'stalls', label: 'Stalls', better: 'lower', window: true, value: lagOf((r) => r.lag.stallCount), fmt: String, fmtDelta: (d) => signed(String(Math.abs(d)), d) },
  { key: 'throughput', label: 'Throughput', better: 'higher', window: true, value: ran((r) => r.throughputPerS), fmt: (v) => `${v.toFixed(1)}/s`, fmtDelta: (d) => signed(`${Math.abs(d).toFixed(1)}/s`, d) },
  { key: 'wall', label: 'Wall time', better: 'lower', window: true, value: ran((r) => r.wallMs), fmt: fmtMs, fmtDelta: (d) => signed(fmtMs(Math.abs(d)), d) },
  { key: 'errors', label: 'Calls that raised', better: 'lower', exact: true, value: ran((r) => r.taskStats.errorCount), fmt: String, fmtDelta: (d) => signed(String(Math.abs(d)), d) },
  { key: 'gil99', label: 'GIL wait p99', better: 'lower', lag: true, value: ran((r) => r.gilWait?.p99Ms), fmt: fmtMs, fmtDelta: (d) => signed(fmtMs(Math.abs(d)), d) },
  { key: 'elu', label: 'Event-loop utilization', better: 'lower', value: ran((r) => r.elu), fmt: fmtPct, fmtDelta: (d) => signed(`${(Math.abs(d) * 100).toFixed(1)} pts`, d) },
];

/**
 * `better`/`worse`: a change beyond the noise; `noise`: within it (≈); `same`: equal;
 * `only-before`/`only-after`: the mode has the figure in one run only; `cut-short`: one
 * run of the mode was cut short, and this figure stops at the cut (not comparable).
 */
export type DeltaJudgement = 'better' | 'worse' | 'noise' | 'same' | 'only-before' | 'only-after' | 'cut-short';

export interface Delta {
  mode: string;
  figure: DeltaFigure;
  before: number | null;
  after: number | null;
  /** after − before; null when one side has no figure. */
  diff: number | null;
  /** diff / before; null without both figures or with a before of 0. */
  frac: number | null;
  judgement: DeltaJudgement;
  /** ▲ the figure rose, ▼ it fell, ≈ within the noise, = unchanged; empty when one side has none. */
  arrow: '▲' | '▼' | '≈' | '=' | '';
}

/**
 * The delta of one figure. `noiseMs`: the lag below which a difference is the machine's
 * noise (the idle loop's p99 in either run), for lag figures only.
 */
export function judgeDelta(figure: DeltaFigure, before: number | null, after: number | null, noiseMs = 0): Omit<Delta, 'mode' | 'figure'> {
  if (before === null && after === null) return { before, after, diff: null, frac: null, judgement: 'same', arrow: '' };
  if (before === null) return { before, after, diff: null, frac: null, judgement: 'only-after', arrow: '' };
  if (after === null) return { before, after, diff: null, frac: null, judgement: 'only-before', arrow: '' };
  const diff = after - before;
  const frac = before !== 0 ? diff / Math.abs(before) : null;
  if (diff === 0) return { before, after, diff, frac, judgement: 'same', arrow: '=' };
  const small = !figure.exact && ((frac !== null && Math.abs(frac) < NOISE_FRAC) || (figure.lag === true && Math.abs(diff) <= noiseMs));
  if (small) return { before, after, diff, frac, judgement: 'noise', arrow: '≈' };
  const improved = figure.better === 'lower' ? diff < 0 : diff > 0;
  return { before, after, diff, frac, judgement: improved ? 'better' : 'worse', arrow: diff > 0 ? '▲' : '▼' };
}

/** The lag both runs' idle loops showed by themselves (baseline p99): differences below it are noise. */
export function noiseFloorMs(a: Report, b: Report): number {
  return Math.max(a.baseline?.lag.p99Ms ?? 0, b.baseline?.lag.p99Ms ?? 0);
}

/** The modes of either run, in the modes' own order (inline, thread, process, …), then any other. */
export function modesOf(before: Report, after: Report): string[] {
  const seen = new Set([...before.runs, ...after.runs].map((r) => r.mode));
  const known = (Object.keys(MODES) as ModeName[]).filter((m) => seen.has(m));
  return [...known, ...[...seen].filter((m) => !known.includes(m as ModeName))];
}

/** One delta per figure and mode measured in either run; a figure neither run of the mode has gets no row. */
export function deltas(before: Report, after: Report): Delta[] {
  const noise = noiseFloorMs(before, after);
  const out: Delta[] = [];
  for (const mode of modesOf(before, after)) {
    const b = before.runs.find((r) => r.mode === mode);
    const a = after.runs.find((r) => r.mode === mode);
    for (const figure of DELTA_FIGURES) {
      const vb = b ? figure.value(b) : null;
      const va = a ? figure.value(a) : null;
      if (vb === null && va === null) continue;
      if (figure.window && (b?.partial || a?.partial)) {
        out.push({ mode, figure, before: vb, after: va, diff: null, frac: null, judgement: 'cut-short', arrow: '' });
        continue;
      }
      out.push({ mode, figure, ...judgeDelta(figure, vb, va, noise) });
    }
  }
  return out;
}

/** A report's verdict in a word, from the numbers as the headline judges them (advice/advise.ts headline). */
export type VerdictWord = 'Safe' | 'Not safe' | 'Not measured' | 'Cut short' | 'Calls raised';

export interface RunVerdict {
  word: VerdictWord;
  mode: string;
}

export function verdictOf(report: Report, fallbackBudgetMs?: number): RunVerdict {
  const mode = plannedModeOf(report);
  const run = report.runs.find((r) => r.mode === mode);
  if (run?.partial) return { word: 'Cut short', mode };
  if (!run || run.status !== 'ok') return { word: 'Not measured', mode };
  if (allCallsRaised(run)) return { word: 'Calls raised', mode };
  return { word: withinBudget(run, budgetOf(report, fallbackBudgetMs)) ? 'Safe' : 'Not safe', mode };
}

export interface Comparison {
  before: Report;
  after: Report;
  /**
   * The verdicts of both, and whether they differ (the compare view says that first);
   * `withinNoise`: they differ, but the planned mode's lag max moved within the noise
   * (a figure at the budget's edge): a rerun may flip it back.
   */
  verdicts: { before: RunVerdict; after: RunVerdict; changed: boolean; withinNoise: boolean };
  /** Why the two runs are not like for like, one sentence each; empty when they are. */
  unfair: string[];
  deltas: Delta[];
}

/** `a` and `b` in either order: the older is "before". */
export function compareReports(a: Report, b: Report, fallbackBudgetMs?: number): Comparison {
  const [before, after] = Date.parse(a.createdAt) <= Date.parse(b.createdAt) ? [a, b] : [b, a];
  const vb = verdictOf(before, fallbackBudgetMs);
  const va = verdictOf(after, fallbackBudgetMs);
  const all = deltas(before, after);
  const changed = vb.word !== va.word || vb.mode !== va.mode;
  const edge = all.find((d) => d.mode === va.mode && d.figure.key === 'max');
  return {
    before, after,
    verdicts: { before: vb, after: va, changed, withinNoise: changed && vb.mode === va.mode && edge?.judgement === 'noise' },
    unfair: unfairness(before, after, fallbackBudgetMs),
    deltas: all,
  };
}

/** What was measured, in one phrase: `cpu_bound.py::cpu_bound_task(365, 120_000)`. */
export function targetPhrase(r: Report): string {
  const t = r.target;
  const what = t.qualname ?? (t.lines ? `lines ${t.lines.start}–${t.lines.end}` : '?');
  return `${t.file}::${what}(${t.args})`;
}

/** The interpreter that ran it: `CPython 3.11.7 (/usr/bin/python3)`. */
export function interpreterPhrase(r: Report): string {
  const rt = r.runtime;
  if (!rt) return 'interpreter unknown';
  return `${rt.implementation} ${rt.version}${rt.gilEnabled ? '' : ', GIL off'} (${rt.executable})`;
}

/** Each difference that makes the deltas measure something else than the change in the code. */
export function unfairness(before: Report, after: Report, fallbackBudgetMs?: number): string[] {
  const out: string[] = [];
  const differ = (what: string, b: string, a: string) => {
    if (b !== a) out.push(`Different ${what}: ${b} before, ${a} after.`);
  };
  differ('target', targetPhrase(before), targetPhrase(after));
  differ('interpreter', interpreterPhrase(before), interpreterPhrase(after));
  differ('concurrency', `${before.settings.concurrency} concurrent calls`, `${after.settings.concurrency} concurrent calls`);
  differ('pool size', `workers ${before.settings.workers ?? 'default'}`, `workers ${after.settings.workers ?? 'default'}`);
  // "default" is not one size: a FastAPI/Starlette `def` route's threads are its framework's
  // pool, other targets the executor's. The pools that ran, per mode measured in both.
  if ((before.settings.workers ?? null) === (after.settings.workers ?? null)) {
    for (const b of before.runs) {
      const a = after.runs.find((r) => r.mode === b.mode);
      if (a && b.status !== 'skipped' && a.status !== 'skipped' && b.workers !== a.workers) differ(`${b.mode} pool`, `${b.workers} workers`, `${a.workers} workers`);
    }
  }
  differ('lag budget', fmtMs(budgetOf(before, fallbackBudgetMs)), fmtMs(budgetOf(after, fallbackBudgetMs)));
  differ('stall threshold', fmtMs(before.settings.stallMs), fmtMs(after.settings.stallMs));
  differ('heartbeat', fmtMs(before.settings.heartbeatMs), fmtMs(after.settings.heartbeatMs));
  const switchInterval = (r: Report) => (r.settings.switchIntervalS === null ? 'none' : fmtMs(r.settings.switchIntervalS * 1000));
  differ('switch interval', switchInterval(before), switchInterval(after));
  const probe = (r: Report) => (!r.settings.gilProbe ? 'off' : r.settings.gilProbeInWindow ? 'in the measured windows' : 'in the diagnostic window');
  differ('GIL probe', probe(before), probe(after));
  differ('machine', `${before.runtime?.cpuCount ?? '?'} cores (${before.runtime?.platform ?? '?'})`, `${after.runtime?.cpuCount ?? '?'} cores (${after.runtime?.platform ?? '?'})`);
  for (const [side, r] of [['before', before], ['after', after]] as const) {
    const cut = r.runs.filter((m) => m.partial).map((m) => m.mode);
    if (cut.length) {
      out.push(`The ${side} run was cut short in ${cut.join(', ')}: wall time, throughput and stalls stop at the cut and are not compared.`);
    }
    if (!r.quality.trustworthy) {
      const load = r.quality.backgroundCpuFrac;
      out.push(`The machine was busy during the ${side} run${load === null ? '' : ` (other processes used ${fmtPct(load)} of its CPU)`}: its lags and times are inflated.`);
    }
  }
  return out;
}
