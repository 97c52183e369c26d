/**
 * Advice rules on synthetic reports: each rule fires on its signature, not next to its
 * boundary, and survives noise (every number jittered ±10% with a seeded generator).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { advise, classifyGil, headline, plannedModeOf } from '../../src/advice/advise';
import * as T from '../../src/advice/thresholds';
import { executorCall } from '../../src/advice/rules';
import { recommend } from '../../src/engine/runSweep';
import type { LagStats, ModeRun, Report, SweepPoint } from '../../src/shared/protocol';

let seed = 42;
/** Deterministic ±frac jitter (mulberry32). */
function jitter(x: number, frac = 0.1): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  return x * (1 + (u * 2 - 1) * frac);
}

function lag(p50: number, p99: number, max: number, wallMs: number, stallMs = 50): LagStats {
  const stalls = max >= stallMs ? Math.max(1, Math.round((p99 >= stallMs ? wallMs / max : 1))) : 0;
  const stalledMs = stalls ? Math.min(wallMs, stalls * max) : 0;
  return {
    p50Ms: jitter(p50), p90Ms: jitter((p50 + p99) / 2), p99Ms: jitter(p99), maxMs: jitter(max), meanMs: jitter(p50),
    stallCount: stalls, stalledMs, stalledFrac: Math.min(1, stalledMs / wallMs),
    sampleCount: Math.max(1, Math.round(wallMs / Math.max(1, p50 + 1))), expectedSampleCount: Math.round(wallMs), samples: [],
  };
}

interface RunSpec {
  wallMs: number; p50: number; p99: number; max: number; workers?: number | null; runP50?: number; queueMax?: number;
  parallelism?: number; speedup?: number | null; startupMs?: number | null; gilP50?: number; gilMax?: number; elu?: number;
  transferLoopMs?: number; argsBytes?: number; errors?: number; status?: ModeRun['status']; gilEnabled?: boolean;
}

function mode(name: string, s: RunSpec, calls = 10): ModeRun {
  const wall = jitter(s.wallMs);
  return {
    mode: name as ModeRun['mode'], status: s.status ?? 'ok', error: s.status && s.status !== 'ok' ? { kind: 'crashed', message: 'boom', detail: null } : null,
    wallMs: wall, startupMs: s.startupMs ?? (name === 'inline' ? null : 60), workers: s.workers === undefined ? (name === 'inline' ? 1 : 2) : s.workers,
    tasks: Array.from({ length: calls }, (_, id) => ({ id, queuedMs: 0, startMs: 0, endMs: s.runP50 ?? 100, worker: 'w', cpuMs: null, error: null })),
    taskStats: { okCount: calls - (s.errors ?? 0), errorCount: s.errors ?? 0, queueP50Ms: (s.queueMax ?? 0) / 2, queueMaxMs: s.queueMax ?? 0, runP50Ms: s.runP50 ?? 100, runMaxMs: s.runP50 ?? 100, runSumMs: (s.runP50 ?? 100) * calls },
    lag: lag(s.p50, s.p99, s.max, wall),
    gilWait: s.gilP50 === undefined ? null : { p50Ms: jitter(s.gilP50), p99Ms: jitter(s.gilMax ?? s.gilP50), maxMs: jitter(s.gilMax ?? s.gilP50), meanMs: s.gilP50, sampleCount: 50 },
    cpu: { userMs: wall * (s.parallelism ?? 1), systemMs: 0, parallelism: s.parallelism ?? 1 },
    throughputPerS: calls / (wall / 1000), speedup: s.speedup === undefined ? null : s.speedup,
    backgroundCpuFrac: 0.02, output: { stdout: '', stderr: '', truncated: false, stdoutBytes: 0, stderrBytes: 0 },
    ...(s.elu !== undefined ? { elu: s.elu } : {}),
    ...(s.transferLoopMs !== undefined ? { transfer: { argsBytesMean: s.argsBytes ?? 10, resultBytesMean: 10, loopMs: s.transferLoopMs, workerMs: s.transferLoopMs } } : {}),
    ...(s.gilEnabled !== undefined ? { gilEnabled: s.gilEnabled, interpreter: 'CPython 3.13.5 (free-threaded)' } : {}),
  };
}

interface ReportSpec {
  language?: Report['target']['language'];
  isAsync?: boolean;
  runs: Record<string, RunSpec>;
  diagnostic?: { callMs: number; p50: number; max: number } | null;
  trustworthy?: boolean;
  cores?: number;
  planned?: string;
  gilEnabled?: boolean;
}

function report(spec: ReportSpec): Report {
  const language = spec.language ?? 'python';
  const node = language !== 'python';
  const d = spec.diagnostic;
  return {
    schema: 'looplag.report/1', tool: { name: 'looplag', version: 't' }, createdAt: '2026-01-01T00:00:00Z', status: 'complete', error: null,
    target: { file: 'x', qualname: 'work', lines: null, line: 1, language, args: '1', isAsync: spec.isAsync ?? false },
    runtime: { name: node ? 'node' : 'python', version: 'x', executable: 'x', implementation: 'x', gilEnabled: spec.gilEnabled ?? !node, cpuCount: spec.cores ?? 2, platform: 'linux', switchIntervalS: node ? 0 : 0.005 },
    settings: { concurrency: 10, workers: null, switchIntervalS: node ? null : 0.005, heartbeatMs: 1, stallMs: 50, gilProbe: !node, modes: Object.keys(spec.runs) as ModeRun['mode'][], timeoutS: 60, lagBudgetMs: 100, plannedMode: spec.planned ?? null },
    quality: { backgroundCpuFrac: spec.trustworthy === false ? 0.6 : 0.02, trustworthy: spec.trustworthy ?? true, notes: [] },
    baseline: null,
    diagnostic: d ? { lag: lag(jitter(d.p50), d.max, jitter(d.max), d.callMs), gilWait: null, wallMs: d.callMs, callMs: jitter(d.callMs, 0.05), cpuMs: null } : null,
    runs: Object.entries(spec.runs).map(([m, s]) => mode(m, s)),
    advice: [],
  };
}

const ids = (r: Report) => advise(r).map((a) => a.id).sort();
const has = (r: Report, id: string, mode?: string) => advise(r).some((a) => a.id === id && (mode === undefined || a.mode === mode));

// The three GIL signatures, as the one-thread diagnostic sees them.
const NATIVE = { callMs: 150, p50: 150, max: 150 }; // one stall as long as the call
const PURE = { callMs: 120, p50: 5.2, max: 11 }; // a turn every switch interval
const RELEASED = { callMs: 80, p50: 0.08, max: 4 }; // on time

const STALLED_INLINE: RunSpec = { wallMs: 1500, p50: 1500, p99: 1500, max: 1500, parallelism: 1 };

test('GIL behaviour comes from the diagnostic, across noise', () => {
  for (let i = 0; i < 50; i++) {
    assert.equal(classifyGil(report({ runs: {}, diagnostic: NATIVE }))?.kind, 'native-hold');
    assert.equal(classifyGil(report({ runs: {}, diagnostic: PURE }))?.kind, 'time-sliced');
    assert.equal(classifyGil(report({ runs: {}, diagnostic: RELEASED }))?.kind, 'released');
  }
});

test('the native-hold boundary: a stall must be both most of the call and several switch intervals', () => {
  // Short call (15 ms) fully stalled: fewer than NATIVE_HOLD_MIN_INTERVALS intervals, so not "native" by itself.
  const short = report({ runs: {}, diagnostic: { callMs: 15, p50: 0.1, max: 3 * 5 } });
  assert.notEqual(classifyGil(short)?.kind, 'native-hold');
  // A long call whose longest lag is under half of it is time-slicing, not a hold.
  const mixed = report({ runs: {}, diagnostic: { callMs: 400, p50: 5, max: 400 * T.NATIVE_HOLD_FRAC * 0.6 } });
  assert.equal(classifyGil(mixed)?.kind, 'time-sliced');
});

test('many pure-Python threads starve the loop like a native call, yet stay gil-contention', () => {
  // Ten threads: thread mode looks like a hold (stalled most of the window); the diagnostic does not.
  const r = report({ runs: { inline: STALLED_INLINE, thread: { wallMs: 1400, p50: 300, p99: 550, max: 550, workers: 10, parallelism: 1, speedup: 1.05 } }, diagnostic: PURE });
  assert.ok(has(r, 'gil-contention', 'thread'));
  assert.ok(!has(r, 'gil-held-native'));
  const n = report({ runs: { inline: STALLED_INLINE, thread: { wallMs: 1400, p50: 300, p99: 550, max: 550, workers: 10, parallelism: 1, speedup: 1.05 } }, diagnostic: NATIVE });
  assert.ok(has(n, 'gil-held-native', 'thread'));
  assert.ok(!has(n, 'gil-contention'));
});

test('inline-blocks-loop fires on a stall and not below the stall threshold', () => {
  assert.ok(has(report({ runs: { inline: STALLED_INLINE } }), 'inline-blocks-loop', 'inline'));
  assert.ok(!has(report({ runs: { inline: { wallMs: 40, p50: 0.1, p99: 30, max: 30 } } }), 'inline-blocks-loop'));
});

test('async-def-blocks-loop only for async targets that stall the loop', () => {
  assert.ok(has(report({ isAsync: true, runs: { inline: STALLED_INLINE } }), 'async-def-blocks-loop'));
  assert.ok(!has(report({ isAsync: false, runs: { inline: STALLED_INLINE } }), 'async-def-blocks-loop'));
  assert.ok(!has(report({ isAsync: true, runs: { inline: { wallMs: 100, p50: 0.1, p99: 0.5, max: 1 } } }), 'async-def-blocks-loop'));
});

test('gil-released: ok when threads keep the loop responsive, a warning with more busy threads than cores', () => {
  const good = advise(report({ runs: { inline: STALLED_INLINE, thread: { wallMs: 800, p50: 0.1, p99: 2, max: 4, workers: 2, speedup: 1.9 } }, diagnostic: RELEASED }));
  const a = good.find((x) => x.id === 'gil-released');
  assert.equal(a?.severity, 'ok');
  const busy = advise(report({ runs: { thread: { wallMs: 800, p50: 3, p99: 70, max: 120, workers: 6 } }, diagnostic: RELEASED }));
  const b = busy.find((x) => x.id === 'gil-released');
  assert.equal(b?.severity, 'warning');
  assert.match(b!.detail, /6 busy threads on 2 cores/);
});

test('no-thread-speedup: CPU-bound work, 2+ cores, speedup under the line; never with the GIL off or for I/O', () => {
  const cpu = { inline: STALLED_INLINE, thread: { wallMs: 1450, p50: 5, p99: 12, max: 20, workers: 6, speedup: 1.03 } };
  assert.ok(has(report({ runs: cpu, diagnostic: PURE }), 'no-thread-speedup'));
  assert.ok(!has(report({ runs: { ...cpu, thread: { ...cpu.thread, speedup: 1.9 } }, diagnostic: PURE }), 'no-thread-speedup'));
  assert.ok(!has(report({ runs: { inline: { ...STALLED_INLINE, parallelism: 0.01 }, thread: cpu.thread }, diagnostic: RELEASED }), 'no-thread-speedup'));
  assert.ok(!has(report({ runs: cpu, diagnostic: PURE, cores: 1 }), 'no-thread-speedup'));
  assert.ok(!has(report({ runs: cpu, diagnostic: PURE, gilEnabled: false }), 'no-thread-speedup'));
});

// Issue 10 changed this rule: it judged one-off start-up against a ~1 s window and fired
// on almost every Node run. It now judges per call; start-up is pool-startup (info).
test('process-overhead: judged per call (the pool\'s cost beyond the run vs the call inline), or stalls from sending', () => {
  // 10 calls on 2 processes in 3 s: each held a process 600 ms for a 100 ms run, vs 150 ms inline.
  assert.ok(has(report({ runs: { inline: STALLED_INLINE, process: { wallMs: 3000, p50: 0.1, p99: 1, max: 1, startupMs: 60, speedup: 0.5 } } }), 'process-overhead'));
  assert.ok(has(report({ runs: { process: { wallMs: 3000, p50: 0.1, p99: 80, max: 120, startupMs: 60 } } }), 'process-overhead'));
  // 160 ms per call for a 150 ms run: the pool costs little per call.
  assert.ok(!has(report({ runs: { inline: STALLED_INLINE, process: { wallMs: 800, p50: 0.1, p99: 1, max: 2, startupMs: 60, speedup: 1.9, runP50: 150 } } }), 'process-overhead'));
});

test('pool-startup: a slow start-up is info, said apart, and never a process-overhead warning', () => {
  // The Node pattern from issue 10: 600 ms of start-up next to a 1 s window of calls that cost nothing extra.
  for (let i = 0; i < 20; i++) {
    const r = report({ language: 'javascript', runs: { inline: STALLED_INLINE, process: { wallMs: 1000, p50: 0.1, p99: 1, max: 2, startupMs: 600, speedup: 1.5, runP50: 195 } } });
    const advice = advise(r);
    assert.ok(!advice.some((a) => a.id === 'process-overhead'), JSON.stringify(advice.map((a) => a.id)));
    const s = advice.find((a) => a.id === 'pool-startup');
    assert.equal(s?.severity, 'info');
    assert.match(s!.title, /600\.0 ms.*create the pool once/);
  }
  assert.ok(!has(report({ runs: { process: { wallMs: 1000, p50: 0.1, p99: 1, max: 2, startupMs: T.STARTUP_NOTABLE_MS / 2 } } }), 'pool-startup'));
});

test('queueing: more calls than workers and a notable wait; info only', () => {
  const q = advise(report({ runs: { process: { wallMs: 800, p50: 0.1, p99: 1, max: 2, workers: 2, queueMax: 600 } } })).find((a) => a.id === 'queueing');
  assert.equal(q?.severity, 'info');
  assert.ok(!has(report({ runs: { process: { wallMs: 800, p50: 0.1, p99: 1, max: 2, workers: 2, queueMax: T.QUEUE_NOTABLE_MS / 2 } } }), 'queueing'));
  assert.ok(!has(report({ runs: { process: { wallMs: 800, p50: 0.1, p99: 1, max: 2, workers: 16, queueMax: 600 } } }), 'queueing'));
});

test('free-threaded: measured when a GIL-off run exists, expected when the GIL is the cause, silent otherwise', () => {
  const thread: RunSpec = { wallMs: 1400, p50: 200, p99: 260, max: 300, workers: 4, parallelism: 0.99 };
  const measured = advise(report({ runs: { thread, 'free-threaded': { wallMs: 700, p50: 0.5, p99: 10, max: 14, workers: 4, parallelism: 1.88, gilEnabled: false } }, diagnostic: PURE }));
  const ft = measured.find((a) => a.id === 'free-threaded');
  assert.match(ft!.title, /kept the loop responsive/);
  assert.match(ft!.detail, /parallelism 1\.88/);
  assert.ok(has(report({ runs: { thread }, diagnostic: PURE }), 'free-threaded'));
  assert.ok(!has(report({ runs: { thread: { ...thread, p99: 2, max: 3, p50: 0.1 } }, diagnostic: RELEASED }), 'free-threaded'));
  assert.ok(!has(report({ language: 'javascript', runs: { inline: STALLED_INLINE } }), 'free-threaded'));
});

test('Node: worker-recommended when inline stalls and workers do not; transfer-overhead when copying costs the loop', () => {
  const base = { inline: { ...STALLED_INLINE, elu: 1 }, worker: { wallMs: 800, p50: 0.1, p99: 3, max: 5, workers: 2, elu: 0.05, speedup: 1.9, transferLoopMs: 0.5 } };
  const r = report({ language: 'typescript', runs: base });
  assert.deepEqual(ids(r), ['inline-blocks-loop', 'worker-recommended']);
  assert.ok(has(report({ language: 'javascript', runs: { ...base, worker: { ...base.worker, transferLoopMs: 200, argsBytes: 8e6 } } }), 'transfer-overhead', 'worker'));
  assert.ok(!has(report({ language: 'javascript', runs: { ...base, worker: { ...base.worker, max: 300, p99: 300 } } }), 'worker-recommended'));
  // No GIL advice for Node, ever.
  assert.ok(!ids(r).some((id) => id.startsWith('gil-')));
});

test('healthy: only for the planned mode, and not next to a warning', () => {
  const fine = report({ language: 'javascript', runs: { inline: { wallMs: 100, p50: 0.1, p99: 0.5, max: 1 } } });
  assert.deepEqual(ids(fine), ['healthy']);
  const busy = report({ language: 'javascript', trustworthy: false, runs: { inline: { wallMs: 100, p50: 0.1, p99: 0.5, max: 1 } } });
  assert.deepEqual(ids(busy), ['measurement-untrustworthy']);
  const plannedProcess = report({ planned: 'process', runs: { inline: STALLED_INLINE, process: { wallMs: 800, p50: 0.1, p99: 1, max: 2, speedup: 1.9 } } });
  assert.ok(has(plannedProcess, 'healthy', 'process'));
});

test('planned mode: sync Python → thread, async → inline, Node → inline, or what the user said', () => {
  assert.equal(plannedModeOf(report({ runs: { thread: STALLED_INLINE } })), 'thread');
  assert.equal(plannedModeOf(report({ isAsync: true, runs: {} })), 'inline');
  assert.equal(plannedModeOf(report({ language: 'typescript', runs: {} })), 'inline');
  assert.equal(plannedModeOf(report({ planned: 'process', runs: { process: STALLED_INLINE } })), 'process');
});

test('the headline answers for the planned mode and names a safe alternative', () => {
  const r = report({ runs: { inline: STALLED_INLINE, thread: { wallMs: 1400, p50: 300, p99: 550, max: 550, workers: 6 }, process: { wallMs: 800, p50: 0.1, p99: 0.9, max: 2, speedup: 1.9 } }, diagnostic: NATIVE });
  const text = headline(r);
  assert.match(text, /^Not safe in a thread pool: with 10 concurrent calls the loop stalled up to 5\d\d\.\d ms/);
  assert.match(text, /In a process pool it is: p99 0\.\d+ ms/);
  const ok = headline(report({ language: 'javascript', runs: { inline: { wallMs: 100, p50: 0.1, p99: 0.5, max: 1 } } }));
  assert.match(ok, /^Safe on the event loop \(called directly\)/);
});

test('every advice item has the required fields, and fixes speak the target language', () => {
  const py = advise(report({ isAsync: true, runs: { inline: STALLED_INLINE, thread: { wallMs: 1400, p50: 300, p99: 550, max: 550, workers: 6, speedup: 1.0 }, process: { wallMs: 100, p50: 0.1, p99: 1, max: 1, startupMs: 400 } }, diagnostic: NATIVE, trustworthy: false }));
  const js = advise(report({ language: 'javascript', isAsync: true, runs: { inline: STALLED_INLINE, worker: { wallMs: 800, p50: 0.1, p99: 3, max: 5, transferLoopMs: 100 } } }));
  for (const a of [...py, ...js]) {
    assert.ok(a.id && a.title && a.detail && ['critical', 'warning', 'info', 'ok'].includes(a.severity), JSON.stringify(a));
    assert.ok(!/NaN|undefined/.test(a.detail + a.title), a.detail);
  }
  for (const a of py) if (a.fix) assert.doesNotMatch(a.fix, /worker_threads|require\(/, a.id);
  for (const a of js) if (a.fix) assert.doesNotMatch(a.fix, /asyncio|ProcessPoolExecutor/, a.id);
});

test('a diagnostic call shorter than a few switch intervals classifies nothing (the loop may not have woken)', () => {
  assert.equal(classifyGil(report({ runs: {}, diagnostic: { callMs: 0.9, p50: 0.05, max: 0.4 } })), null);
  assert.equal(classifyGil(report({ runs: {}, diagnostic: { callMs: 12, p50: 0.05, max: 12 } })), null);
  const r = report({ runs: { thread: { wallMs: 3, p50: 0.1, p99: 0.5, max: 0.5, workers: 2, runP50: 0.9 } }, diagnostic: { callMs: 0.9, p50: 0.05, max: 0.4 } });
  assert.ok(!ids(r).some((id) => id.startsWith('gil-')), ids(r).join());
});

test('when the usual plan was not measured, the headline judges a mode that was', () => {
  const r = report({ language: 'javascript', runs: { worker: { wallMs: 100, p50: 0.1, p99: 0.5, max: 1 } } });
  assert.equal(plannedModeOf(r), 'worker');
  assert.match(headline(r), /^Safe in worker threads/);
  // Said explicitly, it is answered as asked.
  assert.match(headline(report({ planned: 'thread', runs: { process: { wallMs: 100, p50: 0.1, p99: 0.5, max: 1 } } })), /^Not measured in a thread pool/);
});

test('executor calls: keyword arguments go through functools.partial (run_in_executor is positional only)', () => {
  assert.equal(executorCall('f', '365, 10**6'), 'f, 365, 10**6');
  assert.equal(executorCall('f', 'data, n=5'), 'functools.partial(f, data, n=5)');
  assert.equal(executorCall('f', 'a == b'), 'f, a == b');
  assert.equal(executorCall('f', ''), 'f');
});

test('sweep: sizes at or above the calls in flight are one configuration, recommended by its smallest W', () => {
  const pt = (workers: number, tput: number, max = 5): SweepPoint => ({
    mode: 'process', workers, effectiveWorkers: Math.min(workers, 6), status: 'ok', error: null, wallMs: 100, throughputPerS: tput,
    lag: { p50Ms: 1, p99Ms: max, maxMs: max, stallCount: 0, stalledFrac: 0 }, cpuParallelism: 1.9, queueMaxMs: 0, startupMs: null, backgroundCpuFrac: 0,
  });
  const target = { target: { file: 'x.py', qualname: 'f', lines: null, line: 1, language: 'python' as const, args: '', isAsync: false }, settings: {} as Report['settings'] };
  // W=6 measured 43/s, W=8 and W=40 (the same 6 busy workers) 49–50/s: W=6 is the one to use.
  const rec = recommend('process', [pt(1, 22.7), pt(2, 38.9), pt(4, 32.6), pt(6, 43.1), pt(8, 49.1), pt(40, 49.9)], 100, { ...target, settings: { ...target.settings, concurrency: 6 } });
  assert.equal(rec.workers, 6);
  // Below the calls in flight each size stands alone: the smallest within 5% of the best.
  const rec2 = recommend('process', [pt(1, 20), pt(2, 39), pt(4, 40)], 100, { ...target, settings: { ...target.settings, concurrency: 6 } });
  assert.equal(rec2.workers, 2);
  // Over the budget is never recommended.
  assert.equal(recommend('thread', [pt(1, 20, 150), pt(2, 21, 300)], 100, target).workers, null);
});
