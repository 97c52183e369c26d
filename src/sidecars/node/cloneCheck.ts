/**
 * What structured clone (v8.serialize: worker_threads and advanced IPC) does to a
 * result, in words a user can act on: a class instance arrives as a plain object
 * (no prototype, no methods), and a value that cannot be cloned is named by its type
 * and place ("`result.conn` is a `Socket`"), not by V8's `function () { [native code] }`.
 */
import * as v8 from 'node:v8';

/** Objects walked looking for a class instance: a large result is sampled, not read whole. */
const WALK_BUDGET = 2000;
/** Children tried per object when looking for what cannot be cloned. */
const CHILD_BUDGET = 10_000;

/** Prototypes structured clone keeps (the copy is of the same kind). */
function keptPrototypes(): Set<unknown> {
  const typed = Object.getPrototypeOf(Int8Array.prototype) as object;
  const kept: unknown[] = [
    null, Object.prototype, Array.prototype, Date.prototype, RegExp.prototype, Map.prototype, Set.prototype,
    ArrayBuffer.prototype, SharedArrayBuffer.prototype, DataView.prototype, typed,
    Boolean.prototype, Number.prototype, String.prototype, BigInt.prototype,
    Error.prototype, EvalError.prototype, RangeError.prototype, ReferenceError.prototype, SyntaxError.prototype, TypeError.prototype, URIError.prototype,
  ];
  for (const T of [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array]) kept.push(T.prototype);
  kept.push(Buffer.prototype);
  return new Set(kept);
}

function typeName(o: object): string {
  const ctor = (Object.getPrototypeOf(o) as { constructor?: { name?: string } } | null)?.constructor;
  return ctor?.name || 'anonymous class';
}

function isInstance(o: object, kept: Set<unknown>): boolean {
  return !kept.has(Object.getPrototypeOf(o));
}

function children(o: object): [string, unknown][] {
  const out: [string, unknown][] = [];
  if (Array.isArray(o) || ArrayBuffer.isView(o)) {
    if (ArrayBuffer.isView(o)) return out;
    const a = o as unknown[];
    for (let i = 0; i < a.length && out.length < CHILD_BUDGET; i++) out.push([`[${i}]`, a[i]]);
    return out;
  }
  if (o instanceof Map) {
    for (const [k, v] of o) {
      if (out.length >= CHILD_BUDGET) break;
      out.push([`.get(${typeof k === 'string' ? JSON.stringify(k) : String(k)})`, v]);
    }
    return out;
  }
  if (o instanceof Set) {
    let i = 0;
    for (const v of o) {
      if (out.length >= CHILD_BUDGET) break;
      out.push([`<set item ${i++}>`, v]);
    }
    return out;
  }
  for (const k of Object.keys(o)) {
    if (out.length >= CHILD_BUDGET) break;
    let v: unknown;
    try {
      v = (o as Record<string, unknown>)[k];
    } catch {
      continue; // a throwing getter: clone would throw its error, not ours to name
    }
    out.push([/^[\p{ID_Start}$_][\p{ID_Continue}$]*$/u.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`, v]);
  }
  return out;
}

/** The first class instance in `value`, breadth-first, within the walk budget. */
function firstInstance(value: unknown, root: string): { where: string; name: string } | null {
  const kept = keptPrototypes();
  const seen = new Set<object>();
  const queue: [string, unknown][] = [[root, value]];
  while (queue.length && seen.size < WALK_BUDGET) {
    const [where, v] = queue.shift()!;
    if (typeof v !== 'object' || v === null || seen.has(v)) continue;
    seen.add(v);
    if (isInstance(v, kept)) return { where, name: typeName(v) };
    for (const [key, child] of children(v)) queue.push([where + key, child]);
  }
  return null;
}

const LOSS = 'structured clone copies own data, not the prototype or its methods';

/**
 * A note when the result holds a class instance, which the parent receives as a plain
 * object; null when the copy is of the same kind as the value (as far as was walked).
 */
export function prototypeLossNote(result: unknown, from: 'worker thread' | 'child process'): string | null {
  const found = firstInstance(result, 'result');
  if (!found) return null;
  const what = `a \`${found.name}\` instance${found.where === 'result' ? '' : ` (at \`${found.where}\`)`}`;
  return `the ${from} returned ${what}, which arrives here as a plain object: ${LOSS}`;
}

/** The same for the call arguments, which each pool member receives as copies. */
export function argumentsLossNote(args: unknown[], to: 'worker thread' | 'child process'): string | null {
  const found = firstInstance(args, 'arguments');
  return found ? `\`${found.where}\` is a \`${found.name}\` instance, which each ${to} receives as a plain object: ${LOSS}` : null;
}

function cloneable(v: unknown): boolean {
  try {
    v8.serialize(v);
    return true;
  } catch {
    return false;
  }
}

function describe(v: unknown): string {
  if (typeof v === 'function') {
    const src = Function.prototype.toString.call(v);
    if (/^class[\s{]/.test(src)) return `a class \`${v.name || 'anonymous'}\``;
    return v.name ? `a function \`${v.name}\`` : 'an anonymous function';
  }
  if (typeof v === 'symbol') return `a symbol (${String(v)})`;
  if (typeof v === 'object' && v !== null) {
    const name = typeName(v);
    return v instanceof Promise ? 'a Promise (await it inside the function)' : `a \`${name}\``;
  }
  return `a ${typeof v}`;
}

/**
 * Why `value` cannot be cloned, naming the offending value's type and where it sits,
 * e.g. "`result` is a `Sharp` instance whose `.options.fn` is a function `f`".
 * Only called after v8.serialize failed, so its cost is on the failure path.
 */
export function notCloneableReason(value: unknown, root: string): string {
  const kept = keptPrototypes();
  let where = root;
  let v = value;
  /** The outermost class instance on the way down, to name what the user returned. */
  let outer: { where: string; name: string } | null = null;
  const seen = new Set<object>();
  for (;;) {
    if (typeof v !== 'object' || v === null || seen.has(v)) break;
    seen.add(v);
    if (!outer && isInstance(v, kept) && !(v instanceof Promise)) outer = { where, name: typeName(v) };
    const bad = children(v).find(([, c]) => !cloneable(c));
    if (!bad) break;
    where += bad[0];
    v = bad[1];
  }
  if (outer && outer.where !== where) return `\`${outer.where}\` is a \`${outer.name}\` instance whose \`${where.slice(outer.where.length)}\` is ${describe(v)}, which cannot be copied to another thread or process`;
  return `\`${where}\` is ${describe(v)}, which cannot be copied to another thread or process`;
}
