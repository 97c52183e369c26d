/**
 * `looplag serve`'s text views: the headline first, each variant's block (streams, loop,
 * blocking lines, handlers), and every string from user code made printable.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildServeReport } from '../../src/serve/buildServeReport';
import { serveMarkdown, serveText } from '../../src/report/serveText';
import {
  AS_WRITTEN, EVERY_SECOND, healthyVariant, inputs, latency, PING, processWindow, stallingVariant, STALL_MS, target, TWO_WORKERS, variant,
} from '../support/serveInputs';

test('the table: the headline first, then per variant its streams, its loop, the blocking line and the handler in flight', () => {
  const text = serveText(buildServeReport(inputs([stallingVariant(), healthyVariant()])));
  const lines = text.split('\n');
  assert.equal(lines[0], 'Loop Lag serve · app.main:app · CPython 3.11.2 · 2 cores');
  assert.match(lines[1], /^20 req\/s per endpoint, probe 10 req\/s · 10 s measured after 2 s warm-up · budget 100 ms · /);
  assert.equal(lines[2], '→ At 20 req/s on GET /reports/sales, a trivial request waited p99 290.0 ms (budget 100 ms); with 2 uvicorn workers: p99 12.0 ms.');
  const first = lines.indexOf('as written — over budget · uvicorn 0.17.6, pid 4242, started in 420.0 ms');
  const second = lines.findIndex((l) => l.startsWith('2 uvicorn workers — within budget'));
  assert.ok(first > 2 && second > first, text);
  const block = lines.slice(first, second);
  assert.match(block.find((l) => l.includes('GET /reports/sales  '))!, /GET \/reports\/sales\s+20\s+200\s+200\s+0\s+305\.0 ms\s+320\.0 ms\s+330\.0 ms$/);
  assert.match(block.find((l) => l.trimStart().startsWith('probe'))!, /probe\s+10\s+100\s+100\s+0\s+2\.00 ms\s+290\.0 ms\s+300\.0 ms$/);
  assert.ok(block.includes('  loop: lag p99 300.0 ms, max 300.0 ms, 10 stalls (3.00 s) · a request arriving at random: p99 wait 290.0 ms (the probe: 290.0 ms) · CPU 0.32 cores'), text);
  assert.ok(block.includes('    100% app/reports.py:42 build_sales'), text);
  assert.ok(block.includes('    GET /reports/sales: 3.00 s in 10 stalls, 10 with it alone in flight · 100% app/reports.py:42 build_sales'), text);
  assert.ok(!block.some((l) => l.includes('/health')), 'a handler in no stall is not listed');
  const healthy = lines.slice(second);
  assert.ok(healthy.some((l) => /loop: lag p99 0\.20 ms, max 0\.20 ms \(worst of 2 processes: pid 5001\), no stalls · CPU 0\.64 cores$/.test(l)), text);
  assert.ok(healthy.some((l) => l.startsWith('    pid 5002: lag p99 0.20 ms')));
});

test('a failing endpoint, a variant that never started, attribution off: each says so', () => {
  const failing = variant(AS_WRITTEN, [processWindow(1, [])], {
    targets: [target('GET /x', { statusCodes: { 200: 163, 500: 37 } })], probe: null,
  });
  const never = variant(TWO_WORKERS, [], null, { status: 'failed', ready: null, error: { kind: 'crashed', message: 'uvicorn exited with code 3', detail: null } });
  const r = buildServeReport(inputs([failing, never], { settings: { ...inputs([]).settings, attribution: false } }));
  const text = serveText(r);
  assert.match(text, /^→ GET \/x failed 37 of 200 requests \(500: 37\): the latency of the rest is not its real cost; with 2 uvicorn workers: did not start \(uvicorn exited with code 3\)\.$/m);
  assert.match(text, /^as written — requests failed/m);
  assert.match(text, /^ {2}GET \/x\s+20\s+200\s+163\s+37\s/m);
  assert.match(text, /^2 uvicorn workers — not measured$/m);
  assert.match(text, /^ {2}failed \[crashed\] uvicorn exited with code 3$/m);
  assert.match(text, /^Attribution off/m);
  assert.match(text, /note: 37 of 200 requests \(19%\) got no answer or a 4xx\/5xx/);
});

test('stalls with no line found say why', () => {
  const w = processWindow(1, EVERY_SECOND);
  w.attribution = null;
  const text = serveText(buildServeReport(inputs([variant(AS_WRITTEN, [w], { targets: [target('GET /reports/sales')], probe: null })])));
  assert.match(text, /^ {2}Attribution unavailable: the sidecar sampled no stacks in this mode\.$/m);
});

test('hostile names from user code reach the terminal and Markdown inert', () => {
  const evil = 'GET /a\u001b[31m\u202eevil\u0007\nx|`<b>';
  const w = processWindow(1, [1000], { routes: [['GET', evil.slice(4), [[1000, 1000 + STALL_MS]]]] });
  w.attribution!.frames[0] = { file: 'app/\u001b]0;title\u0007.py', line: 3, function: 'f\u202e', kind: 'user' };
  const v = variant(AS_WRITTEN, [w], { targets: [target(evil)], probe: { ...target(`GET ${PING}`, { sent: 100, lat: latency(1, 2, 3, 100) }), name: 'probe' } });
  v.ready!.server = 'uvicorn\u001b[2J';
  const r = buildServeReport(inputs([v], { error: { kind: 'crashed', message: 'boom\u001b[0m\u2028next', detail: null } }));
  for (const out of [serveText(r), serveMarkdown(r)]) {
    assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u202e]/.test(out), JSON.stringify(out));
    assert.ok(out.includes('\ufffd'), 'the unsafe characters are replaced, not dropped silently');
  }
  assert.match(serveText(r), /GET \/a\ufffd\[31m\ufffdevil\ufffd x\|`<b>/);
  assert.match(serveMarkdown(r), /GET \/a\ufffd\\\[31m\ufffdevil\ufffd x\\\|\\`\\<b\\>/);
});

test("the session's notes on a variant are shown under it", () => {
  const v = { ...stallingVariant(), notes: ['the server did not end when told and was killed'] };
  assert.match(serveText(buildServeReport(inputs([v]))), /^ {2}note: the server did not end when told and was killed$/m);
});

test('a variant cut short (cancelled under load) is titled so, with its streams so far; one cut before any request is not measured', () => {
  const cancelled = { kind: 'cancelled' as const, message: 'cancelled with the app as written under load', detail: null };
  const cut = { ...stallingVariant(), status: 'failed' as const, error: cancelled };
  const never = variant(TWO_WORKERS, [processWindow(1, [])], null, { status: 'failed', error: cancelled });
  const lines = serveText(buildServeReport(inputs([cut, never], { error: cancelled }))).split('\n');
  assert.ok(lines.includes('as written — cut short, no verdict · uvicorn 0.17.6, pid 4242, started in 420.0 ms'), lines.join('\n'));
  assert.ok(lines.some((l) => /^\s+probe\s+10\s+100\s+100\s+0\s+2\.00 ms\s+290\.0 ms/.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => l.startsWith('2 uvicorn workers — not measured')), lines.join('\n'));
});
