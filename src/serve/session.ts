/**
 * A service-mode session (issue 14): per variant, in order (the app as written, then N
 * server processes, then T AnyIO thread tokens, as asked), the user's server in a
 * harness process of its runtime under open-loop load (variant.ts), gathered into
 * ServeInputs for the looplag.serve/1 document. Never rejects for problems with the
 * user's app or runtime: those are the variants' errors (or the session's, when no
 * other variant could fare better), with everything measured before them kept.
 */
import * as path from 'node:path';
import { DEFAULT_OUTPUT_CAP_BYTES } from '../engine/runPlan';
import { Candidate, ENGINE_RUNTIMES, SidecarChoice, defaultSidecarDir } from '../engine/runtimes';
import { RuntimeName, RUNTIMES } from '../shared/modes';
import type { RunError } from '../shared/protocol';
import type { ServeApp } from '../shared/protocol/serve';
import { SERVE_KNOBS } from '../shared/serveSettings';
import type { ServeInputs, ServeSettings, ServeVariant, VariantInputs } from './inputs';
import { runLoad } from './load';
import { REQUEST_TIMEOUT_MS, RunLoad, runVariant, ServeProgress, STOP_GRACE_MS, VariantRun, variantPhrase } from './variant';

export type { ServeProgress } from './variant';

export interface ServeOptions extends SidecarChoice {
  app: ServeApp;
  settings: ServeSettings;
  /** `--workers N`: also the app in N server processes; null/undefined: not. */
  processes?: number | null;
  /** `--threads T` (Python): also the app with the AnyIO limiter at T tokens; null/undefined: not. */
  threadTokens?: number | null;
  workspaceRoot: string | null;
  /** The whole session's limit, s; default: defaultServeTimeoutS. */
  timeoutS?: number;
  /**
   * When the session gives up (ms since the epoch); default: now + timeoutS. A sweep runs one
   * session per point under its own --timeout: each ends at the sweep's deadline, and its
   * message names the sweep's timeoutS.
   */
  deadline?: number;
  /** Exactly these variants, in this order, instead of those `processes` and `threadTokens` ask for (a sweep's one point). */
  variants?: ServeVariant[];
  /** The app's start-up limit (import, lifespan startup, listen), s. */
  startTimeoutS?: number;
  /** Time the server gets to send its window once cancelled, before its process tree is killed. */
  cancelGraceMs?: number;
  /** Time from `stop` until a server that has not exited is killed (default STOP_GRACE_MS). */
  stopGraceMs?: number;
  outputCapBytes?: number;
  /** The Node the load generator runs on (default: this process's; the editor passes its own). */
  loadNodePath?: string;
  loadEnv?: NodeJS.ProcessEnv;
  /** The load generator; default: src/serve/load's (tests may give one of their own). */
  runLoad?: RunLoad;
  signal?: AbortSignal;
  onProgress?(p: ServeProgress): void;
  onStderr?(text: string): void;
  onSpawn?(command: string, args: string[]): void;
  /** Each variant as it ends (for live views). */
  onVariant?(v: VariantInputs): void;
}

/**
 * Errors after which no other variant can fare better: every variant imports the same
 * app in the same runtime the same way. A crash, a start timeout, a server that would not
 * stop may be the variant's own (one process's memory, one loop's stall): the next runs.
 */
const SESSION_ENDING: ReadonlySet<RunError['kind']> = new Set<RunError['kind']>([
  'syntax-error', 'import-error', 'target-not-found', 'unsupported-target', 'interpreter-not-found', 'protocol-error',
]);

/** The variants asked for, in the order they run and are shown. */
export function serveVariants(processes?: number | null, threadTokens?: number | null): ServeVariant[] {
  return [
    { name: 'as-written', processes: 1, threadTokens: null },
    ...(processes ? [{ name: 'processes' as const, processes, threadTokens: null }] : []),
    ...(threadTokens ? [{ name: 'threads' as const, processes: 1, threadTokens }] : []),
  ];
}

/**
 * The session's limit when none is given: each variant's start-up, warm-up, measured
 * part, the last requests' timeout and the server's stop, with room to spare.
 */
export function defaultServeTimeoutS(settings: Pick<ServeSettings, 'warmupS' | 'durationS'>, variants: number, startTimeoutS: number = SERVE_KNOBS.startTimeoutS.default): number {
  return Math.ceil(variants * (startTimeoutS + settings.warmupS + settings.durationS + (REQUEST_TIMEOUT_MS + STOP_GRACE_MS) / 1000));
}

export function runtimeOfApp(app: ServeApp): RuntimeName {
  return app.type === 'asgi' ? 'python' : 'node';
}

export async function runServe(opts: ServeOptions): Promise<ServeInputs> {
  const variants = opts.variants ?? serveVariants(opts.processes, opts.threadTokens);
  const startTimeoutS = opts.startTimeoutS ?? SERVE_KNOBS.startTimeoutS.default;
  const timeoutS = opts.timeoutS ?? defaultServeTimeoutS(opts.settings, variants.length, startTimeoutS);
  const deadline = opts.deadline ?? Date.now() + timeoutS * 1000;
  const runtimeName = runtimeOfApp(opts.app);
  const engine = ENGINE_RUNTIMES[runtimeName];
  const script = path.join(engine.chosenSidecarDir(opts) ?? defaultSidecarDir(runtimeName), engine.serveEntry);
  const cwd = opts.app.type === 'asgi' ? opts.app.appDir : opts.workspaceRoot ?? path.dirname(opts.app.script);
  const inputs: ServeInputs = {
    app: opts.app, runtime: null, settings: opts.settings, variants: [], error: null,
    createdAt: new Date().toISOString(), workspaceRoot: opts.workspaceRoot,
  };
  const candidates = engine.candidates(opts);
  // The runtime that started the first harness serves the rest: names are tried once.
  let proven: Candidate | null = null;
  for (const variant of variants) {
    if (!inputs.error && opts.signal?.aborted) inputs.error = { kind: 'cancelled', message: 'cancelled before the variant started', detail: null };
    if (!inputs.error && Date.now() >= deadline) inputs.error = { kind: 'timeout', message: `gave up after ${timeoutS} s (--timeout), before ${variantPhrase(variant)} started`, detail: null };
    if (inputs.error) {
      // Reported once, on the session: the variants it kept from running say nothing more.
      inputs.variants.push(skipped(variant));
      continue;
    }
    let run: VariantRun | null = null;
    const tries: Candidate[] = proven ? [proven] : candidates;
    for (const candidate of tries) {
      run = await runVariant({
        candidate, runtimeName, script, cwd, env: engine.env(candidate), app: opts.app, variant, settings: opts.settings,
        startTimeoutS, deadline, timeoutS, graceMs: opts.cancelGraceMs ?? 1000, stopGraceMs: opts.stopGraceMs ?? STOP_GRACE_MS, outputCapBytes: opts.outputCapBytes ?? DEFAULT_OUTPUT_CAP_BYTES,
        runLoad: opts.runLoad ?? runLoad, loadNodePath: opts.loadNodePath, loadEnv: opts.loadEnv, signal: opts.signal,
        onProgress: opts.onProgress, onStderr: opts.onStderr, onSpawn: opts.onSpawn,
      });
      if (run.notFound) continue;
      if (run.runtime) proven = candidate;
      break;
    }
    if (!run || run.notFound) {
      const rt = RUNTIMES[runtimeName];
      const e: RunError = { kind: 'interpreter-not-found', message: `no ${rt.runtimeNoun} found (tried ${candidates.map((c) => c.command).join(', ')})`, detail: rt.fixHint };
      inputs.variants.push({ ...skipped(variant), status: 'failed', error: e, ...(run ? { output: run.inputs.output } : {}) });
      inputs.error = e;
      continue;
    }
    inputs.runtime ??= run.runtime;
    inputs.variants.push(run.inputs);
    opts.onVariant?.(run.inputs);
    if (run.ended) inputs.error = run.ended;
    else if (run.inputs.error && SESSION_ENDING.has(run.inputs.error.kind)) inputs.error = run.inputs.error;
  }
  return inputs;
}

function skipped(variant: ServeVariant): VariantInputs {
  return {
    variant, status: 'skipped', error: null, ready: null, load: null, server: [],
    output: { stdout: '', stderr: '', truncated: false, stdoutBytes: 0, stderrBytes: 0 },
  };
}
