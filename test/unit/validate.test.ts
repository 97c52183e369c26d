import assert from 'node:assert/strict';
import { test } from 'node:test';
import { arr, bool, int, literal, nullable, num, obj, optional, str, tagged, ValidationError } from '../../src/shared/validate';

const Thing = obj({ name: str, n: int, ratio: num, on: bool, tag: optional(str), maybe: nullable(int), xs: arr(num), kind: literal('a', 'b') });

test('valid values pass through; unknown extra fields are kept', () => {
  const v = { name: 'x', n: 1, ratio: 0.5, on: true, maybe: null, xs: [1, 2], kind: 'a', extra: 1 };
  assert.deepEqual(Thing.parse(v), v);
});

test('each kind of mistake is rejected with its path', () => {
  const good = { name: 'x', n: 1, ratio: 0.5, on: true, maybe: null, xs: [1], kind: 'a' };
  const cases: [object, RegExp][] = [
    [{ ...good, n: 1.5 }, /^n: expected integer/],
    [{ ...good, ratio: NaN }, /^ratio: expected finite number/],
    [{ ...good, on: 'yes' }, /^on: expected boolean/],
    [{ ...good, maybe: undefined }, /^maybe: expected integer/],
    [{ ...good, xs: [1, 'a'] }, /^xs\[1\]: expected finite number/],
    [{ ...good, kind: 'c' }, /^kind: expected "a" \| "b"/],
    [{ ...good, tag: 3 }, /^tag: expected string/],
  ];
  for (const [value, message] of cases) assert.throws(() => Thing.parse(value), (e: unknown) => e instanceof ValidationError && message.test(e.message));
  assert.throws(() => Thing.parse(null), /<root>: expected object, got null/);
});

test('tagged unions pick the variant by type and report unknown tags', () => {
  const U = tagged({ a: obj({ type: literal('a'), x: int }), b: obj({ type: literal('b') }) });
  assert.deepEqual(U.parse({ type: 'b' }), { type: 'b' });
  assert.throws(() => U.parse({ type: 'a', x: 'no' }), /^ValidationError|x: expected integer/);
  assert.throws(() => U.parse({ type: 'c' }), /type: expected "a" \| "b"/);
});
