/** What a session timeout says about where the run hung (pure: from the sidecar's messages). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { timeoutError } from '../../src/engine/crashMessages';
import { hangSite, HangState } from '../../src/engine/sidecarWatch';

const target = { file: '/w/app.py', qualname: 'slow', lines: null, args: '', language: 'python' as const };
const at = (h: Partial<HangState>): HangState => ({ helloSeen: true, loaded: true, progress: null, runningSinceMs: null, sweep: false, ...h });

test('running calls: how many finished, how many not, the longest', () => {
  const h = at({ progress: { mode: 'thread', phase: 'running', done: 2, total: 10 }, runningSinceMs: 1000 });
  assert.equal(hangSite(h, target, 3800),
    'in thread mode: 2 of 10 calls of `slow` finished, 8 not finished (running or queued; the longest for 2.8 s)');
  assert.equal(timeoutError(3, 1, hangSite(h, target, 3800)).message,
    'gave up after 3 s in thread mode: 2 of 10 calls of `slow` finished, 8 not finished (running or queued; the longest for 2.8 s) (1 mode(s) measured)');
});

test('each step before and around the calls is named', () => {
  assert.equal(hangSite(at({ helloSeen: false, loaded: false }), target, 0), 'while the sidecar was starting');
  assert.equal(hangSite(at({ loaded: false }), target, 0), 'while importing app.py');
  assert.equal(hangSite(at({}), target, 0), 'before the first mode started');
  assert.equal(hangSite(at({ progress: { mode: 'baseline', phase: 'running', done: 0, total: 10 } }), target, 0), 'while measuring the idle baseline');
  assert.equal(hangSite(at({ progress: { mode: 'diagnostic', phase: 'running', done: 0, total: 10 } }), target, 0), 'in the one-thread diagnostic before thread mode');
  assert.match(hangSite(at({ progress: { mode: 'process', phase: 'warming', done: 0, total: 10 } }), target, 0), /^in process mode, while warming up/);
  assert.match(hangSite(at({ progress: { mode: 'worker', phase: 'starting', done: 0, total: 10 } }), target, 0), /^in worker mode, while it was starting/);
  assert.match(hangSite(at({ progress: { mode: 'inline', phase: 'done', done: 10, total: 10 } }), target, 0), /^in inline mode, after all its calls of `slow` finished/);
});

test('a snippet is named by its lines; a sweep round by the calls it finished', () => {
  const snippet = { ...target, qualname: null, lines: { start: 3, end: 9 } };
  const h = at({ progress: { mode: 'process', phase: 'running', done: 57, total: 10 }, runningSinceMs: 0, sweep: true });
  assert.equal(hangSite(h, snippet, 1500), 'in process mode, in a sweep round: 57 call(s) of lines 3-9 finished (the longest for 1.5 s)');
});

test('without a site (between two sidecars) the message is the old one', () => {
  assert.equal(timeoutError(10, 2).message, 'gave up after 10 s (2 mode(s) measured)');
});
