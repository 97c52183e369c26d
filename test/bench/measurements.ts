/**
 * The measurements both runtimes get: the idle floor, fidelity, probe overhead and
 * latency. Each is one function run per runtime, reading that runtime's row of its
 * table (section titles, row names and notes, and the rows only one runtime has).
 */
import * as path from 'node:path';
import { DEFAULTS } from '../../src/engine/options';
import { NOISY_FLOOR_P99_MS } from '../../src/report/quality';
import { Mode, ModeRun, Report } from '../../src/shared/protocol';
import { div, median, ms, progress, ratio, REPO, Table, VERBOSE } from './format';
import { BENCH_RUNTIMES, busy, NODE, okRun, session, taskRunTimes, Timed, whyMissing } from './runtimes';

export type RuntimeName = keyof typeof BENCH_RUNTIMES;

const DEMO = path.join(REPO, 'examples', 'python', 'cpu_bound.py');

// --------------------------------------------------------------------------- idle floor

const IDLE: Record<RuntimeName, {
  progress: string;
  title: string;
  /** Appended to the p50 row's note. */
  p50Note(s: Timed): string;
  /** More rows from the baseline window, and from the session. */
  baselineRows?(t: Table, b: NonNullable<Report['baseline']>): void;
  sessionRows?(t: Table, s: Timed): void;
}> = {
  python: {
    progress: 'idle floor',
    title: 'idle floor (1 s idle baseline window, heartbeat 1 ms, GIL probe on)',
    p50Note: () => '',
    baselineRows: (t, b) => {
      if (b.gilWait) {
        t.row('GIL-wait floor p50', ms(b.gilWait.p50Ms, 3), `probe's sleep overshoot with no contention; ${b.gilWait.sampleCount} wake-ups`);
        t.row('GIL-wait floor p99', ms(b.gilWait.p99Ms, 3), 'GIL waits below this are noise');
      } else {
        t.row('GIL-wait floor', '–', 'no GIL-probe data in the baseline');
      }
    },
    sessionRows: (t, s) => {
      const inline = okRun(s.report, 'inline');
      if (inline) {
        t.row('inline 10× noop: lag p50 / p99', `${ms(inline.lag.p50Ms, 3)} / ${ms(inline.lag.p99Ms, 3)}`,
          `≈ idle floor; ${inline.lag.sampleCount} beat(s) in a ${ms(inline.wallMs)} window, max ${ms(inline.lag.maxMs, 3)}`);
      } else {
        t.row('inline 10× noop', '–', whyMissing(s.report, 'inline'));
      }
    },
  },
  node: {
    progress: 'node: idle floor',
    title: `Node engine (${NODE}): idle floor (1 s idle baseline window, heartbeat 1 ms)`,
    p50Note: (s) => `; node ${s.report.runtime?.version ?? '?'}`,
  },
};

/** The heartbeat's lag with nothing running: a 1 s baseline window before 10 no-op calls. */
export async function idleFloor(t: Table, name: RuntimeName): Promise<void> {
  const rt = BENCH_RUNTIMES[name];
  const my = IDLE[name];
  progress(my.progress);
  t.section(my.title);
  const s = await session(rt, { qualname: rt.fns.noop, modes: ['inline'], concurrency: 10, baselineMs: 1000 });
  const b = s.report.baseline;
  if (b) {
    t.row('idle heartbeat lag p50', ms(b.lag.p50Ms, 3), `timer overshoot only; ${b.lag.sampleCount}/${b.lag.expectedSampleCount} beats${my.p50Note(s)}`);
    t.row('idle heartbeat lag p99', ms(b.lag.p99Ms, 3), `< ${NOISY_FLOOR_P99_MS} ms (quality.NOISY_FLOOR_P99_MS flags a noisy floor)`);
    t.row('idle heartbeat lag max', ms(b.lag.maxMs, 3), 'one-off scheduler hiccups');
    my.baselineRows?.(t, b);
  } else {
    t.row('idle baseline', '–', `no baseline window${s.report.error ? `: ${s.report.error.message}` : ''}`);
  }
  my.sessionRows?.(t, s);
}

// --------------------------------------------------------------------------- fidelity

const FIDELITY: Record<RuntimeName, {
  progress: string;
  title: string;
  /** The row that says why when inline was not measured. */
  missingRow: string;
  /** Rows about the inline call: before the lag/duration ratio, and after it. */
  beforeRatio?(t: Table, inline: ModeRun): void;
  afterRatio?(t: Table, inline: ModeRun): void;
  /** The same call on the thread-like pool mode (from the same session, and more). */
  poolRows(t: Table, s: Timed): Promise<void>;
}> = {
  python: {
    progress: 'fidelity',
    title: 'fidelity: busy_wait(ms=100), concurrency 1',
    missingRow: 'inline max lag / task duration',
    poolRows: async (t, s) => {
      const sw = s.report.settings.switchIntervalS;
      const swText = sw === null ? '?' : ms(sw * 1000, 1);
      const thread = okRun(s.report, 'thread');
      if (thread) {
        t.row('thread lag p99 / max, probe on', `${ms(thread.lag.p99Ms)} / ${ms(thread.lag.maxMs)}`,
          `≈ switch interval (${swText}), up to 2× when the probe wins the GIL first; ${busy(thread)}`);
      } else {
        t.row('thread lag, probe on', '–', whyMissing(s.report, 'thread'));
      }
      const off = await session(BENCH_RUNTIMES.python, { qualname: 'busy_wait', args: 'ms=100', modes: ['thread'], concurrency: 1, gilProbe: false });
      const threadOff = okRun(off.report, 'thread');
      if (threadOff) {
        t.row('thread lag p99 / max, probe off', `${ms(threadOff.lag.p99Ms)} / ${ms(threadOff.lag.maxMs)}`,
          `≈ switch interval (${swText}): the loop waits for the GIL; ${busy(threadOff)}`);
      } else {
        t.row('thread lag, probe off', '–', whyMissing(off.report, 'thread'));
      }
    },
  },
  node: {
    progress: 'node: fidelity',
    title: 'Node engine: fidelity, busyWait(100), concurrency 1',
    missingRow: 'inline max lag / 100 ms',
    beforeRatio: (t, inline) => t.row('inline max lag / 100 ms', ratio(div(inline.lag.maxMs, 100)), 'target ≈ 1.0'),
    afterRatio: (t, inline) => {
      const eld = inline.eventLoopDelay;
      t.row('monitorEventLoopDelay max − resolution', eld ? ms(eld.maxMs - eld.resolutionMs) : '–',
        eld ? `Node's own histogram; heartbeat − this = ${ms(inline.lag.maxMs - (eld.maxMs - eld.resolutionMs), 3)} (target within ±2 ms)` : 'no histogram in the report');
      t.row('inline ELU', inline.elu === null || inline.elu === undefined ? '–' : inline.elu.toFixed(3), 'event-loop utilization of the window; ≈ 1 when one call fills it');
    },
    poolRows: async (t, s) => {
      const worker = okRun(s.report, 'worker');
      if (worker) {
        t.row('worker lag p99 / max', `${ms(worker.lag.p99Ms)} / ${ms(worker.lag.maxMs)}`, `≈ idle floor: the call runs on another thread; ELU ${worker.elu?.toFixed(3) ?? '–'}; ${busy(worker)}`);
      } else {
        t.row('worker lag', '–', whyMissing(s.report, 'worker'));
      }
    },
  },
};

/** One 100 ms busy wait, inline and on the thread-like pool: the lag it causes against its true duration. */
export async function fidelity(t: Table, name: RuntimeName): Promise<void> {
  const rt = BENCH_RUNTIMES[name];
  const my = FIDELITY[name];
  progress(my.progress);
  t.section(my.title);
  const s = await session(rt, { ...rt.fns.busyWait(100), modes: ['inline', rt.threadMode], concurrency: 1 });
  const inline = okRun(s.report, 'inline');
  const task = inline?.tasks[0];
  if (inline && task && task.startMs !== null && task.endMs !== null) {
    const duration = task.endMs - task.startMs;
    t.row('inline true task duration (endMs − startMs)', ms(duration), '≈ 100 ms by construction');
    t.row('inline measured max lag', ms(inline.lag.maxMs), `${inline.lag.stallCount} stall(s) ≥ ${s.report.settings.stallMs} ms; expect exactly 1`);
    my.beforeRatio?.(t, inline);
    t.row('inline max lag / task duration', ratio(div(inline.lag.maxMs, duration)), 'target ≈ 1.0; lag = gap − 1 ms interval, so a hair under');
    my.afterRatio?.(t, inline);
  } else {
    t.row(my.missingRow, '–', whyMissing(s.report, 'inline'));
  }
  await my.poolRows(t, s);
}

// --------------------------------------------------------------------------- probe overhead

/** The fastest call and the spread of each condition's task times (`plain` is without Loop Lag). */
interface Conditions {
  floor(condition: string): number | null;
  spread(condition: string): string;
}

const PROBE_OVERHEAD: Record<RuntimeName, {
  progress: string;
  title: string;
  modes: Mode[];
  /** The sessions of one round: each condition is `${mode}${suffix}`. */
  sessions: { suffix: string; gilProbe?: boolean; gilProbeInWindow?: boolean }[];
  rows(c: Conditions): [metric: string, value: string, note: string][];
  backgroundNote: string;
}> = {
  python: {
    progress: 'probe overhead',
    title: 'probe overhead: py_work() (a fixed amount of pure-Python work), 6 calls one at a time (workers 1) × 3 interleaved rounds; ratios of the fastest calls',
    modes: ['inline', 'thread'],
    // Probe on and off, interleaved, so slow drift (CPU clocks, other load) hits both. "Probe
    // on" here means in the measured window (the opt-in): that is the cost being measured.
    sessions: [{ suffix: 'On', gilProbe: true, gilProbeInWindow: true }, { suffix: 'Off', gilProbe: false, gilProbeInWindow: false }],
    rows: ({ floor: f, spread }) => [
      ['task time, plain python3 (no sidecar)', ms(f('plain')), `fastest call; ${spread('plain')}`],
      ['task time, inline, probe on', ms(f('inlineOn')), `${spread('inlineOn')}; heartbeat is blocked while an inline task runs`],
      ['task time, inline, probe off', ms(f('inlineOff')), spread('inlineOff')],
      ['task time, thread, probe on', ms(f('threadOn')), `${spread('threadOn')}; heartbeat + probe take the GIL every 1 ms`],
      ['task time, thread, probe off', ms(f('threadOff')), spread('threadOff')],
      ['thread / inline, probe off (one run)', ratio(div(f('threadOff'), f('inlineOff'))), 'heartbeat cost on a GIL-bound worker; target ≤ 1.05'],
      ['thread / inline, probe on (one run)', ratio(div(f('threadOn'), f('inlineOn'))), 'heartbeat cost with the probe also running; target ≤ 1.05'],
      ['thread probe on / off (two sessions)', ratio(div(f('threadOn'), f('threadOff'))), 'GIL-probe cost in thread mode, interleaved sessions; target ≤ 1.05'],
      ['inline probe on / off (two sessions)', ratio(div(f('inlineOn'), f('inlineOff'))), 'GIL-probe cost on an inline task, interleaved sessions'],
      ['inline probe off / plain python3', ratio(div(f('inlineOff'), f('plain'))), 'sidecar cost with nothing preempting: ≈ 1.0 (across processes)'],
      ['thread probe on / plain python3', ratio(div(f('threadOn'), f('plain'))), 'all the default run adds to a worker task (across processes)'],
    ],
    backgroundNote: 'max over the 6 sessions; medians grow when cores are contended',
  },
  node: {
    progress: 'node: probe overhead',
    title: 'Node engine: probe overhead, jsWork() (a fixed amount of work), 6 calls one at a time (workers 1) × 3 rounds; ratios of the fastest calls',
    modes: ['inline', 'worker', 'process'],
    sessions: [{ suffix: '' }],
    rows: ({ floor: f, spread }) => [
      ['task time, plain node (no sidecar)', ms(f('plain')), `fastest call; ${spread('plain')}`],
      ['task time, inline', ms(f('inline')), `${spread('inline')}; the heartbeat cannot run during a synchronous call`],
      ['task time, worker', ms(f('worker')), `${spread('worker')}; heartbeat on the main thread, work on a worker thread`],
      ['task time, process', ms(f('process')), spread('process')],
      ['inline / plain node', ratio(div(f('inline'), f('plain'))), 'sidecar cost with nothing preempting: ≈ 1.0 (across processes)'],
      ['worker / inline (one session)', ratio(div(f('worker'), f('inline'))), 'heartbeat and pool cost on a worker task; target ≤ 1.05'],
      ['process / inline (one session)', ratio(div(f('process'), f('inline'))), 'a child process pays nothing for the heartbeat; target ≤ 1.05'],
    ],
    backgroundNote: 'max over the 3 sessions',
  },
};

/** What measuring costs a call: the same fixed work timed bare and in each mode, 3 rounds. */
export async function probeOverhead(t: Table, name: RuntimeName): Promise<void> {
  const rt = BENCH_RUNTIMES[name];
  const my = PROBE_OVERHEAD[name];
  progress(my.progress);
  t.section(my.title);
  const times = new Map<string, number[]>([['plain', []]]);
  const add = (condition: string, xs: number[]) => times.set(condition, [...(times.get(condition) ?? []), ...xs]);
  const notes: string[] = [];
  let background: number | null = null;
  for (let round = 0; round < 3; round++) {
    try {
      const plain = rt.plainTimes(rt.fns.work, 6);
      add('plain', plain);
      if (VERBOSE) progress(`  ${rt.progressPrefix}plain: ${plain.map((x) => x.toFixed(1)).join(' ')}`);
    } catch (e) {
      notes.push((e as Error).message);
    }
    for (const { suffix, ...probe } of my.sessions) {
      const s = await session(rt, { qualname: rt.fns.work, modes: my.modes, concurrency: 6, workers: 1, ...probe });
      const bg = s.report.quality.backgroundCpuFrac;
      if (bg !== null) background = Math.max(background ?? 0, bg);
      for (const mode of my.modes) {
        const run = okRun(s.report, mode);
        if (!run) notes.push(whyMissing(s.report, mode));
        add(`${mode}${suffix}`, taskRunTimes(run));
        if (VERBOSE) progress(`  ${rt.progressPrefix}${mode}${suffix}: ${taskRunTimes(run).map((x) => x.toFixed(1)).join(' ')}`);
      }
    }
  }
  // Noise on a shared machine only ever adds time (and the first call of a session
  // also pays for warming the interpreter up), so the ratios compare the fastest call
  // of each condition; the medians are shown for the spread.
  const of = (condition: string) => times.get(condition) ?? [];
  const conditions: Conditions = {
    floor: (c) => (of(c).length ? Math.min(...of(c)) : null),
    spread: (c) => `median ${ms(median(of(c)))} of ${of(c).length}`,
  };
  for (const [metric, value, note] of my.rows(conditions)) t.row(metric, value, note);
  t.row('other processes\' CPU during these windows', background === null ? '–' : `${(background * 100).toFixed(0)}%`, my.backgroundNote);
  for (const n of [...new Set(notes)]) t.row('  note', '', n);
}

// --------------------------------------------------------------------------- latency

const LATENCY: Record<RuntimeName, {
  progress: string;
  title: string;
  /** What the time to the first progress message includes. */
  startNote: string;
  /** Before the first onRun row's note. */
  firstRunNote: string;
  /** The runtime's own rows after the common ones (they may start more sessions). */
  after(t: Table): Promise<void>;
}> = {
  python: {
    progress: 'time to first result',
    title: 'latency and total wall',
    startNote: 'python start + sidecar import + target import; median of 3',
    firstRunNote: '',
    after: async (t) => {
      progress('demo (cpu_bound_task, all modes)');
      const demo = await session(BENCH_RUNTIMES.python, { file: DEMO, qualname: 'cpu_bound_task', modes: DEFAULTS.modes, concurrency: DEFAULTS.concurrency });
      const parts = demo.report.runs.map((r) =>
        r.status === 'ok' ? `${r.mode} ${ms(r.wallMs, 0)}${r.startupMs !== null ? ` (+${ms(r.startupMs, 0)} start-up)` : ''}` : `${r.mode} ${r.status}`);
      t.row('demo wall: cpu_bound_task, all modes, 10 calls', ms(demo.totalMs, 0),
        `${demo.report.status}; ${parts.join(', ')}${demo.report.error ? `; ${demo.report.error.message}` : ''}`);
      const inline = okRun(demo.report, 'inline');
      if (inline) t.row('  demo inline lag max / task p50', `${ms(inline.lag.maxMs, 1)} / ${ms(inline.taskStats.runP50Ms, 1)}`, '10 pow() calls back to back, no await between: one stall ≈ the whole window');
    },
  },
  node: {
    progress: 'node: time to first result',
    title: 'Node engine: latency',
    startNote: 'node start + sidecar load + target load; median of 3',
    firstRunNote: 'spawn → first result; ',
    after: async (t) => {
      const startup: number[] = [];
      for (let i = 0; i < 2; i++) {
        const s = await session(BENCH_RUNTIMES.node, { qualname: 'noop', modes: ['worker', 'process'], concurrency: 1, workers: 2 });
        for (const mode of ['worker', 'process'] as const) {
          const r = okRun(s.report, mode);
          if (r?.startupMs !== null && r?.startupMs !== undefined) startup.push(r.startupMs);
        }
        if (VERBOSE) progress(`  pool start-up: ${s.report.runs.map((r) => `${r.mode} ${r.startupMs}`).join(', ')}`);
      }
      t.row('pool start-up, W=2 (worker and process)', startup.length ? `${ms(Math.min(...startup), 1)} – ${ms(Math.max(...startup), 1)}` : '–',
        'outside the measured window; range over 2 sessions of each');
    },
  },
};

/** From runSession to the first progress message, the first result and the end, for a no-op call. */
export async function latency(t: Table, name: RuntimeName): Promise<void> {
  const rt = BENCH_RUNTIMES[name];
  const my = LATENCY[name];
  progress(my.progress);
  t.section(my.title);
  const firstProgress: number[] = [];
  const firstRun: number[] = [];
  const total: number[] = [];
  const baselineWall: number[] = [];
  let last: Timed | null = null;
  for (let i = 0; i < 3; i++) {
    const s = await session(rt, { qualname: rt.fns.noop, modes: ['inline'], concurrency: 1 });
    last = s;
    if (s.firstProgressMs !== null) firstProgress.push(s.firstProgressMs);
    if (s.firstRunMs !== null) firstRun.push(s.firstRunMs);
    if (s.report.baseline) baselineWall.push(s.report.baseline.wallMs);
    total.push(s.totalMs);
  }
  const fr = median(firstRun);
  const bw = median(baselineWall);
  t.row('runSession → first progress (noop, inline)', ms(median(firstProgress), 1), my.startNote);
  t.row('runSession → first onRun (noop, inline)', ms(fr, 1),
    fr === null ? (last?.report.error?.message ?? 'no run reported') : `${my.firstRunNote}includes the ${ms(bw, 0)} idle baseline window; median of 3`);
  t.row('  … of which not the baseline window', ms(fr !== null && bw !== null ? fr - bw : null, 1), 'the engine\'s own start-up cost');
  t.row('runSession total (noop, inline)', ms(median(total), 1), 'until the sidecar has exited');
  await my.after(t);
}

/** The measurements every runtime gets, in the order the table prints them. */
export const SHARED_MEASUREMENTS = [idleFloor, fidelity, probeOverhead, latency] as const;
