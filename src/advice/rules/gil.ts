/**
 * Python's GIL: how the target treats it (a native call holding it, pure-Python
 * time-slicing, released), what threads gained, a free-threaded build, and native
 * thread pools oversubscribing the cores once the GIL is out of the way.
 */
import type { ModeRun, Report } from '../../shared/protocol';
import { fmtMs, fmtPct, fmtSpeedup } from '../../shared/format';
import { withinBudget } from '../budget';
import { atOf, citedBlockers, citedDiagnosticBlockers } from '../blockers';
import { nativeHoldSentence, place, workerLinesSentence } from '../blockerText';
import { DOCS } from '../runtimes';
import * as Py from '../snippets/python';
import * as T from '../thresholds';
import { Facts, lagSeverity, rule, times } from './facts';

const processPool = (r: Report) => Py.processPoolApp(Py.pyTarget(r));

export const gilHeldNative = rule(['python'], (f) => {
  const r = f.ok('thread');
  if (!r || f.gilBehaviour?.kind !== 'native-hold') return undefined;
  // The line: the diagnostic's (one call alone, the cleanest hold), else thread mode's.
  const diag = citedDiagnosticBlockers(f.report)[0];
  const line = diag ?? citedBlockers(r, 'gil-holder')[0];
  const measured = `With ${r.workers ?? '?'} threads the loop was stalled ${fmtPct(r.lag.stalledFrac)} of the time ` +
    `(max lag ${fmtMs(r.lag.maxMs)}, ${r.lag.sampleCount} of ${r.lag.expectedSampleCount} heartbeats).`;
  return {
    id: 'gil-held-native',
    severity: lagSeverity(r, f),
    mode: 'thread',
    title: line
      ? `Threads cannot help: the native call at ${place(line.file!, line.line)} holds the GIL for its whole duration`
      : 'Threads cannot help: a native call holds the GIL for its whole duration',
    detail: line
      ? `${nativeHoldSentence(line, f.runtime, diag ? f.report.diagnostic?.callMs ?? null : null)} ${f.gilBehaviour.evidence} ${measured} ` +
        'A native call does not release the GIL until it returns. Use processes.'
      : `${f.gilBehaviour.evidence} ${measured} Calls such as \`pow\` on big ` +
        'integers, `sorted` of a large list, `json.dumps`, or a regex engine do not release the GIL until they return. Use processes.',
    fix: processPool(f.report),
    docs: DOCS.python.processPool,
    ...atOf(line),
  };
});

export const gilContention = rule(['python'], (f) => {
  const r = f.ok('thread');
  if (!r || f.gilBehaviour?.kind !== 'time-sliced') return undefined;
  const lines = citedBlockers(r, 'gil-holder');
  return {
    id: 'gil-contention',
    severity: lagSeverity(r, f),
    mode: 'thread',
    title: `Pure-Python work: the loop waits for the GIL ~${fmtMs(f.switchMs)} per wake-up, longer with more threads`,
    detail: `${f.gilBehaviour.evidence} With ${r.workers ?? '?'} threads and ${r.tasks.length} concurrent calls, loop lag p50 ` +
      `${fmtMs(r.lag.p50Ms)}, p99 ${fmtMs(r.lag.p99Ms)}, max ${fmtMs(r.lag.maxMs)} (budget ${fmtMs(f.budgetMs)})` +
      (r.gilWait ? `; GIL wait p50 ${fmtMs(r.gilWait.p50Ms)}, p99 ${fmtMs(r.gilWait.p99Ms)}` : '') +
      '. Each runnable thread is another GIL competitor ahead of the loop: bound concurrency, use fewer workers, or processes.' +
      workerLinesSentence(lines, f.runtime),
    fix: Py.boundedThreadHandler(Py.pyTarget(f.report), 2),
    docs: DOCS.python.semaphore,
    ...atOf(lines[0]),
  };
});

export const gilReleased = rule(['python'], (f) => {
  const r = f.ok('thread');
  if (!r || f.gilBehaviour?.kind !== 'released') return undefined;
  const responsive = withinBudget(r, f.budgetMs);
  const workers = r.workers ?? 0;
  const oversubscribed = !responsive && workers > f.cores;
  return {
    id: 'gil-released',
    severity: responsive ? 'ok' : 'warning',
    mode: 'thread',
    title: responsive ? 'The work releases the GIL: threads keep the loop responsive' : 'The work releases the GIL, but the threads still delayed the loop',
    detail: `${f.gilBehaviour.evidence} With ${workers} threads: lag p99 ${fmtMs(r.lag.p99Ms)}, max ${fmtMs(r.lag.maxMs)}` +
      (r.speedup !== null ? `, ${fmtSpeedup(r)} the inline throughput` : '') + '.' +
      (oversubscribed ? ` ${workers} busy threads on ${f.cores} cores leave the loop thread waiting for a core: use at most ${f.cores} workers.` : ''),
    fix: responsive ? Py.threadHandler(Py.pyTarget(f.report)) : Py.sizedThreadPool(Py.pyTarget(f.report), Math.max(1, f.cores), 'as many threads as cores: more leave the loop waiting for one'),
    docs: DOCS.python.executor,
  };
});

export const noThreadSpeedup = rule(['python'], (f) => {
  const t = f.ok('thread');
  const i = f.ok('inline');
  if (!t || !i || t.speedup === null || f.cores < 2 || (t.workers ?? 1) < 2) return undefined;
  if (f.report.runtime && !f.report.runtime.gilEnabled) return undefined;
  if (t.speedup >= T.MIN_USEFUL_SPEEDUP || i.cpu.parallelism < T.CPU_BOUND_PARALLELISM) return undefined;
  if (i.wallMs < T.MIN_MEASURABLE_WINDOW_MS || t.wallMs < T.MIN_MEASURABLE_WINDOW_MS) return undefined;
  const released = f.gilBehaviour?.kind === 'released';
  // Native thread pools fighting over the cores have their own rule, with their own fix.
  if (released && oversubscription(f)) return undefined;
  // GIL free and the threads did run in parallel (CPU/wall near min(W, cores)): each call
  // was slower side by side (shared cores or memory bandwidth), which neither threads nor
  // processes can change. Processes gain the same here, so this is no advice to act on.
  if (released && t.cpu.parallelism >= T.THREADS_RAN_PARALLEL_FRAC * Math.min(t.workers ?? 1, f.cores)) return undefined;
  const measured = `${t.workers} threads took ${fmtMs(t.wallMs)} for ${t.tasks.length} calls, inline ${fmtMs(i.wallMs)}: speedup ${times(t.speedup)} ` +
    `(below ${T.MIN_USEFUL_SPEEDUP}×) with CPU/wall ${t.cpu.parallelism.toFixed(2)} on ${f.cores} cores.`;
  return {
    id: 'no-thread-speedup',
    severity: 'warning',
    mode: 'thread',
    title: released ? `Threads made this no faster (${times(t.speedup)}), though it releases the GIL` : `Threads made this CPU-bound Python no faster (${times(t.speedup)})`,
    // When the GIL was measured free, it is not what kept the threads from running in parallel.
    detail: released
      ? `${measured} ${f.gilBehaviour!.evidence} The GIL was free, so it is not what kept the threads from running in parallel: ` +
        (i.cpu.parallelism >= f.cores - T.CORES_BUSY_MARGIN
          ? `inline, one call at a time already kept ${i.cpu.parallelism.toFixed(2)} of ${f.cores} cores busy (a native thread pool of its own), leaving the threads no idle core.`
          : `the calls wait on something of their own (a lock, I/O, memory bandwidth), or other processes took the cores (background CPU ${fmtPct(t.backgroundCpuFrac ?? 0)} of the machine).`)
      : `${measured} The GIL lets one thread run Python at a time.` +
        (f.ok('process')?.speedup ? ` The process pool reached ${fmtSpeedup(f.ok('process')!)}.` : ''),
    fix: released ? null : processPool(f.report),
    docs: released ? DOCS.python.executor : DOCS.python.processPool,
  };
});

export const freeThreaded = rule(['python'], (f) => {
  const ft = f.report.runs.find((r) => r.status === 'ok' && r.gilEnabled === false);
  const gil = f.ok('thread');
  if (ft && gil) {
    const better = ft.lag.p99Ms <= T.FREE_THREADED_BETTER_FRAC * gil.lag.p99Ms;
    // Free-threaded builds run single-threaded code slower; say so when it shows.
    const slower = ft.wallMs > T.MIN_USEFUL_SPEEDUP * gil.wallMs ? `, but the calls took ${(ft.wallMs / gil.wallMs).toFixed(1)}× as long (${fmtMs(ft.wallMs)} vs ${fmtMs(gil.wallMs)})` : '';
    return {
      id: 'free-threaded',
      severity: 'info',
      mode: ft.mode,
      title: better
        ? `Free-threaded Python kept the loop responsive: p99 ${fmtMs(ft.lag.p99Ms)} vs ${fmtMs(gil.lag.p99Ms)} with the GIL${slower}`
        : `Free-threaded Python did not change the loop much: p99 ${fmtMs(ft.lag.p99Ms)} vs ${fmtMs(gil.lag.p99Ms)}`,
      detail: `Thread mode under ${ft.interpreter ?? 'the free-threaded interpreter'} (GIL off): lag p99 ${fmtMs(ft.lag.p99Ms)}, max ${fmtMs(ft.lag.maxMs)}, ` +
        `parallelism ${ft.cpu.parallelism.toFixed(2)}, wall ${fmtMs(ft.wallMs)}; with the GIL: p99 ${fmtMs(gil.lag.p99Ms)}, max ${fmtMs(gil.lag.maxMs)}, ` +
        `parallelism ${gil.cpu.parallelism.toFixed(2)}, wall ${fmtMs(gil.wallMs)}. ` +
        (better ? 'Without a GIL the threads run in parallel and the loop no longer queues behind them for it; the cores are still shared.' : 'The GIL was not what delayed the loop here (the work releases it, or the cores are saturated).'),
      fix: better ? Py.FREE_THREADED_NOTE : null,
      docs: DOCS.python.freeThreading,
    };
  }
  const kind = f.gilBehaviour?.kind;
  if (!gil || !f.report.runtime?.gilEnabled || (kind !== 'time-sliced' && kind !== 'native-hold')) return undefined;
  return {
    id: 'free-threaded',
    severity: 'info',
    mode: 'thread',
    title: 'A free-threaded interpreter would likely help here (not measured)',
    detail: `The GIL is what delays the loop in thread mode (${kind === 'time-sliced' ? 'pure-Python time-slicing' : 'a native call holding it'}). ` +
      'On a free-threaded CPython (3.13t/3.14t) the threads would run in parallel and the loop would not wait for a GIL; ' +
      'point looplag.python.freeThreadedPath (or --free-threaded) at one to measure it side by side.',
    fix: null,
    docs: DOCS.python.freeThreading,
  };
});

/** Native thread pools oversubscribing the cores: the numbers the rule and no-thread-speedup share. */
interface Oversubscription {
  slowdown: number;
  callParallelism: number;
  cpuInflation: number;
}

/** Python only, as both rules that ask. */
function oversubscription(f: Facts): Oversubscription | undefined {
  const t = f.ok('thread');
  const i = f.ok('inline');
  if (!t || !i || f.gilBehaviour?.kind !== 'released') return undefined;
  if (t.wallMs < T.MIN_MEASURABLE_WINDOW_MS || i.wallMs < T.MIN_MEASURABLE_WINDOW_MS) return undefined;
  const slowdown = t.wallMs / i.wallMs;
  const cpu = (r: ModeRun) => r.cpu.userMs + r.cpu.systemMs;
  const cpuInflation = cpu(t) / Math.max(1e-9, cpu(i));
  const callParallelism = i.cpu.parallelism;
  const ownThreads = callParallelism >= T.NATIVE_POOL_PARALLELISM || cpuInflation >= T.OVERSUBSCRIBED_CPU_INFLATION;
  const threads = (t.workers ?? 1) * Math.max(1, callParallelism);
  if (slowdown < T.THROUGHPUT_COLLAPSE_FACTOR || !ownThreads || threads <= f.cores) return undefined;
  return { slowdown, callParallelism, cpuInflation };
}

/**
 * `native-oversubscription`: the GIL was free, yet the same calls took far longer in
 * threads than one after another, and each call ran threads of its own (CPU/wall above
 * one core inline, or much more CPU in threads): pool threads × BLAS/OpenMP threads on
 * too few cores.
 */
export const nativeOversubscription = rule(['python'], (f) => {
  const o = oversubscription(f);
  const t = f.ok('thread');
  const i = f.ok('inline');
  if (!o || !t || !i) return undefined;
  const workers = t.workers ?? 1;
  return {
    id: 'native-oversubscription',
    severity: 'warning',
    mode: 'thread',
    title: `Calls ran ${o.slowdown.toFixed(1)}× slower in threads than inline: native thread pools oversubscribe the ${f.cores} cores`,
    detail: `${t.tasks.length} calls took ${fmtMs(t.wallMs)} in ${workers} threads and ${fmtMs(i.wallMs)} inline, one at a time. ` +
      `${f.gilBehaviour!.evidence} Inline one call kept ${o.callParallelism.toFixed(2)} cores busy (CPU/wall), and the threads used ` +
      `${o.cpuInflation.toFixed(1)}× the CPU time for the same calls: each call runs a native thread pool of its own ` +
      '(OpenBLAS, MKL or OpenMP, as numpy, scipy and many C extensions do), so ' +
      `${workers} pool threads each start about ${Math.max(1, Math.round(o.callParallelism))} native threads on ${f.cores} cores and they wait on each other. ` +
      'Limit the native pools to one thread per call (threadpoolctl, or OPENBLAS_NUM_THREADS / OMP_NUM_THREADS / MKL_NUM_THREADS set before numpy is imported), ' +
      'or run the calls one at a time and let the library use the cores.',
    fix: Py.ONE_NATIVE_THREAD,
    docs: DOCS.python.threadpoolctl,
  };
});
