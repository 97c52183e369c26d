import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineSplitter } from '../../src/shared/lineSplitter';

test('lines split across chunks, multi-byte characters split across chunks, blank lines skipped', () => {
  const got: string[] = [];
  const s = new LineSplitter((l) => got.push(l));
  const text = Buffer.from('{"a":1}\n\n{"b":"é€"}\n{"c"', 'utf8');
  // Feed one byte at a time: the worst case for boundaries.
  for (let i = 0; i < text.length; i++) s.push(text.subarray(i, i + 1));
  assert.deepEqual(got, ['{"a":1}', '{"b":"é€"}']);
  assert.equal(s.rest(), '{"c"');
  s.push(Buffer.from(':2}\n'));
  assert.deepEqual(got.at(-1), '{"c":2}');
});

test('a multi-megabyte line arrives whole', () => {
  const got: string[] = [];
  const s = new LineSplitter((l) => got.push(l));
  const big = 'x'.repeat(5_000_000);
  for (let i = 0; i < big.length; i += 65536) s.push(Buffer.from(big.slice(i, i + 65536)));
  s.push(Buffer.from('\n'));
  assert.equal(got.length, 1);
  assert.equal(got[0].length, big.length);
});
