/**
 * The measurements only one runtime has: Python's measurement and mode isolation
 * (against an independent call_later harness, and one sidecar for all modes), and the
 * Node pool's lag when it sends large arguments (against a plain worker_threads pool).
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DEFAULTS } from '../../src/engine/options';
import { measure } from '../../src/engine/runSession';
import { Mode, RunSettings } from '../../src/shared/protocol';
import { lagStats } from '../../src/stats/lagStats';
import { div, ms, progress, ratio, REPO, Table } from './format';
import { BENCH_RUNTIMES, busy, NODE, okRun, PYTHON, session, SIDECAR_DIR, TARGETS, whyMissing } from './runtimes';

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

export async function isolation(t: Table): Promise<void> {
  const python = BENCH_RUNTIMES.python;
  const [calls, workers] = [8, 2];
  progress('thread lag vs an independent call_later harness');
  t.section(`measurement isolation: py_work() in thread mode, ${calls} calls, workers ${workers}; one run each`);
  const reported = await session(python, { qualname: 'py_work', modes: ['thread'], concurrency: calls, workers });
  const inWindow = await session(python, { qualname: 'py_work', modes: ['thread'], concurrency: calls, workers, gilProbeInWindow: true });
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
  const isolated = await session(python, { qualname: 'noop', modes, concurrency: 2, workers: 2 });
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

// --------------------------------------------------------------------------- the Node pool's transfers

/** Max lag of the independent pool harness (test/fixtures/node/bench/plain_pool.cjs), ms. */
function plainPoolMaxLag(how: 'per-dispatch' | 'up-front', workers: number, calls: number): number {
  const script = path.join(REPO, 'test', 'fixtures', 'node', 'bench', 'plain_pool.cjs');
  const r = spawnSync(NODE, [script, how, String(workers), String(calls)], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`plain pool harness failed: ${r.error?.message ?? r.stderr.trim().split('\n').pop()}`);
  return JSON.parse(r.stdout) as number;
}

export async function nodePoolTransfer(t: Table): Promise<void> {
  progress('node: pool transfer');
  t.section('Node engine: pool max lag for 6 × 7 MB arguments (summarize(payload()), worker mode, W=2)');
  const s = await session(BENCH_RUNTIMES.node, { qualname: 'summarize', args: 'payload()', modes: ['worker'], concurrency: 6, workers: 2 });
  const w = okRun(s.report, 'worker');
  const writes = w ? w.tasks.map((task) => task.transfer?.argsWriteMs ?? 0) : [];
  const harness = plainPoolMaxLag('per-dispatch', 2, 6);
  const upFront = plainPoolMaxLag('up-front', 2, 6);
  t.row('max lag, Loop Lag worker mode', ms(w?.lag.maxMs, 1), w ? `argsWriteMs per call ${writes.map((x) => x.toFixed(0)).join(', ')} ms; ${busy(w)}` : whyMissing(s.report, 'worker'));
  t.row('max lag, plain pool cloning per dispatch', ms(harness, 1), 'bare node: 1 ms setTimeout heartbeat, 2 worker_threads, postMessage when a worker frees up (as piscina)');
  t.row('Loop Lag / plain per-dispatch pool', ratio(div(w?.lag.maxMs, harness)), 'target ≈ 1 (one run each; both stall ~2 serializations when two workers free up at once)');
  t.row('max lag, plain pool serializing all 6 up front', ms(upFront, 1), `what Loop Lag's pool did before (${ratio(div(upFront, harness))} the per-dispatch stall)`);
}
