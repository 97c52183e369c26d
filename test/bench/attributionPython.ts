/**
 * Python attribution's cost and reach (issue 13): the same session with attribution on
 * and off, alternating, so the machine's load drifts over both alike; the median of each.
 * The sidecar is driven directly (the engine's option for it is built apart): a
 * baseline (idle lag with clock reads only), inline and thread windows of steps.py.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { SidecarProcess } from '../../src/engine/sidecarProcess';
import { percentileSorted } from '../../src/stats/percentiles';
import type { RawAttribution } from '../../src/shared/protocol/attribution';
import { PROTOCOL_VERSION, RawWindow, RunPlan } from '../../src/shared/protocol/sidecar';
import { div, median, ms, progress, ratio, REPO, Table } from './format';
import { PYTHON, SIDECAR_DIR } from './runtimes';

const FILE = path.join(REPO, 'test', 'fixtures', 'python', 'attribution', 'steps.py');
const PAIRS = 5;
const INTERVAL_MS = 10;
const REARM_MS = 5;

async function session(attribution: boolean): Promise<Map<string, RawWindow>> {
  const plan: RunPlan = {
    target: { file: FILE, qualname: 'steps', lines: null, args: '100_000', workspaceRoot: path.dirname(FILE) },
    modes: ['inline', 'thread'], concurrency: 4, workers: 2, switchIntervalS: null, heartbeatMs: 1, gilProbe: false,
    baselineMs: 300, outputCapBytes: 65536, diagnostic: false, warmup: false,
    attribution: { enabled: attribution, intervalMs: INTERVAL_MS, rearmMs: REARM_MS },
  };
  const windows = new Map<string, RawWindow>();
  const sidecar: SidecarProcess = new SidecarProcess({
    command: PYTHON, args: [path.join(SIDECAR_DIR, 'run_sidecar.py')], outputCapBytes: 65536,
    onMessage(message) {
      if (message.type === 'hello') sidecar.send({ type: 'start', protocol: PROTOCOL_VERSION, plan });
      else if (message.type === 'window') windows.set(message.window.mode, message.window);
    },
  });
  await sidecar.stopped;
  return windows;
}

const taskMs = (w: RawWindow | undefined) => median((w?.tasks ?? []).flatMap((x) => (x.startMs !== null && x.endMs !== null ? [x.endMs - x.startMs] : [])));
const cpuMs = (w: RawWindow | undefined) => (w ? w.cpu.userMs + w.cpu.systemMs : null);
const lagP99 = (w: RawWindow | undefined) => (w && w.samples.length ? percentileSorted(w.samples.map(([, lag]) => lag).sort((a, b) => a - b), 0.99) : null);

/** Stalled ms (stalls ≥ 20 ms) in a heartbeat gap that holds at least one sample, over all such stalled ms. */
function coverage20(w: RawWindow | undefined): number | null {
  const a = w?.attribution as RawAttribution | undefined;
  if (!w || !a) return null;
  const sampled = new Set(a.samples.map((s) => w.samples.findIndex(([t]) => t >= s.tMs)));
  let all = 0;
  let hit = 0;
  w.samples.forEach(([, lag], i) => {
    if (lag < 20) return;
    all += lag;
    if (sampled.has(i)) hit += lag;
  });
  return all ? hit / all : null;
}

/** µs per stack read (sys._current_frames and a 30-frame walk) and per CPU-clock read of 3 threads, in-process. */
function sampleCostUs(): { read: number; clocks: number } | null {
  const script = `
import sys, threading, time
ev = threading.Event(); ts = [threading.Thread(target=ev.wait) for _ in range(2)]; [t.start() for t in ts]
clocks = [time.pthread_getcpuclockid(i) for i in [threading.get_ident()] + [t.ident for t in ts]]
def walk(f):
    out = []
    while f is not None: out.append((f.f_code.co_filename, f.f_lineno, f.f_code.co_name)); f = f.f_back
    return out
def deep(k):
    if k: return deep(k - 1)
    n = 2000; t0 = time.perf_counter()
    for _ in range(n): [walk(f) for f in sys._current_frames().values()]
    t1 = time.perf_counter()
    for _ in range(n): [time.clock_gettime(c) for c in clocks]
    t2 = time.perf_counter(); ev.set()
    print((t1 - t0) / n * 1e6, (t2 - t1) / n * 1e6)
deep(25)`;
  const r = spawnSync(PYTHON, ['-c', script], { encoding: 'utf8' });
  const [read, clocks] = (r.stdout ?? '').trim().split(' ').map(Number);
  return r.status === 0 && Number.isFinite(read) ? { read, clocks } : null;
}

export async function attributionPython(t: Table): Promise<void> {
  t.section('python attribution (sys._current_frames with the GIL held, stalls ≥ 10 ms, clocks every 5 ms; steps.py, off/on alternating)');
  const runs: Record<'on' | 'off', Map<string, RawWindow>[]> = { on: [], off: [] };
  for (let i = 0; i < PAIRS; i++) {
    progress(`python attribution pair ${i + 1}/${PAIRS}`);
    for (const side of i % 2 ? (['on', 'off'] as const) : (['off', 'on'] as const)) runs[side].push(await session(side === 'on'));
  }
  const med = (side: 'on' | 'off', f: (w: RawWindow | undefined) => number | null, mode: string) =>
    median(runs[side].map((m) => f(m.get(mode))).filter((x): x is number => x !== null));
  for (const mode of ['inline', 'thread']) {
    const off = med('off', taskMs, mode);
    const on = med('on', taskMs, mode);
    t.row(`${mode} task time off → on (median of ${PAIRS})`, `${ms(off, 1)} → ${ms(on, 1)}`, `on/off ${ratio(div(on, off))}; target ≤ 1.03× (noise at load > cores)`);
  }
  for (const mode of ['inline', 'thread']) {
    const off = med('off', cpuMs, mode);
    const on = med('on', cpuMs, mode);
    t.row(`${mode} process CPU off → on (median of ${PAIRS})`, `${ms(off, 0)} → ${ms(on, 0)}`, `on/off ${ratio(div(on, off))}: the sampling's own cost, less sensitive to load than wall time`);
  }
  for (const mode of ['inline', 'thread']) {
    const off = med('off', lagP99, mode);
    const on = med('on', lagP99, mode);
    t.row(`${mode} lag p99 off → on (median of ${PAIRS})`, `${ms(off, 1)} → ${ms(on, 1)}`, `on/off ${ratio(div(on, off))}: the stall-end reads and the inline sampler's turns`);
  }
  const idleOff = med('off', lagP99, 'baseline');
  const idleOn = med('on', lagP99, 'baseline');
  t.row('idle lag p99 off → on (baseline window)', `${ms(idleOff, 3)} → ${ms(idleOn, 3)}`, 'clock reads only: a healthy loop has no stall to sample');
  for (const mode of ['inline', 'thread']) {
    const cov = med('on', coverage20, mode);
    const dumps = median(runs.on.map((m) => new Set(((m.get(mode)?.attribution as RawAttribution | undefined)?.samples ?? []).map((s) => s.dump)).size));
    t.row(`${mode}: stalls ≥ 20 ms with a sample`, cov === null ? '–' : `${(cov * 100).toFixed(0)}%`, `target ≥ 90%; ${dumps ?? '–'} reads per window (median)`);
  }
  const baselineDumps = median(runs.on.map((m) => (m.get('baseline')?.attribution as RawAttribution | undefined)?.samples.length ?? 0));
  t.row('baseline samples (idle loop)', String(baselineDumps ?? '–'), 'target 0');
  const cost = sampleCostUs();
  t.row('stack read (3 threads, 30 frames each)', cost ? `${cost.read.toFixed(1)} µs` : '–', `once per stall (thread modes), once per ${INTERVAL_MS} ms of stall (inline): ${cost ? ((cost.read / (INTERVAL_MS * 1000)) * 100).toFixed(1) : '–'}% of a stall`);
  t.row('CPU clocks of 3 threads, per read', cost ? `${cost.clocks.toFixed(2)} µs` : '–', `every ${REARM_MS} ms of healthy loop and at each stall's end`);
}
