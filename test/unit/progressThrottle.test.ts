/** The engine's progress updates: at most 4 a second within a phase, every mode and phase change at once. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProgressThrottle } from '../../src/engine/progressThrottle';

test('a flood of progress within one phase is shown at most 4 times a second; a new phase or mode always', () => {
  let now = 0;
  const throttle = new ProgressThrottle(250, () => now);
  let shown = 0;
  // 100 calls finishing over one second, 10 ms apart (a sidecar sends one per call up to `concurrency`).
  for (let i = 0; i < 100; i++, now += 10) if (throttle.admit({ mode: 'thread', phase: 'running' })) shown++;
  assert.ok(shown <= 4 && shown >= 3, `${shown} updates in a second`);
  assert.equal(throttle.admit({ mode: 'thread', phase: 'draining' }), true, 'a new phase');
  assert.equal(throttle.admit({ mode: 'process', phase: 'draining' }), true, 'a new mode');
  assert.equal(throttle.admit({ mode: 'process', phase: 'draining' }), false, 'the same again at once');
  now += 250;
  assert.equal(throttle.admit({ mode: 'process', phase: 'draining' }), true, 'the same a quarter second later');
});
