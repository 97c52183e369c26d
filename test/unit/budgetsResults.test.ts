/**
 * `looplag test`'s results (issue 15): JUnit XML that parses back with every user string
 * intact (escaped, characters XML cannot hold replaced), the lines verdict first, and the
 * exit code over the budgets by the runs' precedence.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attr, junitXml, text } from '../../src/budgets/junit';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BudgetResult, budgetsExitCode, judgeRunReport, judgeServeReport, resultLine, summaryLine } from '../../src/budgets/run';
import { Report } from '../../src/shared/protocol';
import { ServeReport } from '../../src/shared/protocol/serveReport';
import { FIXTURES } from '../support/helpers';
import { EXIT } from '../../src/report/exitCode';

// A strict XML parser (sax underneath), already in the dev tree (through @vscode/vsce); untyped, so its one call is typed here.
const { parseStringPromise } = require('xml2js') as { parseStringPromise(xml: string, options: { strict: boolean }): Promise<any> };

const result = (extra: Partial<BudgetResult>): BudgetResult => ({
  name: 'f', index: 0, kind: 'function', outcome: 'pass', exitCode: 0, budgetMs: 100, figure: { label: 'lag max', ms: 12 },
  summary: 'lag max 12.0 ms ≤ 100 ms', message: '', durationMs: 1234, report: null, ...extra,
});

const nasty = `a <b> & "c" 'd' ]]> \u0001\u001b[31m é 😀 \ud800 line\nbreak\ttab`;

test('JUnit XML: one suite, a case per budget with its time in seconds, failure/error/skipped, every string parsed back as written', async () => {
  const results = [
    result({ name: 'within' }),
    result({ name: nasty, outcome: 'fail', exitCode: 3, summary: 'lag max 850 ms > 100 ms', message: `Not safe: ${nasty}`, durationMs: 2500 }),
    result({ name: 'raised', outcome: 'error', exitCode: 4, summary: 'not measured', message: 'calls raised in inline (1 of 1: ValueError: <x>)' }),
    result({ name: 'later', outcome: 'skipped', exitCode: null, message: 'interrupted before it started', durationMs: 0 }),
  ];
  const xml = junitXml(results, { file: 'looplag "ci".json', timestamp: '2026-11-30T13:20:23' });
  assert.ok(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n'));
  assert.doesNotMatch(xml, /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/, 'no character XML 1.0 cannot hold');
  const doc = await parseStringPromise(xml, { strict: true });
  const suites = doc.testsuites;
  assert.equal(suites.testsuite.length, 1);
  const suite = suites.testsuite[0];
  assert.deepEqual({ ...suite.$ }, { name: 'looplag "ci".json', tests: '4', failures: '1', errors: '1', skipped: '1', time: '4.968', timestamp: '2026-11-30T13:20:23' });
  const cases = suite.testcase;
  assert.equal(cases.length, 4);
  assert.equal(cases[0].$.name, 'within');
  assert.equal(cases[0].$.time, '1.234');
  assert.equal(cases[0].failure, undefined);
  const expectedName = nasty.replace(/[\u0001\u001b]|\ud800/g, '\ufffd');
  assert.equal(cases[1].$.name, expectedName, 'attribute: quotes, angle brackets, line break and tab kept');
  assert.equal(cases[1].$.time, '2.500');
  assert.equal(cases[1].failure[0].$.message, `Not safe: ${expectedName}`);
  assert.match(cases[1].failure[0]._, /^lag max 850 ms > 100 ms: Not safe: a <b> & "c" 'd' \]\]> /);
  assert.equal(cases[2].error[0].$.message, 'calls raised in inline (1 of 1: ValueError: <x>)');
  assert.equal(cases[2].error[0].$.type, 'exit-4');
  assert.equal(cases[3].skipped[0].$.message, 'interrupted before it started');
});

test('escaping: text and attribute values', () => {
  assert.equal(text('<a & b>'), '&lt;a &amp; b&gt;');
  assert.equal(attr(`"x" 'y'\n`), '&quot;x&quot; &apos;y&apos;&#10;');
  assert.equal(text('\u0000\ufffe😀'), '\ufffd\ufffd😀', 'a surrogate pair is kept, U+0000 and U+FFFE are not XML');
});

test('the exit code over budgets follows the runs\' precedence', () => {
  const codes = (...c: (number | null)[]) => budgetsExitCode(c.map((exitCode) => ({ exitCode })));
  assert.equal(codes(0, 0), EXIT.ok);
  assert.equal(codes(0, 3), EXIT.budget);
  assert.equal(codes(3, 4), EXIT.callsFailed);
  assert.equal(codes(4, 5, 3), EXIT.callsUnfinished);
  assert.equal(codes(3, 124), EXIT.timeout);
  assert.equal(codes(124, 1, 3), EXIT.notMeasured);
  assert.equal(codes(1, 130), EXIT.interrupted);
  assert.equal(codes(0, null), EXIT.interrupted, 'a budget not run: the run was stopped');
});

test('lines: the verdict first, the headline after a failing figure, user strings on one line', () => {
  assert.equal(resultLine(result({ name: 'render_article' })), '✓ render_article  lag max 12.0 ms ≤ 100 ms');
  assert.equal(resultLine(result({ name: 'x\n\u001b[2Jy', outcome: 'fail', exitCode: 3, summary: 'probe p99 850 ms > 100 ms', message: 'Over budget.' })), '✗ x \ufffd[2Jy  probe p99 850 ms > 100 ms: Over budget.');
  assert.equal(summaryLine([result({}), result({ outcome: 'fail' }), result({ outcome: 'error' })]), '3 budgets: 1 within, 1 over, 1 not measured (3.7 s)');
});

const runReport = (): Report => Report.parse(JSON.parse(fs.readFileSync(path.join(FIXTURES, 'reports', 'sample-report.json'), 'utf8')));
const serveReport = (): ServeReport => ServeReport.parse(JSON.parse(fs.readFileSync(path.join(FIXTURES, 'serve', 'report', 'stalling-asgi.json'), 'utf8')));

test('a function budget passes only when every mode it asks for was measured within it', () => {
  // inline 88.5 ms, thread 72.6 ms, process 0.5 ms; interpreter skipped (Python < 3.14).
  const pass = judgeRunReport(runReport(), 100, false);
  assert.deepEqual([pass.outcome, pass.exitCode, pass.summary], ['pass', EXIT.ok, 'inline lag max 88.5 ms ≤ 100 ms']);
  const listed = judgeRunReport(runReport(), 100, true);
  assert.deepEqual([listed.outcome, listed.exitCode, listed.summary], ['error', EXIT.notMeasured, 'not measured']);
  assert.match(listed.message, /^not measured: interpreter \(/);
  const failedMode = runReport();
  failedMode.runs[1] = { ...failedMode.runs[1], status: 'failed', error: { kind: 'not-picklable', message: 'cannot pickle the argument', detail: null } };
  assert.match(judgeRunReport(failedMode, 100, false).message, /^not measured: thread \(cannot pickle the argument\)/, 'a mode that failed, listed or not');
  const over = judgeRunReport(runReport(), 50, false);
  assert.deepEqual([over.outcome, over.exitCode], ['fail', EXIT.budget]);
});

test('an endpoint budget: every variant measured, the load as asked, and a fail names what went over', () => {
  // As written: probe p99 290 ms, loop lag p99 300 ms; 2 uvicorn workers: never listened.
  const both = judgeServeReport(serveReport(), 100);
  assert.deepEqual([both.outcome, both.exitCode], ['error', EXIT.notMeasured]);
  assert.match(both.message, /^not measured: 2 uvicorn workers \(/);
  const one = serveReport();
  one.variants = one.variants.slice(0, 1);
  const fail = judgeServeReport(one, 100);
  assert.deepEqual([fail.outcome, fail.exitCode, fail.summary], ['fail', EXIT.budget, 'probe p99 290.0 ms, loop lag p99 300.0 ms > 100 ms']);
  // Over on the loop's lag alone: the line says so, not "probe ≤ budget".
  const loopOnly = judgeServeReport(one, 295);
  assert.deepEqual([loopOnly.outcome, loopOnly.summary], ['fail', 'loop lag p99 300.0 ms > 295 ms']);
  assert.equal(judgeServeReport(one, 1000).outcome, 'pass');
  one.quality = { ...one.quality, trustworthy: false, notes: ['The load generator itself sent late (p99 140 ms).'] };
  const late = judgeServeReport(one, 1000);
  assert.deepEqual([late.outcome, late.exitCode], ['error', EXIT.notMeasured]);
  assert.match(late.message, /^not judged: The load generator itself sent late/);
});
