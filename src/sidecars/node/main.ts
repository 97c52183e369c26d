/**
 * The Node sidecar (bundled to dist/sidecars/node/sidecar.js, run on the user's Node):
 * hello, read the plan, load the target, measure each mode, done. Also the one-shot
 * `outline FILE` and `check-args TEXT` (`-`: TEXT on stdin) tools, which print one JSON line on stdout.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { PROTOCOL_VERSION, RawWindow, RunError, RunPlan, ToolMessage } from '../../shared/protocol';
import { Channel, emptyOutput, OutputCuts, readHostMessages, syncStdio, takeProtocolEnv } from './channel';
import { installHooks, LoadError, loadCaptured, LoadSpec, resolveCallable } from './loader';
import { Context, NODE_MODES, NodeMode, runBaseline, runInline, runPool, runPoolSweep, skipped } from './modes';
import { checkArgs, locate, Located, outline } from './outline';
import { dieWithParent, parentPidFromEnv } from './orphanWatch';
import { LoopDelayMonitor } from './probes';
import { cpuCount, runtimeInfo } from './runtimeInfo';
import { defaultCacheDir, isTypeScript, moduleFormat } from './transpile';
import { frameworkOf } from './framework';
import { TsResolver } from './tsResolve';

const BASE_DIR = __dirname;

async function session(plan: RunPlan, channel: Channel, cuts: OutputCuts, ctxRef: { ctx: Context | null }): Promise<number> {
  // The host fills each window's output in from fds 1 and 2, up to the window's cut.
  const sendWindow = (window: RawWindow) => {
    window.output = emptyOutput();
    channel.send({ type: 'window', window, outputMark: cuts.cut() });
  };
  // Enabled now, a baseline window before the first mode: enabled right before a stall, it misses it.
  const eld = new LoopDelayMonitor(plan.heartbeatMs);
  const fail = (error: RunError) => {
    channel.send({ type: 'error', error });
    return 0;
  };
  let file: string;
  try {
    file = fs.realpathSync(path.resolve(plan.target.file));
  } catch {
    return fail({ kind: 'import-error', message: `no such file: ${plan.target.file}`, detail: null, file: plan.target.file });
  }
  const spec: LoadSpec = {
    file, qualname: plan.target.qualname, lines: plan.target.lines, args: plan.target.args, baseDir: BASE_DIR,
    cacheDir: isTypeScript(file) ? process.env.LOOPLAG_TS_CACHE || defaultCacheDir() : null,
  };
  const ctx = new Context(plan, channel, eld, spec, cpuCount());
  ctxRef.ctx = ctx;
  // Node's default would end the sidecar (and every mode after it) on one: it is the
  // failure of the call it came from instead, as in the pool members.
  process.on('unhandledRejection', (reason) => ctx.unhandledRejection(reason));

  // Checked as a call's argument list before anything runs: the module's own factory
  // wraps them in `[...]`, which would accept an array hole (`1,,2`) a call would not.
  const argsProblem = checkArgs(BASE_DIR, plan.target.args, /\.[cm]?tsx?$/i.test(file));
  if (argsProblem) {
    return fail({ kind: 'bad-arguments', message: `the call arguments are not valid: ${argsProblem}`, detail: `arguments: ${plan.target.args}` });
  }

  // Where the target is, from the parser (the module object cannot say), following
  // re-exports to the file that defines it.
  const shape = outline(BASE_DIR, file, fs.readFileSync(file, 'utf8'));
  const known = shape.ok ? shape.functions.filter((f) => f.kind === 'function' || f.kind === 'staticmethod').map((f) => f.qualname) : [];
  const located = shape.ok && plan.target.qualname ? locateTarget(file, plan.target.qualname) : null;
  const found = located?.fn;
  if (found?.kind === 'method') {
    const cls = found.qualname.split('.')[0];
    return fail({ kind: 'unsupported-target', message: `\`${found.qualname}\` is an instance method: it needs an instance. Select lines that create a \`${cls}\` and call it (they run as a snippet), or make it static.`, detail: null, file, line: found.line });
  }
  if (found?.kind === 'function' && found.isGenerator) {
    return fail({ kind: 'unsupported-target', message: `\`${found.qualname}\` is a generator: calling it runs nothing. Select lines that consume it, e.g. \`[...${found.qualname}()]\`.`, detail: null, file, line: found.line });
  }

  installHooks(spec);
  let callable;
  let loaded;
  try {
    loaded = await loadCaptured(spec);
    callable = resolveCallable(loaded, spec, known);
  } catch (e) {
    if (e instanceof LoadError) return fail(e.error);
    throw e;
  }
  const served = frameworkOf(callable.fn, loaded);
  channel.send({
    type: 'target',
    target: {
      kind: plan.target.lines ? 'snippet' : 'function',
      qualname: plan.target.qualname,
      line: found?.line ?? plan.target.lines?.start ?? 1,
      endLine: found?.endLine ?? plan.target.lines?.end ?? 1,
      isAsync: Boolean(found?.isAsync) || callable.isAsyncFunction,
      module: path.basename(located?.file ?? file),
      ...(located && located.file !== file ? { definedIn: { file: located.file, line: located.fn.line } } : {}),
      moduleFormat: moduleFormat(file) === 'esm' ? 'esm' : 'cjs',
      ...(served ? { framework: served } : {}),
    },
  });

  ctx.progress('baseline', 'running');
  const baseline = await runBaseline(ctx);
  baseline.output = emptyOutput();
  cuts.cut(); // what loading printed is not a window's
  channel.send({ type: 'window', window: baseline });

  for (const mode of plan.modes) {
    if (ctx.cancelled) return fail({ kind: ctx.cancelKind, message: 'cancelled by the host', detail: null });
    let window;
    if (!(NODE_MODES as readonly string[]).includes(mode)) {
      const hint = mode === 'thread' ? ' (worker threads are mode `worker`)' : '';
      window = skipped(mode, 'unsupported-mode', `mode "${mode}" does not apply to Node${hint}`);
    } else {
      ctx.progress(mode, 'starting');
      let args: unknown[];
      let warmArgs: unknown[] | null = null;
      try {
        // Evaluated once for the window and once for the mode's warm-up calls (inline's
        // evaluates its own): fresh values, so a call that mutates them cannot skew the next.
        if (mode !== 'inline' && plan.warmup !== false) warmArgs = await callable.makeArgs();
        args = await callable.makeArgs();
      } catch (e) {
        if (e instanceof LoadError) return fail(e.error);
        throw e;
      }
      ctx.begin(mode);
      ctx.warmupCut = false;
      if (plan.sweepWorkers?.length) {
        // A worker sweep: pool modes only, each window sent as it ends.
        if (mode === 'inline') {
          window = skipped(mode, 'unsupported-mode', 'a worker sweep measures pool modes, not inline');
        } else {
          await runPoolSweep(ctx, mode as Exclude<NodeMode, 'inline'>, args, warmArgs, plan.sweepWorkers, (w) => {
            sendWindow(w);
          });
          ctx.progress(mode, 'done', plan.concurrency);
          if (ctx.cancelled) return fail({ kind: ctx.cancelKind, message: 'cancelled by the host', detail: null });
          continue;
        }
      } else {
        window = mode === 'inline' ? await runInline(ctx, callable, args) : await runPool(ctx, mode as Exclude<NodeMode, 'inline'>, args, warmArgs);
      }
    }
    sendWindow(window);
    ctx.progress(mode, 'done', plan.concurrency);
    if (ctx.cancelled) return fail({ kind: ctx.cancelKind, message: 'cancelled by the host', detail: null });
  }
  return 0;
}

/** The target's outline entry and file, through re-exports, resolved as the loader resolves. */
function locateTarget(file: string, qualname: string): Located | null {
  const tsResolver = new TsResolver(BASE_DIR);
  const resolve = (specifier: string, from: string) => {
    try {
      return fs.realpathSync(createRequire(from).resolve(specifier));
    } catch {
      return isTypeScript(from) ? tsResolver.resolve(specifier, from) : null;
    }
  };
  return locate(BASE_DIR, file, qualname, resolve, (f) => fs.readFileSync(f, 'utf8'));
}

/** The one-shot tools: one ToolMessage on stdout. */
function runTool(argv: string[]): void {
  let result: ToolMessage;
  if (argv[0] === 'outline') {
    try {
      const shape = outline(BASE_DIR, argv[1], fs.readFileSync(argv[1], 'utf8'));
      result = shape.ok ? { type: 'outline', functions: shape.functions, ...(shape.reexports ? { reexports: shape.reexports } : {}) } : { type: 'error', error: shape.error };
    } catch (e) {
      result = { type: 'error', error: { kind: 'import-error', message: (e as Error).message, detail: null } };
    }
  } else if (argv[0] === 'check-args') {
    // "-": the text on stdin (the host's way: argv has a size limit).
    const text = argv[1] === '-' ? fs.readFileSync(0, 'utf8') : argv[1] ?? '';
    result = { type: 'args-check', problem: checkArgs(BASE_DIR, text, argv[2] === '--typescript') };
  } else {
    result = { type: 'error', error: { kind: 'protocol-error', message: `unknown command ${JSON.stringify(argv[0])}`, detail: null } };
  }
  process.stdout.write(JSON.stringify(result) + '\n');
}

function main(): void {
  const argv = process.argv.slice(2);
  if (argv.length) return runTool(argv);
  // First: a host killed outright takes us (and our pool children) with it, even while
  // user code blocks this thread (stdin EOF, below, is an event on this thread's loop).
  dieWithParent(parentPidFromEnv());
  const { fd, nonce } = takeProtocolEnv();
  const channel = new Channel(fd, nonce);
  const cuts = new OutputCuts(nonce);
  syncStdio();
  channel.send({ type: 'hello', protocol: PROTOCOL_VERSION, sidecar: 'node', runtime: runtimeInfo() });
  const ref: { ctx: Context | null } = { ctx: null };
  let started = false;
  let cancelled = false;
  const exit = (code: number) => {
    ref.ctx?.cancel(undefined);
    process.exit(code);
  };
  readHostMessages(
    (m) => {
      if (m.type === 'start' && !started) {
        started = true;
        session(m.plan, channel, cuts, ref).then(
          (code) => {
            channel.send({ type: 'done' });
            exit(code);
          },
          (e: Error) => {
            channel.send({ type: 'error', error: { kind: 'internal-error', message: `Loop Lag's sidecar failed: ${e?.name}: ${e?.message}`, detail: e?.stack ?? null } });
            exit(1);
          },
        );
      } else if (m.type === 'cancel') {
        cancelled = true;
        ref.ctx?.cancel(m.reason);
        if (!ref.ctx) exit(130);
      }
    },
    (why) => {
      channel.send({ type: 'error', error: { kind: 'protocol-error', message: why, detail: null } });
      exit(2);
    },
    // The host is gone (or closed stdin): nobody will read a report.
    () => exit(cancelled ? 130 : 1),
  );
}

main();
