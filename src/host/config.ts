import * as vscode from 'vscode';
import { defaultCallTimeoutS, modesFor, UsageError } from '../engine/options';
import { DEFAULT_SWEEP_WORKERS, parseWorkerList } from '../engine/runSweep';
import { clampKnob, KNOBS, SWITCHES } from '../shared/settings';
import type { Mode, RunSettings } from '../shared/protocol';
import { SECTION, SettingTypes } from './ids';
import { Language } from '../engine/languageTools';
import { runtimeOf } from '../shared/modes';

export interface HostSettings {
  report: RunSettings;
  pythonPath: string;
  nodePath: string;
  /**
   * Python: the free-threaded interpreter thread mode also runs under: `auto` (python3.14t
   * or python3.13t on PATH), a path, or null (off, and always for JS/TS).
   */
  freeThreaded: string | null;
  /** `looplag.sweep.workers` as written; see sweepWorkerCounts. */
  sweepWorkers: string[];
  /** `looplag.sweep.budgetSeconds`: the sweep's windows' time budget. */
  sweepBudgetS: number;
  lagBudgetMs: number;
  codeLens: boolean;
  saveBeforeRun: 'ask' | 'always';
}

/** The pool modes a worker sweep measures, per language. */

/**
 * Read the settings for a file (resource scope: per-folder values apply), on every run.
 * The modes are the language's own (`looplag.python.modes` or `looplag.node.modes`),
 * with names of the other language's modes dropped.
 */
export function readSettings(scope: vscode.Uri | undefined, language: Language = 'python'): HostSettings {
  const c = vscode.workspace.getConfiguration(SECTION, scope);
  const get = <K extends keyof SettingTypes>(key: K, fallback: SettingTypes[K]): SettingTypes[K] => c.get<SettingTypes[K]>(key) ?? fallback;
  const known = modesFor(language);
  const runtime = runtimeOf(language);
  const asked = get(`${runtime.settingPrefix}.modes`, [...known]);
  const modes = (Array.isArray(asked) ? asked : []).filter((m): m is Mode => (known as readonly string[]).includes(m));
  const workers = clampKnob('workers', get('workers', KNOBS.workers.default));
  const switchInterval = clampKnob('switchIntervalS', get('python.switchInterval', KNOBS.switchIntervalS.default));
  const planned = get('plannedMode', 'auto');
  const sweepWorkers = get('sweep.workers', DEFAULT_SWEEP_WORKERS);
  const finalModes = modes.length ? [...new Set(modes)] : [...known];
  const timeoutS = clampKnob('timeoutS', get('timeoutSeconds', KNOBS.timeoutS.default));
  const callTimeout = clampKnob('callTimeoutS', get('callTimeoutSeconds', KNOBS.callTimeoutS.default));
  return {
    report: {
      concurrency: clampKnob('concurrency', get('concurrency', KNOBS.concurrency.default)),
      workers: workers === 0 ? null : workers,
      switchIntervalS: switchInterval > 0 ? switchInterval : null,
      heartbeatMs: clampKnob('heartbeatMs', get('heartbeatMs', KNOBS.heartbeatMs.default)),
      stallMs: clampKnob('stallMs', get('stallThresholdMs', KNOBS.stallMs.default)),
      gilProbe: get('gilProbe', true),
      gilProbeInWindow: get('gilProbe', true) && get('gilProbeInWindow', false),
      warmup: get('warmup', true),
      attribution: get('attribution', SWITCHES.attribution.default),
      modes: finalModes,
      timeoutS,
      // 0 (or nonsense): derived from the timeout, as the CLI does without --call-timeout.
      callTimeoutS: callTimeout > 0 ? Math.max(0.1, callTimeout) : defaultCallTimeoutS(timeoutS, finalModes.length),
      lagBudgetMs: clampKnob('lagBudgetMs', get('lagBudgetMs', KNOBS.lagBudgetMs.default)),
      // "auto" (or a mode of the other language): the advice infers it from the target.
      plannedMode: (known as readonly string[]).includes(planned) ? planned : null,
    },
    pythonPath: get('python.path', '').trim(),
    nodePath: get('node.path', '').trim(),
    freeThreaded: !runtime.freeThreaded ? null : freeThreadedSetting(get('python.freeThreadedPath', 'auto')),
    sweepWorkers: Array.isArray(sweepWorkers) ? sweepWorkers.map(String) : [String(sweepWorkers)],
    sweepBudgetS: budgetSeconds(get('sweep.budgetSeconds', KNOBS.sweepBudgetS.default)),
    lagBudgetMs: clampKnob('lagBudgetMs', get('lagBudgetMs', KNOBS.lagBudgetMs.default)),
    codeLens: get('codeLens.enabled', true),
    saveBeforeRun: get('saveBeforeRun', 'ask') === 'always' ? 'always' : 'ask',
  };
}

/** `looplag.sweep.budgetSeconds` kept to 0.1 s – 1 day (the schema's range; a bad value means the default). */
export function budgetSeconds(value: unknown): number {
  return clampKnob('sweepBudgetS', value);
}

/** `looplag.python.freeThreadedPath`: "auto" (or empty) searches PATH, "off" disables, anything else is a path. */
export function freeThreadedSetting(value: unknown): string | null {
  const text = typeof value === 'string' ? value.trim() : '';
  if (!text || text.toLowerCase() === 'auto') return 'auto';
  if (text.toLowerCase() === 'off') return null;
  return text;
}

/**
 * The pool sizes of `looplag.sweep.workers` (`cores` and `cores+N` resolved for this
 * machine, sorted, duplicates dropped), or what is wrong with the list.
 */
export function sweepWorkerCounts(settings: Pick<HostSettings, 'sweepWorkers'>, cpuCount?: number): { counts: number[] } | { error: string } {
  try {
    return { counts: parseWorkerList(settings.sweepWorkers, cpuCount) };
  } catch (e) {
    if (e instanceof UsageError) return { error: e.message };
    throw e;
  }
}

/**
 * The modes a sweep measures: the language's pool modes, kept to those in the user's
 * modes setting when that leaves any.
 */
export function sweepModes(language: Language, asked: readonly Mode[]): Mode[] {
  const pool: readonly Mode[] = runtimeOf(language).sweepModes;
  const both = pool.filter((m) => asked.includes(m));
  return both.length ? both : [...pool];
}

/** `looplag.annotations`: annotate the blocking lines in the editor (for a file: per-folder values apply). */
export function annotationsEnabled(scope: vscode.Uri | undefined): boolean {
  return vscode.workspace.getConfiguration(SECTION, scope).get<SettingTypes['annotations']>('annotations') ?? true;
}
