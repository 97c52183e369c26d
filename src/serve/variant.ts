/**
 * One variant of a service-mode session: the server harness started in the user's
 * runtime, told what to serve, loaded once it listens, its window opened when the
 * warm-up ends and closed when the load does; every process of it ended before this
 * resolves (SidecarProcess: the group, the run tag). A small state machine:
 * `starting → listening → loading → stopping → ended`, each step bounded.
 */
import { randomBytes } from 'node:crypto';
import { serverCrashError } from '../engine/crashMessages';
import { oomEvidence, readOomKills } from '../engine/oomKills';
import type { Candidate } from '../engine/runtimes';
import { SidecarProcess } from '../engine/sidecarProcess';
import { RuntimeInfo, RuntimeName, RUNTIMES } from '../shared/modes';
import type { CapturedOutput, RunError, Runtime } from '../shared/protocol';
import { SERVE_PROTOCOL_VERSION, ServeApp, ServeHostMessage, ServePlan, ServeSidecarMessage } from '../shared/protocol/serve';
import type { ServeSettings, ServeVariant, VariantInputs } from './inputs';
import type { LoadOptions, LoadPlan, LoadResult, LoadProgress } from './load/types';
import { LoadAbortError } from './load';

/** Python starts in well under a second; 20 s covers a cold start behind antivirus (as function mode's HELLO_DEADLINE_MS). */
export const SERVE_HELLO_DEADLINE_MS = 20_000;
/** Past the plan's start timeout, which the harness enforces itself and reports: the host's backstop for one that cannot. */
export const READY_MARGIN_MS = 5_000;
/** From `stop` to the harness's exit: the window sent, lifespan shutdown, the processes ended. */
export const STOP_GRACE_MS = 10_000;
/** A request not answered this long after its intended start failed (`timeout`). */
export const REQUEST_TIMEOUT_MS = 10_000;
/** The load generator's connections: enough that a stall at the default rates queues on the server, not in the generator. */
export const MAX_CONNECTIONS = 100;

export type ServePhase = 'starting' | LoadProgress['phase'] | 'stopping';

export interface ServeProgress {
  /** As the report names it: `as written`, `2 processes`, `8 threads`. */
  variant: string;
  phase: ServePhase;
  elapsedMs: number;
  sent: number;
  completed: number;
}

export type RunLoad = (plan: LoadPlan, options?: LoadOptions) => Promise<LoadResult>;

export interface VariantContext {
  candidate: Candidate;
  runtimeName: RuntimeName;
  /** The harness's entry script. */
  script: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  app: ServeApp;
  variant: ServeVariant;
  settings: ServeSettings;
  startTimeoutS: number;
  /** The session's deadline (ms since the epoch) and its --timeout, for the message. */
  deadline: number;
  timeoutS: number;
  graceMs: number;
  /** From `stop` to the kill (STOP_GRACE_MS unless a test says otherwise). */
  stopGraceMs: number;
  outputCapBytes: number;
  runLoad: RunLoad;
  loadNodePath?: string;
  loadEnv?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  onProgress?(p: ServeProgress): void;
  onStderr?(text: string): void;
  onSpawn?(command: string, args: string[]): void;
}

export interface VariantRun {
  inputs: VariantInputs;
  /** From the harness's hello; null when it never said it. */
  runtime: Runtime | null;
  /** The runtime was not found under a name tried by default (ENOENT): the session tries the next. */
  notFound: boolean;
  /** The session ends here: cancelled, or its deadline passed. */
  ended: RunError | null;
}

const NO_OUTPUT: CapturedOutput = { stdout: '', stderr: '', truncated: false, stdoutBytes: 0, stderrBytes: 0 };

/** `as written`, `2 processes`, `8 threads`: how progress lines name a variant. */
export function variantLabel(v: ServeVariant): string {
  if (v.name === 'processes') return `${v.processes} processes`;
  if (v.name === 'threads') return `${v.threadTokens} threads`;
  return 'as written';
}

/** `the app as written`, `the app in 2 server processes`, `the app with 8 AnyIO thread tokens`: how messages name a variant. */
export function variantPhrase(v: ServeVariant): string {
  if (v.name === 'processes') return `the app in ${v.processes} server processes`;
  if (v.name === 'threads') return `the app with ${v.threadTokens} AnyIO thread tokens`;
  return 'the app as written';
}

export function servePlan(c: Pick<VariantContext, 'app' | 'variant' | 'settings' | 'startTimeoutS' | 'runtimeName'>): ServePlan {
  const sampling: RuntimeInfo['attribution'] = RUNTIMES[c.runtimeName].attribution;
  const { intervalMs, rearmMs } = sampling;
  return {
    app: c.app,
    processes: c.variant.processes,
    threadTokens: c.variant.threadTokens,
    port: 0,
    // A fresh path per run: it never shadows a user route, and no earlier run's client hits it.
    pingPath: `/__looplag/ping-${randomBytes(8).toString('hex')}`,
    heartbeatMs: c.settings.heartbeatMs,
    attribution: { enabled: c.settings.attribution, intervalMs, ...(rearmMs !== undefined ? { rearmMs } : {}) },
    startTimeoutS: c.startTimeoutS,
  };
}

export async function runVariant(c: VariantContext): Promise<VariantRun> {
  const label = variantLabel(c.variant);
  const rt = RUNTIMES[c.runtimeName];
  const command = c.candidate.command;
  const plan = servePlan(c);
  const inputs: VariantInputs = { variant: c.variant, status: 'failed', error: null, ready: null, load: null, server: [], output: NO_OUTPUT };
  const notes: string[] = [];
  let runtime: Runtime | null = null;
  let ended: RunError | null = null;
  const fail = (e: RunError) => {
    inputs.error ??= e;
  };
  let step: 'starting' | 'loading' | 'stopping' = 'starting';
  let sawHello = false;
  let sawDone = false;
  let sawWindow = false;
  let killedAfterStop = false;
  const loadAbort = new AbortController();
  let load: Promise<void> | null = null;
  let readyTimer: NodeJS.Timeout | undefined;
  let stopTimer: NodeJS.Timeout | undefined;
  const progress = (phase: ServePhase, p?: LoadProgress) =>
    c.onProgress?.({ variant: label, phase, elapsedMs: p?.elapsedMs ?? 0, sent: p?.sent ?? 0, completed: p?.completed ?? 0 });

  /** The polite end: the window, lifespan shutdown, exit; killed after the grace when it does not come. */
  const stop = () => {
    if (step === 'stopping') return;
    step = 'stopping';
    progress('stopping');
    harness.send({ type: 'stop' });
    stopTimer = setTimeout(() => {
      killedAfterStop = true;
      harness.kill();
    }, c.stopGraceMs);
  };
  const startLoad = (port: number) => {
    step = 'loading';
    const loadPlan: LoadPlan = {
      origin: `http://127.0.0.1:${port}`,
      targets: c.settings.endpoints,
      ratePerS: c.settings.ratePerS,
      probe: c.settings.probeRatePerS > 0 ? { path: plan.pingPath, ratePerS: c.settings.probeRatePerS } : null,
      warmupMs: c.settings.warmupS * 1000,
      durationMs: c.settings.durationS * 1000,
      timeoutMs: REQUEST_TIMEOUT_MS,
      maxConnections: MAX_CONNECTIONS,
    };
    load = c.runLoad(loadPlan, {
      nodePath: c.loadNodePath,
      env: c.loadEnv,
      signal: loadAbort.signal,
      // When the load's measured part began: a harness that reads `measure` late (a stall) starts its window there.
      onMeasureStart: (t0EpochMs) => harness.send({ type: 'measure', t0EpochMs }),
      onProgress: (p) => progress(p.phase, p),
    }).then((result) => {
      inputs.load = result;
    }, (e: unknown) => {
      // Cut by us (cancel, timeout, the server gone): that is already the error; the figures up to the cut are kept.
      if (e instanceof LoadAbortError) inputs.load = e.partial;
      if (!loadAbort.signal.aborted) fail({ kind: 'internal-error', message: `the load generator failed: ${e instanceof Error ? e.message : String(e)}`, detail: e instanceof Error ? e.stack ?? null : null });
    }).finally(stop);
  };

  const onMessage = (m: ServeSidecarMessage) => {
    switch (m.type) {
      case 'hello':
        clearTimeout(helloTimer);
        sawHello = true;
        runtime = c.candidate.label ? { ...m.runtime, implementation: `${m.runtime.implementation}, ${c.candidate.label}` } : m.runtime;
        if (m.protocol !== SERVE_PROTOCOL_VERSION) {
          fail({ kind: 'protocol-error', message: `the server harness speaks protocol ${m.protocol}, host ${SERVE_PROTOCOL_VERSION}`, detail: null });
          harness.kill();
          return;
        }
        harness.send({ type: 'start', protocol: SERVE_PROTOCOL_VERSION, plan });
        readyTimer = setTimeout(() => {
          fail({ kind: 'timeout', message: `the app did not start listening within ${c.startTimeoutS} s (import, lifespan startup, listen)`, detail: null });
          harness.kill();
        }, c.startTimeoutS * 1000 + READY_MARGIN_MS);
        break;
      case 'ready':
        clearTimeout(readyTimer);
        // Listening after a cancel, a deadline or an error: no load for a run that is ending.
        if (step !== 'starting' || inputs.error) return;
        inputs.ready = { port: m.port, pids: m.pids, routes: m.routes, server: m.server, startupMs: m.startupMs };
        startLoad(m.port);
        break;
      case 'window':
        sawWindow = true;
        inputs.server = m.processes;
        break;
      case 'error':
        clearTimeout(readyTimer);
        fail(m.error);
        // The harness ends itself after an error; the load has nothing left to measure.
        loadAbort.abort();
        void harness.cancel(c.graceMs);
        break;
      case 'done':
        sawDone = true;
        break;
    }
  };

  const args = [c.script];
  c.onSpawn?.(command, args);
  progress('starting');
  const oomBefore = readOomKills();
  const harness = new SidecarProcess<ServeSidecarMessage, ServeHostMessage>({
    command, args, cwd: c.cwd, env: c.env, outputCapBytes: c.outputCapBytes,
    parse: (value) => ServeSidecarMessage.parse(value),
    cancelMessage: () => ({ type: 'stop' }),
    onMessage, onStderr: c.onStderr,
  });
  const helloTimer = setTimeout(() => {
    if (sawHello) return;
    fail({ kind: 'interpreter-not-found', message: `\`${command}\` did not start the Loop Lag server harness within ${SERVE_HELLO_DEADLINE_MS / 1000} s; is it a working ${rt.minVersion}?`, detail: rt.fixHint });
    harness.kill();
  }, SERVE_HELLO_DEADLINE_MS);
  // Cancel and the session's deadline end the load and the server at once: the server is
  // asked for what it measured (stop), then killed after the grace, whatever it does.
  const endSession = (e: RunError) => {
    ended ??= e;
    fail(e);
    loadAbort.abort();
    void harness.cancel(c.graceMs);
  };
  const deadlineTimer = setTimeout(() => endSession({
    kind: 'timeout', message: `gave up after ${c.timeoutS} s (--timeout) with ${variantPhrase(c.variant)}, ${step === 'starting' ? 'while the app was starting' : step === 'loading' ? 'under load' : 'while the server was stopping'}`, detail: null,
  }), Math.max(0, c.deadline - Date.now()));
  const onAbort = () => endSession({ kind: 'cancelled', message: `cancelled with ${variantPhrase(c.variant)} ${step === 'starting' ? 'starting' : step === 'loading' ? 'under load' : 'stopping'}`, detail: null });
  if (c.signal?.aborted) onAbort();
  else c.signal?.addEventListener('abort', onAbort, { once: true });

  const exit = await harness.stopped;
  // The server is gone: a load still running measures nothing but refused connections.
  const stepAtExit = step;
  loadAbort.abort();
  await load;
  for (const t of [helloTimer, readyTimer, stopTimer, deadlineTimer]) clearTimeout(t);
  c.signal?.removeEventListener('abort', onAbort);
  inputs.output = exit.output;

  if (exit.spawnError && exit.spawnError.code === 'ENOENT' && !c.candidate.explicit) {
    return { inputs, runtime, notFound: true, ended };
  }
  if (exit.spawnError) {
    fail({ kind: 'interpreter-not-found', message: `cannot start ${rt.startNoun} \`${command}\`: ${exit.spawnError.message}`, detail: rt.fixHint });
  } else if (exit.protocolError && !sawHello) {
    fail({
      kind: 'interpreter-not-found',
      message: `\`${command}\` did not start the Loop Lag server harness (its first output was not the harness's hello); is it a working ${rt.minVersion}?`,
      detail: [exit.protocolError, exit.stderrTail].filter(Boolean).join('\n'),
    });
  } else if (exit.foreignWrite) {
    fail({ kind: 'protocol-error', message: exit.foreignWrite, detail: exit.stderrTail || null });
  } else if (exit.protocolError) {
    fail({ kind: 'protocol-error', message: `the server harness sent an invalid message: ${exit.protocolError}`, detail: exit.stderrTail || null });
  } else if (killedAfterStop && !sawWindow) {
    fail({ kind: 'timeout', message: `the server sent no window within ${c.stopGraceMs / 1000} s of being told to stop (its loop blocked, or the harness hung) and was killed`, detail: exit.stderrTail || null });
  } else if (killedAfterStop) {
    notes.push(`The server did not end within ${c.stopGraceMs / 1000} s of its window (lifespan shutdown, or a loop still blocked) and was killed.`);
  } else if (!sawDone && !inputs.error) {
    const where = stepAtExit === 'starting' ? 'while the app was starting' : stepAtExit === 'loading' ? 'under load' : 'while stopping';
    fail(serverCrashError(exit, !sawHello, command, c.runtimeName, oomEvidence(oomBefore, readOomKills()), where));
  }
  if (!inputs.error) inputs.status = 'ok';
  if (notes.length) inputs.notes = notes;
  return { inputs, runtime, notFound: false, ended };
}
