/**
 * The Node sidecar's pure profile → samples code on a recorded V8 CPU profile
 * (test/fixtures/node/attribution/profile.json, from recordProfile.cjs there) and on
 * small synthetic ones: the clock calibration, samples inside the blocks that
 * performance.now() timed, the leaf's line from positionTicks, parents' definition
 * lines, GC and regex nodes, out-of-order deltas, caps, and the frame kinds.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { RawFrame } from '../../src/shared/protocol';
import { Frames } from '../../src/sidecars/node/frameResolver';
import { CallFrame, CpuProfile, profileClockOffsetMs, profileSamples, spreadLines } from '../../src/sidecars/node/profileSamples';
import { FIXTURES } from '../support/helpers';

const DIR = path.join(FIXTURES, 'node', 'attribution');
const RECORDER = path.join(DIR, 'recordProfile.cjs');

interface Recording {
  hrBeforeMs: number;
  hrAfterMs: number;
  blocks: { name: string; startMs: number; endMs: number }[];
  profile: CpuProfile;
}

/** The recording, its script's urls pointed at this checkout's copy. */
function recording(): Recording {
  const r = JSON.parse(fs.readFileSync(path.join(DIR, 'profile.json'), 'utf8')) as Recording;
  for (const n of r.profile.nodes) if (n.callFrame.url.endsWith('/recordProfile.cjs')) n.callFrame.url = pathToFileURL(RECORDER).href;
  return r;
}

const frames = () => new Frames({ workspaceRoot: DIR, toolDir: path.join(DIR, 'no-such-tool-dir') });
const opts = { maxSamples: 100_000, maxFrames: 24 };

test('a recorded profile: the clock needs no offset, samples fall in the blocks performance.now() timed', () => {
  const r = recording();
  const offsetMs = profileClockOffsetMs(r.profile.startTime, r.hrBeforeMs, r.hrAfterMs);
  assert.equal(offsetMs, 0, 'on Linux the profile clock is hrtime: its start lies between the two reads');
  const t0 = r.hrBeforeMs;
  const out = profileSamples(r.profile, { t0Ms: t0, windowMs: 1e9, offsetMs, resolve: frames().resolve, ...opts });
  const stackFns = (i: number) => out.stacks[out.samples[i].stack].map((f) => out.frames[f].function);
  const idle = r.profile.nodes.find((n) => n.callFrame.functionName === '(idle)')!;
  const idleCount = r.profile.samples!.filter((id) => id === idle.id).length;
  assert.ok(idleCount > 0, 'the recording has idle samples');
  assert.equal(out.samples.length, r.profile.samples!.length - idleCount, 'every sample but the idle ones');
  for (let i = 1; i < out.samples.length; i++) assert.ok(out.samples[i].tMs >= out.samples[i - 1].tMs, 'sorted by time');
  // Each block's function is sampled only while performance.now() said the block ran (± one interval).
  for (const [fn, block] of [['parse', 'parse'], ['match', 'match'], ['spin', 'spin']]) {
    const b = r.blocks.find((x) => x.name === block)!;
    const ts = out.samples.filter((_, i) => stackFns(i).includes(fn)).map((s) => s.tMs + t0);
    assert.ok(ts.length > 0, `${fn} sampled`);
    for (const t of ts) assert.ok(t >= b.startMs - 1 && t <= b.endMs + 1, `${fn} sample at ${t} outside its block ${b.startMs}–${b.endMs}`);
  }
});

test('a recorded profile: the leaf line from positionTicks, parents at their definition, GC and regex as runtime', () => {
  const r = recording();
  const out = profileSamples(r.profile, { t0Ms: r.hrBeforeMs, windowMs: 1e9, offsetMs: 0, resolve: frames().resolve, ...opts });
  const parse = out.frames.find((f) => f.function === 'parse')!;
  assert.deepEqual(parse, { file: 'recordProfile.cjs', line: 18, function: 'parse', kind: 'user', source: 'return JSON.parse(DOC).items.length; // line 18: PARSE' });
  const regex = out.frames.findIndex((f) => f.function === 'RegExp: (?:a|b)+c');
  assert.deepEqual(out.frames[regex], { file: null, line: null, function: 'RegExp: (?:a|b)+c', kind: 'runtime' });
  // Under it, the calling function: its line is where it starts (no call-site lines in a profile).
  const regexStack = out.stacks.find((s) => s[0] === regex)!;
  assert.deepEqual(out.frames[regexStack[1]], { file: 'recordProfile.cjs', line: 20, function: 'match', kind: 'user', source: 'function match() {', lineIsDefinition: true });
  const gc = out.frames.find((f) => f.function === '(garbage collector)');
  assert.deepEqual(gc, { file: null, line: null, function: '(garbage collector)', kind: 'runtime' });
  assert.ok(!out.frames.some((f) => f.function === '(root)' || f.function === '(idle)'));
  // Only the window's samples: a window that starts at the match block has no parse sample.
  const matchStart = r.blocks.find((b) => b.name === 'match')!.startMs;
  const late = profileSamples(r.profile, { t0Ms: matchStart, windowMs: 1e9, offsetMs: 0, resolve: frames().resolve, ...opts });
  assert.ok(!late.frames.some((f) => f.function === 'parse'));
});

/** A chain root → a → b (b sampled), url in DIR. */
function synthetic(deltas: number[], ticks?: { line: number; ticks: number }[]): CpuProfile {
  const url = pathToFileURL(RECORDER).href;
  return {
    startTime: 1_000_000, endTime: 2_000_000,
    nodes: [
      { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1, columnNumber: -1 }, children: [2] },
      { id: 2, callFrame: { functionName: 'a', url, lineNumber: 16, columnNumber: 0 }, children: [3] },
      { id: 3, callFrame: { functionName: 'b', url, lineNumber: 19, columnNumber: 0 }, positionTicks: ticks ?? [{ line: 22, ticks: 1 }] },
    ],
    samples: deltas.map(() => 3),
    timeDeltas: deltas,
  };
}

test('out-of-order deltas are sorted; samples before the window or after it are not its', () => {
  const p = synthetic([1000, 1000, -500, 2000, 50_000]);
  const out = profileSamples(p, { t0Ms: 1000, windowMs: 10, offsetMs: 0, resolve: frames().resolve, ...opts });
  assert.deepEqual(out.samples.map((s) => s.tMs), [1, 1.5, 2, 3.5]);
  assert.deepEqual(out.samples.map((s) => s.dump), [0, 1, 2, 3]);
  assert.ok(out.samples.every((s) => s.thread === 'loop'));
  const shifted = profileSamples(p, { t0Ms: 1000, windowMs: 10, offsetMs: 0.5, resolve: frames().resolve, ...opts });
  assert.deepEqual(shifted.samples.map((s) => s.tMs), [1.5, 2, 2.5, 4], 'the offset moves every sample');
});

test('caps: samples past the cap are counted as dropped, stacks cut to the innermost frames', () => {
  const p = synthetic([1000, 1000, 1000, 1000]);
  const out = profileSamples(p, { t0Ms: 1000, windowMs: 100, offsetMs: 0, resolve: frames().resolve, maxSamples: 3, maxFrames: 1 });
  assert.equal(out.samples.length, 3);
  assert.equal(out.droppedSamples, 1);
  assert.deepEqual(out.stacks.map((s) => s.map((i) => out.frames[i].function)), [['b']]);
});

test('a node\'s samples get its positionTicks lines by largest remainder, interleaved', () => {
  assert.deepEqual(spreadLines(4, [{ line: 5, ticks: 3 }, { line: 9, ticks: 1 }]), [5, 5, 9, 5]);
  const many = spreadLines(10, [{ line: 1, ticks: 1 }, { line: 2, ticks: 1 }, { line: 3, ticks: 1 }]);
  assert.deepEqual([1, 2, 3].map((l) => many.filter((x) => x === l).length), [4, 3, 3]);
  assert.deepEqual(spreadLines(3, []), []);
  const p = synthetic([1000, 1000, 1000, 1000], [{ line: 22, ticks: 30 }, { line: 23, ticks: 10 }]);
  const out = profileSamples(p, { t0Ms: 1000, windowMs: 100, offsetMs: 0, resolve: frames().resolve, ...opts });
  const leafLines = out.samples.map((s) => out.frames[out.stacks[s.stack][0]].line);
  assert.deepEqual(leafLines, [22, 22, 23, 22]);
  assert.deepEqual(out.frames[out.stacks[out.samples[0].stack][1]].lineIsDefinition, true);
});

test('the clock offset: none when the profile starts between the reads, else from the read before', () => {
  assert.equal(profileClockOffsetMs(5_000_100, 5000, 5040), 0);
  assert.equal(profileClockOffsetMs(90_000_000, 5000, 5040), 5000 - 90_000);
});

test('frames: the sidecar\'s own are dropped (a stack of only those is one tool frame), libraries package-relative, node: kept', () => {
  const tool = new Frames({ workspaceRoot: DIR, toolDir: DIR });
  const out = profileSamples(synthetic([1000]), { t0Ms: 1000, windowMs: 100, offsetMs: 0, resolve: tool.resolve, ...opts });
  assert.deepEqual(out.frames, [{ file: null, line: null, function: '(Loop Lag)', kind: 'tool' }]);
  const f = frames();
  const cf = (url: string, fn = 'f'): CallFrame => ({ functionName: fn, url, lineNumber: 4, columnNumber: 2 });
  assert.deepEqual(f.resolve(cf('file:///srv/app/node_modules/.pnpm/x/node_modules/marked/lib/marked.cjs'), 120, false),
    { file: 'marked/lib/marked.cjs', line: 120, function: 'f', kind: 'library', source: null });
  assert.deepEqual(f.resolve(cf('node:internal/perf/utils', 'now'), 5, true), { file: 'node:internal/perf/utils', line: 5, function: 'now', kind: 'runtime', lineIsDefinition: true });
  assert.deepEqual(f.resolve(cf('', ''), null, true), { file: null, line: null, function: '(anonymous)', kind: 'runtime' });
  // Outside the workspace, a user file keeps its full path.
  assert.equal(f.resolve(cf('file:///elsewhere/x.js'), 1, false)?.file, '/elsewhere/x.js');
});

test('frames: a .ts file\'s line goes through its source map (the first mapping on the line, else its last)', () => {
  const ts = path.join(DIR, 'parseThenMatch.ts');
  const seen: [number, number][] = [];
  const map = {
    findEntry(line: number, column: number) {
      seen.push([line, column]);
      // Line 8 (0-based) of the JavaScript has no mapping at column 0: V8's lookup then
      // answers with the line above's, which must not be taken.
      if (line === 8 && column === 0) return { generatedLine: 7, originalSource: pathToFileURL(ts).href, originalLine: 15 };
      if (line === 8) return { generatedLine: 8, originalSource: pathToFileURL(ts).href, originalLine: 18 };
      return {};
    },
  };
  const f = new Frames({ workspaceRoot: DIR, toolDir: path.join(DIR, 'none'), findSourceMap: (file) => (file === ts ? map : undefined) });
  const frame: RawFrame | null = f.resolve({ functionName: 'parseThenMatch', url: pathToFileURL(ts).href, lineNumber: 5, columnNumber: 0 }, 9, false);
  assert.deepEqual(frame, { file: 'parseThenMatch.ts', line: 19, function: 'parseThenMatch', kind: 'user', source: 'const doc = JSON.parse(DOC) as Doc; // PARSE' });
  assert.deepEqual(seen, [[8, 0], [8, Number.MAX_SAFE_INTEGER]]);
});
