/**
 * One table per execution mode and per runtime: what each is called, how the headline
 * says it, its chart colour, whether it is a pool and a sweep measures it, and which
 * runtime runs which modes and languages. The protocol's literals, the headline's
 * phrases, the chart colours, the editor's sweep modes and the language branches are
 * read from here; a new mode or runtime is one entry, and the compiler names what it
 * still lacks (the tables are exhaustive over their keys). Imports nothing.
 */

/** Every mode a report can hold, in report order. `free-threaded` is Python thread mode run again without the GIL. */
export const MODE_NAMES = ['inline', 'thread', 'process', 'interpreter', 'worker', 'free-threaded'] as const;
export type ModeName = (typeof MODE_NAMES)[number];

export interface ModeInfo {
  /** The headline's phrase: "Safe {how}: …". */
  how: string;
  /** The chart's colour: a VS Code theme variable, and the colour when the theme has none. */
  colour: { cssVar: string; fallback: string };
  /** Runs the calls in a pool of W members (threads, processes, interpreters, workers). */
  pool: boolean;
  /** What its pool's members are called ("10 calls on 4 threads"). */
  members: string;
}

export const MODES: { readonly [M in ModeName]: ModeInfo } = {
  inline: { how: 'on the event loop (called directly)', colour: { cssVar: '--vscode-charts-red', fallback: '#e51400' }, pool: false, members: 'event loops' },
  thread: { how: 'in a thread pool', colour: { cssVar: '--vscode-charts-orange', fallback: '#d18616' }, pool: true, members: 'threads' },
  process: { how: 'in a process pool', colour: { cssVar: '--vscode-charts-green', fallback: '#388a34' }, pool: true, members: 'processes' },
  interpreter: { how: 'in an interpreter pool', colour: { cssVar: '--vscode-charts-purple', fallback: '#652d90' }, pool: true, members: 'interpreters' },
  worker: { how: 'in worker threads', colour: { cssVar: '--vscode-charts-blue', fallback: '#1a85ff' }, pool: true, members: 'workers' },
  'free-threaded': { how: 'in threads on free-threaded Python', colour: { cssVar: '--vscode-charts-purple', fallback: '#8e44ad' }, pool: true, members: 'threads' },
};

/** The sidecars: each runs some languages, offers some modes, and sweeps some of them. */
export const RUNTIME_NAMES = ['python', 'node'] as const;
export type RuntimeName = (typeof RUNTIME_NAMES)[number];

export interface RuntimeInfo {
  /** The modes `--modes` / the `<prefix>.modes` setting offer, in report order. */
  modes: readonly ModeName[];
  /** The pool modes the editor's worker sweep measures by default. */
  sweepModes: readonly ModeName[];
  /** The settings' prefix (`looplag.python.modes`, `looplag.node.path`) and the CLI's runtime flag (`--python`, `--node`). */
  settingPrefix: string;
  /** How messages name it: "the Python sidecar", "runtime: Node 22.1.0 (…)". */
  displayName: string;
  /** What runs its sidecar, as "no … found" and "no working … (tried …)" name it. */
  runtimeNoun: string;
  /** The same, as "cannot start … `cmd`" names it. */
  startNoun: string;
  /** The oldest version its sidecar runs on, as "is it a working …?" asks. */
  minVersion: string;
  /** What to set when no runtime works (the detail of the "not found" errors). */
  fixHint: string;
  /**
   * Has a GIL: the report shows GIL wait, GIL on/off and the switch interval, and the
   * run plan keeps the GIL probe and the switch interval (dropped for runtimes without).
   */
  gil: boolean;
  /** Reports libuv's loop measures: event-loop utilization and delay, transfer cost, threadpool wait. */
  libuv: boolean;
  /** Can compare thread mode with a free-threaded build of itself (the `free-threaded` column). */
  freeThreaded: boolean;
  /** "unknown mode" hints: a mode of another runtime, and this runtime's name for the same idea. */
  modeHints: { readonly [M in ModeName]?: string };
  /** Follows the "choose from …" list of an unknown mode (names the languages when the file alone does not). */
  modesNote: string;
  /**
   * Where the loop was blocked (issue 13), the plan's defaults: how stacks are sampled,
   * the sampling interval (Python: the shortest stall sampled, and the inline sampler's
   * period) and how often the heartbeat reads the threads' CPU clocks.
   */
  attribution: { method: 'current-frames' | 'v8-cpu-profiler'; intervalMs: number; rearmMs?: number };
  /** What a crashed process's exit says about it (shared/crashCause.ts). */
  crash: {
    /** V8's heap limit: "JavaScript heap out of memory" on stderr is named as such. */
    v8Heap: boolean;
    /** Exits with code 1 and a stack on stderr on an uncaught exception. */
    uncaughtExitsWith1: boolean;
    /** The call user code exits with, e.g. `os._exit` (named in "user code may have called …(3)"). */
    exitCall: string;
  };
}

export const RUNTIMES = {
  python: {
    modes: ['inline', 'thread', 'process', 'interpreter'], sweepModes: ['thread', 'process'], settingPrefix: 'python',
    displayName: 'Python', runtimeNoun: 'Python interpreter', startNoun: 'Python interpreter', minVersion: 'Python 3.9+',
    fixHint: 'Set --python / looplag.python.path to a Python 3.9+ interpreter.',
    gil: true, libuv: false, freeThreaded: true,
    modeHints: { worker: 'threads are `thread`' }, modesNote: '',
    attribution: { method: 'current-frames', intervalMs: 10, rearmMs: 5 },
    crash: { v8Heap: false, uncaughtExitsWith1: false, exitCall: 'os._exit' },
  },
  node: {
    modes: ['inline', 'worker', 'process'], sweepModes: ['worker', 'process'], settingPrefix: 'node',
    displayName: 'Node', runtimeNoun: 'Node runtime', startNoun: 'Node', minVersion: 'Node 18.19+',
    fixHint: 'Set --node / looplag.node.path to Node 18.19 or newer.',
    gil: false, libuv: true, freeThreaded: false,
    modeHints: { thread: 'worker threads are `worker`' }, modesNote: ' (the JavaScript/TypeScript modes)',
    // 5 ms: the only interval within 3% of task time in the bench (1 ms cost 8–22%, 2 ms 4–10% on a loaded machine).
    attribution: { method: 'v8-cpu-profiler', intervalMs: 5 },
    crash: { v8Heap: true, uncaughtExitsWith1: true, exitCall: 'process.exit' },
  },
} as const satisfies { readonly [R in RuntimeName]: RuntimeInfo };

/** A runtime's name as a report or a hello carries it (a string there), if it is one of ours. */
export function isRuntimeName(name: string | undefined): name is RuntimeName {
  return (RUNTIME_NAMES as readonly string[]).includes(name ?? '');
}

/** Every language a target can be written in, and the runtime that runs it. */
export const LANGUAGE_NAMES = ['python', 'javascript', 'typescript'] as const;
export type LanguageName = (typeof LANGUAGE_NAMES)[number];

export const RUNTIME_OF: { readonly [L in LanguageName]: RuntimeName } = {
  python: 'python',
  javascript: 'node',
  typescript: 'node',
};

/**
 * The runtime of a target's language (a third language is not any runtime by default);
 * typed as the table's rows, so literal fields (the settings prefix) stay literal.
 */
export function runtimeOf(language: LanguageName): (typeof RUNTIMES)[RuntimeName] {
  return RUNTIMES[RUNTIME_OF[language]];
}

/**
 * The runtime a report ran on: the one its sidecar named in its hello, else its
 * language's (a report that failed before any sidecar started has no `runtime`).
 */
export function runtimeOfReport(report: ReportRuntimeFields): RuntimeInfo {
  return RUNTIMES[runtimeNameOfReport(report)];
}

/** The name of the runtime a report ran on (see runtimeOfReport). */
export function runtimeNameOfReport(report: ReportRuntimeFields): RuntimeName {
  const name = report.runtime?.name;
  return isRuntimeName(name) ? name : RUNTIME_OF[report.target.language];
}

type ReportRuntimeFields = { runtime?: { name: string } | null; target: { language: LanguageName } };
