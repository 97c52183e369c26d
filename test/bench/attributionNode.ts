/**
 * What Node attribution (V8's CPU profiler during inline windows) costs and how much it
 * sees, per sampling interval: a mixed sync function's CPU off vs on (runs alternated,
 * the order turned each round, median of the per-round ratios), in one process (less
 * noise: no process start between runs; it decides the interval) and in the sidecar's
 * inline windows (what a run pays), an idle
 * loop's lag p99 off vs on, and the share of stalls ≥ 20 ms with at least one sample.
 * The real sidecar is driven with a plan of its own (the host's plan option lands
 * separately); the targets are in test/fixtures/node/attribution/benchWork.cjs.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULTS } from '../../src/engine/options';
import { SidecarProcess } from '../../src/engine/sidecarProcess';
import { PROTOCOL_VERSION, RawWindow, RunPlan } from '../../src/shared/protocol';
import { RUNTIMES } from '../../src/shared/modes';
import { median, ms, progress, REPO, Table } from './format';
import { NODE } from './runtimes';

const FIXTURES = path.join(REPO, 'test', 'fixtures', 'node', 'attribution');
const TARGET = path.join(FIXTURES, 'benchWork.cjs');
/** The same comparison in one process, without a sidecar between the runs. */
const PROFILER_COST = path.join(FIXTURES, 'profilerCost.cjs');
const SIDECAR = path.join(REPO, 'dist', 'sidecars', 'node', 'sidecar.js');
/** The intervals compared, ms. */
const INTERVALS = [1, 2, 5] as const;
/** Rounds of off/on sidecar windows: the median of at least five. */
const ROUNDS = 5;
/** Rounds of the one-process comparison (cheap: no process start per run). */
const PROCESS_ROUNDS = 11;
/** Calls per sidecar window: the per-call median is compared. */
const CALLS = 8;
/** The task-time overhead an interval may cost (issue 13). */
const OVERHEAD_TARGET = 0.03;
/** A stall, for coverage: a heartbeat gap of at least this. */
const STALL_MS = 20;

/** One inline window of the real sidecar; attribution at `intervalMs`, or off (null). */
async function inlineWindow(qualname: string, args: string, concurrency: number, intervalMs: number | null): Promise<RawWindow> {
  const plan: RunPlan = {
    target: { file: TARGET, qualname, lines: null, args, workspaceRoot: path.dirname(TARGET) },
    modes: ['inline'], concurrency, workers: null, switchIntervalS: null, heartbeatMs: DEFAULTS.heartbeatMs,
    gilProbe: false, gilProbeInWindow: false, warmup: true, callTimeoutS: null, baselineMs: 0, diagnostic: false, outputCapBytes: 65536,
    ...(intervalMs === null ? {} : { attribution: { enabled: true, intervalMs } }),
  };
  let window: RawWindow | null = null;
  let error: string | null = null;
  const sidecar: SidecarProcess = new SidecarProcess({
    command: NODE, args: [SIDECAR], cwd: path.dirname(TARGET), outputCapBytes: plan.outputCapBytes,
    onMessage: (m) => {
      if (m.type === 'hello') sidecar.send({ type: 'start', protocol: PROTOCOL_VERSION, plan });
      else if (m.type === 'window' && m.window.mode === 'inline') window = m.window;
      else if (m.type === 'error') error = m.error.message;
    },
  });
  const exit = await sidecar.stopped;
  if (!window || error) throw new Error(`${qualname}: ${error ?? `no inline window (exit ${exit.code}): ${exit.stderrTail.trim().split('\n').pop()}`}`);
  const w = window as RawWindow;
  if (w.attribution?.error) throw new Error(`${qualname} at ${intervalMs} ms: ${w.attribution.error}`);
  return w;
}

/** The median call's CPU (the process's: the profiler's own thread included on Node < 23.9), ms. */
function taskCpuMs(w: RawWindow): number {
  return median(w.tasks.map((k) => k.cpuMs ?? (k.endMs ?? 0) - (k.startMs ?? 0))) ?? NaN;
}

/** Overhead per interval: the median over rounds of on/off − 1. */
function overheads(rounds: Record<string, number>[]): Map<number, { overhead: number; ratios: number[] }> {
  return new Map(INTERVALS.map((c) => {
    const ratios = rounds.map((r) => r[c] / r.off);
    return [c, { overhead: (median(ratios) ?? NaN) - 1, ratios }];
  }));
}

function p99(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.99 * s.length) - 1)];
}

/** Stalls ≥ STALL_MS with at least one sample in them, and all of them. */
function coverage(w: RawWindow): { covered: number; stalls: number } {
  const gaps = w.samples.filter(([, lag]) => lag >= STALL_MS).map(([t, lag]) => [t - lag - DEFAULTS.heartbeatMs, t]);
  const samples = w.attribution?.samples ?? [];
  return { covered: gaps.filter(([a, b]) => samples.some((s) => s.tMs >= a && s.tMs <= b)).length, stalls: gaps.length };
}

const pct = (x: number | null) => (x === null ? '–' : `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`);

export async function nodeAttribution(t: Table): Promise<void> {
  t.section('Node attribution (V8 CPU profiler, inline): off vs 1/2/5 ms, runs alternated, the order turned each round');
  if (!fs.existsSync(SIDECAR)) {
    t.row('Node sidecar', '–', `not built (${SIDECAR}): node esbuild.mjs`);
    return;
  }
  const configs: (number | null)[] = [null, ...INTERVALS];

  progress('node attribution: profiler cost in one process');
  const one = spawnSync(NODE, [PROFILER_COST, String(PROCESS_ROUNDS), ...INTERVALS.map(String)], { encoding: 'utf8', timeout: 120_000 });
  if (one.status !== 0) throw new Error(`profilerCost.cjs failed: ${one.error?.message ?? one.stderr.trim().split('\n').pop()}`);
  const cost = JSON.parse(one.stdout) as { rounds: Record<string, number>[]; startMs: number };
  t.row(`one process: CPU of 3 × mixed(), profiler off (median of ${PROCESS_ROUNDS})`, ms(median(cost.rounds.map((r) => r.off)), 1), `Profiler.start blocked the loop ${ms(cost.startMs, 0)} (median): before the window, never in it`);
  let chosen: number | null = null;
  for (const [c, { overhead, ratios }] of overheads(cost.rounds)) {
    if (chosen === null && overhead <= OVERHEAD_TARGET) chosen = c;
    t.row(`one process: overhead at ${c} ms (median on/off per round)`, pct(overhead), `target ≤ ${OVERHEAD_TARGET * 100}%; ratios ${ratios.map((x) => x.toFixed(2)).join(' ')}`);
  }

  const rounds: Record<string, number>[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    progress(`node attribution: sidecar task time, round ${round + 1}/${ROUNDS}`);
    // Turned each round, so no configuration always runs first (or after the same one).
    const order = configs.map((_, i) => configs[(i + round) % configs.length]);
    const row: Record<string, number> = {};
    for (const c of order) row[c === null ? 'off' : c] = taskCpuMs(await inlineWindow('mixed', '', CALLS, c));
    rounds.push(row);
  }
  t.row(`sidecar: call CPU, attribution off (median call of ${CALLS}, median of ${ROUNDS})`, ms(median(rounds.map((r) => r.off)), 1), `runs: ${rounds.map((r) => r.off.toFixed(1)).join(' ')}`);
  for (const [c, { overhead, ratios }] of overheads(rounds)) {
    t.row(`sidecar: overhead at ${c} ms (median on/off per round)`, pct(overhead), `ratios ${ratios.map((x) => x.toFixed(2)).join(' ')}`);
  }
  t.row('smallest interval within the overhead target (one process)', chosen === null ? 'none' : `${chosen} ms`, `RUNTIMES.node.attribution.intervalMs is ${RUNTIMES.node.attribution.intervalMs} ms`);

  progress('node attribution: idle lag and coverage');
  for (const c of configs) {
    const w = await inlineWindow('idle', '500', 1, c);
    t.row(`idle lag p99, ${c === null ? 'attribution off' : `on at ${c} ms`}`, ms(p99(w.samples.map(([, lag]) => lag))), `${w.samples.length} beats over an idle 500 ms call`);
  }
  for (const c of INTERVALS) {
    const w = await inlineWindow('stalls', '15', 1, c);
    const { covered, stalls } = coverage(w);
    t.row(`stalls ≥ ${STALL_MS} ms with a sample, at ${c} ms`, stalls ? `${covered}/${stalls}` : '–', `target ≥ 90%; ${w.attribution?.samples.length ?? 0} samples sent`);
  }
}
