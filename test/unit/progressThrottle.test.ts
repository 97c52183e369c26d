/**
 * The engine's progress updates: nothing of a window for its first second, then at most one
 * a second; between windows at most 4 a second, every mode and phase change at once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProgressThrottle } from '../../src/engine/progressThrottle';

test('a window\'s progress is not shown for its first second, then at most once a second', () => {
  let now = 0;
  const throttle = new ProgressThrottle(250, () => now, 1000);
  const shownAt: number[] = [];
  // 300 calls finishing over three seconds, 10 ms apart (a sidecar sends one per call).
  for (let i = 0; i < 300; i++, now += 10) if (throttle.admit({ mode: 'thread', phase: 'running' })) shownAt.push(now);
  assert.deepEqual(shownAt, [1000, 2000], 'shown from 1 s into the window, once a second');
  // A window of 0.5 s: nothing of it is drawn while it runs.
  now += 100;
  assert.equal(throttle.admit({ mode: 'process', phase: 'warming' }), true, 'between windows: at once');
  const short: number[] = [];
  for (let i = 0; i < 50; i++, now += 10) if (throttle.admit({ mode: 'process', phase: 'running' })) short.push(now);
  assert.deepEqual(short, [], 'a short window: nothing drawn');
  // Python's thread mode: the one-call diagnostic window, then thread mode's own, back to back.
  assert.equal(throttle.admit({ mode: 'diagnostic', phase: 'running' }), false);
  now += 900;
  assert.equal(throttle.admit({ mode: 'thread', phase: 'running' }), false, 'a new window starts its own quiet second');
  now += 999;
  assert.equal(throttle.admit({ mode: 'thread', phase: 'running' }), false);
  now += 1;
  assert.equal(throttle.admit({ mode: 'thread', phase: 'running' }), true);
});

test('between windows a flood is shown at most 4 times a second; a new phase or mode always', () => {
  let now = 0;
  const throttle = new ProgressThrottle(250, () => now);
  let shown = 0;
  for (let i = 0; i < 100; i++, now += 10) if (throttle.admit({ mode: 'thread', phase: 'draining' })) shown++;
  assert.ok(shown <= 4 && shown >= 3, `${shown} updates in a second`);
  assert.equal(throttle.admit({ mode: 'thread', phase: 'done' }), true, 'a new phase');
  assert.equal(throttle.admit({ mode: 'process', phase: 'done' }), true, 'a new mode');
  assert.equal(throttle.admit({ mode: 'process', phase: 'done' }), false, 'the same again at once');
  now += 250;
  assert.equal(throttle.admit({ mode: 'process', phase: 'done' }), true, 'the same a quarter second later');
});
