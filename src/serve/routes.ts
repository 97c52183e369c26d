/**
 * The routes an app declares, as its server harness reports them in `ready` (FastAPI and
 * Starlette: `app.routes`; Express: its router stack): the harness is started as for a
 * variant (one process, no attribution), and told to stop as soon as it listens. Used by
 * the editor's Measure Endpoint to offer the app's endpoints; every process ends before
 * this resolves, as for a run (SidecarProcess: the group, the run tag).
 */
import * as path from 'node:path';
import { serverCrashError } from '../engine/crashMessages';
import { Candidate, ENGINE_RUNTIMES, SidecarChoice, defaultSidecarDir } from '../engine/runtimes';
import { DEFAULT_OUTPUT_CAP_BYTES } from '../engine/runPlan';
import { SidecarProcess } from '../engine/sidecarProcess';
import { RUNTIMES } from '../shared/modes';
import type { RunError, Runtime } from '../shared/protocol';
import { SERVE_PROTOCOL_VERSION, ServeApp, ServeHostMessage, ServeRoute, ServeSidecarMessage } from '../shared/protocol/serve';
import { SERVE_KNOBS } from '../shared/serveSettings';
import { KNOBS } from '../shared/settings';
import { runtimeOfApp } from './session';
import { READY_MARGIN_MS, SERVE_HELLO_DEADLINE_MS, STOP_GRACE_MS, servePlan } from './variant';

export interface RoutesOptions extends SidecarChoice {
  app: ServeApp;
  workspaceRoot: string | null;
  startTimeoutS?: number;
  signal?: AbortSignal;
  onStderr?(text: string): void;
  onSpawn?(command: string, args: string[]): void;
}

export type RoutesResult =
  | { ok: true; routes: ServeRoute[]; runtime: Runtime | null; server: string }
  | { ok: false; error: RunError };

export async function listRoutes(opts: RoutesOptions): Promise<RoutesResult> {
  const runtimeName = runtimeOfApp(opts.app);
  const engine = ENGINE_RUNTIMES[runtimeName];
  const script = path.join(engine.chosenSidecarDir(opts) ?? defaultSidecarDir(runtimeName), engine.serveEntry);
  const cwd = opts.app.type === 'asgi' ? opts.app.appDir : opts.workspaceRoot ?? path.dirname(opts.app.script);
  const candidates = engine.candidates(opts);
  for (const candidate of candidates) {
    const r = await tryCandidate(opts, candidate, script, cwd);
    if (r !== 'not-found') return r;
  }
  const rt = RUNTIMES[runtimeName];
  return { ok: false, error: { kind: 'interpreter-not-found', message: `no ${rt.runtimeNoun} found (tried ${candidates.map((c) => c.command).join(', ')})`, detail: rt.fixHint } };
}

async function tryCandidate(opts: RoutesOptions, candidate: Candidate, script: string, cwd: string): Promise<RoutesResult | 'not-found'> {
  const runtimeName = runtimeOfApp(opts.app);
  const rt = RUNTIMES[runtimeName];
  const startTimeoutS = opts.startTimeoutS ?? SERVE_KNOBS.startTimeoutS.default;
  const plan = servePlan({
    app: opts.app, runtimeName, startTimeoutS,
    variant: { name: 'as-written', processes: 1, threadTokens: null },
    settings: { heartbeatMs: KNOBS.heartbeatMs.default, attribution: false, ratePerS: 1, durationS: 1, warmupS: 0, probeRatePerS: 0, endpoints: [], budgetMs: null, stallMs: KNOBS.stallMs.default },
  });
  let error: RunError | null = null;
  let runtime: Runtime | null = null;
  let ready: Extract<ServeSidecarMessage, { type: 'ready' }> | null = null;
  let sawHello = false;
  const timers: NodeJS.Timeout[] = [];
  const fail = (e: RunError) => {
    error ??= e;
    harness.kill();
  };
  opts.onSpawn?.(candidate.command, [script]);
  const harness = new SidecarProcess<ServeSidecarMessage, ServeHostMessage>({
    command: candidate.command, args: [script], cwd, env: engine(candidate, runtimeName), outputCapBytes: DEFAULT_OUTPUT_CAP_BYTES,
    parse: (value) => ServeSidecarMessage.parse(value),
    cancelMessage: () => ({ type: 'stop' }),
    onStderr: opts.onStderr,
    onMessage: (m) => {
      if (m.type === 'hello') {
        sawHello = true;
        runtime = m.runtime;
        if (m.protocol !== SERVE_PROTOCOL_VERSION) return fail({ kind: 'protocol-error', message: `the server harness speaks protocol ${m.protocol}, host ${SERVE_PROTOCOL_VERSION}`, detail: null });
        harness.send({ type: 'start', protocol: SERVE_PROTOCOL_VERSION, plan });
        timers.push(setTimeout(() => fail({ kind: 'timeout', message: `the app did not start listening within ${startTimeoutS} s (import, lifespan startup, listen)`, detail: null }), startTimeoutS * 1000 + READY_MARGIN_MS));
      } else if (m.type === 'ready') {
        ready = m;
        // Listening: the routes are known; the app's lifespan shutdown runs as after a run.
        harness.send({ type: 'stop' });
        timers.push(setTimeout(() => harness.kill(), STOP_GRACE_MS));
      } else if (m.type === 'error') {
        error ??= m.error;
        void harness.cancel(1000);
      }
    },
  });
  timers.push(setTimeout(() => sawHello || fail({ kind: 'interpreter-not-found', message: `\`${candidate.command}\` did not start the Loop Lag server harness within ${SERVE_HELLO_DEADLINE_MS / 1000} s; is it a working ${rt.minVersion}?`, detail: rt.fixHint }), SERVE_HELLO_DEADLINE_MS));
  const onAbort = () => {
    error ??= { kind: 'cancelled', message: 'cancelled while listing the app\'s routes', detail: null };
    void harness.cancel(1000);
  };
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  const exit = await harness.stopped;
  for (const t of timers) clearTimeout(t);
  opts.signal?.removeEventListener('abort', onAbort);
  if (exit.spawnError?.code === 'ENOENT' && !candidate.explicit) return 'not-found';
  const found = ready as Extract<ServeSidecarMessage, { type: 'ready' }> | null;
  if (found && !error) return { ok: true, routes: found.routes, runtime, server: found.server };
  if (!error) {
    error = exit.spawnError
      ? { kind: 'interpreter-not-found', message: `cannot start ${rt.startNoun} \`${candidate.command}\`: ${exit.spawnError.message}`, detail: rt.fixHint }
      : exit.protocolError && !sawHello
        ? { kind: 'interpreter-not-found', message: `\`${candidate.command}\` did not start the Loop Lag server harness; is it a working ${rt.minVersion}?`, detail: [exit.protocolError, exit.stderrTail].filter(Boolean).join('\n') }
        : serverCrashError(exit, !sawHello, candidate.command, runtimeName, null, 'while the app was starting');
  }
  return { ok: false, error };
}

function engine(candidate: Candidate, runtimeName: ReturnType<typeof runtimeOfApp>): NodeJS.ProcessEnv {
  return ENGINE_RUNTIMES[runtimeName].env(candidate);
}
