/** Node's libuv threadpool: the loop stays free while every other fs/dns/crypto/zlib call queues. */
import type { Advice } from '../../shared/protocol';
import { fmtMs } from '../../shared/format';
import { DOCS } from '../runtimes';
import * as Js from '../snippets/node';
import * as T from '../thresholds';
import { rule } from './facts';

/**
 * The target fills libuv's threadpool (crypto.pbkdf2/scrypt, zlib, bcrypt, argon2, sharp,
 * fs…): the loop stays free, yet every other user of the pool in the process queues
 * behind it. Read from the threadpool probe's waits next to the loop's own lag, with
 * the per-call slowdown against one call alone (the warm-up call) as a second witness.
 */
export const libuvThreadpoolSaturated = rule(['node'], (f) => {
  const out: Advice[] = [];
  for (const r of f.report.runs) {
    const tp = r.threadpool;
    if (r.status !== 'ok' || !tp) continue;
    if (tp.probeP50Ms < T.THREADPOOL_WAIT_P50_MS || tp.probeP50Ms < T.THREADPOOL_WAIT_OVER_LAG * r.lag.p90Ms) continue;
    const solo = r.warmupMs?.length ? [...r.warmupMs].sort((a, b) => a - b)[Math.floor((r.warmupMs.length - 1) / 2)] : null;
    const slower = solo && r.taskStats.runP50Ms !== null && solo > 0
      ? ` Each call took p50 ${fmtMs(r.taskStats.runP50Ms)} against ${fmtMs(solo)} for one call alone (the warm-up call): ${(r.taskStats.runP50Ms / solo).toFixed(1)}× slower from queueing for the same threads.`
      : '';
    out.push({
      id: 'libuv-threadpool-saturated',
      severity: tp.probeP50Ms >= f.budgetMs ? 'critical' : 'warning',
      mode: r.mode,
      title: `${r.tasks.length} concurrent calls fill libuv's threadpool: an unrelated tiny fs/crypto/dns call waited p50 ${fmtMs(tp.probeP50Ms)}, max ${fmtMs(tp.probeMaxMs)}`,
      detail: `In ${r.mode} mode a 1-byte crypto.randomFill sent from the loop every few ms (${tp.probeCount} of them) waited p50 ${fmtMs(tp.probeP50Ms)}, ` +
        `max ${fmtMs(tp.probeMaxMs)}${tp.idleMs !== null ? ` (${fmtMs(tp.idleMs)} on the idle pool)` : ''}, while the loop itself lagged only p90 ${fmtMs(r.lag.p90Ms)}: ` +
        'the event loop is free, but libuv\'s threadpool (UV_THREADPOOL_SIZE threads, 4 by default, one pool per process shared with every worker thread) ' +
        'is busy with these calls, and every fs, dns.lookup, crypto, zlib call and native addon\'s async work in the process queues behind them.' + slower +
        ' Loop lag alone calls this healthy; your users see the wait.',
      fix: Js.threadpoolSlots(Js.nodeTarget(f.report)),
      docs: DOCS.node.threadpool,
    });
  }
  return out;
});
