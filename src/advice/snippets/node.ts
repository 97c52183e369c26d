/**
 * Node fix snippets: each a pure function of the target's shape, written in the target's
 * module format (CommonJS or ESM) and language (JavaScript or TypeScript), each one file
 * that runs as written beside the target (test/sidecar/snippets.test.ts executes every
 * one). The rules decide what to say; this file only says it in code.
 */
import type { Mode, Report } from '../../shared/protocol';
import type { FixSnippets } from './index';

/** What a snippet needs to know about the target. */
export interface NodeTarget {
  /** `fn` or `obj.method`. */
  fn: string;
  /** The call's arguments as measured (empty: none). */
  args: string;
  isAsync: boolean;
  /** The target's file name (basename), imported relative to the snippet beside it. */
  file: string;
  moduleFormat: 'esm' | 'cjs';
  language: 'javascript' | 'typescript';
  /** A snippet target (lines, no function): the user must wrap them in an exported `work()` first. */
  lines?: { start: number; end: number } | null;
}

/** The target as the snippets need it: its file, module format and language. */
export function nodeTarget(r: Pick<Report, 'target'>): NodeTarget {
  const file = r.target.file.split(/[\\/]/).pop()!;
  const format = r.target.moduleFormat ?? (/\.m[jt]s$/.test(file) ? 'esm' : 'cjs');
  return {
    fn: r.target.qualname ?? 'work', args: r.target.args, isAsync: Boolean(r.target.isAsync), file, moduleFormat: format, lines: r.target.qualname ? null : r.target.lines,
    language: r.target.language === 'typescript' ? 'typescript' : 'javascript',
  };
}

const root = (t: NodeTarget) => t.fn.split('.')[0];
const ts = (t: NodeTarget) => t.language === 'typescript';

/** The specifier that imports the target: TypeScript imports its output name (`./x.js` for `x.ts`). */
export function specifierOf(t: NodeTarget): string {
  const m = /^(.*)\.(c|m)?tsx?$/.exec(t.file);
  return `./${m ? `${m[1]}.${m[2] ?? ''}js` : t.file}`;
}

/** Import lines in the target's syntax: ESM and TypeScript use `import`, CommonJS JavaScript `require`. */
function importsOf(t: NodeTarget, modules: [string, string, boolean?][]): string {
  // `wholeModule`: `import * as x` (no default import: TypeScript without esModuleInterop has none).
  const lines = modules.map(([names, from, wholeModule]) => {
    if (t.moduleFormat === 'cjs' && !ts(t)) return `const ${wholeModule ? names : `{ ${names} }`} = require('${from}');`;
    return `import ${wholeModule ? `* as ${names}` : `{ ${names} }`} from '${from}';`;
  });
  const wrap = t.lines ? [`// First put lines ${t.lines.start}-${t.lines.end} of ${t.file} in an exported function ${t.fn}().`] : [];
  return [...wrap, ...lines].join('\n');
}

/** How this file names itself for `new Worker(…)`: ESM has no `__filename`. */
function selfRef(t: NodeTarget): string {
  return t.moduleFormat === 'cjs' ? '__filename' : 'new URL(import.meta.url)';
}

const callArgs = (t: NodeTarget) => t.args.trim();

/** `(...args) => …` typed for TypeScript (`fn`: how the file names the function). */
function paramsOf(t: NodeTarget, fn = t.fn): string {
  return ts(t) ? `...args: Parameters<typeof ${fn}>` : '...args';
}

function resultType(t: NodeTarget, fn = t.fn): string {
  return ts(t) ? `: Promise<Awaited<ReturnType<typeof ${fn}>>>` : '';
}

/** The pool's entry point and a request handler using it (none in a pool module): the same in both pools. */
function submitAndHandler(t: NodeTarget, name: string, where: string, exp: string, cjs: boolean, handler = true, fnRef = t.fn): string {
  const submit = `/** ${t.fn}(...args), in a ${where}. */
${exp}function ${name}(${paramsOf(t, fnRef)})${resultType(t, fnRef)} {
  return new Promise((resolve, reject) => {
    const job = { id: nextId++, args, resolve, reject };
    running.set(job.id, job);
    queue.push(job);
    dispatch();
  });
}
`;
  if (!handler) return `${submit}${cjs ? `\nmodule.exports = { ${name} };\n` : ''}`;
  return `${submit}
// In a request handler:
${exp}async function handler() {
  return ${name}(${callArgs(t)});
}
${cjs ? `\nmodule.exports = { ${name}, handler };\n` : ''}`;
}

/**
 * One file that is both a fixed worker_threads pool (on the main thread, created once
 * at start-up) and its worker (in each thread): `runInWorker(...)` resolves with the
 * function's awaited value (a Promise cannot be posted). `transfer`: ArrayBuffers and
 * typed arrays among the arguments and in the result move without a copy (the sender
 * loses them). The function is imported as `target`, so that no name of the pool's own
 * (`run`, `queue`, `Worker`…) can collide with it. The pool's workers are told apart by
 * their `workerData`, not by `isMainThread`: the caller may itself run in a worker thread
 * (vitest, piscina). A worker that dies (a throw at import or outside the call,
 * `process.exit`) rejects its job and is replaced when work waits; an error is marked
 * (`ok: false`), so that `throw undefined` is not a result.
 */
export function workerPool(t: NodeTarget, opts: { workers?: number | null; transfer?: boolean; module?: { run: string; header: string } } = {}): string {
  const T = ts(t);
  const cjs = t.moduleFormat === 'cjs' && !T;
  const exp = cjs ? '' : 'export ';
  const bang = T ? '!' : '';
  const target = ['target', ...t.fn.split('.').slice(1)].join('.');
  const workers = opts.workers ? String(opts.workers) : 'os.availableParallelism()';
  const transferFn = opts.transfer
    ? `\n// Buffers in a transfer list move to the other thread instead of being copied.\n` +
      `const buffersOf = (values${T ? ': unknown[]' : ''})${T ? ': ArrayBuffer[]' : ''} =>\n` +
      `  values.flatMap((v) => (ArrayBuffer.isView(v) ? [v.buffer${T ? ' as ArrayBuffer' : ''}] : v instanceof ArrayBuffer ? [v] : []));\n`
    : '';
  const postResult = opts.transfer ? `parentPort${bang}.postMessage({ ok: true, result }, buffersOf([result]))` : `parentPort${bang}.postMessage({ ok: true, result })`;
  const postArgs = opts.transfer ? 'worker.postMessage({ id, args }, buffersOf(args))' : 'worker.postMessage({ id, args })';
  const types = T
    ? `\ntype Job = { id: number; args: unknown[]; resolve: (v: any) => void; reject: (e: unknown) => void };\n` +
      `type Reply = { ok: true; result: unknown } | { ok: false; error: unknown };\n`
    : '';
  const msgType = T ? `: { id: number; args: Parameters<typeof ${target}> }` : '';
  return `${opts.module ? opts.module.header : ''}${importsOf(t, [
    ['Worker, parentPort, workerData', 'node:worker_threads'],
    ['os', 'node:os', true],
    [cjs ? `${root(t)}: target` : `${root(t)} as target`, specifierOf(t)],
  ])}
${transferFn}${types}
// This file's own workers (not any worker thread: the caller may run in one) are told so.
const inPoolWorker = workerData?.looplagPool === true;

if (inPoolWorker) {
  // In a worker thread: run ${t.fn} and post back its value, awaited first.
  parentPort${bang}.on('message', async ({ args }${msgType}) => {
    try {
      const result = await ${target}(...args);
      ${postResult};
    } catch (error) {
      try {
        parentPort${bang}.postMessage({ ok: false, error });
      } catch {
        // A thrown value that cannot be cloned (a function…): its text instead.
        parentPort${bang}.postMessage({ ok: false, error: new Error(String(error)) });
      }
    }
  });
}

// On the main thread: a fixed pool created once, at start-up (or a library such as piscina).
const size = ${workers};
const idle${T ? ': Worker[]' : ''} = [];
const queue${T ? ': Job[]' : ''} = [];
const running = new Map${T ? '<number, Job>' : ''}();
const jobOf = new Map${T ? '<Worker, number>' : ''}(); // a busy worker → its job's id
let started = 0;
let nextId = 0;

/** The job a worker had, taken off the books. */
function finish(worker${T ? ': Worker' : ''})${T ? ': Job | undefined' : ''} {
  const id = jobOf.get(worker);
  jobOf.delete(worker);
  const job = id === undefined ? undefined : running.get(id);
  if (id !== undefined) running.delete(id);
  return job;
}

function startWorker()${T ? ': void' : ''} {
  const worker = new Worker(${selfRef(t)}, { workerData: { looplagPool: true } });
  started++;
  let failure${T ? ': unknown' : ''};
  worker.on('message', (reply${T ? ': Reply' : ''}) => {
    const job = finish(worker)${bang};
    worker.unref(); // a busy worker keeps the process alive, an idle one does not
    idle.push(worker);
    if (reply.ok) job.resolve(reply.result);
    else job.reject(reply.error);
    dispatch();
  });
  // A worker that dies (a throw at import or outside the call, process.exit) fails its job only.
  worker.on('error', (error) => {
    failure = error;
  });
  worker.on('exit', (code) => {
    started--;
    if (idle.includes(worker)) idle.splice(idle.indexOf(worker), 1);
    finish(worker)?.reject(failure ?? new Error(\`the pool's worker exited (code \${code}) while running ${t.fn}()\`));
    dispatch(); // a replacement, if work waits
  });
  worker.unref();
  idle.push(worker);
}

function dispatch()${T ? ': void' : ''} {
  while (queue.length && (idle.length || started < size)) {
    if (!idle.length) startWorker();
    const worker = idle.pop()${bang};
    const { id, args } = queue.shift()${bang};
    jobOf.set(worker, id);
    worker.ref();
    ${postArgs};
  }
}

if (!inPoolWorker) {
  for (let i = 0; i < size; i++) startWorker();
}

${submitAndHandler(t, opts.module?.run ?? 'runInWorker', 'worker thread', exp, cjs, !opts.module, target)}`;
}

/**
 * The worker pool as a module of its own, the file the worker pool quick fix creates
 * (fixes/editsNodePool.ts): `run(...args)` exported, no example handler, in the function's
 * module format and language, importing it from its file beside.
 */
export function workerPoolModule(t: Pick<NodeTarget, 'fn' | 'file' | 'moduleFormat' | 'language'>): string {
  const header = `// A pool of worker threads running ${t.fn}() off the event loop (a Loop Lag quick fix).\n` +
    `// The workers run this same file: each imports ${t.file} and answers run() calls, one at a time.\n`;
  return workerPool({ ...t, args: '', isAsync: false, lines: null }, { module: { run: 'run', header } });
}

/**
 * The same as a pool of child processes forked once at start-up (the file is both the
 * parent and, with `--pool-child`, each child): `runInChild(...)` resolves with the
 * function's awaited value. `advanced` serialization: structured clone, as worker_threads.
 * A child that dies rejects its job and is replaced when work waits, as in workerPool.
 */
export function childPool(t: NodeTarget, opts: { workers?: number | null } = {}): string {
  const T = ts(t);
  const cjs = t.moduleFormat === 'cjs' && !T;
  const exp = cjs ? '' : 'export ';
  const bang = T ? '!' : '';
  const workers = opts.workers ? String(opts.workers) : 'os.availableParallelism()';
  const self = t.moduleFormat === 'cjs' ? '__filename' : 'fileURLToPath(import.meta.url)';
  const types = T
    ? `\ntype Job = { id: number; args: unknown[]; resolve: (v: any) => void; reject: (e: unknown) => void };\n` +
      `type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: unknown };\n`
    : '';
  const Child = T ? 'ReturnType<typeof fork>' : '';
  return `${importsOf(t, [
    ['fork', 'node:child_process'],
    ...(t.moduleFormat === 'cjs' ? [] : [['fileURLToPath', 'node:url'] as [string, string]]),
    ['os', 'node:os', true],
    [root(t), specifierOf(t)],
  ])}
${types}
const isChild = process.argv.includes('--pool-child');

if (isChild) {
  // In a child process: run ${t.fn} and send back its value, awaited first.
  process.on('message', async ({ id, args }${T ? `: { id: number; args: Parameters<typeof ${t.fn}> }` : ''}) => {
    try {
      process.send${bang}({ id, ok: true, result: await ${t.fn}(...args) });
    } catch (error) {
      try {
        process.send${bang}({ id, ok: false, error });
      } catch {
        // A thrown value that cannot be cloned (a function…): its text instead.
        process.send${bang}({ id, ok: false, error: new Error(String(error)) });
      }
    }
  });
}

// In the parent: a fixed set of children forked once, at start-up.
const size = ${workers};
const idle${T ? `: ${Child}[]` : ''} = [];
const queue${T ? ': Job[]' : ''} = [];
const running = new Map${T ? '<number, Job>' : ''}();
const jobOf = new Map${T ? `<${Child}, number>` : ''}(); // a busy child → its job's id
let started = 0;
let nextId = 0;

/** The job a child had, taken off the books. */
function finish(child${T ? `: ${Child}` : ''})${T ? ': Job | undefined' : ''} {
  const id = jobOf.get(child);
  jobOf.delete(child);
  const job = id === undefined ? undefined : running.get(id);
  if (id !== undefined) running.delete(id);
  return job;
}

/** A busy child keeps the parent alive, an idle one does not. */
function keepAlive(child${T ? `: ${Child}` : ''}, busy${T ? ': boolean' : ''})${T ? ': void' : ''} {
  if (busy) {
    child.ref();
    child.channel${T ? '?' : ''}.ref();
  } else {
    child.unref();
    child.channel${T ? '?' : ''}.unref();
  }
}

function startChild()${T ? ': void' : ''} {
  const child = fork(${self}, ['--pool-child'], { serialization: 'advanced' });
  started++;
  child.on('message', (reply${T ? ': Reply' : ''}) => {
    const job = finish(child)${bang};
    keepAlive(child, false);
    idle.push(child);
    if (reply.ok) job.resolve(reply.result);
    else job.reject(reply.error);
    dispatch();
  });
  // A child that dies (a crash, process.exit in the call, a kill) fails its job only.
  child.on('exit', (code, signal) => {
    started--;
    if (idle.includes(child)) idle.splice(idle.indexOf(child), 1);
    finish(child)?.reject(new Error(\`the pool's child process exited (\${signal ?? \`code \${code}\`}) while running ${t.fn}()\`));
    dispatch(); // a replacement, if work waits
  });
  keepAlive(child, false);
  idle.push(child);
}

function dispatch()${T ? ': void' : ''} {
  while (queue.length && (idle.length || started < size)) {
    if (!idle.length) startChild();
    const child = idle.pop()${bang};
    const { id, args } = queue.shift()${bang};
    jobOf.set(child, id);
    keepAlive(child, true);
    child.send({ id, args });
  }
}

if (!isChild) {
  for (let i = 0; i < size; i++) startChild();
}

${submitAndHandler(t, 'runInChild', 'child process', exp, cjs)}`;
}

/** A comment-only fix: valid in any module format, runs as a no-op. */
export function note(lines: string[]): string {
  return lines.map((l) => `// ${l}`).join('\n') + '\n';
}

/** libuv's threadpool sized before Node starts, and the calls in flight bounded below it. */
export function threadpoolSlots(t: NodeTarget): string {
  return `# Size the pool before Node starts (it is created on first use and never resized:
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
  return threadpoolSlots(() => ${t.fn}(${t.args}));
}`;
}

/** The line a later advice shows instead of repeating a setup block the report already shows. */
export function sameSetup(title: string): string {
  return `// The same setup as under "${title}" above.\n`;
}

/** Node's side of the snippet table (snippets/index.ts). */
export const NODE_SNIPPETS: FixSnippets = {
  offloadPool: (r) => workerPool(nodeTarget(r)),
  sizedPool: (mode: Mode, workers: number, r) => (mode === 'process' ? childPool(nodeTarget(r), { workers }) : workerPool(nodeTarget(r), { workers })),
  sameSetup,
};
