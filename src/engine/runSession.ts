import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildReport, ReportSettings, ReportTarget, SessionState } from '../report/buildReport';
import type { CapturedOutput, Mode, ModeRun, RawWindow, Report, RunError, RunPlan, SidecarMessage, TaskRecord } from '../shared/protocol';
import { taskStats } from '../stats/lagStats';
import { PROTOCOL_VERSION } from '../shared/protocol';
import { toModeRun } from '../report/buildReport';
import { describeExit, OomEvidence } from '../shared/crashCause';
import { oomEvidence, readOomKills } from './oomKills';
import { SidecarExit, SidecarProcess } from './sidecarProcess';

export interface Progress {
  mode: string;
  phase: 'starting' | 'warming' | 'running' | 'draining' | 'done';
  done: number;
  /** Calls the window runs; 0 while a sweep's rounds run (as many calls as their time needs). */
  total: number;
}

export interface RunOptions {
  target: ReportTarget & { workspaceRoot: string | null };
  settings: ReportSettings;
  /** Interpreter to use; default: `python3`, then `python`. */
  python?: string;
  /** Node to use for JS/TS targets; default: `node` on PATH, then `fallbackRuntime`. */
  node?: string;
  /**
   * The runtime to fall back on when no `node` is on PATH: the CLI's own Node, or the
   * editor's (Electron with ELECTRON_RUN_AS_NODE=1). Reported in `runtime.implementation`.
   */
  fallbackRuntime?: { command: string; env?: NodeJS.ProcessEnv; label: string };
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
  /** Folder holding run_sidecar.py; default: next to the bundle. */
  sidecarDir?: string;
  /** Folder holding the Node sidecar (sidecar.js, worker.js, hooks.mjs); default: next to the bundle. */
  nodeSidecarDir?: string;
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
}

export const DEFAULT_OUTPUT_CAP_BYTES = 64 * 1024;
/** Python starts in well under a second; 20 s covers a cold start behind antivirus. */
export const HELLO_DEADLINE_MS = 20_000;

/** The first folder holding `marker`, looked for next to the bundle and up from it. */
function sidecarDir(candidates: string[], marker: string): string {
  return candidates.find((d) => fs.existsSync(path.join(d, marker))) ?? candidates[0];
}

/** The sidecar folder shipped next to the bundle (dist/sidecars/python), or the source tree's. */
export function defaultPythonSidecarDir(): string {
  return sidecarDir([
    path.join(__dirname, 'sidecars', 'python'),
    path.join(__dirname, '..', 'sidecars', 'python'),
    path.resolve(__dirname, '..', '..', 'src', 'sidecars', 'python'),
    path.resolve(__dirname, '..', '..', '..', 'src', 'sidecars', 'python'),
  ], 'run_sidecar.py');
}

/** The Node sidecar folder shipped next to the bundle (dist/sidecars/node); built, so never the source tree's. */
export function defaultNodeSidecarDir(): string {
  return sidecarDir([
    path.join(__dirname, 'sidecars', 'node'),
    path.join(__dirname, '..', 'sidecars', 'node'),
    path.resolve(__dirname, '..', '..', 'dist', 'sidecars', 'node'),
    path.resolve(__dirname, '..', '..', '..', 'dist', 'sidecars', 'node'),
  ], 'sidecar.js');
}

export interface Candidate {
  command: string;
  env?: NodeJS.ProcessEnv;
  /** Only the last try of the usual names reports "not found"; an explicit path always does. */
  explicit: boolean;
  label?: string;
}

/** The runtimes to try for a language, in order. */
export function runtimeCandidates(opts: Pick<RunOptions, 'python' | 'node' | 'fallbackRuntime'>, language: ReportTarget['language']): Candidate[] {
  if (language === 'python') return pythonCandidates(opts.python).map((command) => ({ command, explicit: Boolean(opts.python) }));
  if (opts.node) return [{ command: opts.node, explicit: true }];
  const fallback = opts.fallbackRuntime ?? { command: process.execPath, label: 'the CLI\'s own Node' };
  return [{ command: 'node', explicit: false }, { command: fallback.command, env: fallback.env, explicit: false, label: fallback.label }];
}

/** The interpreters to try, in order: the one given, else the usual names on PATH. */
export function pythonCandidates(explicit: string | undefined): string[] {
  if (explicit) return [explicit];
  return process.platform === 'win32' ? ['python', 'python3', 'py'] : ['python3', 'python'];
}

/**
 * Measure one target in every requested mode. Never rejects for problems with the
 * user's code or interpreter: those end up in `report.error` and the runs' errors,
 * with everything measured before them kept.
 */
export async function runSession(opts: RunOptions): Promise<Report> {
  const started = Date.now();
  const state = await measureIsolated(opts);
  const ft = opts.target.language === 'python' && state.settings.modes.includes('thread') && !state.error && !opts.signal?.aborted
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
  return buildReport(state);
}

/** The free-threaded interpreter to compare with: the one given, or python3.14t/3.13t on PATH for 'auto'. */
export function resolveFreeThreaded(setting: string | null | undefined): string | null {
  if (!setting || setting === 'off') return null;
  if (setting !== 'auto') return setting;
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const name of ['python3.14t', 'python3.13t']) {
    for (const dir of dirs) {
      const p = path.join(dir, process.platform === 'win32' ? `${name}.exe` : name);
      try {
        fs.accessSync(p, fs.constants.X_OK);
        return p;
      } catch {
        // not here
      }
    }
  }
  return null;
}

/**
 * Past this inline call time (median) the one-thread diagnostic is skipped: it costs one
 * more call. The sidecar applies the same limit when it measured inline itself.
 */
export const DIAGNOSTIC_MAX_CALL_MS = 5000;

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
    settings: opts.target.language === 'python'
      ? opts.settings
      // No GIL and no switch interval in Node: the report must not claim a probe ran.
      : { ...opts.settings, gilProbe: false, gilProbeInWindow: false, switchIntervalS: null },
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
  const isNode = opts.target.language !== 'python';
  const rt = isNode
    ? { name: 'Node', want: 'Node 18.19+', hint: 'Set --node / looplag.node.path to Node 18.19 or newer.', runtime: 'node' as const }
    : { name: 'Python', want: 'Python 3.9+', hint: 'Set --python / looplag.python.path to a Python 3.9+ interpreter.', runtime: 'python' as const };
  const script = isNode
    ? path.join(opts.nodeSidecarDir ?? defaultNodeSidecarDir(), 'sidecar.js')
    : path.join(opts.sidecarDir ?? defaultPythonSidecarDir(), 'run_sidecar.py');
  const plan: RunPlan = {
    target: {
      file: path.resolve(opts.target.file),
      qualname: opts.target.qualname,
      lines: opts.target.lines,
      args: opts.target.args,
      workspaceRoot: opts.target.workspaceRoot,
    },
    modes: part?.modes ?? state.settings.modes,
    concurrency: opts.settings.concurrency,
    workers: opts.settings.workers,
    switchIntervalS: state.settings.switchIntervalS,
    heartbeatMs: opts.settings.heartbeatMs,
    gilProbe: state.settings.gilProbe,
    gilProbeInWindow: state.settings.gilProbeInWindow ?? false,
    warmup: state.settings.warmup ?? true,
    callTimeoutS: state.settings.callTimeoutS ?? null,
    baselineMs: opts.baselineMs ?? 300,
    diagnostic: opts.diagnostic ?? true,
    ...(opts.sweepWorkers ? { sweepWorkers: opts.sweepWorkers } : {}),
    ...(opts.sweepRounds ? { sweepRounds: opts.sweepRounds } : {}),
    outputCapBytes: opts.outputCapBytes ?? DEFAULT_OUTPUT_CAP_BYTES,
  };
  const deadline = part?.deadline ?? Date.now() + opts.settings.timeoutS * 1000;
  const grace = opts.cancelGraceMs ?? 1000;

  const candidates = runtimeCandidates(opts, opts.target.language);
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
    let helloSeen = false; // this sidecar's (the session's state may hold an earlier one's runtime)
    const watch = new SidecarWatch(Date.now(), Boolean(plan.sweepWorkers));
    const cutBy: { window: RawWindow | null } = { window: null }; // the window the host's watchdog ended this sidecar in
    const onMessage = (m: SidecarMessage) => {
      watch.heard(m, Date.now());
      switch (m.type) {
        case 'hello':
          clearTimeout(helloTimer);
          helloSeen = true;
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
          opts.onProgress?.({ mode: m.mode, phase: m.phase, done: m.done, total: m.total });
          break;
        case 'window':
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
      env: isNode
        ? { ...process.env, ...candidate.env }
        : { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONIOENCODING: 'utf-8' },
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
      if (helloSeen) return;
      fail({
        kind: 'interpreter-not-found',
        message: `\`${python}\` did not start the Loop Lag sidecar within ${Math.round(helloWaitMs / 100) / 10} s; is it a working ${rt.want}?`,
        detail: rt.hint,
      });
      sidecar.kill();
    };
    const helloTimer = setTimeout(noHello, helloWaitMs);
    const timer = setTimeout(() => {
      if (!helloSeen && !proven) return noHello(); // both deadlines can fall in the same tick
      fail(timeoutError(opts.settings.timeoutS, state.windows.length, hangSite(watch, opts.target, Date.now())));
      void sidecar.cancel(grace, 'timeout');
    }, Math.max(0, deadline - Date.now()));
    const onAbort = () => {
      fail({ kind: 'cancelled', message: `cancelled (${state.windows.length} mode(s) measured)`, detail: null });
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
    clearInterval(watchdog);
    clearTimeout(timer);
    clearTimeout(helloTimer);
    opts.signal?.removeEventListener('abort', onAbort);
    if (part) part.leftover = exit.output;

    if (exit.spawnError && exit.spawnError.code === 'ENOENT' && !candidate.explicit) continue; // try the next name
    if (exit.spawnError) {
      fail({
        kind: 'interpreter-not-found',
        message: `cannot start ${isNode ? 'Node' : 'Python interpreter'} \`${python}\`: ${exit.spawnError.message}`,
        detail: rt.hint,
      });
    } else if (exit.protocolError && !helloSeen) {
      // Garbage before the hello means `python` is not a Python that ran our sidecar
      // (e.g. --python /bin/echo or a wrapper script): that is the interpreter's fault,
      // not a protocol bug, and the user needs the "set --python" hint.
      fail({
        kind: 'interpreter-not-found',
        message: `\`${python}\` did not start the Loop Lag sidecar (its first output was not the sidecar's hello); is it a working ${rt.want}?`,
        detail: [exit.protocolError, exit.stderrTail].filter(Boolean).join('\n'),
      });
    } else if (exit.foreignWrite) {
      fail({ kind: 'protocol-error', message: exit.foreignWrite, detail: exit.stderrTail || null });
    } else if (exit.protocolError) {
      fail({ kind: 'protocol-error', message: `the sidecar sent an invalid message: ${exit.protocolError}`, detail: exit.stderrTail || null });
    } else if (!sawDone && !ownError && !cutBy.window) {
      fail(crashError(exit, !helloSeen, python, rt, oomEvidence(oomBefore, readOomKills()), helloSeen ? state.runtime?.heapLimitMb : null));
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
    message: `no ${isNode ? 'Node runtime' : 'Python interpreter'} found (tried ${candidates.map((c) => c.command).join(', ')})`,
    detail: rt.hint,
  });
  return done();
}

/**
 * A sidecar that cannot find a target an earlier sidecar of the session loaded: say that
 * the file was moved or deleted during the run, not just "file not found".
 */
function movedDuringRun(e: RunError, loadedBefore: boolean, file: string): RunError {
  if (!loadedBefore || (e.kind !== 'target-not-found' && e.kind !== 'import-error') || fs.existsSync(file)) return e;
  return {
    kind: 'target-not-found',
    message: `the target file ${file} was moved or deleted during the run (an earlier mode had loaded it)`,
    detail: e.message,
    file,
  };
}

/** How long past --call-timeout a silent sidecar gets before the host ends it (its own cut comes first when it can act). */
export const CALL_TIMEOUT_GRACE_MS = 1500;
const WATCHDOG_POLL_MS = 100;

/**
 * What one sidecar is doing, from its messages: whether it said hello and loaded the
 * target, its last progress, when its window opened, when it last said anything. The
 * host's view when the sidecar cannot speak: a timeout says where the run hung
 * (hangSite), the call-timeout watchdog sees a silent call (stuck, cutWindow).
 */
class SidecarWatch implements HangState {
  helloSeen = false;
  loaded = false;
  progress: Progress | null = null;
  runningSinceMs: number | null = null;
  /** The mode whose calls run (the diagnostic window is thread mode's: a stuck call there is thread mode's too). */
  mode: string | null = null;
  phase: Progress['phase'] | null = null;
  done = 0;
  total = 0;
  private lastHeardAt: number;

  constructor(now: number, readonly sweep: boolean) {
    this.lastHeardAt = now;
  }

  heard(m: SidecarMessage, now: number): void {
    this.lastHeardAt = now;
    if (m.type === 'hello') {
      this.helloSeen = true;
    } else if (m.type === 'target') {
      this.loaded = true;
    } else if (m.type === 'progress') {
      const p = this.progress;
      // A window opens with `running`, 0 done (a sweep opens one per count in the same mode).
      if (m.phase === 'running' && (m.done === 0 || p?.mode !== m.mode || p.phase !== 'running')) this.runningSinceMs = now;
      this.progress = { mode: m.mode, phase: m.phase, done: m.done, total: m.total };
      const mode = m.mode === 'diagnostic' ? 'thread' : m.mode;
      if (mode !== this.mode) this.afterCut = false;
      this.mode = mode;
      this.phase = m.phase;
      this.done = m.mode === 'diagnostic' ? 0 : m.done;
      this.total = m.total;
    } else if (m.type === 'window' && m.window.mode === this.mode) {
      this.phase = 'done';
      if (m.window.error?.kind === 'call-timeout') this.afterCut = true;
    }
  }

  /** A window was cut by the call timeout: the sidecar should now end; a call that ignores being cancelled can keep it alive. */
  private afterCut = false;

  /** A call is running (or an inline/thread warm-up call, which runs in the sidecar) and nothing was heard for `ms`. */
  stuck(now: number, ms: number): boolean {
    if (!this.mode || this.mode === 'baseline' || now - this.lastHeardAt < ms) return false;
    return this.afterCut || this.phase === 'running' || (this.phase === 'warming' && (this.mode === 'inline' || this.mode === 'thread'));
  }

  /** The window the host records for a sidecar it ended at the call timeout. */
  cutWindow(now: number, plan: RunPlan, limitMs: number): RawWindow {
    const name = plan.target.qualname ?? (plan.target.lines ? `lines ${plan.target.lines.start}-${plan.target.lines.end}` : 'the target');
    const open = this.total - this.done;
    const silentS = Math.round((now - this.lastHeardAt) / 100) / 10;
    const inWarmup = this.phase !== 'running';
    const what = plan.sweepWorkers && !inWarmup
      // A sweep's rounds run as many calls as their time needs: no "N of total" to name.
      ? `a call of ${name} in ${this.mode} (a sweep round, after ${this.done} finished call(s)) did not finish within ${limitMs / 1000} s (--call-timeout)`
      : inWarmup
      ? `${callsPhrase(0, this.total, name)} in ${this.mode} never started: the unmeasured warm-up call before them did not finish within ${limitMs / 1000} s (--call-timeout)`
      : open > 0
        ? `${callsPhrase(this.done, this.total, name)} in ${this.mode} did not finish within ${limitMs / 1000} s (--call-timeout)`
        // Every call had reported done: what hung was the window's end (or the sidecar's, after a cut).
        : `the ${this.mode} window did not end within ${limitMs / 1000} s (--call-timeout) of its last call`;
    return this.window('unfinished', {
      kind: 'call-timeout',
      message: `${what}; the sidecar could not answer (a call held the loop or the GIL) and was stopped after ${silentS} s without a word`,
      detail: null,
    }, open, now);
  }

  /** The window of a sidecar that ended (crash, timeout, cancel) while its mode's calls ran; null outside a window. */
  lostWindow(plan: RunPlan, why: RunError, sent: ReadonlySet<string>): RawWindow | null {
    if (!this.mode || this.phase !== 'running' || sent.has(this.mode) || !plan.modes.includes(this.mode as Mode)) return null;
    return this.window(why.kind === 'crashed' ? 'crashed' : 'unfinished', why, this.total - this.done, Date.now());
  }

  /**
   * No samples: the sidecar's own figures died with it, and a gap the host saw is not
   * the loop's lag (the host cannot tell a blocked loop from a silent one). The calls
   * that finished are known by count only: their records have no times.
   */
  private window(lostAs: 'unfinished' | 'crashed', error: RunError, open: number, now: number): RawWindow {
    const done = this.total - open;
    const tasks: TaskRecord[] = Array.from({ length: this.total }, (_, i) => ({
      id: i, queuedMs: 0, startMs: null, endMs: null, worker: null, error: null, status: i < done ? 'ok' : lostAs,
    }));
    return {
      mode: this.mode as Mode, status: 'failed', error, partial: true,
      wallMs: this.phase === 'running' && this.runningSinceMs !== null ? now - this.runningSinceMs : 0, startupMs: null, workers: null, tasks, samples: [], gilWaitsMs: null,
      cpu: { userMs: 0, systemMs: 0 }, backgroundCpuFrac: null,
      notes: ['no lag samples: the sidecar ended before it could send this window (its wall time is the host\'s, from the window\'s start to the cut)'],
      output: { stdout: '', stderr: '', truncated: false, stdoutBytes: 0, stderrBytes: 0 },
    };
  }
}

/** `call 3 of f` / `calls 3–10 of f` (1-based): the calls not done when the sidecar stopped, in the order they were started. */
function callsPhrase(done: number, total: number, name: string): string {
  return total - done === 1 ? `call ${total} of ${name}` : `calls ${done + 1}–${total} of ${name}`;
}

/**
 * `where` says what was running when the deadline passed (see hangSite); without it
 * (between two sidecars), the message says only what was measured.
 */
export function timeoutError(timeoutS: number, measured: number, where: string | null = null): RunError {
  return { kind: 'timeout', message: `gave up after ${timeoutS} s${where ? ` ${where}` : ''} (${measured} mode(s) measured)`, detail: null };
}

/** What one sidecar was doing, from its messages so far: for a timeout to say where the run hung. */
export interface HangState {
  helloSeen: boolean;
  /** The target was imported (its `target` message came). */
  loaded: boolean;
  /** The last progress message, and when (host ms) its mode's `running` phase began. */
  progress: Progress | null;
  runningSinceMs: number | null;
  /** A sweep's rounds run more calls than `total`. */
  sweep: boolean;
}

/**
 * Where a run hung, as the middle of the timeout message: "in thread mode: 2 of 10 calls
 * of `slow` finished, 8 not finished (running or queued; the longest for 2.8 s)". The
 * longest is timed from the window's start, when the first calls were handed out.
 */
export function hangSite(h: HangState, target: ReportTarget, nowMs: number): string {
  const fn = target.qualname ? `\`${target.qualname}\`` : target.lines ? `lines ${target.lines.start}-${target.lines.end}` : 'the target';
  if (!h.helloSeen) return 'while the sidecar was starting';
  const p = h.progress;
  if (!p) return h.loaded ? 'before the first mode started' : `while importing ${path.basename(target.file)}`;
  if (p.mode === 'baseline') return 'while measuring the idle baseline';
  if (p.mode === 'diagnostic') return 'in the one-thread diagnostic before thread mode';
  const mode = `in ${p.mode} mode`;
  switch (p.phase) {
    case 'starting': return `${mode}, while it was starting (no call of ${fn} had started)`;
    case 'warming': return `${mode}, while warming up (starting the pool, or a first call of ${fn})`;
    case 'draining': return `${mode}, while waiting for its last calls of ${fn} to end`;
    case 'done': return `${mode}, after all its calls of ${fn} finished (while stopping it)`;
    case 'running': {
      const longest = h.runningSinceMs === null ? null : `the longest for ${((nowMs - h.runningSinceMs) / 1000).toFixed(1)} s`;
      if (h.sweep || p.total === 0) return `${mode}, in a sweep round: ${p.done} call(s) of ${fn} finished${longest ? ` (${longest})` : ''}`;
      const left = Math.max(0, p.total - p.done);
      return `${mode}: ${p.done} of ${p.total} calls of ${fn} finished, ${left} not finished (running or queued${longest ? `; ${longest}` : ''})`;
    }
  }
}

function crashError(
  exit: SidecarExit, beforeHello: boolean, python: string, rt: { name: string; want: string; runtime: 'python' | 'node' },
  oom: OomEvidence | null, heapLimitMb: number | null | undefined,
): RunError {
  if (beforeHello) {
    // No user code has run yet: the plain exit, no guess at what user code did; what it
    // printed says what it is (a wrapper's usage line, another program's banner).
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    return {
      kind: 'interpreter-not-found',
      message: `\`${python}\` ${how} before the sidecar started; is it a working ${rt.want}?`,
      detail: [exit.output.stdout.slice(-2000), exit.stderrTail].filter(Boolean).join('\n') || null,
    };
  }
  const how = describeExit({ code: exit.code, signal: exit.signal, stderr: exit.stderrTail, oom, runtime: rt.runtime, heapLimitMb });
  return {
    kind: 'crashed',
    message: `the ${rt.name} sidecar, while measuring, ${how}`,
    detail: exit.stderrTail || null,
  };
}
