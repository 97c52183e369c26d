import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CappedBytes, cutMarker, StreamCapture } from '../../src/engine/outputCapture';

const NONCE = '0123456789abcdef';

test('the stream splits at cut markers, also when a marker arrives a byte at a time', () => {
  const cuts: number[] = [];
  const c = new StreamCapture(NONCE, 1024, (n) => cuts.push(n));
  const stream = Buffer.concat([
    Buffer.from('first window\n'), Buffer.from(cutMarker(NONCE, 0), 'latin1'),
    Buffer.from('discarded'), Buffer.from(cutMarker(NONCE, 1), 'latin1'),
    // A NUL and a look-alike of another run are user bytes.
    Buffer.from('\0x\0looplag-cut:other:2\0'), Buffer.from(cutMarker(NONCE, 2), 'latin1'),
    Buffer.from('after'),
  ]);
  for (let i = 0; i < stream.length; i++) c.push(stream.subarray(i, i + 1));
  assert.deepEqual(cuts, [0, 1, 2]);
  assert.deepEqual(c.takeSegment(0), { text: 'first window\n', truncated: false, bytes: 13 });
  assert.deepEqual(c.takeSegment(2), { text: '\0x\0looplag-cut:other:2\0', truncated: false, bytes: 23 }, 'segment 1 was a discard');
  assert.equal(c.takeSegment(1), undefined, 'earlier segments are forgotten');
  assert.deepEqual(c.takeOpen(), { text: 'after', truncated: false, bytes: 5 });
});

test('a marker cut short by the end of the process is user output', () => {
  const c = new StreamCapture(NONCE, 1024, () => assert.fail('no cut'));
  c.push(Buffer.from('x' + cutMarker(NONCE, 7).slice(0, 10), 'latin1'));
  assert.equal(c.takeOpen().bytes, 11);
});

test('over the cap: three quarters head, a rolling tail, every byte counted, invalid UTF-8 replaced', () => {
  const b = new CappedBytes(100);
  b.write(Buffer.from('HEAD'));
  for (let i = 0; i < 1000; i++) b.write(Buffer.from('0123456789'));
  b.write(Buffer.from([0xff, 0xfe]));
  b.write(Buffer.from('TAIL'));
  const out = b.take();
  assert.equal(out.bytes, 4 + 10_000 + 2 + 4);
  assert.equal(out.truncated, true);
  assert.ok(out.text.startsWith('HEAD0123'));
  assert.ok(out.text.endsWith('\ufffd\ufffdTAIL'));
  assert.match(out.text, /\n\.\.\. \[9910 bytes omitted by Loop Lag\] \.\.\.\n/);
  assert.deepEqual(b.take(), { text: '', truncated: false, bytes: 0 }, 'take() starts over');
});
