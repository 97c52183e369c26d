/**
 * Where the loop was blocked, Node: the real sidecar on a real `node`, driven with a plan
 * that turns attribution on (the host's reducer is another module: this file reduces
 * by hand, summing samples per user line). Inline: V8's CPU profiler names the line of
 * a `JSON.parse` that dominates a call above the regex after it, in a `.ts` target by
 * its `.ts` lines, with samples on the heartbeat's clock. Worker and process modes:
 * serializing a ~5 MB argument is a `serialize-args` span covering the stall it causes.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { defaultNodeSidecarDir } from '../../src/engine/runtimes';
import { SidecarProcess } from '../../src/engine/sidecarProcess';
import { PROTOCOL_VERSION, type RawAttribution, type RawWindow, type RunPlan } from '../../src/shared/protocol';
import { FIXTURES } from '../support/helpers';

const DIR = path.join(FIXTURES, 'node', 'attribution');
/** A stall, as the issue counts them: a heartbeat gap of at least this long. */
const STALL_MS = 20;
/** Sampling interval of these runs, ms. */
const INTERVAL_MS = 1;

/** Runs the sidecar on one plan; its windows (validated by the host's protocol parser). */
async function runWindows(file: string, qualname: string, modes: RunPlan['modes'], extra: Partial<RunPlan> & { args?: string } = {}): Promise<RawWindow[]> {
  const { args = '', ...rest } = extra;
  const plan: RunPlan = {
    target: { file, qualname, lines: null, args, workspaceRoot: DIR },
    modes, concurrency: 3, workers: 2, switchIntervalS: null, heartbeatMs: 1, gilProbe: false, gilProbeInWindow: false,
    warmup: true, callTimeoutS: null, baselineMs: 0, diagnostic: false, outputCapBytes: 65536,
    attribution: { enabled: true, intervalMs: INTERVAL_MS },
    ...rest,
  };
  const windows: RawWindow[] = [];
  const errors: string[] = [];
  const sidecar: SidecarProcess = new SidecarProcess({
    command: process.execPath,
    args: [path.join(defaultNodeSidecarDir(), 'sidecar.js')],
    cwd: DIR,
    outputCapBytes: plan.outputCapBytes,
    onMessage: (m) => {
      if (m.type === 'hello') sidecar.send({ type: 'start', protocol: PROTOCOL_VERSION, plan });
      else if (m.type === 'window' && m.window.mode !== 'baseline') windows.push(m.window);
      else if (m.type === 'error') errors.push(m.error.message);
    },
  });
  const exit = await sidecar.stopped;
  assert.deepEqual(errors, [], `sidecar errors: ${errors.join('; ')} (${exit.stderrTail})`);
  assert.equal(exit.protocolError, null);
  return windows;
}

/** The 1-based line of a fixture holding `marker`. */
function lineOf(file: string, marker: string): number {
  const i = fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(marker));
  assert.ok(i >= 0, `${marker} not in ${file}`);
  return i + 1;
}

/** Each heartbeat gap of at least STALL_MS, as [start, end] window ms. */
function stallsOf(w: RawWindow): [number, number][] {
  return w.samples.filter(([, lag]) => lag >= STALL_MS).map(([t, lag]) => [t - lag - 1, t]);
}

interface Reduced {
  /** Samples in stalls per innermost user frame, `file:line`. */
  byLine: Map<string, number>;
  /** Samples in stalls whose stack holds a runtime frame named like this. */
  runtimeNamed: (re: RegExp) => number;
  /** Stalls of ≥ STALL_MS with at least one sample in them / all of them. */
  coverage: number;
  inStalls: number;
}

/** The test's own reducer: samples in stalls, counted by their innermost user frame. */
function reduce(w: RawWindow): Reduced {
  const a = w.attribution!;
  const stalls = stallsOf(w);
  const inStall = a.samples.filter((s) => stalls.some(([t0, t1]) => s.tMs >= t0 && s.tMs <= t1));
  const byLine = new Map<string, number>();
  for (const s of inStall) {
    const user = a.stacks[s.stack].map((i) => a.frames[i]).find((f) => f.kind === 'user');
    if (user) byLine.set(`${user.file}:${user.line}`, (byLine.get(`${user.file}:${user.line}`) ?? 0) + 1);
  }
  const covered = stalls.filter(([t0, t1]) => a.samples.some((s) => s.tMs >= t0 && s.tMs <= t1)).length;
  return {
    byLine,
    runtimeNamed: (re) => inStall.filter((s) => a.stacks[s.stack].some((i) => a.frames[i].kind === 'runtime' && re.test(a.frames[i].function))).length,
    coverage: stalls.length ? covered / stalls.length : 0,
    inStalls: inStall.length,
  };
}

function describeAttribution(t: TestContext, w: RawWindow, r: Reduced): void {
  const ranked = [...r.byLine].sort((x, y) => y[1] - x[1]);
  t.diagnostic(`${w.mode}: ${w.attribution!.samples.length} samples, ${r.inStalls} in ${stallsOf(w).length} stalls (coverage ${r.coverage.toFixed(2)}); ` +
    `by line: ${ranked.map(([k, n]) => `${k}=${n}`).join(' ')}; regex ${r.runtimeNamed(/^RegExp: /)}; background ${w.backgroundCpuFrac}`);
}

/** The attribution, without an error. */
function attributionOf(w: RawWindow): RawAttribution {
  assert.ok(w.attribution, `${w.mode}: no attribution in the window`);
  assert.equal(w.attribution.error, undefined, `attribution failed: ${w.attribution.error}`);
  return w.attribution;
}

/** Inline: the parse's line first, the regex below it, the sidecar's frames nowhere, samples where the calls ran. */
function checkParseThenMatch(t: TestContext, file: string, w: RawWindow): void {
  const a = attributionOf(w);
  assert.equal(a.method, 'v8-cpu-profiler');
  assert.equal(a.intervalMs, INTERVAL_MS);
  const r = reduce(w);
  describeAttribution(t, w, r);
  const base = path.basename(file);
  const parse = `${base}:${lineOf(file, '// PARSE')}`;
  const ranked = [...r.byLine].sort((x, y) => y[1] - x[1]);
  assert.ok(ranked.length > 0, 'no user line sampled during the stalls');
  assert.equal(ranked[0][0], parse, `the JSON.parse line should rank first: ${JSON.stringify(ranked)}`);
  // The regex's time is on its own line while V8 interprets it, or in a runtime frame
  // `RegExp: …` under the calling function once compiled: either way below the parse.
  const regex = (r.byLine.get(`${base}:${lineOf(file, '// MATCH')}`) ?? 0) + r.runtimeNamed(/^RegExp: \(\?:a\|b\)\+c/);
  assert.ok(regex > 0, 'the regex never sampled');
  assert.ok(regex < ranked[0][1], `regex ${regex} samples ≥ the parse's ${ranked[0][1]}`);
  assert.ok(r.coverage >= 0.9, `only ${(r.coverage * 100).toFixed(0)}% of stalls ≥ ${STALL_MS} ms have a sample`);
  // The line's text comes with it; the sidecar's own frames never do.
  const parseFrame = a.frames.find((f) => f.kind === 'user' && `${f.file}:${f.line}` === parse && !f.lineIsDefinition);
  assert.match(parseFrame?.source ?? '', /JSON\.parse\(DOC\)/);
  for (const f of a.frames) assert.doesNotMatch(f.file ?? '', /sidecars[\\/]node|sidecar\.js/, `a sidecar frame was sent: ${JSON.stringify(f)}`);
  // On the heartbeat's clock: the target's samples fall while a call ran (the calls'
  // start and end are read on the clock the heartbeat uses, hrtime, as performance.now()).
  const target = a.samples.filter((s) => a.stacks[s.stack].some((i) => a.frames[i].function === 'parseThenMatch'));
  const during = target.filter((s) => w.tasks.some((k) => k.startMs !== null && k.endMs !== null && s.tMs >= k.startMs - 0.5 && s.tMs <= k.endMs + 0.5));
  assert.ok(target.length > 0 && during.length >= 0.95 * target.length, `${during.length} of ${target.length} samples in parseThenMatch fall inside a call`);
  // …and inside the stalls the heartbeat saw (a stall holds the calls run back to back).
  const stalls = stallsOf(w);
  const inStall = target.filter((s) => stalls.some(([t0, t1]) => s.tMs >= t0 - 0.5 && s.tMs <= t1 + 0.5));
  assert.ok(inStall.length >= 0.95 * target.length, `${inStall.length} of ${target.length} target samples inside a heartbeat stall`);
}

describe('Node attribution (V8 CPU profiler, pool spans)', () => {
  test('inline, CommonJS: the JSON.parse line ranks first, the regex below it, on the heartbeat clock', async (t) => {
    const file = path.join(DIR, 'parseThenMatch.cjs');
    const [w] = await runWindows(file, 'parseThenMatch', ['inline']);
    checkParseThenMatch(t, file, w);
  });

  test('inline, TypeScript: the lines are the .ts file\'s, not the transpiled JavaScript\'s', async (t) => {
    const file = path.join(DIR, 'parseThenMatch.ts');
    const [w] = await runWindows(file, 'parseThenMatch', ['inline']);
    checkParseThenMatch(t, file, w);
  });

  test('inline, TypeScript as ESM (.mts, transpiled on the loader hooks\' thread): the .ts lines too', async (t) => {
    const file = path.join(DIR, 'parseThenMatch.mts');
    const [w] = await runWindows(file, 'parseThenMatch', ['inline']);
    checkParseThenMatch(t, file, w);
  });

  test('inline: samples land in the stalls the heartbeat saw, not in the idle gaps between them', async (t) => {
    // 12 ms stalls, 15 ms idle: samples a few ms off the heartbeat's clock fall idle.
    const file = path.join(DIR, 'pulses.cjs');
    const [w] = await runWindows(file, 'pulses', ['inline'], { args: '20', concurrency: 1 });
    const a = attributionOf(w);
    const stalls = w.samples.filter(([, lag]) => lag >= 6).map(([at, lag]) => [at - lag - 1, at]);
    const spin = a.samples.filter((s) => a.stacks[s.stack].some((i) => a.frames[i].function === 'spin'));
    const inside = spin.filter((s) => stalls.some(([t0, t1]) => s.tMs >= t0 - 0.5 && s.tMs <= t1 + 0.5));
    t.diagnostic(`${spin.length} samples in spin, ${inside.length} inside one of ${stalls.length} heartbeat stalls ≥ 6 ms; background ${w.backgroundCpuFrac}`);
    assert.ok(stalls.length >= 15, `the heartbeat saw ${stalls.length} of the 20 stalls`);
    assert.ok(spin.length >= 20, `only ${spin.length} samples in spin`);
    assert.ok(inside.length >= 0.95 * spin.length, `${spin.length - inside.length} of ${spin.length} samples in spin fall outside every stall`);
  });

  for (const mode of ['worker', 'process'] as const) test(`${mode} mode: serializing a ~5 MB argument is a serialize-args span covering the stall`, async (t) => {
    const file = path.join(DIR, 'bigArgument.cjs');
    const [w] = await runWindows(file, 'countItems', [mode], { args: 'bigArgument()', concurrency: 2, workers: 2 });
    const a = attributionOf(w);
    assert.equal(a.method, 'spans');
    const ser = (a.spans ?? []).filter((s) => s.step === 'serialize-args');
    const de = (a.spans ?? []).filter((s) => s.step === 'deserialize-result');
    assert.equal(ser.length, 2, `one serialize-args span per call: ${JSON.stringify(a.spans)}`);
    assert.equal(de.length, 2, 'one deserialize-result span per call');
    // Each span is the task's own transfer time, on the same clock.
    const written = w.tasks.map((k) => k.transfer!.argsWriteMs).sort((x, y) => x - y);
    const spanMs = ser.map((s) => s.endMs - s.startMs).sort((x, y) => x - y);
    spanMs.forEach((ms, i) => assert.ok(Math.abs(ms - written[i]) < 0.5, `span ${ms} ms vs argsWriteMs ${written[i]} ms`));
    // The longest stall is the serialization: the spans cover most of it.
    const [lagT, lag] = w.samples.reduce((m, s) => (s[1] > m[1] ? s : m), [0, 0]);
    const gap: [number, number] = [lagT - lag - 1, lagT];
    const covered = ser.reduce((sum, s) => sum + Math.max(0, Math.min(s.endMs, gap[1]) - Math.max(s.startMs, gap[0])), 0);
    t.diagnostic(`longest stall ${lag.toFixed(1)} ms at ${lagT.toFixed(1)}; serialize-args ${spanMs.map((x) => x.toFixed(1)).join(', ')} ms; covered ${covered.toFixed(1)} ms; background ${w.backgroundCpuFrac}`);
    assert.ok(lag >= STALL_MS, `serializing ~5 MB should stall the loop ≥ ${STALL_MS} ms (longest ${lag} ms)`);
    assert.ok(covered >= 0.6 * lag, `serialize-args spans cover ${covered.toFixed(1)} of the ${lag.toFixed(1)} ms stall`);
  });

  test('attribution off: the window carries none', async () => {
    const file = path.join(DIR, 'parseThenMatch.cjs');
    const [w] = await runWindows(file, 'parseThenMatch', ['inline'], { concurrency: 1, attribution: { enabled: false, intervalMs: INTERVAL_MS } });
    assert.equal(w.attribution, undefined);
  });
});
