/**
 * Inline mode: the calls on the sidecar's main thread, as a handler that does not
 * offload runs them, with one unmeasured warm-up call before the window.
 */
import type { RawWindow } from '../../../shared/protocol';
import type { Callable } from '../loader';
import { errorInfo } from '../poolProtocol';
import { clearTimeout, setImmediate, setTimeout } from '../clock';
import { nowMs, threadCpuMs } from '../probes';
import { Cancelled, Context, TaskRec } from './context';
import { r4, Window } from './window';

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return (typeof x === 'object' || typeof x === 'function') && x !== null && typeof (x as PromiseLike<unknown>).then === 'function';
}

/**
 * N calls scheduled at once on the main thread, like N simultaneous requests to a
 * handler that does not offload: each runs to its first `await` (or its end) before
 * the loop can do anything else.
 */
export async function runInline(ctx: Context, callable: Callable, args: unknown[]): Promise<RawWindow> {
  const warmupMs = ctx.plan.warmup === false ? null : await warmUpInline(ctx, callable);
  const window = await new Window(ctx, 'inline').measure((w) => new Promise<void>((resolve) => {
    let left = ctx.plan.concurrency;
    const one = async (rec: TaskRec) => {
      if (!ctx.cancelled) {
        rec.worker = 'main thread';
        const cpu0 = threadCpuMs();
        rec.start = nowMs();
        let async = false;
        try {
          const r = ctx.callScope.run(rec, () => callable.call(args));
          if (isThenable(r)) {
            async = true;
            await r;
          }
        } catch (e) {
          rec.error = errorInfo(e);
        }
        rec.end = nowMs();
        // An async call interleaves with the others: its CPU cannot be told apart.
        rec.cpuMs = async ? null : threadCpuMs().ms - cpu0.ms;
        // Said at once (the channel writes synchronously): sync calls queued in the same
        // check phase run back to back, and the host's call-timeout watchdog must hear
        // each one end, not only the last.
        ctx.taskDone();
        // Node reports a rejection left unhandled after this turn's microtasks: one turn
        // later it is known, and is this call's error (the window waits for it).
        await new Promise((r) => setImmediate(r));
      }
      if (--left === 0) resolve();
    };
    for (let i = 0; i < ctx.plan.concurrency; i++) {
      const rec = w.newRecord(i);
      setImmediate(() => void one(rec));
    }
  }));
  window.workers = 1;
  window.warmupMs = warmupMs === null ? null : [r4(warmupMs)];
  return window;
}

/**
 * One unmeasured call on the main thread before the inline window, with its own fresh
 * arguments, so one-time costs (JIT, lazy imports, caches, key set-up) stay out of it.
 * Its duration, ms; null when cancelled. A call that throws still warmed what it reached.
 */
async function warmUpInline(ctx: Context, callable: Callable): Promise<number | null> {
  ctx.progress('inline', 'warming');
  let off: () => unknown = () => undefined;
  let timer: NodeJS.Timeout | undefined;
  let t = nowMs();
  try {
    const args = await callable.makeArgs();
    t = nowMs();
    await new Promise<void>((resolve, reject) => {
      off = ctx.onCancel(reject);
      const r = callable.call(args);
      if (isThenable(r)) {
        r.then(() => resolve(), () => resolve());
        // A promise that never settles: stop waiting at the call timeout (the window's
        // calls, cut by the same limit, then say what happened).
        const limit = ctx.callLimitMs;
        if (limit) {
          timer = setTimeout(() => {
            ctx.warmupCut = true;
            resolve();
          }, limit);
        }
      } else resolve();
    });
  } catch (e) {
    if (e instanceof Cancelled) return null;
  } finally {
    off();
    clearTimeout(timer);
  }
  return nowMs() - t;
}
