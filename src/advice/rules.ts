/**
 * The advice engine: pure rules `(facts) → Advice | undefined`, each citing the numbers
 * it rests on. IDs are a contract (README lists each with its condition).
 */
import type { Advice, ModeRun, Report } from '../shared/protocol';
import { fmtBytes, fmtMs, fmtPct, fmtSpeedup } from '../shared/format';
import { allCallsRaised, callErrorOf, describeCallError } from '../stats/callErrors';
import { withinBudget } from './budget';
import * as T from './thresholds';
import * as Py from './snippets/python';
import * as Js from './snippets/node';
import { callSplit } from '../stats/plausibility';
import { MODES } from '../shared/modes';

/** What the rules read, computed once per report. */
export interface Facts {
  report: Report;
  language: 'python' | 'node';
  budgetMs: number;
  stallMs: number;
  switchMs: number;
  cores: number;
  planned: string;
  ok(mode: string): ModeRun | undefined;
  gilBehaviour: GilBehaviour | null;
}

/** How the target treats the GIL, from the one-thread diagnostic (or thread mode's GIL waits). */
export interface GilBehaviour {
  kind: 'native-hold' | 'time-sliced' | 'released';
  evidence: string;
}

type Rule = (f: Facts) => Advice | Advice[] | undefined;

const DOCS = {
  executor: 'https://docs.python.org/3/library/asyncio-eventloop.html#asyncio.loop.run_in_executor',
  processPool: 'https://docs.python.org/3/library/concurrent.futures.html#processpoolexecutor',
  switchInterval: 'https://docs.python.org/3/library/sys.html#sys.setswitchinterval',
  semaphore: 'https://docs.python.org/3/library/asyncio-sync.html#asyncio.Semaphore',
  freeThreading: 'https://docs.python.org/3/howto/free-threading-python.html',
  workers: 'https://nodejs.org/api/worker_threads.html',
  transfer: 'https://nodejs.org/api/worker_threads.html#portpostmessagevalue-transferlist',
  dontBlock: 'https://nodejs.org/en/learn/asynchronous-work/dont-block-the-event-loop',
  childProcess: 'https://nodejs.org/api/child_process.html#child_processforkmodulepath-args-options',
  threadpool: 'https://nodejs.org/api/cli.html#uv_threadpool_sizesize',
};


/** A lag finding is a problem only over the budget (withinBudget, the one rule); within it, a note. */
const lagSeverity = (r: ModeRun, f: Facts): Advice['severity'] => (withinBudget(r, f.budgetMs) ? 'info' : 'critical');
const times = (x: number | null) => (x === null ? '–' : `${x.toFixed(2)}×`);

function targetCall(r: Report): string {
  const t = r.target;
  return `${t.qualname ?? 'work'}(${t.args})`;
}

function fnName(r: Pick<Report, 'target'>): string {
  return r.target.qualname ?? 'work';
}

export { executorCall } from './snippets/python';

/** The target as the Python snippets need it: the module it was imported as (else its file's stem). */
export function pyTarget(r: Pick<Report, 'target'>): Py.PyTarget {
  const stem = r.target.file.split(/[\\/]/).pop()!.replace(/\.py$/, '');
  const module = r.target.module && !r.target.module.startsWith('_looplag_') ? r.target.module : stem;
  return { fn: fnName(r), args: r.target.args, isAsync: Boolean(r.target.isAsync), module, lines: r.target.qualname ? null : r.target.lines };
}

/** The target as the Node snippets need it: its file, module format and language. */
export function nodeTarget(r: Pick<Report, 'target'>): Js.NodeTarget {
  const file = r.target.file.split(/[\\/]/).pop()!;
  const format = r.target.moduleFormat ?? (/\.m[jt]s$/.test(file) ? 'esm' : 'cjs');
  return {
    fn: fnName(r), args: r.target.args, isAsync: Boolean(r.target.isAsync), file, moduleFormat: format, lines: r.target.qualname ? null : r.target.lines,
    language: r.target.language === 'typescript' ? 'typescript' : 'javascript',
  };
}

const PROCESS_POOL_FIX = (r: Report) => Py.processPoolApp(pyTarget(r));
const WORKER_POOL_FIX = (r: Report) => Js.workerPool(nodeTarget(r));

export const inlineBlocksLoop: Rule = (f) => {
  const r = f.ok('inline');
  if (!r || r.lag.maxMs < f.stallMs) return undefined;
  const calls = r.tasks.length;
  return {
    id: 'inline-blocks-loop',
    severity: lagSeverity(r, f),
    mode: 'inline',
    title: `Called on the event loop, ${calls} concurrent calls froze it for ${fmtMs(r.lag.maxMs)}`,
    detail: `Inline, the loop could not respond ${fmtPct(r.lag.stalledFrac)} of ${fmtMs(r.wallMs)}: the longest stall was ` +
      `${fmtMs(r.lag.maxMs)} (stall threshold ${fmtMs(f.stallMs)}, budget ${fmtMs(f.budgetMs)}), with ${r.lag.sampleCount} of ` +
      `${r.lag.expectedSampleCount} heartbeats. Any other request arriving then waited up to ${fmtMs(r.lag.maxMs)}` +
      (f.language === 'node' ? ` (event-loop utilization ${fmtPct(r.elu ?? 1)}).` : '.'),
    // Offload it: threads only for work that releases the GIL, else a process pool.
    fix: f.language === 'node'
      ? WORKER_POOL_FIX(f.report)
      : f.gilBehaviour?.kind === 'released' ? Py.threadHandler(pyTarget(f.report)) : PROCESS_POOL_FIX(f.report),
    docs: f.language === 'node' ? DOCS.dontBlock : DOCS.executor,
  };
};

export const asyncBlocksLoop: Rule = (f) => {
  const r = f.ok('inline');
  if (!f.report.target.isAsync || !r || r.lag.maxMs < f.stallMs) return undefined;
  const node = f.language === 'node';
  return {
    id: 'async-def-blocks-loop',
    severity: lagSeverity(r, f),
    mode: 'inline',
    title: node ? 'This async function does CPU work on the event loop' : 'This `async def` does CPU work on the event loop',
    detail: `${fnName(f.report)} is ${node ? 'an `async function`' : 'an `async def`'}, yet its calls blocked the loop for up to ` +
      `${fmtMs(r.lag.maxMs)} (task run p50 ${fmtMs(r.taskStats.runP50Ms)}): being async only helps while it awaits. ` +
      'The CPU-bound part runs between awaits, with the whole server waiting. The fix runs the whole call in a pool; ' +
      'better still, move only its CPU-bound part into a plain function and await that in the pool.',
    // The whole call off the loop (it runs to completion there); better still, only its CPU-bound part.
    fix: node ? WORKER_POOL_FIX(f.report) : PROCESS_POOL_FIX(f.report),
    docs: node ? DOCS.dontBlock : DOCS.executor,
  };
};

export const gilHeldNative: Rule = (f) => {
  const r = f.ok('thread');
  if (f.language !== 'python' || !r || f.gilBehaviour?.kind !== 'native-hold') return undefined;
  return {
    id: 'gil-held-native',
    severity: lagSeverity(r, f),
    mode: 'thread',
    title: 'Threads cannot help: a native call holds the GIL for its whole duration',
    detail: `${f.gilBehaviour.evidence} With ${r.workers ?? '?'} threads the loop was stalled ${fmtPct(r.lag.stalledFrac)} of the time ` +
      `(max lag ${fmtMs(r.lag.maxMs)}, ${r.lag.sampleCount} of ${r.lag.expectedSampleCount} heartbeats). Calls such as \`pow\` on big ` +
      'integers, `sorted` of a large list, `json.dumps`, or a regex engine do not release the GIL until they return. Use processes.',
    fix: PROCESS_POOL_FIX(f.report),
    docs: DOCS.processPool,
  };
};

export const gilContention: Rule = (f) => {
  const r = f.ok('thread');
  if (f.language !== 'python' || !r || f.gilBehaviour?.kind !== 'time-sliced') return undefined;
  return {
    id: 'gil-contention',
    severity: lagSeverity(r, f),
    mode: 'thread',
    title: `Pure-Python work: the loop waits for the GIL ~${fmtMs(f.switchMs)} per wake-up, longer with more threads`,
    detail: `${f.gilBehaviour.evidence} With ${r.workers ?? '?'} threads and ${r.tasks.length} concurrent calls, loop lag p50 ` +
      `${fmtMs(r.lag.p50Ms)}, p99 ${fmtMs(r.lag.p99Ms)}, max ${fmtMs(r.lag.maxMs)} (budget ${fmtMs(f.budgetMs)})` +
      (r.gilWait ? `; GIL wait p50 ${fmtMs(r.gilWait.p50Ms)}, p99 ${fmtMs(r.gilWait.p99Ms)}` : '') +
      '. Each runnable thread is another GIL competitor ahead of the loop: bound concurrency, use fewer workers, or processes.',
    fix: Py.boundedThreadHandler(pyTarget(f.report), 2),
    docs: DOCS.semaphore,
  };
};

export const gilReleased: Rule = (f) => {
  const r = f.ok('thread');
  if (f.language !== 'python' || !r || f.gilBehaviour?.kind !== 'released') return undefined;
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
    fix: responsive ? Py.threadHandler(pyTarget(f.report)) : Py.sizedThreadPool(pyTarget(f.report), Math.max(1, f.cores), 'as many threads as cores: more leave the loop waiting for one'),
    docs: DOCS.executor,
  };
};

export const noThreadSpeedup: Rule = (f) => {
  const t = f.ok('thread');
  const i = f.ok('inline');
  if (f.language !== 'python' || !t || !i || t.speedup === null || f.cores < 2 || (t.workers ?? 1) < 2) return undefined;
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
    fix: released ? null : PROCESS_POOL_FIX(f.report),
    docs: released ? DOCS.executor : DOCS.processPool,
  };
};

/** What moving data cost, per side, from the per-task transfer records (Node pools, Python process mode). */
interface Sides {
  argsMs: number;
  resultMs: number;
  argsBytes: number;
  resultBytes: number | null;
  argsKind: string | null;
  resultKind: string | null;
}

/** Per call: what moving the arguments and the result cost (both ends summed), and their sizes and kinds. */
function sidesOf(r: ModeRun): Sides | null {
  const t = r.transfer;
  const calls = r.tasks.length;
  if (!t || !calls) return null;
  return {
    argsMs: (t.argsMs ?? 0) / calls, resultMs: (t.resultMs ?? 0) / calls, argsBytes: t.argsBytesMean, resultBytes: t.resultBytesMean,
    argsKind: t.argsKind ?? null, resultKind: t.resultKind ?? null,
  };
}

/** The side that costs: one side at least twice the other, else both. */
function costlySide(s: Sides): 'arguments' | 'result' | 'both' {
  if (s.argsMs >= T.SIDE_DOMINANCE * s.resultMs) return 'arguments';
  if (s.resultMs >= T.SIDE_DOMINANCE * s.argsMs) return 'result';
  return 'both';
}

const KIND_WORDS: Record<string, string> = {
  none: 'nothing', primitive: 'numbers or booleans', string: 'a string', 'typed-array': 'a typed array', arraybuffer: 'an ArrayBuffer',
  'number-array': 'an array of numbers', 'plain-objects': 'plain objects/arrays', instance: 'a class instance', mixed: 'values of several kinds',
};

function sideText(s: Sides, side: 'arguments' | 'result' | 'both', language: Facts['language']): string {
  const args = `the arguments (${fmtBytes(s.argsBytes)}${s.argsKind ? `, ${KIND_WORDS[s.argsKind] ?? s.argsKind}` : ''}) cost ${fmtMs(s.argsMs)} per call`;
  const result = `the result (${fmtBytes(s.resultBytes)}${s.resultKind ? `, ${KIND_WORDS[s.resultKind] ?? s.resultKind}` : ''}) cost ${fmtMs(s.resultMs)} per call`;
  const verb = language === 'python' ? 'pickling' : 'serializing';
  if (side === 'arguments') return `${verb} the arguments is what costs: ${args}, ${result}`;
  if (side === 'result') return `sending the result back is what costs: ${result}, ${args}`;
  return `both sides cost: ${args}, ${result}`;
}

/** Median idle gap on a worker between a call's end and its next call's start, when that call was already waiting. */
function dispatchGapMs(r: ModeRun): number | null {
  const byWorker = new Map<string, ModeRun['tasks']>();
  for (const t of r.tasks) {
    if (t.startMs === null || t.endMs === null || t.worker === null) continue;
    byWorker.set(t.worker, [...(byWorker.get(t.worker) ?? []), t]);
  }
  const gaps: number[] = [];
  for (const list of byWorker.values()) {
    list.sort((a, b) => a.startMs! - b.startMs!);
    for (let i = 1; i < list.length; i++) {
      const gap = list[i].startMs! - list[i - 1].endMs!;
      // Overlapping calls on one worker name are not one worker's sequence: no gap to read.
      if (list[i].queuedMs <= list[i - 1].endMs! && gap >= 0) gaps.push(gap);
    }
  }
  if (gaps.length < T.MIN_DISPATCH_GAPS) return null;
  gaps.sort((a, b) => a - b);
  return gaps[Math.floor((gaps.length - 1) / 2)];
}

/**
 * Judged per call, as a server pays it: how long one call holds a worker (wall × busy
 * workers / calls) beyond its own run, against the call inline. Start-up is paid once
 * and said apart (pool-startup).
 */
export const processOverhead: Rule = (f) => {
  const out: Advice[] = [];
  const inline = f.ok('inline');
  for (const mode of ['process', 'interpreter']) {
    const r = f.ok(mode);
    if (!r || !r.tasks.length || !r.workers) continue;
    const busyMs = (r.wallMs * Math.min(r.workers, r.tasks.length)) / r.tasks.length;
    const runMs = r.taskStats.okCount ? r.taskStats.runSumMs / r.taskStats.okCount : r.taskStats.runP50Ms ?? 0;
    // The idle gap a worker had between two calls while the next one waited: the round
    // trip of a result and the next call. Without enough gaps: wall share minus run time.
    const gap = dispatchGapMs(r);
    const overheadMs = gap ?? busyMs - runMs;
    const inlineMs = inline && inline.tasks.length ? inline.wallMs / inline.tasks.length : null;
    const costly = overheadMs >= T.PER_CALL_OVERHEAD_MIN_MS && overheadMs >= T.PER_CALL_OVERHEAD_SHARE * (inlineMs ?? runMs);
    const stalls = r.lag.stallCount > 0;
    if (!costly && !stalls) continue;
    const sides = sidesOf(r);
    const side = sides ? costlySide(sides) : null;
    const what = mode === 'process' ? 'process' : 'interpreter';
    const parts = [`Each call held a ${what} for ${fmtMs(busyMs)}, of which its own run was ${fmtMs(runMs)} (median): about ${fmtMs(Math.max(0, overheadMs))} per call went to ` +
      `sending the call and its data (${gap !== null ? 'the median gap a worker waited between two calls' : 'wall time per call beyond the run'})${inlineMs !== null ? `, against ${fmtMs(inlineMs)} per call inline` : ''}`];
    if (sides && side) parts.push(sideText(sides, side, f.language));
    else if (f.language === 'python') {
      parts.push(f.report.target.args.trim()
        ? 'the parent pickles the arguments and unpickles the result, both holding the GIL'
        : 'no arguments were sent, so the cost is pickling the result back (and the dispatch itself)');
    }
    if (stalls) parts.push(`the loop stalled ${r.lag.stallCount} time(s), up to ${fmtMs(r.lag.maxMs)}: that work runs in the parent, next to the loop`);
    out.push({
      id: 'process-overhead',
      severity: 'warning',
      mode,
      title: stalls
        ? `The ${what} pool moved the work, but sending it still blocks the loop`
        : `Per call, the ${what} pool costs ${fmtMs(overheadMs)} on top of the work${inlineMs !== null ? ` (${fmtMs(inlineMs)} inline)` : ''}`,
      detail: parts.join('; ') + '. ' + (side === 'result'
        ? 'Return less (a summary, an id, or write the data where the caller reads it).'
        : side === 'arguments' ? 'Send less (a path or an id, and load the data in the worker).' : 'Send and return less per call, or batch several calls into one.'),
      fix: f.language === 'node' ? WORKER_POOL_FIX(f.report) : PROCESS_POOL_FIX(f.report),
      docs: f.language === 'node' ? DOCS.workers : DOCS.processPool,
    });
  }
  return out;
};

const POOLS_WITH_STARTUP = new Set(['process', 'interpreter', 'worker']);

/** Start-up is paid once, at boot: worth saying (so the pool is created once), never a fault. */
export const poolStartup: Rule = (f) => {
  const out: Advice[] = [];
  for (const r of f.report.runs) {
    // Threads start in microseconds; what their start-up shows is scheduling, not a cost to plan for.
    if (r.status !== 'ok' || !POOLS_WITH_STARTUP.has(r.mode) || r.startupMs === null) continue;
    const notable = r.startupMs >= T.STARTUP_NOTABLE_MS || (r.startupMs >= T.STARTUP_MIN_MS && r.startupMs >= T.STARTUP_SHARE * r.wallMs);
    if (!notable) continue;
    const perCall = r.tasks.length ? r.wallMs / r.tasks.length : null;
    out.push({
      id: 'pool-startup',
      severity: 'info',
      mode: r.mode,
      title: `Starting the ${r.workers ?? ''} ${r.mode === 'process' ? 'processes' : r.mode === 'interpreter' ? 'interpreters' : r.mode === 'worker' ? 'workers' : 'threads'} took ${fmtMs(r.startupMs)}: create the pool once, at start-up`.replace('the  ', 'the '),
      detail: `A server pays this once, not per request${perCall !== null ? ` (the calls then took ${fmtMs(perCall)} each on average)` : ''}: create the pool at start-up and reuse it, never per request.`,
      fix: null,
      docs: f.language === 'node' ? DOCS.workers : DOCS.processPool,
    });
  }
  return out;
};

export const queueing: Rule = (f) => {
  const out: Advice[] = [];
  for (const r of f.report.runs) {
    if (r.status !== 'ok' || r.mode === 'inline' || r.workers === null) continue;
    const q = r.taskStats.queueMaxMs;
    if (r.tasks.length <= r.workers || q === null || q < T.QUEUE_NOTABLE_MS) continue;
    out.push({
      id: 'queueing',
      // Latency for the caller, not lag for the loop: never what a mode's verdict should say.
      severity: 'info',
      mode: r.mode,
      title: `${r.tasks.length} calls on ${r.workers} ${MODES[r.mode].members}: calls waited up to ${fmtMs(q)} in the queue`,
      detail: `In ${r.mode} mode the queue wait (queued → started) was p50 ${fmtMs(r.taskStats.queueP50Ms)}, max ${fmtMs(q)}, next to a run time p50 of ` +
        `${fmtMs(r.taskStats.runP50Ms)}. More concurrent calls than workers is latency, not lag: the loop stays free, the caller waits. ` +
        'Size the pool to the cores for CPU-bound work and bound concurrency upstream if the wait matters.',
      fix: null,
      docs: f.language === 'node' ? DOCS.workers : DOCS.executor,
    });
  }
  return out;
};

export const freeThreaded: Rule = (f) => {
  if (f.language !== 'python') return undefined;
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
      docs: DOCS.freeThreading,
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
    docs: DOCS.freeThreading,
  };
};

export const workerRecommended: Rule = (f) => {
  if (f.language !== 'node') return undefined;
  const i = f.ok('inline');
  const w = f.ok('worker');
  if (!i || !w || i.lag.maxMs < f.stallMs || !withinBudget(w, f.budgetMs)) return undefined;
  return {
    id: 'worker-recommended',
    severity: withinBudget(i, f.budgetMs) ? 'info' : 'warning',
    mode: 'worker',
    title: `Move it to a worker_threads pool: the loop stays responsive (p99 ${fmtMs(w.lag.p99Ms)})`,
    detail: `On the main thread the loop stalled up to ${fmtMs(i.lag.maxMs)} (ELU ${fmtPct(i.elu ?? 1)}); in ${w.workers} worker threads the loop's ` +
      `lag was p99 ${fmtMs(w.lag.p99Ms)}, max ${fmtMs(w.lag.maxMs)} (ELU ${fmtPct(w.elu ?? 0)}), ${fmtSpeedup(w)} the inline throughput. ` +
      `Starting the pool took ${fmtMs(w.startupMs)}: create it once at start-up.`,
    fix: WORKER_POOL_FIX(f.report),
    docs: DOCS.workers,
  };
};

/** Kinds a transfer list can move without a copy. */
const TRANSFERABLE = new Set(['typed-array', 'arraybuffer']);

/** The fix for the side that costs, for what that side is made of. */
function transferFix(f: Facts, mode: string, side: 'arguments' | 'result' | 'both', s: Sides): string {
  const kinds = side === 'arguments' ? [s.argsKind] : side === 'result' ? [s.resultKind] : [s.argsKind, s.resultKind];
  if (kinds.every((k) => k !== null && TRANSFERABLE.has(k))) return Js.workerPool(nodeTarget(f.report), { transfer: true });
  const lines: string[] = [];
  for (const [name, kind] of [['arguments', s.argsKind], ['result', s.resultKind]] as const) {
    if (side !== 'both' && side !== name) continue;
    const what = kind ? KIND_WORDS[kind] ?? kind : 'data';
    if (kind === 'number-array') lines.push(`The ${name} is an array of numbers: send a Float64Array and transfer its buffer (no copy) instead.`);
    else if (kind && TRANSFERABLE.has(kind)) lines.push(`The ${name} is ${what}: put its buffer in the transfer list (postMessage(value, [buffer])) so it moves without a copy.`);
    else if (name === 'arguments') lines.push(`The arguments are ${what}: structured clone copies them on every call (transfer lists move only ArrayBuffers). Send an id or a path and let the worker load the data, or build it there.`);
    else lines.push(`The result is ${what}: structured clone copies it back on every call. Return only what the caller needs (a summary, an id), or write it where the caller reads it.`);
  }
  if (mode === 'process') lines.push('Child processes copy everything; worker_threads can move ArrayBuffers without a copy.');
  return Js.note(lines);
}

export const transferOverhead: Rule = (f) => {
  if (f.language !== 'node') return undefined;
  const out: Advice[] = [];
  for (const mode of ['worker', 'process']) {
    const r = f.ok(mode);
    if (!r?.transfer || !r.tasks.length) continue;
    const perCall = r.transfer.loopMs / r.tasks.length;
    if (r.transfer.loopMs < T.TRANSFER_MIN_LOOP_MS) continue;
    if (r.transfer.loopMs < T.TRANSFER_LOOP_SHARE * r.wallMs && perCall < T.TRANSFER_PER_CALL_MS) continue;
    const sides = sidesOf(r);
    const side = sides && (r.transfer.argsMs !== undefined) ? costlySide(sides) : 'both';
    const where = mode === 'worker' ? 'workers' : 'child processes';
    const moving = side === 'arguments' ? `Copying the arguments to the ${where}` : side === 'result' ? `Copying the results back from the ${where}` : `Copying data to and from the ${where}`;
    out.push({
      id: 'transfer-overhead',
      severity: perCall >= f.stallMs ? 'critical' : 'warning',
      mode,
      title: `${moving} costs the loop ${fmtMs(perCall)} per call`,
      detail: (sides && r.transfer.argsMs !== undefined ? `${cap(sideText(sides, side, f.language))}. ` : '') +
        `Serializing arguments (${fmtBytes(r.transfer.argsBytesMean)} per call) and deserializing results (${fmtBytes(r.transfer.resultBytesMean)}) took ` +
        `${fmtMs(r.transfer.loopMs)} on the event loop over ${r.tasks.length} calls (${fmtPct(r.transfer.loopMs / Math.max(1e-9, r.wallMs))} of the ${fmtMs(r.wallMs)} window), ` +
        `plus ${fmtMs(r.transfer.workerMs)} on the ${mode === 'worker' ? 'workers' : 'children'}. Structured clone copies everything it sends.`,
      fix: sides ? transferFix(f, mode, side, sides) : Js.note(['Send a path or an id, not the payload; return only what the caller needs.']),
      docs: DOCS.transfer,
    });
  }
  return out;
};

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * A run whose calls split into a few slow first calls and near-instant others (or
 * whose warm-up call dwarfed them) measured cache hits, not the work: its lag and
 * throughput say little about a call that misses.
 */
export const cachedCalls: Rule = (f) => {
  const ok = f.report.runs.filter((r) => r.status === 'ok');
  // The evidence: a split inside a window, or a warm-up call that dwarfed the measured ones.
  const evidence = new Map<string, { text: string; missMs: number; cache: boolean }>();
  for (const r of ok) {
    const split = callSplit(r);
    const median = r.taskStats.runP50Ms;
    if (split) {
      evidence.set(r.mode, {
        text: split.slowCount === 1
          ? `the first of ${split.callCount} calls took ${fmtMs(split.slowMs[0])}; the other calls took ${fmtMs(split.medianMs)} (median)`
          : `${split.slowCount} of ${split.callCount} calls took ${split.slowMs.map(fmtMs).join(', ')}, each the first on its worker; the other calls took ${fmtMs(split.medianMs)} (median)`,
        missMs: Math.min(...split.slowMs),
        cache: true,
      });
      continue;
    }
    const warm = (r.warmupMs ?? []).filter((w) => median !== null && w >= T.CACHE_WARMUP_SPLIT * median && w >= T.CACHE_MISS_MIN_MS);
    if (warm.length) {
      // A slow warm-up alone is a cache only when the measured calls do next to nothing;
      // otherwise it is a one-time cost (imports, JIT) that warm-up rightly kept out.
      evidence.set(r.mode, {
        text: `the unmeasured warm-up call${warm.length > 1 ? 's' : ''} took ${warm.map(fmtMs).join(', ')}, the measured calls ${fmtMs(median)} (median)`,
        missMs: Math.min(...warm),
        cache: median !== null && median < T.CACHE_HIT_MAX_MS && Math.min(...warm) >= T.CACHE_WARMUP_MISS_MIN_MS,
      });
    }
  }
  if (!evidence.size) return undefined;
  const miss = Math.min(...[...evidence.values()].map((e) => e.missMs));
  const [firstMode, first] = [...evidence.entries()][0];
  const out: Advice[] = [];
  for (const r of ok) {
    const own = evidence.get(r.mode);
    // A mode without a split of its own whose calls are as fast as the hits elsewhere measured hits too
    // (a cache warmed by an earlier mode in the same process, or inherited by forked workers).
    const median = r.taskStats.runP50Ms;
    const hitsToo = !own && median !== null && median * T.CACHE_SPLIT <= miss;
    if (!own && !hitsToo) continue;
    const text = own ? own.text : `its calls took ${fmtMs(median)} (median), as fast as the hits in ${firstMode} mode, where ${first.text}`;
    if (!(own ?? first).cache) {
      out.push({
        id: 'cached-calls',
        severity: 'info',
        mode: r.mode,
        title: `In ${r.mode} mode the first call paid a one-time cost the measured calls did not`,
        detail: `${cap(text)}: at least ${T.CACHE_WARMUP_SPLIT}× apart. Usually a one-time cost (a lazy import, JIT, a key or connection set up once), which the ` +
          'warm-up call keeps out of the window as a running server would. If a cache (functools.lru_cache, a memo object) answered the measured calls instead, ' +
          'measure a miss: pass arguments that miss it, or run with --no-warmup to see the first call.',
        fix: null,
        docs: null,
      });
      continue;
    }
    out.push({
      id: 'cached-calls',
      severity: 'warning',
      mode: r.mode,
      title: `In ${r.mode} mode the calls measured look like cache hits, not the work`,
      detail: `${cap(text)}: at least ${T.CACHE_SPLIT}× apart. A cache (functools.lru_cache, a memo object) or a one-time cost answered most calls, so this run's lag and ` +
        'throughput describe a hit. Measure a miss: pass arguments that miss the cache, clear it in the call, or measure the uncached function.',
      fix: null,
      docs: null,
    });
  }
  return out;
};

/** Figures the report marks as more than the cores can give (ModeRun.suspect): said, never built on. */
export const implausibleFigures: Rule = (f) => f.report.runs.flatMap((r) => (r.suspect ?? []).map((s): Advice => ({
  id: 'implausible-speedup',
  severity: 'info',
  mode: r.mode,
  title: s.field === 'speedup' ? `The ${r.mode} speedup (${times(r.speedup)}) is not real parallelism` : `The ${r.mode} CPU/wall (${r.cpu.parallelism.toFixed(2)}) is more than the cores can give`,
  detail: `${cap(s.reason)}. Rerun with warm-up on (the default) or check for a cache before reading it as a speedup.`,
  fix: null,
  docs: null,
})));

export const measurementUntrustworthy: Rule = (f) => {
  const q = f.report.quality;
  if (q.trustworthy) return undefined;
  return {
    id: 'measurement-untrustworthy',
    severity: 'warning',
    mode: null,
    title: 'The machine was too busy during the run: rerun before acting on these numbers',
    detail: `Other processes used up to ${fmtPct(q.backgroundCpuFrac ?? 0)} of the machine's CPU during a window (the line is 25%): ` +
      'lag and wall times are inflated by waiting for a core, not by your code alone.',
    fix: null,
    docs: null,
  };
};

/**
 * `calls-raised`: the measured calls raised, so the window timed the error path. One item
 * per mode, critical when every call raised, a warning when some did; it names the first
 * exception and the innermost line of the user's code it came from.
 */
export const callsRaised: Rule = (f) => {
  const out: Advice[] = [];
  for (const r of f.report.runs) {
    const e = callErrorOf(r, f.report.target);
    if (!e) continue;
    const all = allCallsRaised(r);
    const node = f.language === 'node';
    out.push({
      id: 'calls-raised',
      severity: all ? 'critical' : 'warning',
      mode: r.mode,
      title: all
        ? `Every call raised ${e.type} in ${r.mode} mode: what was measured is the error path`
        : `${e.raised} of ${e.calls} calls raised ${e.type} in ${r.mode} mode`,
      detail: `The first exception: ${describeCallError(e)}. ` +
        (all
          ? 'No call did the work, so the lag and timings of this mode are those of raising: do not read them as the function\'s. '
          : `The ${e.calls - e.raised} calls that returned and the ${e.raised} that raised are timed together. `) +
        `Check the arguments (${f.report.target.args ? `\`${f.report.target.args}\`` : 'none were given'})` +
        (node ? ', whether the function needs `this` (call it through its object in a snippet)' : ', names the code expects from an enclosing function (a snippet sees module globals only)') +
        ', and imports inside the call; the traceback is in the report\'s tasks.',
      fix: null,
      docs: null,
    });
  }
  return out;
};

/**
 * Calls that never finished: cut by --call-timeout, --timeout or a cancel, or lost with a
 * pool member or sidecar that died. The mode's figures stop at the cut, so they say
 * nothing about the calls' whole run: no verdict on the mode, whatever its lag so far.
 */
export const callsUnfinished: Rule = (f) => {
  const out: Advice[] = [];
  for (const r of f.report.runs) {
    const unfinished = r.taskStats.unfinishedCount ?? 0;
    const crashed = r.taskStats.crashedCount ?? 0;
    if (!unfinished && !crashed) continue;
    const counts = [unfinished ? `${unfinished} unfinished` : '', crashed ? `${crashed} lost in a crash` : ''].filter(Boolean).join(', ');
    out.push({
      id: 'calls-unfinished',
      severity: 'critical',
      mode: r.mode,
      title: `${counts} of ${r.tasks.length} calls in ${r.mode} mode: the window was cut at ${fmtMs(r.wallMs)}`,
      detail: `${r.error?.message ?? 'The window ended before its calls did'}. What this mode measured stops at the cut ` +
        `(lag max so far ${r.lag.sampleCount ? fmtMs(r.lag.maxMs) : 'unknown: no samples'}): an unfinished call is not a verdict. ` +
        (crashed
          ? 'A call that kills its process (os._exit, process.exit, a native crash) takes the calls running beside it along.'
          : 'A call that never ends (a promise that never settles, an await on nothing, an endless loop) holds its worker for good; ' +
            'raise --call-timeout if the calls are only slow.'),
      fix: null,
      docs: null,
    });
  }
  return out;
};

/**
 * The target fills libuv's threadpool (crypto.pbkdf2/scrypt, zlib, bcrypt, argon2, sharp,
 * fs…): the loop stays free, yet every other user of the pool in the process queues
 * behind it. Read from the threadpool probe's waits next to the loop's own lag, with
 * the per-call slowdown against one call alone (the warm-up call) as a second witness.
 */
export const libuvThreadpoolSaturated: Rule = (f) => {
  if (f.language !== 'node') return undefined;
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
      fix: THREADPOOL_FIX(f.report),
      docs: DOCS.threadpool,
    });
  }
  return out;
};

/** Native thread pools oversubscribing the cores: the numbers the rule and no-thread-speedup share. */
interface Oversubscription {
  slowdown: number;
  callParallelism: number;
  cpuInflation: number;
}

function oversubscription(f: Facts): Oversubscription | undefined {
  const t = f.ok('thread');
  const i = f.ok('inline');
  if (f.language !== 'python' || !t || !i || f.gilBehaviour?.kind !== 'released') return undefined;
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
export const nativeOversubscription: Rule = (f) => {
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
    fix: `# before numpy (or anything using BLAS/OpenMP) is imported, e.g. at the top of the entry module:
import os
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

# or once at start-up, before the pool runs calls (pip install threadpoolctl); the limit is process-wide:
from threadpoolctl import threadpool_limits
threadpool_limits(limits=1)`,
    docs: 'https://github.com/joblib/threadpoolctl',
  };
};
const THREADPOOL_FIX = (r: Report) => `# Size the pool before Node starts (it is created on first use and never resized:
# setting process.env.UV_THREADPOOL_SIZE in code is too late once anything used it)
UV_THREADPOOL_SIZE=16 node server.js

// and/or bound the calls in flight so other fs/dns/crypto work still gets a thread
function limit(n) {
  let active = 0;
  const waiting = [];
  const next = () => {
    if (active >= n || !waiting.length) return;
    active++;
    const { fn, resolve, reject } = waiting.shift();
    Promise.resolve().then(fn).then(resolve, reject).finally(() => { active--; next(); });
  };
  return (fn) => new Promise((resolve, reject) => { waiting.push({ fn, resolve, reject }); next(); });
}
const threadpoolSlots = limit(2); // fewer than UV_THREADPOOL_SIZE (p-limit does the same)
async function handler() {
  return threadpoolSlots(() => ${targetCall(r)});
}`;

/** Nothing to fix in the planned mode: said only when no other advice for it is a warning or worse. */
export function healthy(f: Facts, advice: Advice[]): Advice | undefined {
  const r = f.ok(f.planned);
  if (!r || !withinBudget(r, f.budgetMs) || r.taskStats.errorCount > 0) return undefined;
  if (advice.some((a) => (a.mode === f.planned || !a.mode) && (a.severity === 'critical' || a.severity === 'warning'))) return undefined;
  return {
    id: 'healthy',
    severity: 'ok',
    mode: f.planned,
    title: `Nothing to fix in ${f.planned} mode: the loop stays responsive`,
    detail: `${r.tasks.length} concurrent calls of ${targetCall(f.report)} in ${f.planned} mode: lag p99 ${fmtMs(r.lag.p99Ms)}, max ${fmtMs(r.lag.maxMs)} ` +
      `(budget ${fmtMs(f.budgetMs)}), ${r.lag.stallCount ? `${r.lag.stallCount} stall(s) over ${fmtMs(f.stallMs)}, all within budget` : `no stall over ${fmtMs(f.stallMs)}`}` + (r.elu !== undefined && r.elu !== null ? `, loop busy ${fmtPct(r.elu)} of the time` : '') + '.',
    fix: null,
    docs: null,
  };
}

export const RULES: Rule[] = [
  measurementUntrustworthy, inlineBlocksLoop, asyncBlocksLoop, gilHeldNative, gilContention, gilReleased,
  noThreadSpeedup, processOverhead, queueing, freeThreaded, workerRecommended, transferOverhead,
  callsRaised, nativeOversubscription,
  libuvThreadpoolSaturated, callsUnfinished,
  poolStartup, cachedCalls, implausibleFigures,
];
