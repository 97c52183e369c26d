/**
 * Measured diagnostics' pure parts on real files (test/fixtures/measured/) and real reports
 * (test/fixtures/reports/): the measured function's source and its hash (decorators,
 * multi-line signatures; the same after edits elsewhere, different after one in the body),
 * the call sites across files through their imports, and what a report says of a call.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { findCallSites, isDefaultExport, type CalledTarget } from '../../src/fixes/callSites';
import { functionSource, hashSource, targetSourceHash } from '../../src/fixes/functionSource';
import { judgeCall, nodeFixes, pythonFixes, summarize, type MeasuredSummary } from '../../src/report/measuredCalls';
import { Report } from '../../src/shared/protocol';
import { FIXTURES } from '../support/helpers';

const DIR = path.join(FIXTURES, 'measured');
const read = (rel: string) => fs.readFileSync(path.join(DIR, rel), 'utf8');
const report = (name: string) => Report.parse(JSON.parse(fs.readFileSync(path.join(FIXTURES, 'reports', `${name}.json`), 'utf8')));

test('functionSource: a Python def with its decorator and multi-line signature, to the end of its body', () => {
  const src = functionSource(read('pkg/render.py'), 'python', 'render', 14);
  assert.equal(src, '@traced\ndef render(\n    n: int,\n    *,\n    scale: int = 1,\n) -> int:\n    total = 0\n    for i in range(n):\n        total += i * scale\n    return total');
  assert.equal(functionSource(read('pkg/render.py'), 'python', 'nope', 1), undefined);
});

test('functionSource: TS functions, a decorated static method and an arrow const', () => {
  const text = read('web/render.ts');
  assert.equal(functionSource(text, 'typescript', 'render', 6),
    'export function render(n: number,\n  scale = 1): number {\n  let total = 0;\n  for (let i = 0; i < n; i++) total += i * scale;\n  return total;\n}');
  assert.equal(functionSource(text, 'typescript', 'Renderer.run', 15), '@logged\n  static run(n: number): number {\n    return render(n);\n  }');
  assert.equal(functionSource(text, 'typescript', 'fast', 20), 'export const fast = async (n: number): Promise<number> => render(n)');
  assert.equal(functionSource(text, 'typescript', 'run', 15), undefined, 'a method is named by its class');
});

test('the hash: the same after edits elsewhere and with CRLF line endings; different after an edit in the body or a decorator', () => {
  for (const [file, language, qualname, line, body] of [
    ['pkg/render.py', 'python', 'render', 14, '        total += i * scale'],
    ['web/render.ts', 'typescript', 'render', 6, '  for (let i = 0; i < n; i++) total += i * scale;'],
  ] as const) {
    const text = read(file);
    const target = { language, qualname, lines: null, line } as const;
    const hash = targetSourceHash(text, target);
    assert.match(hash ?? '', /^[0-9a-f]{16}$/);
    const elsewhere = `# header comment\n\n\n${text}\n\nextra = 1\n`.replace(/^# /, language === 'python' ? '# ' : '// ');
    assert.equal(targetSourceHash(elsewhere, { ...target, line: line + 3 }), hash, `${file}: lines added above and below`);
    assert.equal(targetSourceHash(text.replace(/\n/g, '\r\n'), target), hash, `${file}: CRLF`);
    assert.notEqual(targetSourceHash(text.replace(body, `${body} + 1`), target), hash, `${file}: the body edited`);
  }
  const py = read('pkg/render.py');
  assert.notEqual(targetSourceHash(py.replace('@traced\ndef render', '@functools.cache\ndef render'), { language: 'python', qualname: 'render', lines: null, line: 14 }),
    targetSourceHash(py, { language: 'python', qualname: 'render', lines: null, line: 14 }));
  assert.equal(targetSourceHash('a\nb\nc\n', { language: 'python', qualname: null, lines: { start: 2, end: 3 }, line: 2 }), hashSource('b\nc'));
});

const PY: CalledTarget = { file: path.join(DIR, 'pkg', 'render.py'), qualname: 'render', language: 'python', module: 'pkg.render', root: DIR };
const sites = (rel: string, target: CalledTarget) => findCallSites(read(rel), path.join(DIR, rel), target)
  .map((s) => `${s.range.start.line + 1}:${s.callee}:${s.mode}:${s.onLoop ? 'loop' : 'off'}`);

test('Python call sites: the own file (direct, to_thread, run_in_executor with a process pool and partial), relative and absolute imports', () => {
  assert.deepEqual(sites('pkg/render.py', PY), ['26:render:inline:loop', '27:render:thread:loop', '28:render:process:loop', '33:render:inline:off']);
  assert.deepEqual(sites('pkg/views.py', PY), ['6:draw:inline:loop', '6:rmod.render:inline:loop', '10:draw:inline:off']);
  assert.deepEqual(sites('app.py', PY), ['6:pkg.render.render:inline:loop', '7:render:inline:loop', '15:render:inline:off']);
  // Without a module name, the module is the file's path under the root.
  assert.deepEqual(sites('app.py', { ...PY, module: undefined }), sites('app.py', PY));
  // Another function of the same name elsewhere is not it.
  assert.deepEqual(sites('app.py', { ...PY, file: path.join(DIR, 'other.py'), module: 'other' }), []);
});

test('a multi-line call\'s range spans it whole', () => {
  const [, b] = findCallSites(read('app.py'), path.join(DIR, 'app.py'), PY);
  assert.deepEqual([b.range.start, b.range.end], [{ line: 6, character: 8 }, { line: 9, character: 5 }]);
});

test('JS/TS call sites: named (.js specifier for a .ts file) and namespace imports; a route handler and an async function are on the loop', () => {
  const TS: CalledTarget = { file: path.join(DIR, 'web', 'render.ts'), qualname: 'render', language: 'typescript', root: DIR };
  assert.deepEqual(sites('web/server.ts', TS), ['8:render:inline:loop', '12:R.render:inline:loop', '16:render:inline:off']);
  assert.deepEqual(sites('web/server.ts', { ...TS, qualname: 'Renderer.run' }), ['12:R.Renderer.run:inline:loop']);
  assert.deepEqual(sites('web/render.ts', TS), ['16:render:inline:off', '20:render:inline:loop']);
  assert.equal(isDefaultExport('export default async function render() {}', 'render'), true);
  assert.equal(isDefaultExport('export function render() {}', 'render'), false);
});

const fixedClock = () => '14:02';

test('a real report: inline blocked the loop → a warning over budget, information within, nothing without a stall', () => {
  const s = summarize(report('sample-report'))!;
  const inline = judgeCall(s, { callee: 'cpu_bound_task', mode: 'inline' }, 50, undefined, fixedClock)!;
  assert.equal(inline.severity, 'warning');
  assert.equal(inline.message, '`cpu_bound_task()` blocked the loop 88.5 ms for 3 concurrent calls (measured 14:02, inline)');
  assert.equal(judgeCall(s, { callee: 'cpu_bound_task', mode: 'inline' }, 100, undefined, fixedClock)!.severity, 'information');
  assert.equal(judgeCall(s, { callee: 'cpu_bound_task', mode: 'process' }, 100, undefined, fixedClock), null, 'process mode had no stall');
  const thread = judgeCall(s, { callee: 'f', mode: 'thread' }, 50, undefined, fixedClock)!;
  assert.equal(thread.message, '`f()` stalled the loop 72.6 ms in a thread pool for 3 concurrent calls (measured 14:02, thread)');
  const noInline: MeasuredSummary = { ...s, runs: s.runs.filter((r) => r.mode !== 'inline') };
  assert.match(judgeCall(noInline, { callee: 'f', mode: 'inline' }, 50, undefined, fixedClock)!.message, /72\.6 ms in a thread pool .*\(measured 14:02, thread; inline was not measured\)$/);
});

test('the source hash: a different hash on screen says "measured before your last change", with no figures and no fix', () => {
  const s = { ...summarize(report('sample-report'))!, sourceHash: 'aaaaaaaaaaaaaaaa' };
  assert.equal(judgeCall(s, { callee: 'f', mode: 'inline' }, 50, 'aaaaaaaaaaaaaaaa')?.stale, false);
  for (const now of ['bbbbbbbbbbbbbbbb', undefined]) {
    const j = judgeCall(s, { callee: 'f', mode: 'inline' }, 50, now)!;
    assert.deepEqual([j.severity, j.message, j.fixes], ['information', '`f()` was measured before your last change — measure it again', []]);
  }
});

test('the fix is the measurement\'s: GIL released → to_thread; threads over budget, processes within → the process pool; GIL held → the process pool', () => {
  const numpy = summarize(report('numpy-matmul-threads'))!;
  assert.deepEqual(pythonFixes(numpy, 100), [{ fix: 'to-thread', preferred: true }, { fix: 'fastapi-def', preferred: false }]);
  const sample = summarize(report('sample-report'))!;
  assert.deepEqual(pythonFixes(sample, 100).find((f) => f.preferred)?.fix, 'to-thread', 'thread mode within a 100 ms budget');
  assert.deepEqual(pythonFixes(sample, 50), [{ fix: 'process-pool', preferred: true }], 'thread mode over a 50 ms budget, process within');
  const held: MeasuredSummary = { ...numpy, runs: numpy.runs.map((r) => ({ ...r, stallCount: 1 })), advice: [{ id: 'gil-held-native', severity: 'critical', mode: 'thread' }] };
  assert.deepEqual(pythonFixes(held, 100), [{ fix: 'process-pool', preferred: true }], 'the GIL held: threads are no fix even within budget');
  assert.match(judgeCall(held, { callee: 'f', mode: 'thread' }, 20, undefined, fixedClock)!.message, /^`f\(\)` held the GIL 29\.5 ms in a thread pool/);
  assert.deepEqual(pythonFixes({ ...numpy, runs: numpy.runs.filter((r) => r.mode === 'inline') }, 100), [], 'only inline measured: no fix is dictated');
});

test('JS/TS: the worker pool fix when worker threads kept the budget (the worker run, or worker-recommended); none otherwise, none for an offloaded call', () => {
  const base: MeasuredSummary = { ...summarize(report('sample-report'))!, language: 'typescript', advice: [] };
  const withWorker = (lagMaxMs: number): MeasuredSummary => ({ ...base, runs: [...base.runs, { mode: 'worker', lagMaxMs, stallCount: 1 }] });
  assert.deepEqual(nodeFixes(withWorker(40), 100), [{ fix: 'worker-pool', preferred: true }]);
  assert.deepEqual(nodeFixes(withWorker(140), 100), []);
  assert.deepEqual(nodeFixes(base, 100), [], 'workers not measured');
  assert.deepEqual(nodeFixes({ ...base, advice: [{ id: 'worker-recommended', severity: 'warning', mode: 'worker' }] }, 100), [{ fix: 'worker-pool', preferred: true }]);
  const judged = (mode: 'inline' | 'worker') => judgeCall(withWorker(40), { callee: 'render', mode }, 100, base.sourceHash, () => '14:02')?.fixes;
  assert.deepEqual(judged('inline'), [{ fix: 'worker-pool', preferred: true }]);
  assert.deepEqual(judged('worker'), []);
});
