import * as vscode from 'vscode';
import { DEFAULTS } from '../engine/runPlan';
import type { ReportSettings } from '../report/buildReport';
import { Mode, PYTHON_MODES } from '../shared/protocol';
import { SECTION, SettingTypes } from './ids';

export interface HostSettings {
  report: ReportSettings;
  pythonPath: string;
  lagBudgetMs: number;
  codeLens: boolean;
  saveBeforeRun: 'ask' | 'always';
}

/** Read the settings for a file (resource scope: per-folder values apply), on every run. */
export function readSettings(scope: vscode.Uri | undefined): HostSettings {
  const c = vscode.workspace.getConfiguration(SECTION, scope);
  const get = <K extends keyof SettingTypes>(key: K, fallback: SettingTypes[K]): SettingTypes[K] => c.get<SettingTypes[K]>(key) ?? fallback;
  const int = (v: number, lo: number, hi: number, fallback: number) => (Number.isFinite(v) ? Math.min(hi, Math.max(lo, Math.round(v))) : fallback);
  const modes = get('python.modes', [...PYTHON_MODES]).filter((m): m is Mode => (PYTHON_MODES as readonly string[]).includes(m));
  const workers = int(get('workers', 0), 0, 1024, 0);
  const switchInterval = get('python.switchInterval', 0);
  return {
    report: {
      concurrency: int(get('concurrency', DEFAULTS.concurrency), 1, 1000, DEFAULTS.concurrency),
      workers: workers === 0 ? null : workers,
      switchIntervalS: switchInterval > 0 ? switchInterval : null,
      heartbeatMs: int(get('heartbeatMs', DEFAULTS.heartbeatMs), 1, 1000, DEFAULTS.heartbeatMs),
      stallMs: Math.max(0.1, get('stallThresholdMs', DEFAULTS.stallMs)),
      gilProbe: get('gilProbe', true),
      modes: modes.length ? [...new Set(modes)] : [...PYTHON_MODES],
      timeoutS: Math.max(1, get('timeoutSeconds', DEFAULTS.timeoutS)),
      lagBudgetMs: Math.max(0, get('lagBudgetMs', 100)),
    },
    pythonPath: get('python.path', '').trim(),
    lagBudgetMs: Math.max(0, get('lagBudgetMs', 100)),
    codeLens: get('codeLens.enabled', true),
    saveBeforeRun: get('saveBeforeRun', 'ask') === 'always' ? 'always' : 'ask',
  };
}
