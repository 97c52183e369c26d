/**
 * `npm run bench`: how fast and how faithful the engine is on this machine. Prints one
 * table (metric | value | target/notes) and exits 0; it is a measurement, not a test,
 * so nothing here passes or fails. Uses the real engine, the real python3 and the real
 * node, with the targets in test/fixtures/python/bench/bench_targets.py and
 * test/fixtures/node/bench/bench_targets.cjs. Budget: about a minute.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as zlib from 'node:zlib';
import { DEFAULTS } from '../../src/engine/options';
import { measure, runSession } from '../../src/engine/runSession';
import { buildReport, SessionState } from '../../src/report/buildReport';
import { NOISY_FLOOR_P99_MS } from '../../src/report/quality';
import { Mode, ModeRun, RawWindow, Report, RunSettings, SidecarMessage } from '../../src/shared/protocol';
import { lagStats } from '../../src/stats/lagStats';
import { standaloneHtml } from '../../src/report/html';
import { applyLiveDelta, liveDelta } from '../../src/shared/liveReport';
import { ToWebview } from '../../src/shared/webviewProtocol';
import { CHROMIUM, launchChromium } from '../support/browser';
import * as fakeVscode from '../support/fakeVscode';

/** The repository root: the nearest folder above the bundle with a package.json. */
const REPO = (() => {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
})();
const SIDECAR_DIR = path.join(REPO, 'src', 'sidecars', 'python');
const TARGETS = path.join(REPO, 'test', 'fixtures', 'python', 'bench', 'bench_targets.py');
const DEMO = path.join(REPO, 'examples', 'python', 'cpu_bound.py');
const PYTHON = process.env.LOOPLAG_BENCH_PYTHON ?? 'python3';
/** LOOPLAG_BENCH_VERBOSE=1 prints the raw task times behind the probe-overhead ratios to stderr. */
const VERBOSE = Boolean(process.env.LOOPLAG_BENCH_VERBOSE);

// --------------------------------------------------------------------------- the table

type Row = { section: string } | { metric: string; value: string; note: string };

class Table {
  readonly rows: Row[] = [];
  section(title: string): void {
    this.rows.push({ section: title });
  }
  row(metric: string, value: string, note = ''): void {
    this.rows.push({ metric, value, note });
  }
  format(): string {
    const cells = this.rows.filter((r): r is Exclude<Row, { section: string }> => !('section' in r));
    const w0 = Math.max(6, ...cells.map((r) => r.metric.length));
    const w1 = Math.max(5, ...cells.map((r) => r.value.length));
    const line = (a: string, b: string, c: string) => `${a.padEnd(w0)} | ${b.padStart(w1)} | ${c}`.trimEnd();
    const out = [line('metric', 'value', 'target/notes'), `${'-'.repeat(w0)}-+-${'-'.repeat(w1)}-+-${'-'.repeat(40)}`];
    for (const r of this.rows) out.push('section' in r ? `== ${r.section}` : line(r.metric, r.value, r.note));
    return out.join('\n') + '\n';
  }
}

const ms = (x: number | null | undefined, digits = 2) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : `${x.toFixed(digits)} ms`);
const ratio = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : `${x.toFixed(3)}×`);
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

function median(xs: readonly number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function div(a: number | null | undefined, b: number | null | undefined): number | null {
  return a === null || a === undefined || b === null || b === undefined || b === 0 ? null : a / b;
}

function progress(text: string): void {
  process.stderr.write(`bench: ${text}\n`);
}

// --------------------------------------------------------------------------- sessions

interface Timed {
  report: Report;
  /** From calling runSession to the first progress message / first finished mode / the end, ms. */
  firstProgressMs: number | null;
  firstRunMs: number | null;
  totalMs: number;
  stderr: string;
}

interface SessionInput {
  file?: string;
  qualname: string;
  args?: string;
  modes: Mode[];
  concurrency: number;
  workers?: number | null;
  gilProbe?: boolean;
  /** The probe in the measured windows too (default off, as the engine's default). */
  gilProbeInWindow?: boolean;
  baselineMs?: number;
}

async function session(input: SessionInput): Promise<Timed> {
  const file = input.file ?? TARGETS;
  const settings: RunSettings = {
    modes: input.modes,
    concurrency: input.concurrency,
    workers: input.workers ?? null,
    switchIntervalS: null,
    heartbeatMs: DEFAULTS.heartbeatMs,
    stallMs: DEFAULTS.stallMs,
    gilProbe: input.gilProbe ?? true,
    gilProbeInWindow: input.gilProbeInWindow ?? false,
    timeoutS: 30,
  };
  let firstProgressMs: number | null = null;
  let firstRunMs: number | null = null;
  let stderr = '';
  const t0 = performance.now();
  const report = await runSession({
    target: { file, qualname: input.qualname, lines: null, args: input.args ?? '', language: 'python', workspaceRoot: null },
    settings,
    python: PYTHON,
    sidecarDir: SIDECAR_DIR,
    baselineMs: input.baselineMs,
    onProgress: () => (firstProgressMs ??= performance.now() - t0),
    onRun: () => (firstRunMs ??= performance.now() - t0),
    onStderr: (text) => (stderr += text),
  });
  return { report, firstProgressMs, firstRunMs, totalMs: performance.now() - t0, stderr };
}

/** The mode's run when it was measured; otherwise undefined and a note says why. */
function okRun(report: Report, mode: Mode): ModeRun | undefined {
  return report.runs.find((r) => r.mode === mode && r.status === 'ok');
}

function whyMissing(report: Report, mode: Mode): string {
  const r = report.runs.find((x) => x.mode === mode);
  const err = r?.error ?? report.error;
  return `${mode} not measured${r ? ` (${r.status})` : ''}${err ? `: [${err.kind}] ${err.message}` : ''}`;
}

/** Other processes' share of the machine's CPU during a run's window. */
function busy(run: ModeRun): string {
  return run.backgroundCpuFrac === null ? 'background CPU unknown' : `others used ${(run.backgroundCpuFrac * 100).toFixed(0)}% CPU`;
}

function taskRunTimes(run: ModeRun | undefined): number[] {
  if (!run) return [];
  return run.tasks.filter((t) => !t.error && t.startMs !== null && t.endMs !== null).map((t) => t.endMs! - t.startMs!);
}

/** Times `fn` in a bare python3 (no sidecar, no probes, no event loop): ms per call. */
function plainPythonTimes(fn: string, calls: number): number[] {
  const code = [
    'import json, sys, time',
    `sys.path.insert(0, ${JSON.stringify(path.dirname(TARGETS))})`,
    'import bench_targets as b',
    `f = b.${fn}`,
    'f()  # warm-up, as the sidecar has imported and resolved the target before its window',
    'out = []',
    `for _ in range(${calls}):`,
    '    t = time.perf_counter(); f(); out.append((time.perf_counter() - t) * 1000.0)',
    'print(json.dumps(out))',
  ].join('\n');
  const r = spawnSync(PYTHON, ['-B', '-c', code], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`plain ${PYTHON} failed: ${r.error?.message ?? r.stderr.trim().split('\n').pop()}`);
  return JSON.parse(r.stdout) as number[];
}

// --------------------------------------------------------------------------- sections

async function environment(t: Table): Promise<void> {
  const probe = spawnSync(PYTHON, ['-c', 'import platform, os; print(platform.python_implementation(), platform.python_version(), os.cpu_count())'],
    { encoding: 'utf8' });
  const [impl, version, pyCores] = (probe.stdout ?? '').trim().split(' ');
  t.section('environment');
  t.row('cores (node os.cpus / python os.cpu_count)', `${os.cpus().length} / ${pyCores ?? '?'}`, `${os.cpus()[0]?.model ?? ''}`.trim());
  t.row('python', probe.status === 0 ? `${impl} ${version}` : 'not found', PYTHON);
  t.row('node', process.version, `${process.platform}-${process.arch}`);
  t.row('load average (1 min)', os.loadavg()[0].toFixed(2), 'above ~0.5 × cores, expect noisier numbers');
}

async function idleFloor(t: Table): Promise<void> {
  progress('idle floor');
  const s = await session({ qualname: 'noop', modes: ['inline'], concurrency: 10, baselineMs: 1000 });
  const b = s.report.baseline;
  t.section('idle floor (1 s idle baseline window, heartbeat 1 ms, GIL probe on)');
  if (b) {
    const beats = `${b.lag.sampleCount}/${b.lag.expectedSampleCount} beats`;
    t.row('idle heartbeat lag p50', ms(b.lag.p50Ms, 3), `timer overshoot only; ${beats}`);
    t.row('idle heartbeat lag p99', ms(b.lag.p99Ms, 3), `< ${NOISY_FLOOR_P99_MS} ms (quality.NOISY_FLOOR_P99_MS flags a noisy floor)`);
    t.row('idle heartbeat lag max', ms(b.lag.maxMs, 3), 'one-off scheduler hiccups');
    if (b.gilWait) {
      t.row('GIL-wait floor p50', ms(b.gilWait.p50Ms, 3), `probe's sleep overshoot with no contention; ${b.gilWait.sampleCount} wake-ups`);
      t.row('GIL-wait floor p99', ms(b.gilWait.p99Ms, 3), 'GIL waits below this are noise');
    } else {
      t.row('GIL-wait floor', '–', 'no GIL-probe data in the baseline');
    }
  } else {
    t.row('idle baseline', '–', `no baseline window${s.report.error ? `: ${s.report.error.message}` : ''}`);
  }
  const inline = okRun(s.report, 'inline');
  if (inline) {
    t.row('inline 10× noop: lag p50 / p99', `${ms(inline.lag.p50Ms, 3)} / ${ms(inline.lag.p99Ms, 3)}`,
      `≈ idle floor; ${inline.lag.sampleCount} beat(s) in a ${ms(inline.wallMs)} window, max ${ms(inline.lag.maxMs, 3)}`);
  } else {
    t.row('inline 10× noop', '–', whyMissing(s.report, 'inline'));
  }
}

async function fidelity(t: Table): Promise<void> {
  progress('fidelity');
  const s = await session({ qualname: 'busy_wait', args: 'ms=100', modes: ['inline', 'thread'], concurrency: 1 });
  t.section('fidelity: busy_wait(ms=100), concurrency 1');
  const inline = okRun(s.report, 'inline');
  const task = inline?.tasks[0];
  if (inline && task && task.startMs !== null && task.endMs !== null) {
    const duration = task.endMs - task.startMs;
    t.row('inline true task duration (endMs − startMs)', ms(duration), '≈ 100 ms by construction');
    t.row('inline measured max lag', ms(inline.lag.maxMs), `${inline.lag.stallCount} stall(s) ≥ ${s.report.settings.stallMs} ms; expect exactly 1`);
    t.row('inline max lag / task duration', ratio(div(inline.lag.maxMs, duration)), 'target ≈ 1.0; lag = gap − 1 ms interval, so a hair under');
  } else {
    t.row('inline max lag / task duration', '–', whyMissing(s.report, 'inline'));
  }
  const sw = s.report.settings.switchIntervalS;
  const swText = sw === null ? '?' : ms(sw * 1000, 1);
  const thread = okRun(s.report, 'thread');
  if (thread) {
    t.row('thread lag p99 / max, probe on', `${ms(thread.lag.p99Ms)} / ${ms(thread.lag.maxMs)}`,
      `≈ switch interval (${swText}), up to 2× when the probe wins the GIL first; ${busy(thread)}`);
  } else {
    t.row('thread lag, probe on', '–', whyMissing(s.report, 'thread'));
  }
  const off = await session({ qualname: 'busy_wait', args: 'ms=100', modes: ['thread'], concurrency: 1, gilProbe: false });
  const threadOff = okRun(off.report, 'thread');
  if (threadOff) {
    t.row('thread lag p99 / max, probe off', `${ms(threadOff.lag.p99Ms)} / ${ms(threadOff.lag.maxMs)}`,
      `≈ switch interval (${swText}): the loop waits for the GIL; ${busy(threadOff)}`);
  } else {
    t.row('thread lag, probe off', '–', whyMissing(off.report, 'thread'));
  }
}

async function probeOverhead(t: Table): Promise<void> {
  progress('probe overhead');
  t.section('probe overhead: py_work() (a fixed amount of pure-Python work), 6 calls one at a time (workers 1) × 3 interleaved rounds; ratios of the fastest calls');
  const times = { plain: [] as number[], inlineOn: [] as number[], inlineOff: [] as number[], threadOn: [] as number[], threadOff: [] as number[] };
  const notes: string[] = [];
  let background: number | null = null;
  // Two rounds of probe on/off, interleaved, so slow drift (CPU clocks, other load) hits both.
  for (let round = 0; round < 3; round++) {
    try {
      const plain = plainPythonTimes('py_work', 6);
      times.plain.push(...plain);
      if (VERBOSE) progress(`  plain: ${plain.map((x) => x.toFixed(1)).join(' ')}`);
    } catch (e) {
      notes.push((e as Error).message);
    }
    for (const gilProbe of [true, false]) {
      // "Probe on" here means in the measured window (the opt-in): that is the cost being measured.
      const s = await session({ qualname: 'py_work', modes: ['inline', 'thread'], concurrency: 6, workers: 1, gilProbe, gilProbeInWindow: gilProbe });
      const bg = s.report.quality.backgroundCpuFrac;
      if (bg !== null) background = Math.max(background ?? 0, bg);
      for (const mode of ['inline', 'thread'] as const) {
        const run = okRun(s.report, mode);
        if (!run) notes.push(whyMissing(s.report, mode));
        const key = `${mode}${gilProbe ? 'On' : 'Off'}` as const;
        times[key].push(...taskRunTimes(run));
        if (VERBOSE) progress(`  ${key}: ${taskRunTimes(run).map((x) => x.toFixed(1)).join(' ')}`);
      }
    }
  }
  // Noise on a shared machine only ever adds time (and the first call of a session
  // also pays for warming the interpreter up), so the ratios compare the fastest call
  // of each condition; the medians are shown for the spread.
  const floor = (xs: number[]) => (xs.length ? Math.min(...xs) : null);
  const m = {
    plain: floor(times.plain), inlineOn: floor(times.inlineOn), inlineOff: floor(times.inlineOff),
    threadOn: floor(times.threadOn), threadOff: floor(times.threadOff),
  };
  const spread = (xs: number[]) => `median ${ms(median(xs))} of ${xs.length}`;
  t.row('task time, plain python3 (no sidecar)', ms(m.plain), `fastest call; ${spread(times.plain)}`);
  t.row('task time, inline, probe on', ms(m.inlineOn), `${spread(times.inlineOn)}; heartbeat is blocked while an inline task runs`);
  t.row('task time, inline, probe off', ms(m.inlineOff), spread(times.inlineOff));
  t.row('task time, thread, probe on', ms(m.threadOn), `${spread(times.threadOn)}; heartbeat + probe take the GIL every 1 ms`);
  t.row('task time, thread, probe off', ms(m.threadOff), spread(times.threadOff));
  t.row('thread / inline, probe off (one run)', ratio(div(m.threadOff, m.inlineOff)), 'heartbeat cost on a GIL-bound worker; target ≤ 1.05');
  t.row('thread / inline, probe on (one run)', ratio(div(m.threadOn, m.inlineOn)), 'heartbeat cost with the probe also running; target ≤ 1.05');
  t.row('thread probe on / off (two sessions)', ratio(div(m.threadOn, m.threadOff)), 'GIL-probe cost in thread mode, interleaved sessions; target ≤ 1.05');
  t.row('inline probe on / off (two sessions)', ratio(div(m.inlineOn, m.inlineOff)), 'GIL-probe cost on an inline task, interleaved sessions');
  t.row('inline probe off / plain python3', ratio(div(m.inlineOff, m.plain)), 'sidecar cost with nothing preempting: ≈ 1.0 (across processes)');
  t.row('thread probe on / plain python3', ratio(div(m.threadOn, m.plain)), 'all the default run adds to a worker task (across processes)');
  t.row('other processes\' CPU during these windows', background === null ? '–' : `${(background * 100).toFixed(0)}%`,
    'max over the 6 sessions; medians grow when cores are contended');
  for (const n of [...new Set(notes)]) t.row('  note', '', n);
}

async function latency(t: Table): Promise<void> {
  progress('time to first result');
  t.section('latency and total wall');
  const firstProgress: number[] = [];
  const firstRun: number[] = [];
  const total: number[] = [];
  const baselineWall: number[] = [];
  let last: Timed | null = null;
  for (let i = 0; i < 3; i++) {
    const s = await session({ qualname: 'noop', modes: ['inline'], concurrency: 1 });
    last = s;
    if (s.firstProgressMs !== null) firstProgress.push(s.firstProgressMs);
    if (s.firstRunMs !== null) firstRun.push(s.firstRunMs);
    if (s.report.baseline) baselineWall.push(s.report.baseline.wallMs);
    total.push(s.totalMs);
  }
  const fr = median(firstRun);
  const bw = median(baselineWall);
  t.row('runSession → first progress (noop, inline)', ms(median(firstProgress), 1), 'python start + sidecar import + target import; median of 3');
  t.row('runSession → first onRun (noop, inline)', ms(fr, 1),
    fr === null ? (last?.report.error?.message ?? 'no run reported') : `includes the ${ms(bw, 0)} idle baseline window; median of 3`);
  t.row('  … of which not the baseline window', ms(fr !== null && bw !== null ? fr - bw : null, 1), 'the engine\'s own start-up cost');
  t.row('runSession total (noop, inline)', ms(median(total), 1), 'until the sidecar has exited');

  progress('demo (cpu_bound_task, all modes)');
  const demo = await session({ file: DEMO, qualname: 'cpu_bound_task', modes: DEFAULTS.modes, concurrency: DEFAULTS.concurrency });
  const parts = demo.report.runs.map((r) =>
    r.status === 'ok' ? `${r.mode} ${ms(r.wallMs, 0)}${r.startupMs !== null ? ` (+${ms(r.startupMs, 0)} start-up)` : ''}` : `${r.mode} ${r.status}`);
  t.row('demo wall: cpu_bound_task, all modes, 10 calls', ms(demo.totalMs, 0),
    `${demo.report.status}; ${parts.join(', ')}${demo.report.error ? `; ${demo.report.error.message}` : ''}`);
  const inline = okRun(demo.report, 'inline');
  if (inline) t.row('  demo inline lag max / task p50', `${ms(inline.lag.maxMs, 1)} / ${ms(inline.taskStats.runP50Ms, 1)}`, '10 pow() calls back to back, no await between: one stall ≈ the whole window');
}

// --------------------------------------------------------------------------- issue 10: measurements that do not disturb

const HARNESS = path.join(REPO, 'test', 'fixtures', 'python', 'call_later_harness.py');

/** p99 lag of the independent harness: a plain asyncio loop, a call_later heartbeat, a thread pool, no probe. */
function harnessP99(fn: string, args: unknown[], calls: number, workers: number): number | null {
  const r = spawnSync(PYTHON, [HARNESS, TARGETS, fn, JSON.stringify(args), String(calls), String(workers), String(DEFAULTS.heartbeatMs)],
    { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`harness failed: ${r.error?.message ?? r.stderr.trim().split('\n').pop()}`);
  const out = JSON.parse(r.stdout) as { samples: number[][]; wallMs: number };
  return lagStats(out.samples, { heartbeatMs: DEFAULTS.heartbeatMs, stallMs: DEFAULTS.stallMs, wallMs: out.wallMs }).p99Ms;
}

async function isolation(t: Table): Promise<void> {
  const [calls, workers] = [8, 2];
  progress('thread lag vs an independent call_later harness');
  t.section(`measurement isolation: py_work() in thread mode, ${calls} calls, workers ${workers}; one run each`);
  const reported = await session({ qualname: 'py_work', modes: ['thread'], concurrency: calls, workers });
  const inWindow = await session({ qualname: 'py_work', modes: ['thread'], concurrency: calls, workers, gilProbeInWindow: true });
  const harness = harnessP99('py_work', [], calls, workers);
  const r = okRun(reported.report, 'thread');
  const p = okRun(inWindow.report, 'thread');
  t.row('thread lag p99, reported window (default)', ms(r?.lag.p99Ms), r ? `${busy(r)}; GIL waits from the ${r.gilWaitSource ?? 'nowhere'}` : whyMissing(reported.report, 'thread'));
  t.row('thread lag p99, independent call_later harness', ms(harness), 'plain asyncio + ThreadPoolExecutor, no probe');
  t.row('reported / harness p99 (one run)', ratio(div(r?.lag.p99Ms, harness)), 'target ≈ 1 (the window has no extra GIL contender)');
  t.row('probe in window (--gil-probe-in-window) / harness p99', ratio(div(p?.lag.p99Ms, harness)),
    p ? `${ms(p.lag.p99Ms)}; the probe is one more thread wanting the GIL (issue 10: 1.3–3.7×)` : whyMissing(inWindow.report, 'thread'));

  progress('mode isolation cost');
  t.section('mode isolation: noop(), inline + thread + process, 2 calls; one run each');
  const modes: Mode[] = ['inline', 'thread', 'process'];
  const base = { qualname: 'noop', modes, concurrency: 2, workers: 2 };
  const isolated = await session(base);
  const settings: RunSettings = { modes, concurrency: 2, workers: 2, switchIntervalS: null, heartbeatMs: DEFAULTS.heartbeatMs, stallMs: DEFAULTS.stallMs, gilProbe: true, timeoutS: 30 };
  const t0 = performance.now();
  const shared = await measure({
    target: { file: TARGETS, qualname: 'noop', lines: null, args: '', language: 'python', workspaceRoot: null },
    settings, python: PYTHON, sidecarDir: SIDECAR_DIR,
  });
  const sharedMs = performance.now() - t0;
  t.row('wall, a sidecar per mode (default)', ms(isolated.totalMs, 0), isolated.report.status);
  t.row('wall, one sidecar for all modes', ms(sharedMs, 0), shared.error ? shared.error.message : 'complete');
  t.row('isolation cost per extra mode', ms((isolated.totalMs - sharedMs) / (modes.length - 1), 0), 'python start + sidecar and target import, once per mode after the first');
}

// --------------------------------------------------------------------------- the Node engine

const NODE_TARGETS = path.join(REPO, 'test', 'fixtures', 'node', 'bench', 'bench_targets.cjs');
const NODE_SIDECAR_DIR = path.join(REPO, 'dist', 'sidecars', 'node');
const NODE = process.env.LOOPLAG_BENCH_NODE ?? 'node';

/** One session of the Node engine on a bench target (runSession, as the CLI and the extension use it). */
async function nodeSession(input: Omit<SessionInput, 'file' | 'gilProbe'>): Promise<Timed> {
  const settings: RunSettings = {
    modes: input.modes, concurrency: input.concurrency, workers: input.workers ?? null, switchIntervalS: null,
    heartbeatMs: DEFAULTS.heartbeatMs, stallMs: DEFAULTS.stallMs, gilProbe: false, timeoutS: 30,
  };
  let firstProgressMs: number | null = null;
  let firstRunMs: number | null = null;
  let stderr = '';
  const t0 = performance.now();
  const report = await runSession({
    target: { file: NODE_TARGETS, qualname: input.qualname, lines: null, args: input.args ?? '', language: 'javascript', workspaceRoot: null },
    settings,
    node: NODE,
    nodeSidecarDir: NODE_SIDECAR_DIR,
    baselineMs: input.baselineMs,
    onProgress: () => (firstProgressMs ??= performance.now() - t0),
    onRun: () => (firstRunMs ??= performance.now() - t0),
    onStderr: (text) => (stderr += text),
  });
  return { report, firstProgressMs, firstRunMs, totalMs: performance.now() - t0, stderr };
}

/** Times `fn` in a bare node (no sidecar, no heartbeat): ms per call, after one warm-up call. */
function plainNodeTimes(fn: string, calls: number): number[] {
  const code = [
    `const b = require(${JSON.stringify(NODE_TARGETS)});`,
    `b.${fn}();`,
    'const out = [];',
    `for (let i = 0; i < ${calls}; i++) { const t = performance.now(); b.${fn}(); out.push(performance.now() - t); }`,
    'console.log(JSON.stringify(out));',
  ].join('\n');
  const r = spawnSync(NODE, ['-e', code], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`plain ${NODE} failed: ${r.error?.message ?? r.stderr.trim().split('\n').pop()}`);
  return JSON.parse(r.stdout) as number[];
}

async function nodeEngine(t: Table): Promise<void> {
  if (!fs.existsSync(path.join(NODE_SIDECAR_DIR, 'sidecar.js'))) {
    t.section('Node engine');
    t.row('Node sidecar', '–', 'not built: run `node esbuild.mjs` first');
    return;
  }
  progress('node: idle floor');
  t.section(`Node engine (${NODE}): idle floor (1 s idle baseline window, heartbeat 1 ms)`);
  const idle = await nodeSession({ qualname: 'noop', modes: ['inline'], concurrency: 10, baselineMs: 1000 });
  const b = idle.report.baseline;
  if (b) {
    t.row('idle heartbeat lag p50', ms(b.lag.p50Ms, 3), `timer overshoot only; ${b.lag.sampleCount}/${b.lag.expectedSampleCount} beats; node ${idle.report.runtime?.version ?? '?'}`);
    t.row('idle heartbeat lag p99', ms(b.lag.p99Ms, 3), `< ${NOISY_FLOOR_P99_MS} ms (quality.NOISY_FLOOR_P99_MS flags a noisy floor)`);
    t.row('idle heartbeat lag max', ms(b.lag.maxMs, 3), 'one-off scheduler hiccups');
  } else {
    t.row('idle baseline', '–', `no baseline window${idle.report.error ? `: ${idle.report.error.message}` : ''}`);
  }

  progress('node: fidelity');
  t.section('Node engine: fidelity, busyWait(100), concurrency 1');
  const fid = await nodeSession({ qualname: 'busyWait', args: '100', modes: ['inline', 'worker'], concurrency: 1 });
  const inline = okRun(fid.report, 'inline');
  const task = inline?.tasks[0];
  if (inline && task && task.startMs !== null && task.endMs !== null) {
    const duration = task.endMs - task.startMs;
    t.row('inline true task duration (endMs − startMs)', ms(duration), '≈ 100 ms by construction');
    t.row('inline measured max lag', ms(inline.lag.maxMs), `${inline.lag.stallCount} stall(s) ≥ ${fid.report.settings.stallMs} ms; expect exactly 1`);
    t.row('inline max lag / 100 ms', ratio(div(inline.lag.maxMs, 100)), 'target ≈ 1.0');
    t.row('inline max lag / task duration', ratio(div(inline.lag.maxMs, duration)), 'target ≈ 1.0; lag = gap − 1 ms interval, so a hair under');
    const eld = inline.eventLoopDelay;
    t.row('monitorEventLoopDelay max − resolution', eld ? ms(eld.maxMs - eld.resolutionMs) : '–',
      eld ? `Node's own histogram; heartbeat − this = ${ms(inline.lag.maxMs - (eld.maxMs - eld.resolutionMs), 3)} (target within ±2 ms)` : 'no histogram in the report');
    t.row('inline ELU', inline.elu === null || inline.elu === undefined ? '–' : inline.elu.toFixed(3), 'event-loop utilization of the window; ≈ 1 when one call fills it');
  } else {
    t.row('inline max lag / 100 ms', '–', whyMissing(fid.report, 'inline'));
  }
  const worker = okRun(fid.report, 'worker');
  if (worker) {
    t.row('worker lag p99 / max', `${ms(worker.lag.p99Ms)} / ${ms(worker.lag.maxMs)}`, `≈ idle floor: the call runs on another thread; ELU ${worker.elu?.toFixed(3) ?? '–'}; ${busy(worker)}`);
  } else {
    t.row('worker lag', '–', whyMissing(fid.report, 'worker'));
  }

  progress('node: probe overhead');
  t.section('Node engine: probe overhead, jsWork() (a fixed amount of work), 6 calls one at a time (workers 1) × 3 rounds; ratios of the fastest calls');
  const times = { plain: [] as number[], inline: [] as number[], worker: [] as number[], process: [] as number[] };
  const notes: string[] = [];
  let background: number | null = null;
  for (let round = 0; round < 3; round++) {
    try {
      times.plain.push(...plainNodeTimes('jsWork', 6));
    } catch (e) {
      notes.push((e as Error).message);
    }
    const s = await nodeSession({ qualname: 'jsWork', modes: ['inline', 'worker', 'process'], concurrency: 6, workers: 1 });
    const bg = s.report.quality.backgroundCpuFrac;
    if (bg !== null) background = Math.max(background ?? 0, bg);
    for (const mode of ['inline', 'worker', 'process'] as const) {
      const r = okRun(s.report, mode);
      if (!r) notes.push(whyMissing(s.report, mode));
      times[mode].push(...taskRunTimes(r));
      if (VERBOSE) progress(`  node ${mode}: ${taskRunTimes(r).map((x) => x.toFixed(1)).join(' ')}`);
    }
  }
  // Noise only ever adds time, so the ratios compare the fastest call of each condition.
  const floor = (xs: number[]) => (xs.length ? Math.min(...xs) : null);
  const spread = (xs: number[]) => `median ${ms(median(xs))} of ${xs.length}`;
  t.row('task time, plain node (no sidecar)', ms(floor(times.plain)), `fastest call; ${spread(times.plain)}`);
  t.row('task time, inline', ms(floor(times.inline)), `${spread(times.inline)}; the heartbeat cannot run during a synchronous call`);
  t.row('task time, worker', ms(floor(times.worker)), `${spread(times.worker)}; heartbeat on the main thread, work on a worker thread`);
  t.row('task time, process', ms(floor(times.process)), spread(times.process));
  t.row('inline / plain node', ratio(div(floor(times.inline), floor(times.plain))), 'sidecar cost with nothing preempting: ≈ 1.0 (across processes)');
  t.row('worker / inline (one session)', ratio(div(floor(times.worker), floor(times.inline))), 'heartbeat and pool cost on a worker task; target ≤ 1.05');
  t.row('process / inline (one session)', ratio(div(floor(times.process), floor(times.inline))), 'a child process pays nothing for the heartbeat; target ≤ 1.05');
  t.row('other processes\' CPU during these windows', background === null ? '–' : `${(background * 100).toFixed(0)}%`, 'max over the 3 sessions');
  for (const n of [...new Set(notes)]) t.row('  note', '', n);

  progress('node: time to first result');
  t.section('Node engine: latency');
  const firstProgress: number[] = [];
  const firstRun: number[] = [];
  const total: number[] = [];
  const baselineWall: number[] = [];
  const startup: number[] = [];
  let last: Timed | null = null;
  for (let i = 0; i < 3; i++) {
    const s = await nodeSession({ qualname: 'noop', modes: ['inline'], concurrency: 1 });
    last = s;
    if (s.firstProgressMs !== null) firstProgress.push(s.firstProgressMs);
    if (s.firstRunMs !== null) firstRun.push(s.firstRunMs);
    if (s.report.baseline) baselineWall.push(s.report.baseline.wallMs);
    total.push(s.totalMs);
  }
  for (let i = 0; i < 2; i++) {
    const s = await nodeSession({ qualname: 'noop', modes: ['worker', 'process'], concurrency: 1, workers: 2 });
    for (const mode of ['worker', 'process'] as const) {
      const r = okRun(s.report, mode);
      if (r?.startupMs !== null && r?.startupMs !== undefined) startup.push(r.startupMs);
    }
    if (VERBOSE) progress(`  pool start-up: ${s.report.runs.map((r) => `${r.mode} ${r.startupMs}`).join(', ')}`);
  }
  const fr = median(firstRun);
  const bw = median(baselineWall);
  t.row('runSession → first progress (noop, inline)', ms(median(firstProgress), 1), 'node start + sidecar load + target load; median of 3');
  t.row('runSession → first onRun (noop, inline)', ms(fr, 1),
    fr === null ? (last?.report.error?.message ?? 'no run reported') : `spawn → first result; includes the ${ms(bw, 0)} idle baseline window; median of 3`);
  t.row('  … of which not the baseline window', ms(fr !== null && bw !== null ? fr - bw : null, 1), 'the engine\'s own start-up cost');
  t.row('runSession total (noop, inline)', ms(median(total), 1), 'until the sidecar has exited');
  t.row('pool start-up, W=2 (worker and process)', startup.length ? `${ms(Math.min(...startup), 1)} – ${ms(Math.max(...startup), 1)}` : '–',
    'outside the measured window; range over 2 sessions of each');
}

/** Max lag of the independent pool harness (test/fixtures/node/bench/plain_pool.cjs), ms. */
function plainPoolMaxLag(how: 'per-dispatch' | 'up-front', workers: number, calls: number): number {
  const script = path.join(REPO, 'test', 'fixtures', 'node', 'bench', 'plain_pool.cjs');
  const r = spawnSync(NODE, [script, how, String(workers), String(calls)], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`plain pool harness failed: ${r.error?.message ?? r.stderr.trim().split('\n').pop()}`);
  return JSON.parse(r.stdout) as number;
}

async function nodePoolTransfer(t: Table): Promise<void> {
  progress('node: pool transfer');
  t.section('Node engine: pool max lag for 6 × 7 MB arguments (summarize(payload()), worker mode, W=2)');
  const s = await nodeSession({ qualname: 'summarize', args: 'payload()', modes: ['worker'], concurrency: 6, workers: 2 });
  const w = okRun(s.report, 'worker');
  const writes = w ? w.tasks.map((task) => task.transfer?.argsWriteMs ?? 0) : [];
  const harness = plainPoolMaxLag('per-dispatch', 2, 6);
  const upFront = plainPoolMaxLag('up-front', 2, 6);
  t.row('max lag, Loop Lag worker mode', ms(w?.lag.maxMs, 1), w ? `argsWriteMs per call ${writes.map((x) => x.toFixed(0)).join(', ')} ms; ${busy(w)}` : whyMissing(s.report, 'worker'));
  t.row('max lag, plain pool cloning per dispatch', ms(harness, 1), 'bare node: 1 ms setTimeout heartbeat, 2 worker_threads, postMessage when a worker frees up (as piscina)');
  t.row('Loop Lag / plain per-dispatch pool', ratio(div(w?.lag.maxMs, harness)), 'target ≈ 1 (one run each; both stall ~2 serializations when two workers free up at once)');
  t.row('max lag, plain pool serializing all 6 up front', ms(upFront, 1), `what Loop Lag's pool did before (${ratio(div(upFront, harness))} the per-dispatch stall)`);
}

/** A seeded generator: the synthetic data is the same on every run. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** A window of `n` heartbeat samples: mostly ~0.1 ms, with a 1-in-500 stall. */
function syntheticWindow(mode: Mode, n: number, rand: () => number): RawWindow {
  const samples: number[][] = [];
  let tMs = 0;
  for (let i = 0; i < n; i++) {
    const lag = rand() < 0.002 ? 20 + rand() * 200 : rand() * 0.2;
    tMs += 1 + lag;
    samples.push([Math.round(tMs * 1e4) / 1e4, Math.round(lag * 1e4) / 1e4]);
  }
  const tasks = Array.from({ length: 10 }, (_, id) => ({
    id, queuedMs: 0, startMs: id * 100, endMs: id * 100 + 100, worker: 'event loop', cpuMs: 100, error: null,
  }));
  return {
    mode, status: 'ok', error: null, wallMs: tMs, startupMs: null, workers: 1, tasks, samples,
    gilWaitsMs: samples.map((s) => s[1] / 2), cpu: { userMs: tMs, systemMs: 1 }, backgroundCpuFrac: 0,
    output: { stdout: '', stderr: '', truncated: false, stdoutBytes: 0, stderrBytes: 0 },
  };
}

function timeIt(reps: number, fn: () => void): number {
  fn(); // warm-up (JIT)
  const xs: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    xs.push(performance.now() - t0);
  }
  return median(xs)!;
}

function hostCosts(t: Table): void {
  progress('host-side costs');
  t.section('host side: 3 modes × 60,000 samples (synthetic, = 60 s windows at 1 ms)');
  const rand = lcg(42);
  const settings: RunSettings = {
    modes: ['inline', 'thread', 'process'], concurrency: 10, workers: null, switchIntervalS: 0.005,
    heartbeatMs: 1, stallMs: 50, gilProbe: true, timeoutS: 120,
  };
  const windows = settings.modes.map((m) => syntheticWindow(m, 60_000, rand));
  const state: SessionState = {
    target: { file: TARGETS, qualname: 'noop', lines: null, args: '', language: 'python' },
    settings, createdAt: new Date(), runtime: null, resolved: null,
    baseline: syntheticWindow('baseline' as Mode, 300, rand), windows, error: null, finished: true,
  };
  t.row('lagStats, one window of 60,000', ms(timeIt(5, () => lagStats(windows[0].samples, { ...settings, wallMs: windows[0].wallMs }))), 'median of 5');
  let report: Report | null = null;
  t.row('buildReport, 3 × 60,000', ms(timeIt(5, () => (report = buildReport(state)))), 'median of 5; runs again on every onRun (live views)');
  const json = JSON.stringify(report);
  t.row('report JSON size', kb(Buffer.byteLength(json)), 'samples are kept in the report for the timeline');
  t.row('Report.parse(JSON.parse(report))', ms(timeIt(3, () => Report.parse(JSON.parse(json)))), 'what a reader of --json / --out pays to validate');
  // A live panel update as the last of the three modes ends: what crosses to the webview
  // (as JSON, like postMessage) and what the webview validates before it draws.
  const full = report!;
  const before = { ...full, runs: full.runs.slice(0, 2) };
  const deliver = (m: unknown) => ToWebview.parse(JSON.parse(JSON.stringify(m)));
  const whole = { type: 'live', report: full, progress: null };
  const delta = { type: 'liveDelta', ...liveDelta(before, full), progress: null };
  t.row('live panel update, 3rd mode: whole report', ms(timeIt(3, () => deliver(whole))),
    `${kb(Buffer.byteLength(JSON.stringify(whole)))} serialized, parsed, validated; before issue 12, every mode's update`);
  t.row('live panel update, 3rd mode: finished window', ms(timeIt(3, () => applyLiveDelta(before, deliver(delta) as Extract<ToWebview, { type: 'liveDelta' }>))),
    `${kb(Buffer.byteLength(JSON.stringify(delta)))}: the report's head and the new window (liveDelta), applied`);
  const line = JSON.stringify({ type: 'window', window: windows[0] });
  t.row('sidecar window line: parse + validate', ms(timeIt(3, () => SidecarMessage.parse(JSON.parse(line)))),
    `one 60,000-sample window message, ${kb(Buffer.byteLength(line))}`);

  const cli = path.join(REPO, 'dist', 'cli.js');
  if (fs.existsSync(cli)) {
    const bytes = fs.readFileSync(cli);
    t.row('dist/cli.js size', kb(bytes.length), `gzip ${kb(zlib.gzipSync(bytes).length)}; esbuild dev build (not minified)`);
  } else {
    t.row('dist/cli.js size', '–', 'not built: run `node esbuild.mjs` first');
  }
}

/** The report UI in real Chromium: first full render of 3 modes × 60,000 samples, and bundle sizes. */
async function uiRender(t: Table): Promise<void> {
  progress('report UI render');
  t.section('report UI: 3 modes × 60,000 samples in Chromium (standalone HTML)');
  const dir = path.join(REPO, 'dist', 'webview');
  for (const name of ['main.js', 'main.css', 'standalone.css']) {
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) {
      t.row(`dist/webview/${name}`, '–', 'not built');
      continue;
    }
    const bytes = fs.readFileSync(file);
    t.row(`dist/webview/${name}`, kb(bytes.length), `gzip ${kb(zlib.gzipSync(bytes).length)}${name === 'standalone.css' ? '; codicon font inlined' : ''}`);
  }
  if (!fs.existsSync(CHROMIUM)) {
    t.row('first full render', '–', `${CHROMIUM} not installed (npm test installs it)`);
    return;
  }
  const rand = lcg(7);
  const settings: RunSettings = {
    modes: ['inline', 'thread', 'process'], concurrency: 10, workers: null, switchIntervalS: 0.005,
    heartbeatMs: 1, stallMs: 50, gilProbe: true, timeoutS: 120,
  };
  const report = buildReport({
    target: { file: TARGETS, qualname: 'noop', lines: null, args: '', language: 'python' },
    settings, createdAt: new Date(), runtime: null, resolved: null, baseline: null,
    windows: settings.modes.map((m) => syntheticWindow(m, 60_000, rand)), error: null, finished: true,
  });
  const html = standaloneHtml(report, { js: fs.readFileSync(path.join(dir, 'main.js'), 'utf8'), css: fs.readFileSync(path.join(dir, 'standalone.css'), 'utf8') });
  const file = path.join(os.tmpdir(), `looplag-bench-${process.pid}.html`);
  fs.writeFileSync(file, html);
  t.row('standalone HTML size', kb(Buffer.byteLength(html)), 'bundle, styles, font and the 180,000 samples in one file');
  const { browser, close } = await launchChromium();
  try {
    const renders: number[] = [];
    const firsts: number[] = [];
    let points = 0;
    for (let i = 0; i < 3; i++) {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      await page.goto(`file://${file}`);
      await page.waitForSelector('body[data-rendered="true"]', { timeout: 30_000 });
      const d = await page.evaluate(() => ({ ...document.body.dataset }));
      renders.push(Number(d.renderMs));
      firsts.push(Number(d.renderedAtMs));
      points = await page.$$eval('figure[data-chart^="lag-"] canvas', (c) => c.length);
      await page.close();
    }
    t.row('render(): DOM, table and 7 charts', ms(median(renders)!), 'target ≤ 250 ms; median of 3 page loads');
    t.row('navigation start → fully rendered', ms(median(firsts)!), 'includes parsing the inlined bundle and the 3.5 MB report');
    t.row('lag charts drawn', String(points), 'min/max decimation per pixel bucket: every stall kept');
  } finally {
    await close();
    fs.rmSync(file, { force: true });
  }
}

/** The extension's bundle: size, load time and activate() time (VS Code stood in by the fake module). */
function extensionActivation(t: Table): void {
  progress('extension activation');
  t.section('VS Code extension: dist/extension.js');
  const bundle = path.join(REPO, 'dist', 'extension.js');
  if (!fs.existsSync(bundle)) {
    t.row('dist/extension.js', '–', 'not built');
    return;
  }
  const bytes = fs.readFileSync(bundle);
  t.row('dist/extension.js size', kb(bytes.length), `gzip ${kb(zlib.gzipSync(bytes).length)}`);
  const vsix = path.join(REPO, 'looplag.vsix');
  if (fs.existsSync(vsix)) t.row('looplag.vsix size', kb(fs.statSync(vsix).size), 'target ≤ 1.5 MB; ~1 MB of it is the TypeScript compiler (Node sidecar, .ts targets)');
  // The bundle requires 'vscode' at load: hand it the stand-in module.
  const Module = require('node:module') as { _load(request: string, ...rest: unknown[]): unknown };
  const load = Module._load;
  Module._load = (request: string, ...rest: unknown[]) => (request === 'vscode' ? fakeVscode : load(request, ...rest));
  try {
    const t0 = performance.now();
    const ext = require(bundle) as { activate(context: unknown): void };
    const loadMs = performance.now() - t0;
    const storage = fs.mkdtempSync(path.join(os.tmpdir(), 'looplag-bench-ext-'));
    const context = {
      subscriptions: [] as { dispose(): unknown }[], extensionUri: fakeVscode.Uri.file(REPO),
      storageUri: fakeVscode.Uri.file(storage), globalStorageUri: fakeVscode.Uri.file(storage),
      extension: { id: 'looplag.looplag', packageJSON: { version: '0.1.0' } },
      workspaceState: { get: () => undefined, update: async () => undefined },
    };
    const t1 = performance.now();
    ext.activate(context);
    const activateMs = performance.now() - t1;
    for (const d of context.subscriptions) d.dispose();
    fs.rmSync(storage, { recursive: true, force: true });
    t.row('require(dist/extension.js)', ms(loadMs), 'parse and evaluate the bundle');
    t.row('activate()', ms(activateMs), 'registrations only; no process is started at activation');
  } finally {
    Module._load = load;
  }
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const t = new Table();
  const sections: [string, (t: Table) => unknown][] = [
    ['environment', environment], ['idle floor', idleFloor], ['fidelity', fidelity],
    ['probe overhead', probeOverhead], ['isolation', isolation], ['latency', latency], ['node engine', nodeEngine], ['node pool transfer', nodePoolTransfer], ['host costs', hostCosts], ['report UI', uiRender], ['extension', extensionActivation],
  ];
  // LOOPLAG_BENCH_ONLY=isolation,latency runs only those sections (and the environment).
  const only = process.env.LOOPLAG_BENCH_ONLY?.split(',').map((x) => x.trim());
  for (const [name, run] of sections) {
    if (only && name !== 'environment' && !only.includes(name)) continue;
    try {
      await run(t);
    } catch (e) {
      // A broken section is reported in the table; the rest still runs.
      t.row(`${name}: bench error`, '–', e instanceof Error ? e.message : String(e));
    }
  }
  t.section('bench');
  t.row('bench wall', ms(performance.now() - t0, 0), 'budget: under ~60 s');
  process.stdout.write(t.format());
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`bench: ${e instanceof Error ? e.stack : e}\n`);
    process.exit(0);
  },
);
