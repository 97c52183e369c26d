/**
 * The shape of call arguments and results, for the transfer advice: shallow (a few
 * elements of an array at most) so classifying a 30 MB payload costs nothing next to
 * serializing it.
 */
import type { ValueKind } from '../../shared/protocol';

/** Array elements looked at to tell an array of numbers from an array of objects. */
const SAMPLE = 8;

/** One value's kind. */
export function kindOf(v: unknown): ValueKind {
  if (v === null || v === undefined) return 'none';
  if (typeof v === 'string') return 'string';
  if (typeof v !== 'object') return 'primitive';
  if (ArrayBuffer.isView(v)) return 'typed-array';
  if (v instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && v instanceof SharedArrayBuffer)) return 'arraybuffer';
  if (Array.isArray(v)) {
    const head = v.slice(0, SAMPLE);
    return head.length && head.every((x) => typeof x === 'number') ? 'number-array' : 'plain-objects';
  }
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null ? 'plain-objects' : 'instance';
}

/**
 * The kind of an argument list: that of its non-trivial arguments (numbers and
 * booleans beside a payload do not decide how the payload moves), `mixed` when those differ.
 */
export function argsKindOf(args: unknown[]): ValueKind {
  const kinds = new Set(args.map(kindOf));
  if (kinds.size > 1) {
    kinds.delete('none');
    kinds.delete('primitive');
  }
  if (!kinds.size) return args.length ? 'primitive' : 'none';
  return kinds.size === 1 ? [...kinds][0] : 'mixed';
}
