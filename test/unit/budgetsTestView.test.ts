/**
 * The Testing view's pure parts (issue 15): where each budget sits in looplag.json's text
 * (nested objects, strings holding braces, brackets, quotes and escapes, CRLF), what an
 * item says it measures, and the state a BudgetResult gives it.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { parseBudgetText } from '../../src/budgets/config';
import { budgetEntrySpans, positionAt } from '../../src/budgets/positions';
import { BudgetResult } from '../../src/budgets/run';
import { budgetTestState, describeBudget } from '../../src/budgets/testItems';
import { EXIT } from '../../src/report/exitCode';
import { FIXTURES, tmpDir } from '../support/helpers';

/** A looplag.json as users write them, with every trap for a bracket-counting scan. */
const TEXT = `{
  "$schema": "./schemas/looplag.schema.json",
  "version": 1,
  "note": { "budgets": [ "not these: a nested key of the same name" ] },
  "budgets": [
    { "name": "quick {sum} & \\"co}\\" [1]", "target": "work.py::quick", "args": "1000", "modes": ["inline"], "budgetMs": 300 },
    {
      "name": "a \\\\ backslash then }",
      "target": "work.py::spin",
      "args": "{\\"ms\\": [400]}",
      "modes": ["inline", "thread"],
      "budgetMs": 100
    },
    { "name": "reports", "app": "server.mjs", "endpoints": [{ "endpoint": "POST /reports", "body": { "q": "}]", "n": [1, {"x": "{"}] } }, "GET /health"], "rate": 20, "budgetMs": 100 }
  ],
  "trailing": "] }"
}
`;

/** The text of each span, from the scan. */
const entries = (text: string) => budgetEntrySpans(text).map((s) => text.slice(s.start, s.end));

test('budgetEntrySpans: each element of the top-level budgets array, from { to }, whatever its strings and nested values hold', () => {
  const got = entries(TEXT);
  assert.equal(got.length, 3);
  // Each span is exactly one element: it parses as JSON, and it is the array's element.
  const parsed = JSON.parse(TEXT) as { budgets: unknown[] };
  got.forEach((e, i) => assert.deepEqual(JSON.parse(e), parsed.budgets[i], `entry ${i}: ${e}`));
  assert.match(got[1], /^\{\n\s+"name": "a \\\\ backslash then }",[\s\S]*"budgetMs": 100\n\s+\}$/);
});

test('budgetEntrySpans: CRLF, a BOM, the last budgets key, and text that stops mid-way (entries before the break only)', () => {
  const crlf = TEXT.replace(/\n/g, '\r\n');
  assert.deepEqual(entries(crlf).map((e) => JSON.parse(e)), (JSON.parse(crlf) as { budgets: unknown[] }).budgets);
  assert.equal(entries(`\ufeff${TEXT}`).length, 3);
  assert.deepEqual(entries('{"budgets": [{"name": "a"}], "budgets": [{"name": "b"}, {"name": "c"}]}').map((e) => JSON.parse(e).name), ['b', 'c']);
  // Typing: the second entry is unfinished; the first keeps its place.
  const cut = TEXT.slice(0, TEXT.indexOf('"args": "{'));
  assert.equal(entries(cut).length, 1);
  assert.deepEqual(entries(''), []);
  assert.deepEqual(entries('[1, 2]'), []);
  assert.deepEqual(entries('{"budgets": "none"}'), []);
  assert.deepEqual(entries('{"budgets": ["unterminated'), []);
});

test('positionAt: lines end at \\r\\n, \\r or \\n, columns in UTF-16 units (as the editor counts)', () => {
  const crlf = TEXT.replace(/\n/g, '\r\n');
  const [, second] = budgetEntrySpans(crlf);
  assert.deepEqual(positionAt(crlf, second.start), { line: 6, character: 4 });
  assert.deepEqual(positionAt(crlf, second.end), { line: 12, character: 5 });
  // The same entry in the LF text: the same lines and columns.
  const [, lf] = budgetEntrySpans(TEXT);
  assert.deepEqual([positionAt(TEXT, lf.start), positionAt(TEXT, lf.end)], [{ line: 6, character: 4 }, { line: 12, character: 5 }]);
  assert.deepEqual(positionAt('a\rb\r\nc😀d', 8), { line: 2, character: 3 }, 'a lone CR ends a line; the emoji is two units');
  assert.deepEqual(positionAt('ab', 99), { line: 0, character: 2 });
});

test('describeBudget: a function\'s target as written from the file\'s folder and its modes; an endpoint budget\'s endpoints and rate', () => {
  const dir = tmpDir('looplag-testview-');
  try {
    fs.copyFileSync(path.join(FIXTURES, 'budgets', 'work.py'), path.join(dir, 'work.py'));
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.copyFileSync(path.join(FIXTURES, 'budgets', 'work.mjs'), path.join(dir, 'sub', 'work.mjs'));
    fs.writeFileSync(path.join(dir, 'server.mjs'), 'export {};\n');
    const config = parseBudgetText(JSON.stringify({
      version: 1,
      budgets: [
        { name: 'spin', target: 'work.py::spin', modes: ['inline', 'thread'], budgetMs: 100 },
        { name: 'node', target: 'sub/work.mjs::spin', budgetMs: 100 },
        { name: 'gone', target: 'missing.py::f', budgetMs: 100 },
        { name: 'api', app: 'server.mjs', endpoints: ['GET /reports', { endpoint: 'POST /items', body: { a: 1 } }], rate: 20, budgetMs: 100 },
      ],
    }), 'looplag.json', dir);
    const described = config.budgets.map((b) => describeBudget(b, dir));
    assert.equal(described[0], 'work.py::spin · inline, thread');
    assert.match(described[1], /^sub\/work\.mjs::spin · inline, /);
    assert.match(described[2], /^file not found: .*missing\.py$/);
    assert.equal(described[3], 'GET /reports, POST /items · 20 req/s');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

const result = (extra: Partial<BudgetResult>): BudgetResult => ({
  name: 'f', index: 0, kind: 'function', outcome: 'pass', exitCode: 0, budgetMs: 100, figure: { label: 'lag max', ms: 12 },
  summary: 'lag max 12.0 ms ≤ 100 ms', message: '', durationMs: 1234, report: null, ...extra,
});

test('budgetTestState: pass → passed, fail → failed with what went over and the headline, error → errored with why, Cancel → skipped', () => {
  assert.deepEqual(budgetTestState(result({})), { state: 'passed', durationMs: 1234 });
  assert.deepEqual(budgetTestState(result({ outcome: 'fail', exitCode: EXIT.budget, summary: 'probe p99 850 ms > 100 ms', message: 'Not safe: GET /reports blocks the loop.' })),
    { state: 'failed', message: 'probe p99 850 ms > 100 ms: Not safe: GET /reports blocks the loop.', summary: 'probe p99 850 ms > 100 ms', detail: 'Not safe: GET /reports blocks the loop.', durationMs: 1234 });
  assert.deepEqual(budgetTestState(result({ outcome: 'error', exitCode: EXIT.callsFailed, summary: 'not measured', message: 'calls raised in inline (ValueError)' })),
    { state: 'errored', message: 'not measured: calls raised in inline (ValueError)', summary: 'not measured', detail: 'calls raised in inline (ValueError)', durationMs: 1234 });
  assert.deepEqual(budgetTestState(result({ outcome: 'error', exitCode: EXIT.notMeasured, summary: 'not measured', message: '' })),
    { state: 'errored', message: 'not measured', summary: 'not measured', detail: '', durationMs: 1234 });
  // Stopped: the running budget (exit 130) and those after it are not judged.
  assert.deepEqual(budgetTestState(result({ outcome: 'error', exitCode: EXIT.interrupted, summary: 'not measured', message: 'cancelled' })), { state: 'skipped', why: 'stopped while it ran' });
  assert.deepEqual(budgetTestState(result({ outcome: 'skipped', exitCode: null, message: 'interrupted before it started' })), { state: 'skipped', why: 'interrupted before it started' });
});
