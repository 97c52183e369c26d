/** The words every view uses for a blocker: its thread and step, its line, the library it called, its share, the coverage. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  attributionCoverage, attributionStatus, blockerLine, blockerWhere, libraryLabel, sharePercent, STEP_PHRASES, THREAD_PHRASES, unattributedText,
} from '../../src/shared/blockerPhrases';
import { BLOCKER_STEPS, BLOCKER_THREADS } from '../../src/shared/protocol/attribution';
import type { Attribution } from '../../src/shared/protocol';

test('every thread and step has words; the user\'s call is named by its thread, the tool\'s steps by thread and step', () => {
  assert.deepEqual(Object.keys(THREAD_PHRASES).sort(), [...BLOCKER_THREADS].sort());
  assert.deepEqual(Object.keys(STEP_PHRASES).sort(), [...BLOCKER_STEPS].sort());
  assert.equal(blockerWhere({ thread: 'loop', step: 'call' }), 'on the loop');
  assert.equal(blockerWhere({ thread: 'gil-holder', step: 'call' }), 'held the GIL in a worker');
  assert.equal(blockerWhere({ thread: 'main', step: 'serialize-args' }), 'main thread: serializing arguments');
  assert.equal(blockerWhere({ thread: 'loop', step: 'deserialize-result' }), 'loop: deserializing results');
  for (const thread of BLOCKER_THREADS) for (const step of BLOCKER_STEPS) assert.ok(blockerWhere({ thread, step }).length > 0);
});

test('a line as file:line, the function alone without a file; a library frame as its users name it', () => {
  assert.equal(blockerLine({ file: 'services/feeds.py', line: 17, function: 'parse_feed' }), 'services/feeds.py:17');
  assert.equal(blockerLine({ file: 'services/feeds.py', line: null, function: 'parse_feed' }), 'services/feeds.py');
  assert.equal(blockerLine({ file: null, line: null, function: '(garbage collector)' }), '(garbage collector)');
  const lib = (file: string | null, fn: string, line: number | null = 1) => libraryLabel({ file, line, function: fn, kind: 'library' });
  assert.equal(lib('lxml/etree.pyx', 'fromstring'), 'lxml.etree.fromstring');
  assert.equal(lib('json/__init__.py', 'dumps'), 'json.dumps');
  assert.equal(lib('markdown/core.py', 'convert'), 'markdown.core.convert');
  assert.equal(lib('yaml/__init__.py', '<module>'), 'yaml');
  assert.equal(lib('lodash/lodash.js', 'merge', 120), 'merge (lodash/lodash.js:120)');
  assert.equal(lib('node:internal/util', 'deprecate', null), 'deprecate (node:internal/util)');
  assert.equal(lib(null, 'RegExp: (ab)+$', null), 'RegExp: (ab)+$');
});

test('shares: whole percents, and a tiny share is <1%, not 0%', () => {
  assert.equal(sharePercent(0.68), '68%');
  assert.equal(sharePercent(0.004), '<1%');
  assert.equal(sharePercent(0), '0%');
  assert.equal(sharePercent(1), '100%');
});

test('attribution: coverage and method when it ran; why not when off, unavailable or failed', () => {
  const ok: Attribution = {
    version: 1, status: 'ok', method: 'v8-cpu-profiler', intervalMs: 2, stalledMs: 480, attributedMs: 470, coverage: 0.979, coverage20Ms: null,
    unattributed: { noSampleMs: 6, notRunningMs: 4, otherMs: 0 }, samples: 240, weighting: 'equal',
  };
  assert.equal(attributionStatus(ok), null);
  assert.equal(attributionCoverage(ok), '98% of 480.0 ms stalled attributed to a line · 240 samples, every 2.00 ms · workers weighted equally (no per-thread CPU clocks)');
  assert.equal(unattributedText(ok), 'Not attributed: 6.00 ms with no sample, 4.00 ms when no thread ran (a busy machine).');
  assert.equal(unattributedText({ ...ok, unattributed: { noSampleMs: 0, notRunningMs: 0, otherMs: 0 } }), null);
  assert.equal(attributionCoverage({ ...ok, stalledMs: 0, coverage: null }), 'No stalls to attribute.');
  assert.match(attributionStatus({ status: 'off' })!, /^Attribution off/);
  assert.equal(attributionStatus({ status: 'unavailable', reason: 'no inspector in this Node' }), 'Attribution unavailable: no inspector in this Node.');
  assert.equal(attributionStatus({ status: 'failed' }), 'Attribution failed; the measurement itself stands.');
});
