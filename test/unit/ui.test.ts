import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { webviewCsp, webviewHtml } from '../../src/panel/webviewHtml';
import { jsonForScript, standaloneHtml } from '../../src/report/html';
import { escapeHtml } from '../../src/shared/html';
import { reportMarkdown } from '../../src/report/markdown';
import { verdicts } from '../../src/report/verdict';
import { Report } from '../../src/shared/protocol';
import { FromWebview, ToWebview } from '../../src/shared/webviewProtocol';
import { cdfOnGrid, decimateMinMax, logGrid } from '../../src/stats/decimate';
import { FIXTURES } from '../support/helpers';

const sample = (): Report => Report.parse(JSON.parse(fs.readFileSync(path.join(FIXTURES, 'reports', 'sample-report.json'), 'utf8')));

test('min/max decimation keeps every bucket maximum, so no stall vanishes', () => {
  const n = 60_000;
  const xs = Float64Array.from({ length: n }, (_, i) => i);
  const ys = Float64Array.from({ length: n }, (_, i) => (i * 7919) % 13 / 100);
  const stalls = [5, 12_345, 33_333, 59_999];
  for (const i of stalls) ys[i] = 1500 + i;
  const d = decimateMinMax(xs, ys, 800);
  assert.ok(d.x.length <= 1600, `at most two points per bucket (${d.x.length})`);
  for (const i of stalls) assert.ok(d.x.includes(i) && d.y.includes(1500 + i), `stall at ${i} kept`);
  for (let k = 1; k < d.x.length; k++) assert.ok(d.x[k] > d.x[k - 1], 'time order kept');
  // Small inputs pass through untouched.
  assert.deepEqual(decimateMinMax([1, 2, 3], [4, 5, 6], 800), { x: [1, 2, 3], y: [4, 5, 6] });
});

test('CDF on a log grid', () => {
  const grid = logGrid(0.01, 1000, 6);
  assert.equal(grid.length, 6);
  assert.ok(Math.abs(grid[0] - 0.01) < 1e-12 && Math.abs(grid[5] - 1000) < 1e-9);
  assert.deepEqual(cdfOnGrid([0.05, 0.5, 50, 500], [0.1, 1, 100, 1000]), [0.25, 0.5, 0.75, 1]);
});

test('JSON for a script element cannot close it, and round-trips', () => {
  const value = { name: '</script><img src=x onerror=alert(1)><!--', sep: '\u2028\u2029', amp: 'a&b' };
  const text = jsonForScript(value);
  assert.ok(!/[<>&\u2028\u2029]/.test(text));
  assert.deepEqual(JSON.parse(text), value);
  assert.equal(escapeHtml(`<a href="x" title='y'>&</a>`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
});

test('standalone HTML: nonce CSP, inline bundle that cannot end its element early, title escaped', () => {
  const report = sample();
  report.target.qualname = '</title><script>alert(1)</script>';
  const html = standaloneHtml(report, { js: 'var s = "</script><!--";', css: 'a{}' }, null, 'NONCE');
  assert.match(html, /content="default-src &#39;none&#39;; script-src &#39;nonce-NONCE&#39;; style-src &#39;nonce-NONCE&#39;/);
  assert.equal((html.match(/<\/script>/g) ?? []).length, 2, 'only the two real closing tags');
  assert.match(html, /<title>Loop Lag: &lt;\/title&gt;&lt;script&gt;/);
  assert.ok(html.includes('var s = "<\\/script><\\x21--";'));
});

test('webview HTML: no data in it, scripts by nonce only, resources from the webview source only', () => {
  const html = webviewHtml({ cspSource: 'vscode-resource:', scriptUri: 'vscode-resource:/m.js', styleUri: 'vscode-resource:/m.css', nonce: 'N1' });
  assert.equal(webviewCsp({ cspSource: 'S', nonce: 'N' }), "default-src 'none'; img-src S data: blob:; style-src S; font-src S; script-src 'nonce-N'");
  assert.match(html, /<script nonce="N1" src="vscode-resource:\/m.js"><\/script>/);
  assert.ok(!html.includes('looplag-data'));
});

test('webview messages are validated in both directions', () => {
  assert.deepEqual(FromWebview.parse({ type: 'select', id: 'x' }), { type: 'select', id: 'x' });
  assert.throws(() => FromWebview.parse({ type: 'select' }), /id: expected string/);
  assert.throws(() => FromWebview.parse({ type: 'eval', code: '1' }), /type: expected/);
  assert.throws(() => ToWebview.parse({ type: 'state', current: { not: 'a report' } }), /currentId/);
  const ok = { type: 'live', report: sample(), progress: null };
  assert.equal(ToWebview.parse(ok).type, 'live');
});

test('verdicts come from the numbers: starved, stalls, responsive, skipped', () => {
  const report = sample();
  const v = verdicts(report, 100);
  const by = (m: string) => v.find((x) => x.mode === m)!;
  assert.equal(by('interpreter').level, 'info');
  for (const run of report.runs.filter((r) => r.status === 'ok')) {
    const expected = run.lag.stalledFrac >= 0.5 ? 'critical' : run.lag.maxMs >= 100 || run.lag.stallCount > 0 ? 'warning' : 'ok';
    assert.equal(by(run.mode).level, expected, run.mode);
  }
  // The report's own budget decides "over budget" when no budget is passed.
  const max = Math.max(...report.runs.filter((r) => r.status === 'ok' && r.lag.stallCount === 0).map((r) => r.lag.maxMs));
  const strict = { ...report, settings: { ...report.settings, lagBudgetMs: max / 2 } };
  assert.ok(verdicts(strict).some((x) => x.level === 'warning'), 'a mode under the threshold but over a tight budget warns');
  assert.deepEqual(verdicts({ ...report, settings: { ...report.settings, lagBudgetMs: null } }), verdicts(report, 100));
  // Advice for a mode wins over the numbers.
  report.advice = [{ id: 'gil-held-native', severity: 'critical', title: 'a native call holds the GIL', detail: 'd', mode: 'thread' }];
  assert.equal(verdicts(report).find((x) => x.mode === 'thread')!.text, 'thread: a native call holds the GIL');
});

test('Markdown summary: a table per mode, user text neutralised', () => {
  const report = sample();
  report.target.file = 'a|b<script>.py';
  const md = reportMarkdown(report);
  assert.match(md, /^### Loop Lag: `cpu_bound_task`/);
  assert.match(md, /\| inline \| [\d.]+ (ms|s) \|/);
  // Skipped: one line with the reason, not a row of dashes.
  assert.doesNotMatch(md, /\| interpreter \|/);
  assert.match(md, /^> not measured: interpreter: /m);
  assert.ok(md.includes('a\\|b\\<script\\>.py'));
});
