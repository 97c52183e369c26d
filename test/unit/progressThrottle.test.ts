/**
 * When the engine passes a run's progress to its views: nothing of a window for its first
 * second, then the latest at most once a second; an update between windows once it has
 * stood 300 ms with no newer one, so a phase that a window follows at once is never drawn.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Clock, ProgressThrottle } from '../../src/engine/progressThrottle';

type P = { mode: string; phase: string; done: number };

/** A clock whose time moves only when told, running the timers that come due. */
function fakeClock(): Clock & { advance(ms: number): void } {
  let now = 0;
  let next = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    setTimeout: (fn, ms) => {
      timers.set(++next, { at: now + ms, fn });
      return next;
    },
    clearTimeout: (h) => void timers.delete(h as number),
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
      }
      now = end;
    },
  };
}

function setup() {
  const clock = fakeClock();
  const shown: [number, string][] = [];
  const throttle = new ProgressThrottle<P>((p) => shown.push([clock.now(), `${p.mode} ${p.phase} ${p.done}`]), { quietMs: 1000, settleMs: 300, clock });
  return { clock, shown, throttle };
}

test('a window\'s progress is held for its first second, then its latest shown at most once a second', () => {
  const { clock, shown, throttle } = setup();
  // 300 calls finishing over three seconds, 10 ms apart (a sidecar sends one per call).
  for (let i = 0; i < 300; i++) {
    throttle.offer({ mode: 'thread', phase: 'running', done: i });
    clock.advance(10);
  }
  assert.deepEqual(shown, [[1000, 'thread running 99'], [2000, 'thread running 199'], [3000, 'thread running 299']]);
});

test('a short window draws nothing; its mode\'s "starting" and "warming" right before it are not drawn either', () => {
  const { clock, shown, throttle } = setup();
  throttle.offer({ mode: 'inline', phase: 'starting', done: 0 });
  throttle.offer({ mode: 'inline', phase: 'warming', done: 0 });
  clock.advance(100); // the warm-up call
  for (let i = 0; i < 5; i++) {
    throttle.offer({ mode: 'inline', phase: 'running', done: i });
    clock.advance(100);
  }
  assert.deepEqual(shown, [], 'nothing drawn from the warm-up to the window\'s end');
  throttle.offer({ mode: 'inline', phase: 'done', done: 5 });
  clock.advance(300);
  assert.deepEqual(shown, [[900, 'inline done 5']], 'between windows, once it stood 300 ms');
});

test('a phase that lasts (a pool starting) is drawn 300 ms in, well before its window', () => {
  const { clock, shown, throttle } = setup();
  throttle.offer({ mode: 'process', phase: 'starting', done: 0 });
  clock.advance(100);
  throttle.offer({ mode: 'process', phase: 'warming', done: 0 });
  clock.advance(2000);
  throttle.offer({ mode: 'process', phase: 'running', done: 0 });
  clock.advance(500);
  assert.deepEqual(shown, [[400, 'process warming 0']], 'each such update starts the wait again; the window then draws nothing');
});

test('back-to-back windows each start their quiet second: Python\'s diagnostic then thread mode, a sweep\'s pool sizes', () => {
  const { clock, shown, throttle } = setup();
  throttle.offer({ mode: 'diagnostic', phase: 'running', done: 0 });
  clock.advance(900);
  throttle.offer({ mode: 'thread', phase: 'running', done: 0 });
  clock.advance(999);
  assert.deepEqual(shown, [], 'a new mode\'s window starts its own quiet second');
  clock.advance(1);
  assert.deepEqual(shown, [[1900, 'thread running 0']]);
  throttle.offer({ mode: 'process', phase: 'running', done: 3 });
  clock.advance(500);
  throttle.offer({ mode: 'process', phase: 'running', done: 0 }); // the next pool size's window: the count starts again
  clock.advance(999);
  assert.deepEqual(shown, [[1900, 'thread running 0']], 'the earlier window\'s held update is dropped at the new one');
  clock.advance(1);
  assert.deepEqual(shown, [[1900, 'thread running 0'], [3400, 'process running 0']]);
});

test('a window\'s result drops what was held of it: a sweep\'s next window follows without another update', () => {
  const { clock, shown, throttle } = setup();
  throttle.offer({ mode: 'process', phase: 'running', done: 0 });
  clock.advance(1200);
  throttle.offer({ mode: 'process', phase: 'running', done: 7 }); // held until 2000
  clock.advance(100);
  throttle.windowEnded();
  clock.advance(1500);
  assert.deepEqual(shown, [[1000, 'process running 0']], 'nothing of the ended window after its result');
  throttle.offer({ mode: 'process', phase: 'running', done: 0 });
  clock.advance(1000);
  assert.deepEqual(shown, [[1000, 'process running 0'], [3800, 'process running 0']], 'the next window: its own quiet second');
});

test('dispose: nothing held is shown after the sidecar ended', () => {
  const { clock, shown, throttle } = setup();
  throttle.offer({ mode: 'thread', phase: 'done', done: 3 });
  throttle.dispose();
  clock.advance(5000);
  assert.deepEqual(shown, []);
});
