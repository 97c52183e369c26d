/**
 * A route's report counts requests, not calls (issue 16, "in the framework's words"): the
 * settings line of the CLI table and of the Markdown says "3 concurrent requests" when
 * report target.framework names a framework this version knows, and "3 concurrent calls"
 * as before otherwise. (The
 * panel's header: test/webview/routeHeader.test.ts.)
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { reportMarkdown } from '../../src/report/markdown';
import { formatReportText } from '../../src/report/textTable';
import { concurrentCalls } from '../../src/shared/frameworks';
import { Framework, Report } from '../../src/shared/protocol';
import { FIXTURES } from '../support/helpers';

const ROUTE: Framework = { name: 'fastapi', route: 'GET /report', runsIn: 'threadpool', threadpoolSize: 40 };

function fixture(framework?: Framework): Report {
  const r = Report.parse(JSON.parse(fs.readFileSync(path.join(FIXTURES, 'reports', 'cpu-bound-python.json'), 'utf8')));
  if (framework) r.target.framework = framework;
  return r;
}

/** The header's settings line: the one with the cores and the concurrency. */
const settingsLine = (text: string) => text.split('\n').find((l) => /\bcores\b/.test(l) && /concurrent/.test(l)) ?? '';

test('concurrentCalls: requests for a route, calls otherwise', () => {
  const n = fixture().settings.concurrency;
  assert.equal(concurrentCalls(fixture(ROUTE)), `${n} concurrent requests`);
  assert.equal(concurrentCalls(fixture()), `${n} concurrent calls`);
  // A framework a newer sidecar names: worded as a plain function, as the headline is.
  assert.equal(concurrentCalls({ settings: { concurrency: n }, target: { framework: { name: 'litestar' } } }), `${n} concurrent calls`);
});

test('the CLI table\'s header says "concurrent requests" for a route, "concurrent calls" otherwise', () => {
  const n = fixture().settings.concurrency;
  assert.match(settingsLine(formatReportText(fixture(ROUTE))), new RegExp(` · ${n} concurrent requests · `));
  const plain = settingsLine(formatReportText(fixture()));
  assert.match(plain, new RegExp(` · ${n} concurrent calls · `));
  assert.doesNotMatch(plain, /requests/);
});

test('the Markdown\'s header says "concurrent requests" for a route, "concurrent calls" otherwise', () => {
  const n = fixture().settings.concurrency;
  assert.match(settingsLine(reportMarkdown(fixture(ROUTE))), new RegExp(` · ${n} concurrent requests · `));
  const plain = settingsLine(reportMarkdown(fixture()));
  assert.match(plain, new RegExp(` · ${n} concurrent calls · `));
  assert.doesNotMatch(plain, /requests/);
});
