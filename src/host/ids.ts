/**
 * Command and setting IDs in one place: they are a contract with users' keybindings and
 * settings. Commands are registered, run and linked (CodeLens) only through the typed
 * table below, so a handler, a caller and a lens cannot disagree on the arguments.
 */
import * as vscode from 'vscode';

/** Each command's arguments (from the palette: none). `package.json` declares exactly these (a unit test checks). */
export interface CommandTypes {
  'looplag.measure': [];
  /** The worker sweep: the pool modes over `looplag.sweep.workers` pool sizes. */
  'looplag.sweep': [];
  /** The status bar after a sweep: that sweep (`id`, of the history; none: the last sweep) in the report panel again. */
  'looplag.showSweep': [id?: string];
  /** CodeLens: measure a function by file and qualname, without looking at the cursor. */
  'looplag.measureFunction': [uri: vscode.Uri, qualname: string];
  /** `id`: a report of the history to show (the status bar's); none: the panel as it is. */
  'looplag.showReport': [id?: string];
  'looplag.openSettings': [];
  'looplag.cancel': [];
  /** Removes the blocking lines' annotations from the editors (until the next report). */
  'looplag.clearAnnotations': [];
  /**
   * Service mode: the app of the file (palette, context menu) or of the CodeLens's file,
   * under load; the lens names its route's endpoint (`GET /items/{item_id}`) to preselect.
   */
  'looplag.measureEndpoint': [uri?: vscode.Uri, endpoint?: string];
  /** The status bar after Measure Endpoint: the last service-mode report in the panel again. */
  'looplag.showServe': [];
  /**
   * "Measure this call" (a code action): measure a function by file and qualname with the
   * argument prompt pre-filled with the call's own arguments (`selection`: the placeholder to select).
   */
  'looplag.measureCall': [uri: vscode.Uri, qualname: string, args: string, selection?: [number, number]];
  /** The interpreter Python files run with: writes `looplag.python.path` (status bar, error prompts, walkthrough). */
  'looplag.selectPythonInterpreter': [];
  /** The walkthrough: the bundled `examples/python/cpu_bound.py` opened at `cpu_bound_task` and measured. */
  'looplag.measureExample': [];
}

export type CommandId = keyof CommandTypes;

/** A handler for every command: the compiler names a command left without one. */
export type CommandHandlers = { [K in CommandId]: (...args: CommandTypes[K]) => unknown };

export const COMMANDS = {
  measure: 'looplag.measure',
  sweep: 'looplag.sweep',
  showSweep: 'looplag.showSweep',
  measureFunction: 'looplag.measureFunction',
  showReport: 'looplag.showReport',
  openSettings: 'looplag.openSettings',
  cancel: 'looplag.cancel',
  clearAnnotations: 'looplag.clearAnnotations',
  measureEndpoint: 'looplag.measureEndpoint',
  showServe: 'looplag.showServe',
  measureCall: 'looplag.measureCall',
  selectPythonInterpreter: 'looplag.selectPythonInterpreter',
  measureExample: 'looplag.measureExample',
} as const satisfies Record<string, CommandId>;

/** Registers every handler of the table, in its order. */
export function registerCommands(handlers: CommandHandlers): vscode.Disposable[] {
  const register = <K extends CommandId>(id: K): vscode.Disposable =>
    vscode.commands.registerCommand(id, handlers[id] as (...args: unknown[]) => unknown);
  return (Object.keys(handlers) as CommandId[]).map(register);
}

/** Runs one of our commands with the arguments its handler takes. */
export function executeCommand<K extends CommandId>(id: K, ...args: CommandTypes[K]): Thenable<unknown> {
  return vscode.commands.executeCommand(id, ...args);
}

/** A command link (CodeLens, status bar) with the arguments its handler takes. */
export function commandLink<K extends CommandId>(id: K, title: string, args: CommandTypes[K], tooltip?: string): vscode.Command {
  return { title, command: id, ...(args.length ? { arguments: args } : {}), ...(tooltip !== undefined ? { tooltip } : {}) };
}

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
  attribution: boolean;
  'codeLens.enabled': boolean;
  /** The blocking lines of the report on show, annotated at the end of the line in the editor. */
  annotations: boolean;
  saveBeforeRun: 'ask' | 'always';
  'sweep.workers': string[];
  'sweep.budgetSeconds': number;
  plannedMode: string;
  'serve.rate': number;
  'serve.duration': number;
  'serve.warmup': number;
  'serve.probeRate': number;
  /** 0: no N-processes variant. */
  'serve.workers': number;
  /** 0: no AnyIO thread-limiter variant. */
  'serve.threads': number;
  'serve.startTimeout': number;
  /** The `Measure endpoint under load` CodeLens above route handlers. */
  'serve.codeLens': boolean;
  /** Measured diagnostics on the call sites of measured functions (host/measuredDiagnostics.ts). */
  'diagnostics.enabled': boolean;
  /** The static "may block the loop" hints (Information diagnostics) on calls to well-known blocking APIs. */
  'hints.enabled': boolean;
}

/** Context key set while a run is in progress (enables "Cancel Run" in the palette). */
export const RUNNING_CONTEXT = 'looplag.running';
