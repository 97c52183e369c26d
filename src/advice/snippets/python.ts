/**
 * Python fix snippets: each a pure function of the target's shape, each a complete
 * program that runs as written beside the target's module (test/sidecar/snippets.test.ts
 * executes every one against sync and async targets, with and without arguments).
 * The rules decide what to say; this file only says it in code.
 */
import type { Mode, Report } from '../../shared/protocol';
import type { FixSnippets } from './index';

/** What a snippet needs to know about the target. */
export interface PyTarget {
  /** `func` or `Class.method`. */
  fn: string;
  /** The call's arguments as measured (may hold keyword arguments; empty: none). */
  args: string;
  isAsync: boolean;
  /** The dotted module to import the function from. */
  module: string;
  /** A snippet target (lines, no function): the user must wrap them in `work()` first. */
  lines?: { start: number; end: number } | null;
}

/** A keyword argument at the top level of an argument list (`n=5`, not `a == b`). */
const KEYWORD = /(^|[,(\s])[A-Za-z_]\w*\s*=(?!=)/;

/**
 * `fn, args` for `run_in_executor(pool, …)`, which passes positional arguments only:
 * keyword arguments need `functools.partial`.
 */
export function executorCall(fn: string, args: string): string {
  if (!args.trim()) return fn;
  return KEYWORD.test(args) ? `functools.partial(${fn}, ${args})` : `${fn}, ${args}`;
}

/** The target as the snippets need it: the module it was imported as (else its file's stem). */
export function pyTarget(r: Pick<Report, 'target'>): PyTarget {
  const stem = r.target.file.split(/[\\/]/).pop()!.replace(/\.py$/, '');
  const module = r.target.module && !r.target.module.startsWith('_looplag_') ? r.target.module : stem;
  return { fn: r.target.qualname ?? 'work', args: r.target.args, isAsync: Boolean(r.target.isAsync), module, lines: r.target.qualname ? null : r.target.lines };
}

const root = (t: PyTarget) => t.fn.split('.')[0];
const importLine = (t: PyTarget) => `from ${t.module} import ${root(t)}`;

/**
 * An `async def` cannot go to a pool as is: calling it only makes a coroutine, which a
 * thread would not run and a process cannot pickle. A module-level sync shim runs it to
 * completion on a loop of the worker's own (module level, so a process pool can pickle it).
 */
const shimName = (t: PyTarget) => `${t.fn.replace(/\W/g, '_')}_blocking`;
function shim(t: PyTarget): string {
  return `\n\ndef ${shimName(t)}(*args, **kwargs):\n` +
    `    # ${t.fn} is an async def: run it to completion on the worker's own event loop.\n` +
    `    return asyncio.run(${t.fn}(*args, **kwargs))`;
}

/** What the pool calls: the function itself, or its sync shim. */
const poolCallable = (t: PyTarget) => (t.isAsync ? shimName(t) : t.fn);

/** `asyncio.to_thread(…)`: keyword arguments pass through; an async target runs on the thread's own loop. */
function toThread(t: PyTarget): string {
  const args = t.args.trim() ? `, ${t.args}` : '';
  return `asyncio.to_thread(${poolCallable(t)}${args})`;
}

function imports(t: PyTarget, extra: string[]): string {
  const stdlib = ['import asyncio', ...(KEYWORD.test(t.args) ? ['import functools'] : []), ...extra];
  const wrap = t.lines ? `# First put lines ${t.lines.start}-${t.lines.end} of ${t.module} in a function, def ${t.fn}(), in that module.\n` : '';
  return `${wrap}${stdlib.join('\n')}\n\n${importLine(t)}`;
}

/**
 * A process pool created once in a FastAPI lifespan, and an endpoint that awaits the
 * call in it: the one complete setup a report shows (other advice refers to it).
 */
export function processPoolApp(t: PyTarget, workers: number | null = null): string {
  return `${imports(t, ['from concurrent.futures import ProcessPoolExecutor', 'from contextlib import asynccontextmanager', '', 'from fastapi import FastAPI, Request'])}${t.isAsync ? shim(t) : ''}


@asynccontextmanager
async def lifespan(app):
    # Created once and reused: start-up is paid at boot, not per request.
    app.state.pool = ProcessPoolExecutor(${workers === null ? '' : `max_workers=${workers}`})
    yield
    app.state.pool.shutdown()


app = FastAPI()
# The same as FastAPI(lifespan=lifespan) on FastAPI 0.93+; this form also runs on older ones.
app.router.lifespan_context = lifespan


@app.get("/work")
async def endpoint(request: Request):
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(request.app.state.pool, ${executorCall(poolCallable(t), t.args)})
`;
}

/** A handler that awaits the call in a thread (work that releases the GIL). */
export function threadHandler(t: PyTarget): string {
  return `${imports(t, [])}${t.isAsync ? shim(t) : ''}


async def handler():
    # The loop stays free while ${t.fn} runs in a worker thread.
    return await ${toThread(t)}
`;
}

/** A handler that lets at most `limit` calls at a time compete with the loop for the GIL. */
export function boundedThreadHandler(t: PyTarget, limit: number): string {
  return `${imports(t, [])}${t.isAsync ? shim(t) : ''}

# At most ${limit} of these at a time compete with the loop for the GIL.
sem = asyncio.Semaphore(${limit})


async def handler():
    async with sem:
        return await ${toThread(t)}

# For real parallelism and a free loop: a process pool created once (see the process-pool setup).
`;
}

/** A thread pool sized to the cores, created once, and a handler that uses it. */
export function sizedThreadPool(t: PyTarget, workers: number, note = ''): string {
  return `${imports(t, ['from concurrent.futures import ThreadPoolExecutor'])}${t.isAsync ? shim(t) : ''}

${note ? `# ${note}\n` : ''}pool = ThreadPoolExecutor(max_workers=${workers})


async def handler():
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(pool, ${executorCall(poolCallable(t), t.args)})
`;
}

/** Another pool implementation (InterpreterPoolExecutor on 3.14+), same shape. */
export function interpreterPool(t: PyTarget, workers: number): string {
  return `${imports(t, ['from concurrent.futures import InterpreterPoolExecutor  # Python 3.14+'])}${t.isAsync ? shim(t) : ''}

pool = InterpreterPoolExecutor(max_workers=${workers})


async def handler():
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(pool, ${executorCall(poolCallable(t), t.args)})
`;
}

/** A note that is code only as a comment: runs as a no-op, never as a half-valid line. */
export const FREE_THREADED_NOTE = '# Deploy on a free-threaded build (python3.13t / 3.14t) and check your C extensions support it.\n';

/** Native thread pools (BLAS/OpenMP) limited to one thread per call: environment first, threadpoolctl as the alternative. */
export const ONE_NATIVE_THREAD = `# before numpy (or anything using BLAS/OpenMP) is imported, e.g. at the top of the entry module:
import os
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

# or once at start-up, before the pool runs calls (pip install threadpoolctl); the limit is process-wide:
from threadpoolctl import threadpool_limits
threadpool_limits(limits=1)`;

/** The line a later advice shows instead of repeating a setup block the report already shows. */
export function sameSetup(title: string): string {
  return `# The same setup as under "${title}" above.\n`;
}

/** Python's side of the snippet table (snippets/index.ts). */
export const PYTHON_SNIPPETS: FixSnippets = {
  offloadPool: (r) => processPoolApp(pyTarget(r)),
  sizedPool(mode: Mode, workers: number, r) {
    const t = pyTarget(r);
    if (mode === 'process') return processPoolApp(t, workers);
    if (mode === 'interpreter') return interpreterPool(t, workers);
    return sizedThreadPool(t, workers, `Starlette/FastAPI sync endpoints: anyio.to_thread.current_default_thread_limiter().total_tokens = ${workers}`);
  },
  sameSetup,
};
