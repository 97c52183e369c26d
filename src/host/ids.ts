/** Command and setting IDs in one place: they are a contract with users' keybindings and settings. */
export const COMMANDS = {
  measure: 'looplag.measure',
  /** The worker sweep: the pool modes over `looplag.sweep.workers` pool sizes. */
  sweep: 'looplag.sweep',
  /** The status bar after a sweep: the last sweep in the report panel again. */
  showSweep: 'looplag.showSweep',
  /** CodeLens: measure a function by file and qualname, without looking at the cursor. */
  measureFunction: 'looplag.measureFunction',
  showReport: 'looplag.showReport',
  openSettings: 'looplag.openSettings',
  cancel: 'looplag.cancel',
} as const;

export type CommandId = (typeof COMMANDS)[keyof typeof COMMANDS];

export const SECTION = 'looplag';

/** Setting names under `looplag.` with their types. */
export interface SettingTypes {
  concurrency: number;
  workers: number;
  'python.modes': string[];
  'python.switchInterval': number;
  'python.path': string;
  'python.freeThreadedPath': string;
  'node.modes': string[];
  'node.path': string;
  heartbeatMs: number;
  stallThresholdMs: number;
  lagBudgetMs: number;
  timeoutSeconds: number;
  callTimeoutSeconds: number;
  gilProbe: boolean;
  gilProbeInWindow: boolean;
  warmup: boolean;
  'codeLens.enabled': boolean;
  saveBeforeRun: 'ask' | 'always';
  'sweep.workers': string[];
  'sweep.budgetSeconds': number;
  plannedMode: string;
}

/** Context key set while a run is in progress (enables "Cancel Run" in the palette). */
export const RUNNING_CONTEXT = 'looplag.running';
