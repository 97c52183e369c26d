/**
 * Advice rules on synthetic reports: each rule fires on its signature, not next to its
 * boundary, and survives noise (every number jittered ±10% with a seeded generator).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { advise, classifyGil, headline, plannedModeOf } from '../../src/advice/advise';
import * as T from '../../src/advice/thresholds';
import { executorCall } from '../../src/advice/rules';
import { recommend } from '../../src/advice/sweep';
import { Report } from '../../src/shared/protocol';
import type { LagStats, ModeRun, SweepPoint } from '../../src/shared/protocol';
import { userFrame } from '../../src/stats/callErrors';
import { EXIT, exitCode } from '../../src/report/exitCode';
import { verdicts } from '../../src/report/verdict';
import { resultHint } from '../../src/host/lensText';
import { FIXTURES } from '../support/helpers';
import { jitterer } from '../support/jitter';

/** Deterministic ±0.1 jitter, so each figure is not the one the wording was written for. */
const jitter = jitterer(42, 0.1);

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

// ---------------------------------------------------------------------------
// Verdicts (issue 10, points 1, 2 and 5): one rule for "safe", failing calls never
// safe, and throughput weighed.

/** Every task of `mode` raises (or the first `count` do), with a traceback of `lang`'s shape. */
function raising(r: Report, modeName: string, tb: string, count?: number): Report {
  const run = r.runs.find((x) => x.mode === modeName)!;
  const n = count ?? run.tasks.length;
  run.tasks = run.tasks.map((t, i) => (i < n ? { ...t, error: { type: tb.match(/^(\w+):/m)?.[1] ?? 'Error', message: tb.match(/^\w+: (.*)$/m)?.[1] ?? '', traceback: tb } } : t));
  run.taskStats = { ...run.taskStats, errorCount: n, okCount: run.tasks.length - n };
  return r;
}

const PY_TB = `Traceback (most recent call last):
  File "/work/src/sidecars/python/looplag_sidecar/modes.py", line 30, in _thread_call
    _call(fn, is_async, args, kwargs)
  File "/work/src/sidecars/python/looplag_sidecar/modes.py", line 26, in _call
    return fn(*args, **kwargs)
  File "/srv/app/routes/login.py", line 12, in login
    return check_password(password, db)
  File "/srv/app/services/auth.py", line 14, in check_password
    digest = hashlib.sha256(password.encode()).hexdigest()
AttributeError: 'FieldInfo' object has no attribute 'encode'
`;
const JS_TB = `TypeError: Cannot read properties of undefined (reading 'name')
    at describe (file:///srv/app/lib/cart.mjs:4:18)
    at Object.call (/opt/looplag/dist/sidecars/node/sidecar.js:964:30)
    at process.processImmediate (node:internal/timers:483:21)`;
const LAZY_TB = `Traceback (most recent call last):
  File "/opt/looplag/sidecars/python/looplag_sidecar/modes.py", line 26, in _call
    return fn(*args, **kwargs)
  File "/srv/app/jobs.py", line 6, in lazy_import
    import yaml_extras
  File "<frozen importlib._bootstrap>", line 1176, in _find_and_load
  File "/usr/lib/python3.11/importlib/__init__.py", line 126, in import_module
ModuleNotFoundError: No module named 'yaml_extras'
`;

test('userFrame: the innermost line of the user\'s code, relative to the target, never the sidecar\'s, the stdlib\'s or a package\'s', () => {
  // Outside the target's folder: the full path of the innermost user frame.
  assert.equal(userFrame(PY_TB, '/srv/app/routes/login.py'), '/srv/app/services/auth.py:14');
  assert.equal(userFrame(PY_TB, '/srv/app/main.py'), 'services/auth.py:14');
  assert.equal(userFrame(PY_TB, 'app/services/auth.py'), 'auth.py:14', 'a relative target is found by its tail');
  assert.equal(userFrame(JS_TB, '/srv/app/lib/cart.mjs'), 'cart.mjs:4');
  assert.equal(userFrame(LAZY_TB, '/srv/app/jobs.py'), 'jobs.py:6');
  assert.equal(userFrame('ValueError: no frames', '/srv/app/x.py'), null);
  assert.equal(userFrame(null, '/srv/app/x.py'), null);
});

test('calls-raised: critical when every call raised, a warning when some did; the headline says so first and never "Safe"', () => {
  const fine: RunSpec = { wallMs: 100, p50: 0.1, p99: 0.5, max: 1, workers: 2 };
  const all = raising(report({ runs: { thread: fine } }), 'thread', PY_TB);
  all.target.file = '/srv/app/main.py';
  const a = advise(all).find((x) => x.id === 'calls-raised');
  assert.equal(a?.severity, 'critical');
  assert.equal(a?.mode, 'thread');
  assert.match(a!.title, /^Every call raised AttributeError in thread mode: what was measured is the error path/);
  assert.match(a!.detail, /AttributeError: 'FieldInfo' object has no attribute 'encode' \(services\/auth\.py:14\)/);
  assert.ok(!has(all, 'healthy'));
  const text = headline(all);
  assert.match(text, /^Every call in a thread pool raised AttributeError: 'FieldInfo' object has no attribute 'encode' \(services\/auth\.py:14\): what was measured is the error path/);
  assert.doesNotMatch(text, /\bSafe\b/);
  assert.equal(verdicts(all).find((v) => v.mode === 'thread')?.level, 'critical', 'from the numbers');
  assert.equal(verdicts({ ...all, advice: advise(all) }).find((v) => v.mode === 'thread')?.level, 'critical', 'from the advice');

  const some = raising(report({ runs: { thread: fine } }), 'thread', PY_TB, 3);
  const w = advise(some).find((x) => x.id === 'calls-raised');
  assert.equal(w?.severity, 'warning');
  assert.match(w!.title, /^3 of 10 calls raised AttributeError in thread mode/);
  assert.match(headline(some), /^3 of 10 calls in a thread pool raised AttributeError: .*; the loop stayed within budget/);
  assert.doesNotMatch(headline(some), /\bSafe\b/);

  // An alternative mode whose calls raised is never offered as the safe one.
  const alt = raising(report({ runs: { inline: STALLED_INLINE, thread: { wallMs: 1400, p50: 300, p99: 550, max: 550, workers: 6 }, process: { wallMs: 800, p50: 0.1, p99: 0.9, max: 2, speedup: 1.9 } }, diagnostic: NATIVE }), 'process', PY_TB);
  assert.doesNotMatch(headline(alt), /In a process pool it is/);
  assert.match(headline(alt), /No measured mode kept the loop within budget/);
});

test('exit codes: 4 when calls raised (with or without a budget), before 3; 1/124/130 first; 0 otherwise', () => {
  const fine: RunSpec = { wallMs: 100, p50: 0.1, p99: 0.5, max: 1, workers: 2 };
  const r = raising(report({ language: 'javascript', runs: { inline: fine } }), 'inline', JS_TB);
  r.target.file = '/srv/app/lib/cart.mjs';
  for (const budget of [null, 100]) {
    const out = exitCode(r, budget);
    assert.equal(out.code, EXIT.callsFailed);
    assert.equal(EXIT.callsFailed, 4);
    assert.deepEqual(out.stderr, [`looplag: calls raised in inline (10 of 10: TypeError: Cannot read properties of undefined (reading 'name') (cart.mjs:4))`]);
  }
  const over = raising(report({ runs: { inline: STALLED_INLINE } }), 'inline', PY_TB, 2);
  assert.equal(exitCode(over, 100).code, 4, 'calls failed wins over the budget');
  assert.equal(exitCode({ ...over, error: { kind: 'timeout', message: 't', detail: null } }, 100).code, 124);
  assert.equal(exitCode(report({ runs: { inline: STALLED_INLINE } }), 100).code, 3);
  assert.equal(exitCode(report({ runs: { inline: fine } }), 100).code, 0);
  assert.equal(exitCode(report({ runs: { inline: fine } }), null).code, 0);
});

test('one rule decides "safe": lag max vs the budget, stalls counted but not deciding, the budget cited', () => {
  // A ~55 ms stall (one call holding the GIL) under a 100 ms budget: safe, with the stall shown.
  const half: RunSpec = { wallMs: 600, p50: 0.2, p99: 40, max: 60, workers: 2 };
  for (let i = 0; i < 20; i++) {
    const r = report({ runs: { thread: half }, diagnostic: NATIVE });
    assert.ok(r.runs[0].lag.stallCount > 0 && r.runs[0].lag.maxMs < 100);
    const text = headline(r);
    assert.match(text, /^Safe in a thread pool: .*budget 100\.0 ms; 1 stall\(s\) ≥ 50\.0 ms, within the budget\)/);
    assert.ok(has(r, 'healthy', 'thread'));
    assert.ok(advise(r).every((a) => a.mode !== 'thread' || a.severity === 'info' || a.severity === 'ok'), 'no warning for a mode within budget');
    assert.equal(verdicts(r).find((v) => v.mode === 'thread')?.level, 'ok');
    assert.equal(verdicts({ ...r, advice: advise(r) }).find((v) => v.mode === 'thread')?.level, 'ok');
    assert.equal(exitCode(r, 100).code, 0);
    // The same run judged with a 40 ms budget.
    r.settings.lagBudgetMs = 40;
    assert.match(headline(r), /^Not safe in a thread pool: .*stalled up to \d\d\.\d ms \(budget 40\.0 ms\)/);
    assert.ok(!has(r, 'healthy'));
    assert.equal(verdicts(r).find((v) => v.mode === 'thread')?.level !== 'ok', true);
    assert.equal(exitCode(r, 40).code, 3);
  }
  // The alternative is judged by the same rule: a mode with a stall within budget is offered.
  const alt = report({ runs: { inline: STALLED_INLINE, thread: { wallMs: 1400, p50: 300, p99: 550, max: 550, workers: 6 }, process: { wallMs: 800, p50: 0.1, p99: 30, max: 65, speedup: 1.9 } }, diagnostic: NATIVE });
  assert.ok(alt.runs[2].lag.stallCount > 0);
  assert.match(headline(alt), /In a process pool it is: p99 \d+\.\d+ ms, max \d\d\.\d ms/);
  const lens = resultHint({ ...alt, headline: headline(alt) });
  assert.match(lens.tooltip, /budget 100\.0 ms/);
});

test('"Not measured" says its reason once', () => {
  const r = report({ planned: 'thread', runs: { inline: { wallMs: 100, p50: 0.1, p99: 0.5, max: 1 } } });
  r.runs.push({ ...r.runs[0], mode: 'thread', status: 'skipped', error: { kind: 'crashed', message: 'not measured: killed by SIGSEGV', detail: null } });
  const text = headline(r);
  assert.match(text, /^Not measured in a thread pool: killed by SIGSEGV\./);
  assert.doesNotMatch(text, /not measured:/i);
});

/** The real numpy run (Debian's numpy 1.24 on reference BLAS, 6 calls, 6 threads, 2 cores): no collapse there. */
function numpyReport(): Report {
  return Report.parse(JSON.parse(fs.readFileSync(path.join(FIXTURES, 'reports', 'numpy-matmul-threads.json'), 'utf8')));
}

test('native-oversubscription: silent on the real numpy run; fires when the same run collapses as OpenBLAS does on 2 cores', () => {
  const real = numpyReport();
  assert.equal(classifyGil(real)?.kind, 'released');
  assert.ok(!has(real, 'native-oversubscription'));
  assert.doesNotMatch(headline(real), /slower than inline/);
  const nts = advise(real).find((a) => a.id === 'no-thread-speedup');
  if (nts) assert.doesNotMatch(nts.detail, /The GIL lets one thread run Python at a time/, 'the GIL was measured free');

  // The figures: 6 SVDs took 13.4 s in 6 threads vs 0.85 s inline; each call alone
  // ran OpenBLAS threads on both cores (CPU/wall 1.9), and the threads spun (CPU 12× inline's).
  const collapsed = numpyReport();
  const inline = collapsed.runs.find((r) => r.mode === 'inline')!;
  const thread = collapsed.runs.find((r) => r.mode === 'thread')!;
  Object.assign(inline, { wallMs: 850, cpu: { userMs: 1615, systemMs: 0, parallelism: 1.9 } });
  Object.assign(thread, { wallMs: 13_400, speedup: 850 / 13_400, cpu: { userMs: 19_000, systemMs: 0, parallelism: 1.42 } });
  thread.lag = { ...thread.lag, maxMs: 20, p99Ms: 12 };
  const a = advise(collapsed).find((x) => x.id === 'native-oversubscription');
  assert.ok(a, advise(collapsed).map((x) => x.id).join());
  assert.equal(a!.mode, 'thread');
  assert.match(a!.title, /^Calls ran 15\.8× slower in threads than inline/);
  assert.match(a!.detail, /OpenBLAS, MKL or OpenMP/);
  assert.match(a!.fix!, /OPENBLAS_NUM_THREADS/);
  assert.match(a!.fix!, /OMP_NUM_THREADS/);
  assert.match(a!.fix!, /threadpool_limits\(limits=1\)/);
  assert.ok(!has(collapsed, 'no-thread-speedup'), 'the GIL is not blamed: the oversubscription rule explains it');
  assert.ok(!has(collapsed, 'healthy'));
  assert.match(headline(collapsed), /^Safe for the loop in a thread pool, but calls ran 16× slower than inline \(6 calls in 13\.40 s vs 850\.0 ms; lag p99/);

  // Without the native-pool signs (one core per call, no extra CPU), a slowdown is not blamed on BLAS.
  const plain = numpyReport();
  Object.assign(plain.runs.find((r) => r.mode === 'thread')!, { wallMs: 13_400, speedup: 850 / 13_400, cpu: { userMs: 850, systemMs: 0, parallelism: 0.06 } });
  Object.assign(plain.runs.find((r) => r.mode === 'inline')!, { wallMs: 850, cpu: { userMs: 800, systemMs: 0, parallelism: 0.94 } });
  assert.ok(!has(plain, 'native-oversubscription'));
  assert.match(headline(plain), /but calls ran 16× slower than inline/, 'the headline weighs throughput whatever the cause');
});

test('no-thread-speedup does not blame the GIL when the GIL was released', () => {
  const cpu = { inline: STALLED_INLINE, thread: { wallMs: 1450, p50: 5, p99: 12, max: 20, workers: 6, speedup: 1.03 } };
  const released = advise(report({ runs: cpu, diagnostic: RELEASED })).find((a) => a.id === 'no-thread-speedup');
  assert.ok(released);
  assert.doesNotMatch(released!.detail, /The GIL lets one thread/);
  assert.match(released!.detail, /The GIL was free/);
  const held = advise(report({ runs: cpu, diagnostic: PURE })).find((a) => a.id === 'no-thread-speedup');
  assert.match(held!.detail, /The GIL lets one thread run Python at a time/);
  // GIL free and the threads ran in parallel (zlib on 2 vCPUs measured 1.24× at CPU/wall
  // 1.74): slower calls side by side are the hardware's, not advice to act on.
  const parallel = { inline: STALLED_INLINE, thread: { wallMs: 335, p50: 0.2, p99: 5, max: 5.4, workers: 2, speedup: 1.24, parallelism: 1.74 } };
  assert.ok(!has(report({ runs: parallel, diagnostic: RELEASED }), 'no-thread-speedup'));
  assert.ok(has(report({ runs: parallel, diagnostic: PURE }), 'no-thread-speedup'), 'with the GIL held the rule stands');
});

test('Node: libuv-threadpool-saturated when a tiny threadpool job waits while the loop is free, not when the loop itself is blocked', () => {
  /** A Node report whose `mode` run carries threadpool probe stats (and the warm-up call alone). */
  const withPool = (mode: string, run: RunSpec, probeP50: number, probeMax: number, warmupMs?: number[]) => {
    const r = report({ language: 'javascript', runs: { [mode]: run } });
    r.runs[0].threadpool = { probeP50Ms: jitter(probeP50), probeMaxMs: jitter(probeMax), probeCount: 150, idleMs: 0.05 };
    if (warmupMs) r.runs[0].warmupMs = warmupMs;
    return r;
  };
  const freeLoop: RunSpec = { wallMs: 900, p50: 0.1, p99: 4, max: 20, runP50: 800, elu: 0.05 };
  for (let i = 0; i < 50; i++) {
    // pbkdf2 × 10 inline: the loop is free, a 1-byte randomFill waits hundreds of ms.
    const saturated = withPool('inline', freeLoop, 300, 850, [150]);
    assert.ok(has(saturated, 'libuv-threadpool-saturated', 'inline'), ids(saturated).join(', '));
    assert.ok(!has(saturated, 'healthy'), 'healthy beside a saturated threadpool');
    const a = advise(saturated).find((x) => x.id === 'libuv-threadpool-saturated')!;
    assert.equal(a.severity, 'critical'); // the probe's p50 is over the 100 ms budget
    assert.match(a.detail, /for one call alone \(the warm-up call\)/);
    assert.match(a.fix ?? '', /^UV_THREADPOOL_SIZE=\d+ node /m);
    assert.match(headline(saturated), /^Safe for the loop on the event loop \(called directly\), but 10 concurrent calls fill libuv's threadpool: an unrelated fs\/crypto\/dns call waited p50 /);
    // A wait under the threshold is latency noise on a busy machine.
    assert.ok(!has(withPool('inline', freeLoop, T.THREADPOOL_WAIT_P50_MS * 0.5, 30), 'libuv-threadpool-saturated'));
    // A blocked loop delays the probe's callback too: the loop, not the pool, is the cause.
    const blocked = withPool('inline', { wallMs: 500, p50: 400, p99: 480, max: 500 }, 450, 500);
    assert.ok(!has(blocked, 'libuv-threadpool-saturated'), ids(blocked).join(', '));
    // Worker threads share the process's threadpool: it is said for worker mode too, as a warning under the budget.
    const worker = withPool('worker', { ...freeLoop, workers: 2 }, 40, 90);
    assert.equal(advise(worker).find((x) => x.id === 'libuv-threadpool-saturated' && x.mode === 'worker')?.severity, 'warning');
  }
  // Python has no libuv.
  const py = report({ runs: { thread: { wallMs: 900, p50: 0.1, p99: 4, max: 20 } } });
  py.runs[0].threadpool = { probeP50Ms: 300, probeMaxMs: 900, probeCount: 10, idleMs: 0.05 };
  assert.ok(!has(py, 'libuv-threadpool-saturated'));
});
