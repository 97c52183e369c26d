import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { buildReport, SessionState, toModeRun, withCancelSummary } from '../report/buildReport';
import { cancelledMessage } from '../report/cancelText';
import type { CapturedOutput, Mode, ModeRun, RawWindow, Report, RunError, RunPlan, RunSettings, RunTarget, SidecarMessage } from '../shared/protocol';
import { PROTOCOL_VERSION } from '../shared/protocol';
import { RUNTIME_OF, runtimeOf, RUNTIMES } from '../shared/modes';
import { taskStats } from '../stats/lagStats';
import { targetSourceHash } from '../fixes/functionSource';
import { crashError, movedDuringRun, timeoutError } from './crashMessages';
import { editorRootPid, withEditorPid } from './editorProcess';
import { ProgressThrottle } from './progressThrottle';
import { oomEvidence, readOomKills } from './oomKills';
import { runPlanFor, sessionSettings } from './runPlan';
import { engineRuntime, resolveFreeThreaded, SidecarChoice, sidecarScript } from './runtimes';
import { hangSite, SidecarWatch } from './sidecarWatch';
import { SidecarProcess } from './sidecarProcess';

export interface Progress {
  mode: string;
  phase: 'starting' | 'warming' | 'running' | 'draining' | 'done';
  done: number;
  /** Calls the window runs; 0 while a sweep's rounds run (as many calls as their time needs). */
  total: number;
}

export interface RunOptions extends SidecarChoice {
  target: RunTarget & { workspaceRoot: string | null };
  settings: RunSettings;
  /**
   * Python: also run thread mode under a free-threaded interpreter (a path, or 'auto' for
   * python3.14t/python3.13t on PATH), shown as its own `free-threaded` column.
   */
  freeThreaded?: string | null;
  /** Python: the one-thread diagnostic window before thread mode (default true). */
  diagnostic?: boolean;
  /** A worker sweep: a window per count for each pool mode (see runSweep). */
  sweepWorkers?: number[];
  /** A sweep's rounds per window (see RunPlan.sweepRounds). */
  sweepRounds?: RunPlan['sweepRounds'];
  baselineMs?: number;
  outputCapBytes?: number;
  /** Time the sidecar gets to stop politely before its process tree is killed. */
  cancelGraceMs?: number;
  signal?: AbortSignal;
  onProgress?(progress: Progress): void;
  /** Each mode as it finishes, with the report so far (for live views). */
  onRun?(run: ModeRun, partial: Report): void;
  onStderr?(text: string): void;
  /** The command line used, for logs and bug reports. */
  onSpawn?(command: string, args: string[]): void;
  /**
   * The editor's root process, whose processes' CPU is not background load: a pid, or
   * 'self' for the root above this process (the extension host; editorProcess.ts).
   */
  editorPid?: number | 'self' | null;
}

/** Python starts in well under a second; 20 s covers a cold start behind antivirus. */
export const HELLO_DEADLINE_MS = 20_000;

/**
 * Measure one target in every requested mode. Never rejects for problems with the
 * user's code or interpreter: those end up in `report.error` and the runs' errors,
 * with everything measured before them kept.
 */
export async function runSession(opts: RunOptions): Promise<Report> {
  const started = Date.now();
  // The file as the sidecar is about to read it: what was measured, by its source.
  const text = await fs.readFile(opts.target.file, 'utf8').catch(() => null);
  const state = await measureIsolated(opts);
  state.sourceHash = sourceHashOf(text, opts.target, state);
  const ft = runtimeOf(opts.target.language).freeThreaded && state.settings.modes.includes('thread') && !state.error && !opts.signal?.aborted
    ? resolveFreeThreaded(opts.freeThreaded)
    : null;
  if (ft && state.runtime && !state.runtime.gilEnabled) {
    (state.notes ??= []).push(`${state.runtime.executable} already runs without the GIL: no separate free-threaded comparison.`);
  } else if (ft) {
    // Thread mode again under the free-threaded interpreter: its own sidecar, the same
    // target and settings, within what is left of the time budget.
    opts.onProgress?.({ mode: 'free-threaded', phase: 'starting', done: 0, total: state.settings.concurrency });
    const leftS = Math.max(1, opts.settings.timeoutS - (Date.now() - started) / 1000);
    const second = await measure({
      ...opts,
      python: ft,
      freeThreaded: null,
      diagnostic: false,
      baselineMs: 100,
      settings: { ...opts.settings, modes: ['thread'], timeoutS: leftS },
      onRun: undefined,
      onProgress: opts.onProgress && ((p) => opts.onProgress!({ ...p, mode: p.mode === 'thread' ? 'free-threaded' : p.mode })),
    });
    const window = second.windows.find((w) => w.mode === 'thread');
    const rt = second.runtime;
    // The GIL state after the import counts: a C extension without free-threading support re-enables it.
    const gilOn = second.resolved?.gilEnabled ?? rt?.gilEnabled ?? true;
    if (second.error && (second.error.kind === 'cancelled' || second.error.kind === 'timeout')) {
      // Stopping during the comparison stops the session: the exit code must say so.
      state.error = second.error;
      if (window) state.windows.push({ ...window, mode: 'free-threaded', interpreter: rt ? `${rt.implementation} ${rt.version} (free-threaded)` : ft, gilEnabled: false });
    } else if (window && rt && !gilOn) {
      state.windows.push({ ...window, mode: 'free-threaded', interpreter: `${rt.implementation} ${rt.version} (free-threaded)`, gilEnabled: false });
      opts.onRun?.(toModeRun(state.windows[state.windows.length - 1], state.settings), buildReport(state));
    } else {
      (state.notes ??= []).push(rt && gilOn
        ? (rt.gilEnabled
          ? `${ft} runs with the GIL enabled (not a free-threaded build, or PYTHON_GIL=1): no free-threaded comparison.`
          : `${ft} turned the GIL back on while importing the target (a C extension without free-threading support): no free-threaded comparison.`)
        : `The free-threaded comparison with ${ft} did not run: ${second.error?.message ?? 'no thread-mode result'}.`);
    }
  }
  return buildReport(withCancelSummary(state, 'run'));
}

/**
 * `report.target.sourceHash`: the hash of the measured function's definition (or the selected
 * lines) in the file as read when the run started; none for a function another file defines
 * (a re-export) or one the text does not hold.
 */
function sourceHashOf(text: string | null, target: RunTarget, state: SessionState): string | undefined {
  if (text === null || state.resolved?.definedIn) return undefined;
  return targetSourceHash(text, { ...target, line: state.resolved?.line ?? null });
}

/**
 * Past this inline call time (median) the one-thread diagnostic is skipped: it costs one
 * more call. The sidecar applies the same limit when it measured inline itself.
 */
export const DIAGNOSTIC_MAX_CALL_MS = 5000;

/** How long past --call-timeout a silent sidecar gets before the host ends it (its own cut comes first when it can act). */
export const CALL_TIMEOUT_GRACE_MS = 1500;
const WATCHDOG_POLL_MS = 100;

/** Errors after which no other mode can fare better: every sidecar loads the same target the same way. */
const SESSION_ENDING: ReadonlySet<RunError['kind']> = new Set<RunError['kind']>([
  'syntax-error', 'import-error', 'target-not-found', 'unsupported-target', 'bad-arguments',
  'interpreter-not-found', 'protocol-error', 'internal-error', 'cancelled', 'timeout',
]);

/**
 * Every mode in a fresh sidecar of its own (same target and settings; the baseline in
 * the first, Python's diagnostic in thread mode's), merged into one state. A mode then
 * starts from the same clean process whatever ran before it: no memory grown by another
 * mode's calls for a fork to copy, no stdout closed by an inline call, no threads left
 * behind; and a sidecar crashing in one mode loses that mode only. One deadline covers
 * them all, and a cancel stops the one running and starts no other.
 */
export async function measureIsolated(opts: RunOptions): Promise<SessionState> {
  const modes = opts.settings.modes;
  if (modes.length <= 1 || opts.sweepWorkers) return measure(opts);
  const state = newState(opts);
  state.settings = { ...state.settings, isolatedModes: true };
  const sessionDeadline = Date.now() + opts.settings.timeoutS * 1000;
  for (const [i, mode] of modes.entries()) {
    if (Date.now() >= sessionDeadline) {
      if (!state.error || state.error.kind === 'crashed') state.error = timeoutError(opts.settings.timeoutS, state.windows.length, `before ${mode} mode started`);
      break;
    }
    const inline = state.windows.find((w) => w.mode === 'inline' && w.status === 'ok');
    const inlineCallMs = inline ? taskStats(inline.tasks).runP50Ms : null;
    const part: Part = { state, modes: [mode], deadline: sessionDeadline };
    const error = await measure({
      ...opts,
      baselineMs: i === 0 ? opts.baselineMs : 0,
      diagnostic: (opts.diagnostic ?? true) && !(inlineCallMs !== null && inlineCallMs > DIAGNOSTIC_MAX_CALL_MS),
    }, part);
    if (error && error.kind === 'crashed' && !state.windows.some((w) => w.mode === mode)) {
      // The crash is this mode's: it gets a run saying so, with what was printed up to
      // the crash, and the next mode a fresh sidecar.
      state.windows.push(notMeasured(mode, error, part.leftover));
    }
    if ((error && SESSION_ENDING.has(error.kind)) || opts.signal?.aborted) break;
  }
  state.finished = true;
  return state;
}

function notMeasured(mode: Mode, error: RunError, output?: CapturedOutput): RawWindow {
  return {
    mode, status: 'skipped', error, wallMs: 0, startupMs: null, workers: null, tasks: [], samples: [], gilWaitsMs: null,
    cpu: { userMs: 0, systemMs: 0 }, backgroundCpuFrac: null,
    output: output ?? { stdout: '', stderr: '', truncated: false, stdoutBytes: 0, stderrBytes: 0 },
  };
}

function newState(opts: RunOptions): SessionState {
  return {
    target: opts.target,
    settings: sessionSettings(opts.target.language, opts.settings),
    createdAt: new Date(),
    runtime: null,
    resolved: null,
    baseline: null,
    windows: [],
    error: null,
    finished: false,
    notes: [],
  };
}

/** One part of a session with per-mode sidecars: the shared state, this sidecar's modes, the session's deadline. */
interface Part {
  state: SessionState;
  modes: Mode[];
  deadline: number;
  /** Set by `measure`: what the sidecar printed after its last window (up to a crash), capped. */
  leftover?: CapturedOutput;
}

/** One sidecar session, as raw state (the sweep builds its own document from it). */
export async function measure(opts: RunOptions): Promise<SessionState>;
/** One sidecar of a session with per-mode sidecars, filling `part.state`; resolves with this sidecar's error. */
export async function measure(opts: RunOptions, part: Part): Promise<RunError | null>;
export async function measure(opts: RunOptions, part?: Part): Promise<SessionState | RunError | null> {
  const state = part?.state ?? newState(opts);
  let ownError: RunError | null = null;
  const fail = (e: RunError) => {
    ownError ??= e;
    // With a sidecar per mode, an earlier mode's crash (kept on that mode's run) must not
    // hide how the session ended afterwards: a cancel or a timeout decides the exit code
    // (130, 124), and a later mode's load failure is what its run and the message name.
    if (state.error?.kind === 'crashed' && e.kind !== 'crashed' && SESSION_ENDING.has(e.kind)) state.error = e;
    else state.error ??= e;
  };
  const done = (): SessionState | RunError | null => {
    if (!part) state.finished = true;
    return part ? ownError : state;
  };
  const runtime = RUNTIME_OF[opts.target.language];
  const rt = RUNTIMES[runtime];
  const engine = engineRuntime(opts.target.language);
  const script = sidecarScript(opts.target.language, opts);
  const plan: RunPlan = runPlanFor(opts, state.settings, part?.modes ?? state.settings.modes);
  const deadline = part?.deadline ?? Date.now() + opts.settings.timeoutS * 1000;
  const grace = opts.cancelGraceMs ?? 1000;

  const candidates = engine.candidates(opts);
  for (const candidate of candidates) {
    const python = candidate.command;
    if (opts.signal?.aborted) {
      fail({ kind: 'cancelled', message: 'cancelled before the run started', detail: null });
      break;
    }
    const args = [script];
    opts.onSpawn?.(python, args);
    // Read around the sidecar's life: a SIGKILL with no new OOM kill was not the kernel's.
    const oomBefore = readOomKills();
    // An earlier sidecar of this session loaded the target: a file gone now was moved or deleted mid-run.
    const loadedBefore = state.resolved !== null;
    const sentModes = new Set<string>();
    let sawDone = false;
    // What a view draws during a window is CPU the window sees: see ProgressThrottle.
    const shown = new ProgressThrottle((p: Progress) => opts.onProgress?.(p));
    // This sidecar's hello, progress and silence (the session's state may hold an earlier sidecar's runtime).
    const watch = new SidecarWatch(Date.now(), Boolean(plan.sweepWorkers));
    const cutBy: { window: RawWindow | null } = { window: null }; // the window the host's watchdog ended this sidecar in
    const onMessage = (m: SidecarMessage) => {
      watch.heard(m, Date.now());
      switch (m.type) {
        case 'hello':
          clearTimeout(helloTimer);
          state.runtime = candidate.label ? { ...m.runtime, implementation: `${m.runtime.implementation}, ${candidate.label}` } : m.runtime;
          if (m.protocol !== PROTOCOL_VERSION) {
            fail({ kind: 'protocol-error', message: `sidecar speaks protocol ${m.protocol}, host ${PROTOCOL_VERSION}`, detail: null });
            sidecar.kill();
          } else {
            sidecar.send({ type: 'start', protocol: PROTOCOL_VERSION, plan });
          }
          break;
        case 'target':
          state.resolved = m.target;
          break;
        case 'progress':
          shown.offer({ mode: m.mode, phase: m.phase, done: m.done, total: m.total });
          break;
        case 'window':
          shown.windowEnded();
          if (m.window.mode === 'baseline') {
            if (plan.baselineMs > 0) state.baseline = m.window; // a 0 ms one (Node) is no baseline
          } else if (m.window.mode === 'diagnostic') {
            state.diagnostic = m.window;
          } else if (!opts.sweepWorkers && sentModes.has(m.window.mode)) {
            // A cut window can come twice: from the cancel thread while the loop was
            // blocked, and from the loop once it got free before the sidecar ended.
          } else {
            sentModes.add(m.window.mode);
            state.windows.push(m.window);
            opts.onRun?.(toModeRun(m.window, state.settings), buildReport(state));
          }
          break;
        case 'error':
          // After the host's call-timeout cut, the sidecar's "cancelled" is ours, not the user's.
          if (!cutBy.window) fail(movedDuringRun(m.error, loadedBefore, plan.target.file));
          break;
        case 'done':
          sawDone = true;
          break;
      }
    };
    const sidecar: SidecarProcess = new SidecarProcess({
      command: python,
      args,
      cwd: opts.target.workspaceRoot ?? path.dirname(plan.target.file),
      env: withEditorPid(engine.env(candidate), opts.editorPid === 'self' ? editorRootPid() : opts.editorPid),
      outputCapBytes: plan.outputCapBytes,
      onMessage,
      onStderr: opts.onStderr,
    });
    // An "interpreter" that hangs without a word (a wrapper waiting for input, a broken
    // launcher) is not a runtime running our sidecar: say so rather than wait for --timeout.
    // A later sidecar of a session runs an interpreter an earlier one proved: the session's
    // deadline passing before its hello is a timeout, not a broken interpreter.
    const proven = Boolean(part && state.runtime);
    const helloWaitMs = proven ? HELLO_DEADLINE_MS : Math.min(HELLO_DEADLINE_MS, Math.max(0, deadline - Date.now()));
    const noHello = () => {
      if (watch.helloSeen) return;
      fail({
        kind: 'interpreter-not-found',
        message: `\`${python}\` did not start the Loop Lag sidecar within ${Math.round(helloWaitMs / 100) / 10} s; is it a working ${rt.minVersion}?`,
        detail: rt.fixHint,
      });
      sidecar.kill();
    };
    const helloTimer = setTimeout(noHello, helloWaitMs);
    const timer = setTimeout(() => {
      if (!watch.helloSeen && !proven) return noHello(); // both deadlines can fall in the same tick
      fail(timeoutError(opts.settings.timeoutS, state.windows.length, hangSite(watch, opts.target, Date.now())));
      void sidecar.cancel(grace, 'timeout');
    }, Math.max(0, deadline - Date.now()));
    const onAbort = () => {
      // Said again from the session's final windows once it has ended (withCancelSummary).
      fail({ kind: 'cancelled', message: cancelledMessage(state.windows.map((w) => toModeRun(w, state.settings)), opts.sweepWorkers ? 'sweep' : 'run'), detail: null });
      void sidecar.cancel(grace, 'user');
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    // The call timeout, when the sidecar cannot act on it: a call that blocks its loop
    // (a sync JS loop, a pure-Python loop inline) or holds the GIL leaves it silent. No
    // message for the limit plus a grace while calls run: stop it, keep the mode as cut.
    const callLimitMs = (plan.callTimeoutS ?? 0) * 1000;
    const watchdog = callLimitMs > 0 ? setInterval(() => {
      const now = Date.now();
      if (cutBy.window || sidecar.state === 'cancelling' || !watch.stuck(now, callLimitMs + CALL_TIMEOUT_GRACE_MS)) return;
      cutBy.window = watch.cutWindow(now, plan, callLimitMs);
      // Asked first: a loop blocked by time.sleep or pure Python still lets the Python
      // sidecar's cancel thread send the window so far, the stall included. A GIL held by
      // a native call or a sync JS loop cannot answer: killed after the grace, and the
      // host's record of the mode stands.
      void sidecar.cancel(grace, 'call-timeout');
    }, WATCHDOG_POLL_MS) : undefined;
    const exit = await sidecar.stopped;
    shown.dispose();
    clearInterval(watchdog);
    clearTimeout(timer);
    clearTimeout(helloTimer);
    opts.signal?.removeEventListener('abort', onAbort);
    if (part) part.leftover = exit.output;

    if (exit.spawnError && exit.spawnError.code === 'ENOENT' && !candidate.explicit) continue; // try the next name
    if (exit.spawnError) {
      fail({
        kind: 'interpreter-not-found',
        message: `cannot start ${rt.startNoun} \`${python}\`: ${exit.spawnError.message}`,
        detail: rt.fixHint,
      });
    } else if (exit.protocolError && !watch.helloSeen) {
      // Garbage before the hello means `python` is not a Python that ran our sidecar
      // (e.g. --python /bin/echo or a wrapper script): that is the interpreter's fault,
      // not a protocol bug, and the user needs the "set --python" hint.
      fail({
        kind: 'interpreter-not-found',
        message: `\`${python}\` did not start the Loop Lag sidecar (its first output was not the sidecar's hello); is it a working ${rt.minVersion}?`,
        detail: [exit.protocolError, exit.stderrTail].filter(Boolean).join('\n'),
      });
    } else if (exit.foreignWrite) {
      fail({ kind: 'protocol-error', message: exit.foreignWrite, detail: exit.stderrTail || null });
    } else if (exit.protocolError) {
      fail({ kind: 'protocol-error', message: `the sidecar sent an invalid message: ${exit.protocolError}`, detail: exit.stderrTail || null });
    } else if (!sawDone && !ownError && !cutBy.window) {
      fail(crashError(exit, !watch.helloSeen, python, runtime, oomEvidence(oomBefore, readOomKills()), watch.helloSeen ? state.runtime?.heapLimitMb : null));
    }
    const cut = cutBy.window;
    // A sweep's cut: its earlier windows already stand for the mode, so the cut window has
    // no place among them; the session's error says what was cut (exit 5, status partial).
    if (cut && opts.sweepWorkers) fail(cut.error!);
    const why: RunError | null = cut?.error ?? ownError;
    const lost = cut ?? (sawDone || !why ? null : watch.lostWindow(plan, why, sentModes));
    if (lost && !sentModes.has(lost.mode)) {
      // The mode this sidecar was measuring when it was cut or died: its calls are
      // counted (unfinished, or crashed) rather than the mode reading as never measured,
      // with what was printed up to the cut or the crash.
      sentModes.add(lost.mode);
      lost.output = exit.output;
      state.windows.push(lost);
      opts.onRun?.(toModeRun(lost, state.settings), buildReport(state));
    } else if (!part && !opts.sweepWorkers && !sawDone && why?.kind === 'crashed') {
      // One sidecar for the session, crashed outside a window: the mode it crashed in gets
      // a run saying so (with a sidecar per mode, measureIsolated does).
      const reached = plan.modes.find((m) => !state.windows.some((w) => w.mode === m));
      if (reached) state.windows.push(notMeasured(reached, why, exit.output));
    }
    return done();
  }
  fail({
    kind: 'interpreter-not-found',
    message: `no ${rt.runtimeNoun} found (tried ${candidates.map((c) => c.command).join(', ')})`,
    detail: rt.fixHint,
  });
  return done();
}
