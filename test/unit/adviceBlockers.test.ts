/**
 * Advice that names the line (issue 13), on synthetic reports: which rules cite a
 * blocker, and that below the thresholds, with attribution off or failed, and in reports
 * from before attribution, the advice is exactly what it was without blockers. The
 * blocker's source text is the user's: it must stay inert in every view.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { advise } from '../../src/advice/advise';
import { code, place, plain } from '../../src/advice/blockerText';
import { WORDS } from '../../src/advice/runtimes';
import * as T from '../../src/advice/thresholds';
import { reportMarkdown } from '../../src/report/markdown';
import { fmtMs } from '../../src/shared/format';
import { Report } from '../../src/shared/protocol';
import type { Advice, Attribution, Blocker, LagStats, ModeRun, StackFrame } from '../../src/shared/protocol';
import { jitterer } from '../support/jitter';

/** Deterministic ±0.05 jitter, so each figure is not the one the wording was written for. */
const jitter = jitterer(13, 0.05);

function lag(p50: number, maxMs: number, wallMs: number, stalledMs: number): LagStats {
  return {
    p50Ms: p50, p90Ms: p50, p99Ms: maxMs, maxMs, meanMs: p50, stallCount: stalledMs ? Math.max(1, Math.round(stalledMs / maxMs)) : 0,
    stalledMs, stalledFrac: stalledMs / wallMs, sampleCount: 10, expectedSampleCount: Math.round(wallMs), samples: [],
  };
}

function frame(file: string | null, line: number | null, fn: string, kind: StackFrame['kind'], extra: Partial<StackFrame> = {}): StackFrame {
  return { file, line, function: fn, kind, ...extra };
}

function blocker(b: Partial<Blocker> & Pick<Blocker, 'share'>): Blocker {
  const stalledMs = b.stalledMs ?? b.share * 1200;
  return {
    file: 'services/feeds.py', line: 17, function: 'parse_feed', source: 'tree = etree.fromstring(body)', thread: 'loop', step: 'call',
    samples: 40, stalls: 8, stack: [], library: null, ...b, stalledMs,
  };
}

function attribution(coverage: number | null, status: Attribution['status'] = 'ok'): Attribution {
  return {
    version: 1, status, method: status === 'ok' ? 'current-frames' : null, intervalMs: 10, stalledMs: 1200, attributedMs: (coverage ?? 0) * 1200,
    coverage, coverage20Ms: coverage, unattributed: { noSampleMs: 0, notRunningMs: 0, otherMs: 0 }, samples: 120,
  };
}

interface RunSpec { p50: number; max: number; wallMs?: number; blockers?: Blocker[]; attribution?: Attribution; transferLoopMs?: number }

function modeRun(mode: string, s: RunSpec): ModeRun {
  const wallMs = s.wallMs ?? 1500;
  const stalledMs = s.max >= 50 ? Math.min(wallMs, 1200) : 0;
  return {
    mode: mode as ModeRun['mode'], status: 'ok', error: null, wallMs, startupMs: mode === 'inline' ? null : 20, workers: mode === 'inline' ? 1 : 4,
    tasks: Array.from({ length: 10 }, (_, id) => ({ id, queuedMs: 0, startMs: 0, endMs: 150, worker: 'w', cpuMs: null, error: null })),
    taskStats: { okCount: 10, errorCount: 0, queueP50Ms: 0, queueMaxMs: 0, runP50Ms: 150, runMaxMs: 150, runSumMs: 1500 },
    lag: lag(s.p50, s.max, wallMs, stalledMs), gilWait: null, cpu: { userMs: wallMs, systemMs: 0, parallelism: 1 },
    throughputPerS: 10 / (wallMs / 1000), speedup: mode === 'inline' ? 1 : 1.05, backgroundCpuFrac: 0.02,
    output: { stdout: '', stderr: '', truncated: false, stdoutBytes: 0, stderrBytes: 0 },
    ...(s.transferLoopMs !== undefined ? { transfer: { argsBytesMean: 5e6, resultBytesMean: 10, loopMs: s.transferLoopMs, workerMs: 50 } } : {}),
    ...(s.blockers ? { blockers: s.blockers } : {}),
    ...(s.attribution ? { attribution: s.attribution } : {}),
  };
}

interface Spec {
  node?: boolean;
  isAsync?: boolean;
  runs: Record<string, RunSpec>;
  diagnostic?: { callMs: number; p50: number; max: number; blockers?: Blocker[] };
  /** settings.attribution; absent: a report from before attribution. */
  attributionSetting?: boolean;
}

function report(spec: Spec): Report {
  const node = spec.node ?? false;
  const d = spec.diagnostic;
  const r: Report = {
    schema: 'looplag.report/1', tool: { name: 'looplag', version: 't' }, createdAt: '2026-01-01T00:00:00Z', status: 'complete', error: null,
    target: { file: 'services/feeds.py', qualname: 'work', lines: null, line: 1, language: node ? 'javascript' : 'python', args: '1', isAsync: spec.isAsync ?? false },
    runtime: { name: node ? 'node' : 'python', version: 'x', executable: 'x', implementation: 'x', gilEnabled: !node, cpuCount: 2, platform: 'linux', switchIntervalS: node ? 0 : 0.005 },
    settings: {
      concurrency: 10, workers: null, switchIntervalS: node ? null : 0.005, heartbeatMs: 1, stallMs: 50, gilProbe: !node,
      modes: Object.keys(spec.runs) as ModeRun['mode'][], timeoutS: 60, lagBudgetMs: 100, plannedMode: null,
      ...(spec.attributionSetting !== undefined ? { attribution: spec.attributionSetting } : {}),
    },
    quality: { backgroundCpuFrac: 0.02, trustworthy: true, notes: [] },
    baseline: null,
    diagnostic: d ? { lag: lag(d.p50, d.max, d.callMs, d.max >= 50 ? d.max : 0), gilWait: null, wallMs: d.callMs, callMs: d.callMs, cpuMs: null, ...(d.blockers ? { blockers: d.blockers } : {}) } : null,
    runs: Object.entries(spec.runs).map(([m, s]) => modeRun(m, s)),
    advice: [],
  };
  return Report.parse(JSON.parse(JSON.stringify(r))); // the synthetic report is a valid looplag.report/1
}

/** The same report as it would have been without attribution (a report from before it). */
function withoutAttribution(r: Report): Report {
  const old: Report = JSON.parse(JSON.stringify(r));
  delete old.settings.attribution;
  if (old.diagnostic) delete old.diagnostic.blockers;
  for (const run of old.runs) {
    delete run.blockers;
    delete run.attribution;
  }
  return old;
}

const find = (r: Report, id: string): Advice => {
  const a = advise(r).find((x) => x.id === id);
  assert.ok(a, `${id} in ${advise(r).map((x) => x.id).join(', ')}`);
  return a;
};

const STALLED = { p50: 150, max: 150 };
const NATIVE = { callMs: 150, p50: 150, max: 150 };
const PURE = { callMs: 120, p50: 5.2, max: 11 };
const LXML = frame('lxml/etree.pyx', 3310, 'fromstring', 'library');

test('inline-blocks-loop and async-def-blocks-loop name the line that took most of the stalled time, and set at', () => {
  for (let i = 0; i < 20; i++) {
    const share = jitter(0.82);
    const r = report({
      isAsync: true, attributionSetting: true,
      runs: { inline: { ...STALLED, blockers: [blocker({ share, library: LXML }), blocker({ share: jitter(0.08), line: 30, source: 'log(x)' })], attribution: attribution(jitter(0.95)) } },
    });
    const before = withoutAttribution(r);
    for (const id of ['inline-blocks-loop', 'async-def-blocks-loop']) {
      const a = find(r, id);
      const old = find(before, id);
      assert.equal(a.title, old.title);
      assert.ok(a.detail.startsWith(old.detail), 'the old text, then the line');
      assert.equal(a.detail.slice(old.detail.length),
        ` Most of the stalled time (${Math.round(share * 100)}%, ${fmtMs(share * 1200)}) was \`tree = etree.fromstring(body)\` at services/feeds.py:17 → \`lxml.etree.fromstring\`.`);
      assert.deepEqual(a.at, { file: 'services/feeds.py', line: 17 });
      assert.equal(old.at, undefined);
    }
  }
});

test('a line under half the stalled time is "the largest part", and a second line over the share follows it', () => {
  const r = report({
    attributionSetting: true,
    runs: { inline: { ...STALLED, blockers: [blocker({ share: 0.41 }), blocker({ share: 0.27, line: 22, source: 'rows.sort(key=rank)' }), blocker({ share: 0.1, line: 40 })], attribution: attribution(0.9) } },
  });
  const a = find(r, 'inline-blocks-loop');
  assert.match(a.detail, /The largest part of the stalled time \(41%, 492\.0 ms\) was `tree = etree\.fromstring\(body\)` at services\/feeds\.py:17; then `rows\.sort\(key=rank\)` at services\/feeds\.py:22 \(27%, 324\.0 ms\)\.$/);
  assert.doesNotMatch(a.detail, /feeds\.py:40/, 'under the share: not listed');
});

test('below the thresholds, with attribution off or failed, or in an old report, the advice is exactly as without blockers', () => {
  const eps = 0.02;
  const cases: Array<[string, Spec]> = [
    ['share under BLOCKER_MIN_SHARE', { attributionSetting: true, runs: { inline: { ...STALLED, blockers: [blocker({ share: T.BLOCKER_MIN_SHARE - eps })], attribution: attribution(0.95) } } }],
    ['coverage under BLOCKER_COVERAGE_MIN', { attributionSetting: true, runs: { inline: { ...STALLED, blockers: [blocker({ share: 0.45 })], attribution: attribution(T.BLOCKER_COVERAGE_MIN - eps) } } }],
    ['no coverage (no stalls measured)', { attributionSetting: true, runs: { inline: { ...STALLED, blockers: [blocker({ share: 0.8 })], attribution: attribution(null) } } }],
    ['too few samples', { attributionSetting: true, runs: { inline: { ...STALLED, blockers: [blocker({ share: 0.8, samples: T.BLOCKER_MIN_SAMPLES - 1 })], attribution: attribution(0.95) } } }],
    ['no line (garbage collection)', { attributionSetting: true, runs: { inline: { ...STALLED, blockers: [blocker({ share: 0.8, file: null, line: null, function: '(garbage collector)', step: 'gc' })], attribution: attribution(0.95) } } }],
    ['attribution off', { attributionSetting: false, runs: { inline: { ...STALLED, blockers: [blocker({ share: 0.8 })], attribution: attribution(null, 'off') } } }],
    ['attribution failed', { attributionSetting: true, runs: { inline: { ...STALLED, blockers: [blocker({ share: 0.8 })], attribution: attribution(0.9, 'failed') } } }],
    ['blockers without an attribution summary', { attributionSetting: true, runs: { inline: { ...STALLED, blockers: [blocker({ share: 0.8 })] } } }],
    ['diagnostic: share under the line', {
      attributionSetting: true, runs: { inline: STALLED, thread: { p50: 120, max: 400 } },
      diagnostic: { ...NATIVE, blockers: [blocker({ share: T.BLOCKER_MIN_SHARE - eps, thread: 'gil-holder' }), blocker({ share: 0.6, thread: 'gil-holder', file: null, line: null })] },
    }],
    ['diagnostic: attribution off in the settings', {
      attributionSetting: false, runs: { inline: STALLED, thread: { p50: 120, max: 400 } }, diagnostic: { ...NATIVE, blockers: [blocker({ share: 0.9, thread: 'gil-holder' })] },
    }],
    ['thread mode: the loop\'s own lines are not a GIL holder\'s', {
      attributionSetting: true, runs: { inline: STALLED, thread: { p50: 120, max: 400, blockers: [blocker({ share: 0.9 })], attribution: attribution(0.9) } }, diagnostic: NATIVE,
    }],
    ['time-sliced lines under the share', {
      attributionSetting: true, runs: { inline: STALLED, thread: { p50: 120, max: 400, blockers: [0.15, 0.12, 0.1].map((share, i) => blocker({ share, line: 18 + i, thread: 'gil-holder' })), attribution: attribution(0.9) } }, diagnostic: PURE,
    }],
    ['a sampled pool step seen too few times', {
      attributionSetting: true, runs: { process: { p50: 0.1, max: 120, wallMs: 3000, blockers: [blocker({ share: 0.6, step: 'pool-manager', samples: T.BLOCKER_MIN_SAMPLES - 1, stack: [frame('concurrent/futures/process.py', 300, '_run', 'stdlib')] })], attribution: attribution(0.9) } },
    }],
    ['pool steps under the share', {
      attributionSetting: true, runs: { process: { p50: 0.1, max: 120, wallMs: 3000, blockers: [blocker({ share: T.BLOCKER_MIN_SHARE - eps, step: 'deserialize-result', source: null })], attribution: attribution(0.9) } },
    }],
    ['pool steps, coverage under the line', {
      attributionSetting: true, runs: { process: { p50: 0.1, max: 120, wallMs: 3000, blockers: [blocker({ share: 0.45, step: 'deserialize-result', source: null })], attribution: attribution(T.BLOCKER_COVERAGE_MIN - eps) } },
    }],
    ['diagnostic: its lines explain too little of its stalls', {
      attributionSetting: true, runs: { inline: STALLED, thread: { p50: 120, max: 400 } }, diagnostic: { ...NATIVE, blockers: [blocker({ share: T.BLOCKER_COVERAGE_MIN - eps, thread: 'gil-holder' })] },
    }],
    ['a report from before attribution', { runs: { inline: STALLED, thread: { p50: 120, max: 400 } }, diagnostic: NATIVE }],
  ];
  for (const [name, spec] of cases) {
    const r = report(spec);
    assert.deepEqual(advise(r), advise(withoutAttribution(r)), name);
    assert.ok(advise(r).every((a) => a.at === undefined), name);
  }
});

test('gil-held-native names the line from the one-thread diagnostic: how long it held the GIL in that call', () => {
  const json = frame('json/encoder.py', 258, 'iterencode', 'stdlib');
  const r = report({
    attributionSetting: true, runs: { inline: STALLED, thread: { p50: 120, max: 400 } },
    diagnostic: { ...NATIVE, blockers: [blocker({ share: 0.85, stalledMs: 128, file: 'services/serialize.py', line: 12, function: 'to_json', source: 'return json.dumps(doc)', thread: 'gil-holder', library: json })] },
  });
  const a = find(r, 'gil-held-native');
  const old = find(withoutAttribution(r), 'gil-held-native');
  assert.equal(a.title, 'Threads cannot help: the native call at services/serialize.py:12 holds the GIL for its whole duration');
  assert.equal(old.title, 'Threads cannot help: a native call holds the GIL for its whole duration');
  assert.ok(a.detail.startsWith("`return json.dumps(doc)` at services/serialize.py:12 → `json.encoder.iterencode` held the GIL for 128.0 ms of the one-thread diagnostic's 150.0 ms call (85% of the loop's stalled time in it). "), a.detail);
  assert.match(a.detail, /In a one-thread diagnostic/, 'the evidence is still cited');
  assert.match(a.detail, /Use processes\.$/);
  assert.doesNotMatch(a.detail, /Calls such as/, 'the line replaces the generic list');
  assert.deepEqual(a.at, { file: 'services/serialize.py', line: 12 });
  assert.equal(a.fix, old.fix);
});

test('gil-held-native falls back to thread mode\'s blockers: stalled time per stall', () => {
  const r = report({
    attributionSetting: true,
    runs: { inline: STALLED, thread: { p50: 120, max: 400, blockers: [blocker({ share: 0.7, stalledMs: 840, stalls: 6, thread: 'gil-holder', source: 'sorted(data)', line: 20 })], attribution: attribution(0.98) } },
    // The diagnostic's only line is under the share: thread mode's is used.
    diagnostic: { ...NATIVE, blockers: [blocker({ share: 0.1, thread: 'gil-holder', line: 99 })] },
  });
  const a = find(r, 'gil-held-native');
  assert.ok(a.detail.startsWith('`sorted(data)` at services/feeds.py:20 held the GIL for 140.0 ms per stall in thread mode (6 stalls, 70% of the stalled time). '), a.detail);
  assert.deepEqual(a.at, { file: 'services/feeds.py', line: 20 });
});

test('gil-contention lists the worker lines over the share, with their shares', () => {
  const r = report({
    attributionSetting: true,
    runs: {
      inline: STALLED,
      thread: {
        p50: 120, max: 400, attribution: attribution(0.97),
        blockers: [
          blocker({ share: 0.46, thread: 'gil-holder', line: 19, source: 's += i * i' }),
          blocker({ share: 0.26, thread: 'gil-holder', line: 18, source: 'for i in range(n):' }),
          blocker({ share: 0.12, thread: 'gil-holder', line: 21, source: 'time.sleep(0.03)' }),
        ],
      },
    },
    diagnostic: PURE,
  });
  const a = find(r, 'gil-contention');
  const old = find(withoutAttribution(r), 'gil-contention');
  assert.equal(a.detail.slice(old.detail.length),
    ' While the loop waited, the workers ran `s += i * i` at services/feeds.py:19 for 46% of the stalled time (552.0 ms); `for i in range(n):` at services/feeds.py:18 for 26% (312.0 ms).');
  assert.deepEqual(a.at, { file: 'services/feeds.py', line: 19 });
});

test('transfer-overhead (Node pools) gives the serialization step\'s share of the stalled time, its blockers summed', () => {
  // As the reducer makes them from the sidecar's timed spans: no line, no stack, one "sample" per stall overlapped.
  const step = (s: Blocker['step'], share: number, fn: string) => blocker({ share, thread: 'main', step: s, file: null, line: null, function: fn, source: null, samples: 1, stalls: 1 });
  const r = report({
    node: true, attributionSetting: true,
    runs: {
      inline: { p50: 0.2, max: 2 },
      worker: {
        p50: 1, max: 180, transferLoopMs: 900, attribution: { ...attribution(0.9), method: 'spans' },
        blockers: [step('serialize-args', 0.4, 'v8.serialize'), step('serialize-args', 0.24, 'structuredClone'), step('deserialize-result', 0.12, 'v8.deserialize')],
      },
    },
  });
  const a = find(r, 'transfer-overhead');
  const old = find(withoutAttribution(r), 'transfer-overhead');
  assert.equal(a.detail.slice(old.detail.length), " Of the loop's stalled time in worker mode, serializing the arguments was 64% (768.0 ms).");
  assert.equal(a.at, undefined, 'a step has no line of the user\'s');
});

test('process-overhead (Python) gives the parent\'s steps\' shares when the loop stalled; at is set only for a user frame', () => {
  const setstate = frame('services/models.py', 40, '__setstate__', 'user');
  const manager = frame('concurrent/futures/process.py', 300, '_run', 'stdlib');
  const spec = (top: StackFrame): Spec => ({
    attributionSetting: true,
    runs: {
      process: {
        p50: 0.1, max: 120, wallMs: 3000, attribution: attribution(0.9),
        blockers: [
          blocker({ share: 0.55, thread: 'loop', step: 'deserialize-result', file: top.file, line: top.line, function: top.function, source: null, stack: [top] }),
          blocker({ share: 0.25, thread: 'gil-holder', step: 'pool-manager', file: manager.file, line: manager.line, function: manager.function, source: null, stack: [manager] }),
          blocker({ share: 0.05, thread: 'loop', step: 'serialize-args', source: null }),
        ],
      },
    },
  });
  const r = report(spec(setstate));
  const a = find(r, 'process-overhead');
  const old = find(withoutAttribution(r), 'process-overhead');
  assert.equal(a.detail.slice(old.detail.length),
    " Of the loop's stalled time in process mode, deserializing the results was 55% (660.0 ms), the pool's manager thread was 25% (300.0 ms).");
  assert.deepEqual(a.at, { file: 'services/models.py', line: 40 }, 'the user\'s __setstate__ ran the unpickling');
  // Keyed on the tool's own frame (no user code under the step): the share is said, no line is pointed at.
  const tool = find(report(spec(frame('looplag_sidecar/modes.py', 790, '_pool_window', 'tool'))), 'process-overhead');
  assert.equal(tool.detail, a.detail);
  assert.equal(tool.at, undefined);
});

test('Node: a line that is only its function\'s start says so, and a runtime frame under it is named', () => {
  const def = frame('src/feeds.js', 9, 'parseThenMatch', 'user', { lineIsDefinition: true });
  const r = report({
    node: true, attributionSetting: true,
    runs: { inline: { ...STALLED, attribution: { ...attribution(0.92), method: 'v8-cpu-profiler' }, blockers: [blocker({ share: 0.7, file: 'src/feeds.js', line: 9, function: 'parseThenMatch', source: 'function parseThenMatch(text, re) {', stack: [frame(null, null, 'RegExp: (ab)+$', 'runtime'), def], library: frame(null, null, 'RegExp: (ab)+$', 'runtime') })] } },
  });
  const a = find(r, 'inline-blocks-loop');
  assert.match(a.detail, /was `parseThenMatch` \(defined at src\/feeds\.js:9\) → `RegExp: \(ab\)\+\$`\.$/);
  assert.deepEqual(a.at, { file: 'src/feeds.js', line: 9 });
});

/** CommonMark code spans in `text`: their contents, and any backtick run left unmatched (which would unbalance the text). */
function codeSpans(text: string): { spans: string[]; unmatched: number } {
  const spans: string[] = [];
  let unmatched = 0;
  const re = /`+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    const open = m[0];
    const close = new RegExp(`(?<!\`)${open}(?!\`)`, 'g');
    close.lastIndex = m.index + open.length;
    const c = close.exec(text);
    if (!c) { unmatched++; continue; }
    let inner = text.slice(m.index + open.length, c.index);
    if (/^ .* $/.test(inner) && inner.trim()) inner = inner.slice(1, -1);
    spans.push(inner);
    re.lastIndex = c.index + open.length;
  }
  return { spans, unmatched };
}

test('a hostile source line and file name stay inert: balanced code spans, no control or bidi characters, escaped in Markdown', () => {
  const source = 'x = `a` + ``b`` + "<img src=x onerror=alert(1)>" \u001b[31m\u202etxt.exe\r\n# </script>';
  const file = 'we`ird/<b>_x.py';
  const r = report({
    attributionSetting: true,
    runs: { inline: { ...STALLED, blockers: [blocker({ share: 0.8, file, line: 3, source, function: 'f`n' })], attribution: attribution(0.9) }, thread: { p50: 120, max: 400 } },
    // gil-held-native puts the path in its title, which the Markdown export and the CLI show.
    diagnostic: { ...NATIVE, blockers: [blocker({ share: 0.9, file, line: 3, source, thread: 'gil-holder' })] },
  });
  const advice = advise(r);
  const a = advice.find((x) => x.id === 'inline-blocks-loop')!;
  const { spans, unmatched } = codeSpans(a.detail);
  assert.equal(unmatched, 0, a.detail);
  const shown = 'x = `a` + ``b`` + "<img src=x onerror=alert(1)>" \ufffd[31m\ufffdtxt.exe # </script>';
  assert.ok(spans.includes(shown), `${JSON.stringify(spans)}`);
  assert.ok(spans.includes('we`ird/<b>_x.py:3'), 'the path is quoted as code');
  for (const x of advice) {
    for (const text of [x.title, x.detail]) {
      assert.doesNotMatch(text, /[\u0000-\u0008\u000b-\u001f\u007f\u202a-\u202e]/);
      assert.equal(codeSpans(text).unmatched, 0, text);
    }
  }
  assert.deepEqual(a.at, { file, line: 3 }, 'at keeps the real path: the editor opens it');
  const held = advice.find((x) => x.id === 'gil-held-native')!;
  assert.equal(held.title, 'Threads cannot help: the native call at ``we`ird/<b>_x.py:3`` holds the GIL for its whole duration');
  // The Markdown export shows the advice titles (verdicts): escaped, never raw HTML.
  const md = reportMarkdown({ ...r, advice });
  assert.match(md, /we\\`ird\/\\<b\\>\\_x\.py:3/, 'the title is in the export, escaped');
  assert.doesNotMatch(md, /<b>|<img|<\/script>/);
});

test('quoting: fences longer than any backtick run, long lines cut, module names for Python frames', () => {
  assert.equal(code('a'), '`a`');
  assert.equal(code('a ` b'), '``a ` b``');
  assert.equal(code('``x'), '``` ``x ```');
  assert.equal(codeSpans(code('``x')).spans[0], '``x');
  const long = plain('y = ' + 'f(x) + '.repeat(40));
  assert.ok(long.length <= 100 && long.endsWith('…'), long);
  assert.equal(place('services/feeds.py', 17), 'services/feeds.py:17');
  assert.equal(place('my_pkg/feed_parser.py', 3), 'my_pkg/feed_parser.py:3', 'intra-word underscores are plain text');
  assert.equal(place('services/_private.py', 3), '`services/_private.py:3`');
  const name = WORDS.python.frameName;
  assert.deepEqual(name(frame('json/__init__.py', 231, 'dumps', 'stdlib')), { name: 'json.dumps', where: null });
  assert.deepEqual(name(frame('markdown/core.py', 357, '<module>', 'library')), { name: 'markdown.core', where: null });
  assert.deepEqual(name(frame('<frozen importlib._bootstrap>', 1, '_load', 'stdlib')), { name: '_load', where: '<frozen importlib._bootstrap>' });
  assert.deepEqual(WORDS.node.frameName(frame('lodash/lodash.js', 10, 'cloneDeep', 'library')), { name: 'cloneDeep', where: 'lodash/lodash.js' });
});
