import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildReport, ReportSettings, ReportTarget, SessionState } from '../report/buildReport';
import type { Mode, ModeRun, RawWindow, Report, RunError, RunPlan, SidecarMessage } from '../shared/protocol';
import { taskStats } from '../stats/lagStats';
import { PROTOCOL_VERSION } from '../shared/protocol';
import { toModeRun } from '../report/buildReport';
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
    const error = await measure({
      ...opts,
      baselineMs: i === 0 ? opts.baselineMs : 0,
      diagnostic: (opts.diagnostic ?? true) && !(inlineCallMs !== null && inlineCallMs > DIAGNOSTIC_MAX_CALL_MS),
    }, { state, modes: [mode], deadline: sessionDeadline });
    if (error && error.kind === 'crashed' && !state.windows.some((w) => w.mode === mode)) {
      // The crash is this mode's: it gets a run saying so, and the next mode a fresh sidecar.
      state.windows.push(notMeasured(mode, error));
    }
    if ((error && SESSION_ENDING.has(error.kind)) || opts.signal?.aborted) break;
  }
  state.finished = true;
  return state;
}

function notMeasured(mode: Mode, error: RunError): RawWindow {
  return {
    mode, status: 'skipped', error, wallMs: 0, startupMs: null, workers: null, tasks: [], samples: [], gilWaitsMs: null,
    cpu: { userMs: 0, systemMs: 0 }, backgroundCpuFrac: null,
    output: { stdout: '', stderr: '', truncated: false, stdoutBytes: 0, stderrBytes: 0 },
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
    // With a sidecar per mode, an earlier mode's crash must not hide how the session
    // ended afterwards: a cancel or a timeout decides the exit code (130, 124).
    if (state.error?.kind === 'crashed' && (e.kind === 'cancelled' || e.kind === 'timeout')) state.error = e;
    else state.error ??= e;
  };
  const done = (): SessionState | RunError | null => {
    if (!part) state.finished = true;
    return part ? ownError : state;
  };
  const isNode = opts.target.language !== 'python';
  const rt = isNode
    ? { name: 'Node', want: 'Node 18.19+', hint: 'Set --node / looplag.node.path to Node 18.19 or newer.', crash: 'process.exit() or crashed the runtime' }
    : { name: 'Python', want: 'Python 3.9+', hint: 'Set --python / looplag.python.path to a Python 3.9+ interpreter.', crash: 'os._exit() or crashed the interpreter' };
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
    let sawDone = false;
    let helloSeen = false; // this sidecar's (the session's state may hold an earlier one's runtime)
    const hang: HangState = { helloSeen: false, loaded: false, progress: null, runningSinceMs: null, sweep: Boolean(plan.sweepWorkers) };
    const onMessage = (m: SidecarMessage) => {
      switch (m.type) {
        case 'hello':
          clearTimeout(helloTimer);
          helloSeen = hang.helloSeen = true;
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
          hang.loaded = true;
          break;
        case 'progress':
          // A window opens with `running`, 0 done (a sweep opens one per count in the same mode).
          if (m.phase === 'running' && (m.done === 0 || hang.progress?.mode !== m.mode || hang.progress.phase !== 'running')) hang.runningSinceMs = Date.now();
          hang.progress = { mode: m.mode, phase: m.phase, done: m.done, total: m.total };
          opts.onProgress?.({ mode: m.mode, phase: m.phase, done: m.done, total: m.total });
          break;
        case 'window':
          if (m.window.mode === 'baseline') {
            if (plan.baselineMs > 0) state.baseline = m.window; // a 0 ms one (Node) is no baseline
          } else if (m.window.mode === 'diagnostic') {
            state.diagnostic = m.window;
          } else {
            state.windows.push(m.window);
            opts.onRun?.(toModeRun(m.window, state.settings), buildReport(state));
          }
          break;
        case 'error':
          fail(m.error);
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
      protocolFd: isNode ? 3 : 1,
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
      fail(timeoutError(opts.settings.timeoutS, state.windows.length, hangSite(hang, opts.target, Date.now())));
      void sidecar.cancel(grace, 'timeout');
    }, Math.max(0, deadline - Date.now()));
    const onAbort = () => {
      fail({ kind: 'cancelled', message: `cancelled (${state.windows.length} mode(s) measured)`, detail: null });
      void sidecar.cancel(grace, 'user');
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const exit = await sidecar.stopped;
    clearTimeout(timer);
    clearTimeout(helloTimer);
    opts.signal?.removeEventListener('abort', onAbort);

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
    } else if (exit.protocolError) {
      fail({ kind: 'protocol-error', message: `the sidecar sent an invalid message: ${exit.protocolError}`, detail: exit.stderrTail || null });
    } else if (!sawDone && !ownError) {
      fail(crashError(exit, !helloSeen, python, rt));
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

function crashError(exit: SidecarExit, beforeHello: boolean, python: string, rt: { name: string; want: string; crash: string }): RunError {
  const how = exit.signal ? `was killed by ${exit.signal}${signalHint(exit.signal)}` : `exited with code ${exit.code}`;
  if (beforeHello) {
    return {
      kind: 'interpreter-not-found',
      message: `\`${python}\` ${how} before the sidecar started; is it a working ${rt.want}?`,
      detail: exit.stderrTail || null,
    };
  }
  return {
    kind: 'crashed',
    message: `the ${rt.name} sidecar ${how} while measuring (user code may have called ${rt.crash})`,
    detail: exit.stderrTail || null,
  };
}

function signalHint(signal: NodeJS.Signals): string {
  if (signal === 'SIGKILL') return ' (possibly out of memory)';
  if (signal === 'SIGSEGV' || signal === 'SIGBUS') return ' (a crash in native code)';
  return '';
}
