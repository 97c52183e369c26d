/**
 * Verdict first (issue 16): the change a report asks for comes right under the headline,
 * and an error that stopped everything is said once, as the verdict, not per mode.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { headline } from '../../src/advice/advise';
import { reportMarkdown } from '../../src/report/markdown';
import { SNIPPETS } from '../../src/advice/snippets';
import { keyLineOf, nextStep } from '../../src/report/nextStep';
import { formatReportText } from '../../src/report/textTable';
import { Report } from '../../src/shared/protocol';
import { FIXTURES } from '../support/helpers';

/** The real numpy run (threads, GIL released), planned mode inferred: thread. */
function numpy(): Report {
  return Report.parse(JSON.parse(fs.readFileSync(path.join(FIXTURES, 'reports', 'numpy-matmul-threads.json'), 'utf8')));
}

/** The same target, but its module could not be imported: nothing ran. */
function importFailed(): Report {
  const r = numpy();
  const message = "importing work.py raised ModuleNotFoundError: No module named 'numpyy'";
  r.error = { kind: 'import-error', message, detail: null };
  r.status = 'failed';
  r.runs = r.runs.map((run) => ({ ...run, status: 'skipped', error: { kind: 'import-error', message: `not measured: ${message}`, detail: null } }));
  r.advice = [];
  r.headline = headline(r);
  return r;
}

test('safe as planned: the step is how to write it (the planned mode\'s ok advice with its code), not another mode\'s fix', () => {
  const step = nextStep(numpy());
  assert.equal(step?.kind, 'how');
  assert.equal(step?.advice.id, 'gil-released');
  assert.match(step!.advice.fix, /asyncio\.to_thread\(matmul/);
});

test('not safe as planned: the planned mode\'s most severe advice with a fix is the change', () => {
  const r = numpy();
  r.settings.plannedMode = 'inline';
  const step = nextStep(r);
  assert.deepEqual([step?.kind, step?.advice.id], ['change', 'inline-blocks-loop']);
  const text = formatReportText(r);
  // Under the headline, before the table.
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.startsWith('→ '));
  assert.match(lines[at + 1], /^ {2}change: Called on the event loop, .* \(inline-blocks-loop\)/);
  assert.ok(text.indexOf('run_in_executor(pool, matmul)') < text.indexOf('\nmode '), 'the code comes before the table');
});

test('calls that raised, or a mode not measured to its end: no change is offered on them', () => {
  const raised = numpy();
  const thread = raised.runs.find((x) => x.mode === 'thread')!;
  thread.taskStats.errorCount = 1;
  assert.equal(nextStep(raised), null);
  const cut = numpy();
  cut.runs.find((x) => x.mode === 'thread')!.partial = true;
  assert.equal(nextStep(cut), null);
  assert.equal(nextStep(importFailed()), null);
});

test('an import error is the verdict: one headline naming the interpreter and the way out, no table, no line per mode', () => {
  const r = importFailed();
  assert.equal(r.headline, `Not measured: importing work.py raised ModuleNotFoundError: No module named 'numpyy' (${r.runtime!.implementation} ${r.runtime!.version} at ${r.runtime!.executable} ran it: install the module for that interpreter, or choose the one your code runs with).`);
  const text = formatReportText(r);
  assert.doesNotMatch(text, /^mode\s+status/m, 'no table of dashes');
  // The headline and the CLI's error line: twice, where it was said once per mode and once more before.
  assert.equal(text.split("No module named 'numpyy'").length - 1, 2, text);
  const md = reportMarkdown(r);
  assert.doesNotMatch(md, /\| mode \|/);
  assert.doesNotMatch(md, /not measured: inline/);
});

test('the same message for several modes is one line naming them', () => {
  const r = numpy();
  for (const run of r.runs) run.notes = ['the same note'];
  const text = formatReportText(r);
  assert.equal(text.split('the same note').length - 1, 1, text);
  assert.match(text, new RegExp(`^${r.runs.map((x) => x.mode).join(', ')}: the same note$`, 'm'));
});

test('Markdown: the change as a fenced block no backtick in the code can close', () => {
  const r = numpy();
  const step = nextStep(r)!;
  step.advice.fix = 'x = "```"\ny = 1';
  const md = reportMarkdown(r);
  assert.match(md, /^How: The work releases the GIL/m);
  assert.match(md, /^````python\nx = "```"\ny = 1\n````$/m);
});

test('a change whose setup block the report shows once, under an earlier advice, carries the block itself', () => {
  const r = numpy();
  const [first] = r.advice.filter((a) => a.id === 'inline-blocks-loop');
  r.advice.unshift({ id: 'gil-held-native', severity: 'critical', mode: 'thread', title: 'Threads cannot help', detail: '', fix: SNIPPETS.python.sameSetup(first.title) });
  r.advice.sort((a, b) => (a.id === 'inline-blocks-loop' ? -1 : b.id === 'inline-blocks-loop' ? 1 : 0));
  const step = nextStep(r);
  assert.equal(step?.advice.id, 'gil-held-native');
  assert.equal(step?.advice.fix, first.fix);
  assert.match(formatReportText(r), /^ {2}change: Threads cannot help \(gil-held-native\)/m);
});

test('keyLineOf: the last line making the call, past imports, requires, comments and definitions; null when no line calls', () => {
  const fastapi = ['import asyncio', 'from work import render', '', '@app.get("/r")', 'async def handler():', '    # render off the loop', '    return await asyncio.to_thread(render, 3)', ''].join('\n');
  assert.equal(keyLineOf(fastapi, 'render'), 6);
  const node = ["const { render } = require('./work');", 'function runInWorker(...args) {', '  return new Promise(() => {});', '}', 'async function handler() {', '  return runInWorker(3);', '}'].join('\n');
  assert.equal(keyLineOf(node, 'lib.render'), 5);
  assert.equal(keyLineOf('# OMP_NUM_THREADS=1 before start\nimport os', 'render'), null);
});
