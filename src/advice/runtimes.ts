/**
 * What the advice says differently per runtime, one entry each: the mode a
 * sync function is deployed in, the links and the
 * few phrases rules shared by every runtime fill in. A new runtime is one entry here and
 * one in snippets/index.ts; the compiler names what it still lacks.
 */
import { RuntimeName } from '../shared/modes';
import type { ModeRun, StackFrame } from '../shared/protocol';
import { fmtPct } from '../shared/format';

/** The mode a sync function runs in when the user did not say (an async one runs inline, on the loop). */
export const SYNC_PLANNED_MODE: { readonly [R in RuntimeName]: string } = {
  // Starlette/FastAPI run sync endpoints in their thread pool.
  python: 'thread',
  // A Node handler runs on the main thread.
  node: 'inline',
};

/** The links the rules shared by every runtime cite. */
interface SharedDocs {
  /** Moving blocking work off the loop. */
  offload: string;
  /** The pool that advice recommends, and what its start-up and transfers cost. */
  pool: string;
  /** Calls waiting for a pool member. */
  queueing: string;
}

const PYTHON_DOCS = {
  executor: 'https://docs.python.org/3/library/asyncio-eventloop.html#asyncio.loop.run_in_executor',
  processPool: 'https://docs.python.org/3/library/concurrent.futures.html#processpoolexecutor',
  semaphore: 'https://docs.python.org/3/library/asyncio-sync.html#asyncio.Semaphore',
  freeThreading: 'https://docs.python.org/3/howto/free-threading-python.html',
  threadpoolctl: 'https://github.com/joblib/threadpoolctl',
};

const NODE_DOCS = {
  dontBlock: 'https://nodejs.org/en/learn/asynchronous-work/dont-block-the-event-loop',
  workers: 'https://nodejs.org/api/worker_threads.html',
  transfer: 'https://nodejs.org/api/worker_threads.html#portpostmessagevalue-transferlist',
  threadpool: 'https://nodejs.org/api/cli.html#uv_threadpool_sizesize',
};

/** Each runtime's links: the shared ones by role, and those its own rules cite. */
export const DOCS = {
  python: { ...PYTHON_DOCS, offload: PYTHON_DOCS.executor, pool: PYTHON_DOCS.processPool, queueing: PYTHON_DOCS.executor },
  node: { ...NODE_DOCS, offload: NODE_DOCS.dontBlock, pool: NODE_DOCS.workers, queueing: NODE_DOCS.workers },
} as const satisfies { readonly [R in RuntimeName]: SharedDocs };

/** The phrases rules shared by every runtime fill in. */
export interface RuntimeWords {
  /** What the target is when it is async: "an `async def`". */
  asyncKind: string;
  /** async-def-blocks-loop's title. */
  asyncBlocksTitle: string;
  /** After inline-blocks-loop's longest stall: how busy the loop was, where the runtime measures it (leading space), else nothing. */
  loopBusy(r: ModeRun): string;
  /** Turning values into bytes to send them to a pool member: "pickling". */
  serializing: string;
  /** process-overhead without transfer records: where the per-call cost goes, or null when there is nothing to add. */
  sendCost(hasArgs: boolean): string | null;
  /** calls-raised: what else to check when the calls raised. */
  raisedHint: string;
  /** A library or runtime frame below a blocked line, as its users call it (`where`: the file, when the name does not say it). */
  frameName(f: StackFrame): { name: string; where: string | null };
}

/** A package- or stdlib-relative Python file as its module: `lxml/etree.pyx` → `lxml.etree`, `json/__init__.py` → `json`. */
function pythonModule(file: string | null): string | null {
  const m = file?.match(/^([A-Za-z_]\w*(?:\/[A-Za-z_]\w*)*)\.pyx?$/);
  return m ? m[1].replace(/\/__init__$/, '').replace(/\//g, '.') : null;
}

export const WORDS: { readonly [R in RuntimeName]: RuntimeWords } = {
  python: {
    asyncKind: 'an `async def`',
    asyncBlocksTitle: 'This `async def` does CPU work on the event loop',
    loopBusy: () => '',
    serializing: 'pickling',
    sendCost: (hasArgs) => (hasArgs
      ? 'the parent pickles the arguments and unpickles the result, both holding the GIL'
      : 'no arguments were sent, so the cost is pickling the result back (and the dispatch itself)'),
    raisedHint: ', names the code expects from an enclosing function (a snippet sees module globals only)',
    frameName: (f) => {
      const mod = pythonModule(f.file);
      if (!mod) return { name: f.function, where: f.file };
      // `<module>`, `<listcomp>`: the module says more than a placeholder.
      return { name: f.function.startsWith('<') ? mod : `${mod}.${f.function}`, where: null };
    },
  },
  node: {
    asyncKind: 'an `async function`',
    asyncBlocksTitle: 'This async function does CPU work on the event loop',
    loopBusy: (r) => ` (event-loop utilization ${fmtPct(r.elu ?? 1)})`,
    serializing: 'serializing',
    sendCost: () => null,
    raisedHint: ', whether the function needs `this` (call it through its object in a snippet)',
    // `node:` internals, GC and `RegExp: …` have no file; a package's function is named with its file.
    frameName: (f) => ({ name: f.function || '(anonymous)', where: f.file }),
  },
};
