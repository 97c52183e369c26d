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
  /** The settings' prefix (`looplag.python.modes`, `looplag.node.path`). */
  settingPrefix: string;
}

export const RUNTIMES = {
  python: { modes: ['inline', 'thread', 'process', 'interpreter'], sweepModes: ['thread', 'process'], settingPrefix: 'python' },
  node: { modes: ['inline', 'worker', 'process'], sweepModes: ['worker', 'process'], settingPrefix: 'node' },
} as const satisfies { readonly [R in RuntimeName]: RuntimeInfo };

/** Every language a target can be written in, and the runtime that runs it. */
export const LANGUAGE_NAMES = ['python', 'javascript', 'typescript'] as const;
export type LanguageName = (typeof LANGUAGE_NAMES)[number];

export const RUNTIME_OF: { readonly [L in LanguageName]: RuntimeName } = {
  python: 'python',
  javascript: 'node',
  typescript: 'node',
};
