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

/** `(...args) => …` typed for TypeScript. */
function paramsOf(t: NodeTarget): string {
  return ts(t) ? `...args: Parameters<typeof ${t.fn}>` : '...args';
}

function resultType(t: NodeTarget): string {
  return ts(t) ? `: Promise<Awaited<ReturnType<typeof ${t.fn}>>>` : '';
}

/** The pool's entry point and a request handler using it (none in a pool module): the same in both pools. */
function submitAndHandler(t: NodeTarget, name: string, where: string, exp: string, cjs: boolean, handler = true): string {
  const submit = `/** ${t.fn}(...args), in a ${where}. */
${exp}function ${name}(${paramsOf(t)})${resultType(t)} {
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
 * loses them).
 */
export function workerPool(t: NodeTarget, opts: { workers?: number | null; transfer?: boolean; module?: { run: string; header: string } } = {}): string {
  const T = ts(t);
  const cjs = t.moduleFormat === 'cjs' && !T;
  const exp = cjs ? '' : 'export ';
  const bang = T ? '!' : '';
  const workers = opts.workers ? String(opts.workers) : 'os.availableParallelism()';
  const transferFn = opts.transfer
    ? `\n// Buffers in a transfer list move to the other thread instead of being copied.\n` +
      `const buffersOf = (values${T ? ': unknown[]' : ''})${T ? ': ArrayBuffer[]' : ''} =>\n` +
      `  values.flatMap((v) => (ArrayBuffer.isView(v) ? [v.buffer${T ? ' as ArrayBuffer' : ''}] : v instanceof ArrayBuffer ? [v] : []));\n`
    : '';
  const postResult = opts.transfer ? `parentPort${bang}.postMessage({ id, result }, buffersOf([result]))` : `parentPort${bang}.postMessage({ id, result })`;
  const postArgs = opts.transfer ? 'worker.postMessage({ id, args }, buffersOf(args))' : 'worker.postMessage({ id, args })';
  const types = T ? `\ntype Job = { id: number; args: unknown[]; resolve: (v: any) => void; reject: (e: unknown) => void };\n` : '';
  const msgType = T ? `: { id: number; args: Parameters<typeof ${t.fn}> }` : '';
  return `${opts.module ? opts.module.header : ''}${importsOf(t, [
    ['Worker, isMainThread, parentPort', 'node:worker_threads'],
    ['os', 'node:os', true],
    [root(t), specifierOf(t)],
  ])}
${transferFn}${types}
if (!isMainThread) {
  // In a worker thread: run ${t.fn} and post back its value, awaited first.
  parentPort${bang}.on('message', async ({ id, args }${msgType}) => {
    try {
      const result = await ${t.fn}(...args);
      ${postResult};
    } catch (error) {
      parentPort${bang}.postMessage({ id, error });
    }
  });
}

// On the main thread: a fixed pool created once, at start-up (or a library such as piscina).
const idle${T ? ': Worker[]' : ''} = [];
const queue${T ? ': Job[]' : ''} = [];
const running = new Map${T ? '<number, Job>' : ''}();
let nextId = 0;

function dispatch()${T ? ': void' : ''} {
  while (idle.length && queue.length) {
    const worker = idle.pop()${bang};
    const { id, args } = queue.shift()${bang};
    worker.ref(); // a busy worker keeps the process alive, an idle one does not
    ${postArgs};
  }
}

if (isMainThread) {
  for (let i = 0; i < ${workers}; i++) {
    const worker = new Worker(${selfRef(t)});
    worker.on('message', ({ id, result, error }) => {
      const job = running.get(id)${bang};
      running.delete(id);
      worker.unref();
      idle.push(worker);
      if (error) job.reject(error);
      else job.resolve(result);
      dispatch();
    });
    worker.unref();
    idle.push(worker);
  }
}

${submitAndHandler(t, opts.module?.run ?? 'runInWorker', 'worker thread', exp, cjs, !opts.module)}`;
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
 */
export function childPool(t: NodeTarget, opts: { workers?: number | null } = {}): string {
  const T = ts(t);
  const cjs = t.moduleFormat === 'cjs' && !T;
  const exp = cjs ? '' : 'export ';
  const bang = T ? '!' : '';
  const workers = opts.workers ? String(opts.workers) : 'os.availableParallelism()';
  const self = t.moduleFormat === 'cjs' ? '__filename' : 'fileURLToPath(import.meta.url)';
  const types = T ? `\ntype Job = { id: number; args: unknown[]; resolve: (v: any) => void; reject: (e: unknown) => void };\n` : '';
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
      process.send${bang}({ id, result: await ${t.fn}(...args) });
    } catch (error) {
      process.send${bang}({ id, error });
    }
  });
}

// In the parent: a fixed set of children forked once, at start-up.
const idle${T ? ': ReturnType<typeof fork>[]' : ''} = [];
const queue${T ? ': Job[]' : ''} = [];
const running = new Map${T ? '<number, Job>' : ''}();
let nextId = 0;

function dispatch()${T ? ': void' : ''} {
  while (idle.length && queue.length) {
    const child = idle.pop()${bang};
    const { id, args } = queue.shift()${bang};
    child.ref(); // a busy child keeps the parent alive, an idle one does not
    child.channel${T ? '?' : ''}.ref();
    child.send({ id, args });
  }
}

if (!isChild) {
  for (let i = 0; i < ${workers}; i++) {
    const child = fork(${self}, ['--pool-child'], { serialization: 'advanced' });
    child.on('message', ({ id, result, error }${T ? ': any' : ''}) => {
      const job = running.get(id)${bang};
      running.delete(id);
      child.unref();
      child.channel${T ? '?' : ''}.unref();
      idle.push(child);
      if (error) job.reject(error);
      else job.resolve(result);
      dispatch();
    });
    child.unref();
    child.channel${T ? '?' : ''}.unref();
    idle.push(child);
  }
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
