/**
 * Worker and process modes: a pool started (and warmed up) once, then one window, or,
 * in a sweep, one window per worker count on the same pool.
 */
import * as v8 from 'node:v8';
import type { RawWindow } from '../../../shared/protocol';
import { argumentsLossNote, notCloneableReason } from '../cloneCheck';
import { LoadError } from '../loader';
import { nowMs } from '../probes';
import { Cancelled, Context, PoolCrash } from './context';
import { Pool } from './pool';
import { runRounds } from './sweepRounds';
import { skipped, Window } from './window';

/** The default pool size: one per core the runtime may use, as `os.availableParallelism()`. */
export function defaultWorkers(cpuCount: number): number {
  return Math.max(1, cpuCount);
}

/** `warmArgs`: the members' warm-up calls' own arguments (evaluated once, sent to each); null: no warm-up. */
export async function runPool(ctx: Context, mode: 'worker' | 'process', args: unknown[], warmArgs: unknown[] | null): Promise<RawWindow> {
  return (await runPoolWindows(ctx, mode, args, warmArgs, null, () => undefined))[0];
}

/**
 * A worker sweep: one pool per mode, as large as the largest count can use (never more
 * than the calls in flight), and a window per count that lets only that many calls run
 * at once, which is what a pool of that size does, without a pool start per count.
 */
export function runPoolSweep(ctx: Context, mode: 'worker' | 'process', args: unknown[], warmArgs: unknown[] | null, counts: number[], emit: (w: RawWindow) => void): Promise<RawWindow[]> {
  return runPoolWindows(ctx, mode, args, warmArgs, counts, emit);
}

async function runPoolWindows(
  ctx: Context, mode: 'worker' | 'process', args: unknown[], warmArgs: unknown[] | null, counts: number[] | null, emit: (w: RawWindow) => void,
): Promise<RawWindow[]> {
  const fail = (w: RawWindow) => {
    if (counts) emit(w);
    return [w];
  };
  let warmBytes: Uint8Array | null;
  try {
    v8.serialize(args);
    warmBytes = warmArgs && v8.serialize(warmArgs);
  } catch (e) {
    return fail(skipped(mode, 'not-transferable', `the call arguments can't be sent to a ${mode === 'worker' ? 'worker thread' : 'child process'}: ${notCloneableReason(args, 'arguments')}`, 'failed'));
  }
  // Never more pool members than calls in flight: the extra ones only cost start-up
  // time and memory (32 idle workers held 652 MB). A sweep sizes for its largest count.
  const requested = counts ? Math.max(...counts) : ctx.plan.workers ?? defaultWorkers(ctx.cpuCount);
  const size = Math.max(1, Math.min(requested, ctx.plan.concurrency));
  // Only a W the user asked for is worth a note; the default is capped quietly.
  const capped = !counts && ctx.plan.workers && ctx.plan.workers > size ? ctx.plan.workers : null;
  const pool = new Pool(ctx, mode, size);
  const t = nowMs();
  ctx.progress(mode, 'warming');
  let startupMs: number;
  try {
    let offCancel: () => unknown = () => undefined;
    await new Promise<void>((resolve, reject) => {
      offCancel = ctx.onCancel(reject);
      pool.start(warmBytes).then(resolve, reject);
    }).finally(() => offCancel());
    startupMs = pool.loadedAt - t;
  } catch (e) {
    pool.close();
    if (e instanceof LoadError) return fail(skipped(mode, e.error.kind, e.error.message, 'failed'));
    if (e instanceof PoolCrash) {
      const w = skipped(mode, 'crashed', e.warmingUp
        ? `a ${mode} pool member died in the target's unmeasured warm-up call: ${e.message}`
        : `the ${mode} pool broke while starting: ${e.message}`, 'failed');
      w.error!.detail = e.detail;
      return fail(w);
    }
    if (e instanceof Cancelled) {
      return fail(skipped(mode, ctx.cancelKind, `${ctx.cancelKind === 'timeout' ? 'timed out' : 'cancelled'} while starting the ${mode} pool`, 'failed'));
    }
    throw e;
  }
  const windows: RawWindow[] = [];
  try {
    for (const count of counts ?? [null]) {
      pool.limit = count === null ? size : Math.min(count, size);
      ctx.begin(mode);
      const w = new Window(ctx, mode);
      pool.window = w;
      const rounds = counts ? ctx.plan.sweepRounds : undefined;
      const window = await w.measure((win) => new Promise<void>((resolve, reject) => {
        if (!pool.watch(reject)) return;
        if (rounds) return runRounds(ctx, win, pool.limit, rounds, (rec, done) => pool.submit(rec, args, done), resolve);
        let left = ctx.plan.concurrency;
        for (let i = 0; i < ctx.plan.concurrency; i++) {
          pool.submit(win.newRecord(i), args, () => {
            if (--left === 0) resolve();
          });
        }
      }));
      const notTransferable = w.records.find((r) => r.notTransferable);
      if (notTransferable && window.status === 'ok') {
        window.status = 'failed';
        window.error = {
          kind: 'not-transferable',
          message: `the return value can't be sent back from the ${mode === 'worker' ? 'worker thread' : 'child process'}: ${notTransferable.error?.message}`,
          detail: null,
        };
      }
      const argsNote = argumentsLossNote(args, mode === 'worker' ? 'worker thread' : 'child process');
      const cappedNote = capped ? `the pool started ${size} workers, not the ${capped} asked for: only ${ctx.plan.concurrency} calls run at once` : null;
      const notes = [...new Set([...(argsNote ? [argsNote] : []), ...(cappedNote ? [cappedNote] : []), ...w.records.flatMap((r) => (r.resultNote ? [r.resultNote] : []))])];
      if (capped) window.workersRequested = capped;
      if (notes.length) window.notes = [...(window.notes ?? []), ...notes];
      window.workers = count ?? size;
      window.startupMs = windows.length ? null : Math.round(startupMs * 1000) / 1000;
      // Warm-up ran once, when the pool started: it belongs to the first window.
      window.warmupMs = windows.length || !pool.warmupMs.length ? null : pool.warmupMs;
      windows.push(window);
      if (counts && window.status === 'ok') emit(window);
      if (window.status !== 'ok' || ctx.cancelled) break;
    }
  } catch (e) {
    pool.close();
    throw e;
  }
  const last = windows[windows.length - 1];
  if (last.status === 'ok') await pool.drain();
  else pool.close();
  if (counts && last.status !== 'ok') emit(last);
  return windows;
}
