/**
 * The advice engine: pure rules `(facts) → Advice | undefined`, each citing the numbers
 * it rests on. IDs are a contract (README lists each with its condition).
 */
import type { Advice, ModeRun, Report } from '../shared/protocol';
import { fmtMs } from '../report/textTable';
import { allCallsRaised, callErrorOf, describeCallError } from '../report/callErrors';
import { withinBudget } from '../report/verdict';
import * as T from './thresholds';

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

const pct = (x: number) => `${Math.round(x * 100)}%`;

/** A lag finding is a problem only over the budget (withinBudget, the one rule); within it, a note. */
const lagSeverity = (r: ModeRun, f: Facts): Advice['severity'] => (withinBudget(r, f.budgetMs) ? 'info' : 'critical');
const times = (x: number | null) => (x === null ? '–' : `${x.toFixed(2)}×`);

function targetCall(r: Report): string {
  const t = r.target;
  return `${t.qualname ?? 'work'}(${t.args})`;
}

function fnName(r: Report): string {
  return r.target.qualname ?? 'work';
}

/**
 * `fn, args` for `run_in_executor(pool, …)`, which passes positional arguments only:
 * keyword arguments need `functools.partial`.
 */
export function executorCall(fn: string, args: string): string {
  if (!args.trim()) return fn;
  return /(^|[,(\s])[A-Za-z_]\w*\s*=(?!=)/.test(args) ? `functools.partial(${fn}, ${args})` : `${fn}, ${args}`;
}

const PROCESS_POOL_FIX = (r: Report) => `from concurrent.futures import ProcessPoolExecutor
from contextlib import asynccontextmanager
import asyncio

@asynccontextmanager
async def lifespan(app):
    # Created once and reused: start-up is paid at boot, not per request.
    app.state.pool = ProcessPoolExecutor()
    yield
    app.state.pool.shutdown()

app = FastAPI(lifespan=lifespan)

@app.get("/work")
async def endpoint(request: Request):
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(request.app.state.pool, ${executorCall(fnName(r), r.target.args)})`;

const WORKER_POOL_FIX = (r: Report) => `// worker.js: runs ${fnName(r)} off the main thread
const { parentPort } = require('node:worker_threads');
const { ${fnName(r).split('.')[0]} } = require('./your-module');
parentPort.on('message', ({ id, args }) => parentPort.postMessage({ id, result: ${fnName(r)}(...args) }));

// main: a fixed pool created once at start-up (or use a library such as piscina)
const { Worker } = require('node:worker_threads');
const os = require('node:os');
const pool = Array.from({ length: os.availableParallelism() }, () => new Worker('./worker.js'));`;

export const inlineBlocksLoop: Rule = (f) => {
  const r = f.ok('inline');
  if (!r || r.lag.maxMs < f.stallMs) return undefined;
  const calls = r.tasks.length;
  return {
    id: 'inline-blocks-loop',
    severity: lagSeverity(r, f),
    mode: 'inline',
    title: `Called on the event loop, ${calls} concurrent calls froze it for ${fmtMs(r.lag.maxMs)}`,
    detail: `Inline, the loop could not respond ${pct(r.lag.stalledFrac)} of ${fmtMs(r.wallMs)}: the longest stall was ` +
      `${fmtMs(r.lag.maxMs)} (stall threshold ${fmtMs(f.stallMs)}, budget ${fmtMs(f.budgetMs)}), with ${r.lag.sampleCount} of ` +
      `${r.lag.expectedSampleCount} heartbeats. Any other request arriving then waited up to ${fmtMs(r.lag.maxMs)}` +
      (f.language === 'node' ? ` (event-loop utilization ${pct(r.elu ?? 1)}).` : '.'),
    fix: f.language === 'node'
      ? WORKER_POOL_FIX(f.report)
      : `# Offload it: a process pool for CPU-bound work (threads only if it releases the GIL)\nresult = await loop.run_in_executor(pool, ${executorCall(fnName(f.report), f.report.target.args)})`,
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
      'The CPU-bound part runs between awaits, with the whole server waiting.',
    fix: node
      ? '// Keep the async shell, move the CPU part to a worker pool:\nconst result = await pool.run(args); // e.g. piscina, or a worker_threads pool created once'
      : `async def handler(...):\n    loop = asyncio.get_running_loop()\n    # the CPU-bound part, off the loop (a process pool created once for pure Python or GIL-holding calls)\n    return await loop.run_in_executor(pool, cpu_part, ...)`,
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
    detail: `${f.gilBehaviour.evidence} With ${r.workers ?? '?'} threads the loop was stalled ${pct(r.lag.stalledFrac)} of the time ` +
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
    fix: `sem = asyncio.Semaphore(2)  # at most 2 of these at a time compete with the loop\n\nasync def endpoint(...):\n    async with sem:\n        return await loop.run_in_executor(None, ${executorCall(fnName(f.report), f.report.target.args)})\n\n# or, for real parallelism and a free loop: a ProcessPoolExecutor created once (see process-overhead)`,
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
      (r.speedup !== null ? `, ${times(r.speedup)} the inline throughput` : '') + '.' +
      (oversubscribed ? ` ${workers} busy threads on ${f.cores} cores leave the loop thread waiting for a core: use at most ${f.cores} workers.` : ''),
    fix: responsive ? `result = await asyncio.to_thread(${fnName(f.report)}, ${f.report.target.args || '...'})` : `pool = ThreadPoolExecutor(max_workers=${Math.max(1, f.cores)})`,
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
          : `the calls wait on something of their own (a lock, I/O, memory bandwidth), or other processes took the cores (background CPU ${pct(t.backgroundCpuFrac ?? 0)} of the machine).`)
      : `${measured} The GIL lets one thread run Python at a time.` +
        (f.ok('process')?.speedup ? ` The process pool reached ${times(f.ok('process')!.speedup)}.` : ''),
    fix: released ? null : PROCESS_POOL_FIX(f.report),
    docs: released ? DOCS.executor : DOCS.processPool,
  };
};

export const processOverhead: Rule = (f) => {
  const out: Advice[] = [];
  for (const mode of ['process', 'interpreter']) {
    const r = f.ok(mode);
    if (!r || r.startupMs === null) continue;
    const inline = f.ok('inline');
    const startupHeavy = r.startupMs >= T.STARTUP_SHARE * r.wallMs;
    const slower = inline !== undefined && r.speedup !== null && r.speedup < 1;
    const stalls = r.lag.stallCount > 0;
    if (!startupHeavy && !slower && !stalls) continue;
    const perCall = r.workers && r.tasks.length ? (r.wallMs * Math.min(r.workers, r.tasks.length)) / r.tasks.length - (r.taskStats.runP50Ms ?? 0) : null;
    const parts = [`Starting ${r.workers} ${mode === 'process' ? 'processes' : 'interpreters'} took ${fmtMs(r.startupMs)}, ${r.startupMs >= r.wallMs ? 'more than' : `${pct(r.startupMs / Math.max(1e-9, r.wallMs))} of`} the ${fmtMs(r.wallMs)} the ${r.tasks.length} calls took`];
    if (perCall !== null && perCall > 0) parts.push(`each call paid about ${fmtMs(perCall)} beyond its own ${fmtMs(r.taskStats.runP50Ms)} run time (sending the call, arguments and result)`);
    if (slower) parts.push(`so the pool was slower than inline (${times(r.speedup)})`);
    if (stalls) parts.push(`and the loop still stalled ${r.lag.stallCount} time(s), up to ${fmtMs(r.lag.maxMs)}: the parent ${f.language === 'python' ? 'pickles' : 'serializes'} arguments on the loop, so large arguments block it`);
    out.push({
      id: 'process-overhead',
      severity: stalls || slower ? 'warning' : 'info',
      mode,
      title: stalls ? 'The process pool moved the work, but sending it still blocks the loop' : 'Process start-up and per-call transfer are a real cost: create the pool once',
      detail: parts.join('; ') + '. Create the pool once at start-up and reuse it; send small arguments (a path or an id, not the data).',
      fix: f.language === 'node' ? "const { fork } = require('node:child_process');\n// fork the workers once at start-up and keep them; send ids, not payloads" : PROCESS_POOL_FIX(f.report),
      docs: f.language === 'node' ? DOCS.childProcess : DOCS.processPool,
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
      title: `${r.tasks.length} calls on ${r.workers} ${r.mode === 'thread' || r.mode === 'free-threaded' ? 'threads' : r.mode === 'process' ? 'processes' : 'workers'}: calls waited up to ${fmtMs(q)} in the queue`,
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
      fix: better ? '# Deploy on a free-threaded build (python3.13t / 3.14t) and check your C extensions support it' : null,
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
    detail: `On the main thread the loop stalled up to ${fmtMs(i.lag.maxMs)} (ELU ${pct(i.elu ?? 1)}); in ${w.workers} worker threads the loop's ` +
      `lag was p99 ${fmtMs(w.lag.p99Ms)}, max ${fmtMs(w.lag.maxMs)} (ELU ${pct(w.elu ?? 0)}), ${times(w.speedup)} the inline throughput. ` +
      `Starting the pool took ${fmtMs(w.startupMs)}: create it once at start-up.`,
    fix: WORKER_POOL_FIX(f.report),
    docs: DOCS.workers,
  };
};

export const transferOverhead: Rule = (f) => {
  if (f.language !== 'node') return undefined;
  const out: Advice[] = [];
  for (const mode of ['worker', 'process']) {
    const r = f.ok(mode);
    if (!r?.transfer || !r.tasks.length) continue;
    const perCall = r.transfer.loopMs / r.tasks.length;
    if (r.transfer.loopMs < T.TRANSFER_MIN_LOOP_MS) continue;
    if (r.transfer.loopMs < T.TRANSFER_LOOP_SHARE * r.wallMs && perCall < T.TRANSFER_PER_CALL_MS) continue;
    out.push({
      id: 'transfer-overhead',
      severity: perCall >= f.stallMs ? 'critical' : 'warning',
      mode,
      title: `Copying data to and from the ${mode === 'worker' ? 'workers' : 'child processes'} costs the loop ${fmtMs(perCall)} per call`,
      detail: `Serializing arguments (${bytes(r.transfer.argsBytesMean)} per call) and deserializing results (${bytes(r.transfer.resultBytesMean)}) took ` +
        `${fmtMs(r.transfer.loopMs)} on the event loop over ${r.tasks.length} calls (${pct(r.transfer.loopMs / Math.max(1e-9, r.wallMs))} of the ${fmtMs(r.wallMs)} window), ` +
        `plus ${fmtMs(r.transfer.workerMs)} on the ${mode === 'worker' ? 'workers' : 'children'}. Structured clone copies everything it sends.`,
      fix: mode === 'worker'
        ? '// Transfer, do not copy: ArrayBuffers in the transfer list move without a copy\nworker.postMessage({ buf }, [buf.buffer]);\n// or share: new SharedArrayBuffer(n); or send a path/id and load the data in the worker'
        : '// Send a path or an id, not the payload; or use worker_threads with transferable ArrayBuffers',
      docs: DOCS.transfer,
    });
  }
  return out;
};

function bytes(n: number | null): string {
  if (n === null) return '–';
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${Math.round(n)} B`;
}

export const measurementUntrustworthy: Rule = (f) => {
  const q = f.report.quality;
  if (q.trustworthy) return undefined;
  return {
    id: 'measurement-untrustworthy',
    severity: 'warning',
    mode: null,
    title: 'The machine was too busy during the run: rerun before acting on these numbers',
    detail: `Other processes used up to ${pct(q.backgroundCpuFrac ?? 0)} of the machine's CPU during a window (the line is 25%): ` +
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
      `(budget ${fmtMs(f.budgetMs)}), ${r.lag.stallCount ? `${r.lag.stallCount} stall(s) over ${fmtMs(f.stallMs)}, all within budget` : `no stall over ${fmtMs(f.stallMs)}`}` + (r.elu !== undefined && r.elu !== null ? `, loop busy ${pct(r.elu)} of the time` : '') + '.',
    fix: null,
    docs: null,
  };
}

export const RULES: Rule[] = [
  measurementUntrustworthy, inlineBlocksLoop, asyncBlocksLoop, gilHeldNative, gilContention, gilReleased,
  noThreadSpeedup, processOverhead, queueing, freeThreaded, workerRecommended, transferOverhead,
  callsRaised, nativeOversubscription,
  libuvThreadpoolSaturated,
];
