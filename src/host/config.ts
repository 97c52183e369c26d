import * as vscode from 'vscode';
import { DEFAULTS, modesFor } from '../engine/runPlan';
import type { ReportSettings } from '../report/buildReport';
import type { Mode } from '../shared/protocol';
import { SECTION, SettingTypes } from './ids';
import type { Language } from './languageTools';

export interface HostSettings {
  report: ReportSettings;
  pythonPath: string;
  nodePath: string;
  lagBudgetMs: number;
  codeLens: boolean;
  saveBeforeRun: 'ask' | 'always';
}

/**
 * Read the settings for a file (resource scope: per-folder values apply), on every run.
 * The modes are the language's own (`looplag.python.modes` or `looplag.node.modes`),
 * with names of the other language's modes dropped.
 */
export function readSettings(scope: vscode.Uri | undefined, language: Language = 'python'): HostSettings {
  const c = vscode.workspace.getConfiguration(SECTION, scope);
  const get = <K extends keyof SettingTypes>(key: K, fallback: SettingTypes[K]): SettingTypes[K] => c.get<SettingTypes[K]>(key) ?? fallback;
  const int = (v: number, lo: number, hi: number, fallback: number) => (Number.isFinite(v) ? Math.min(hi, Math.max(lo, Math.round(v))) : fallback);
  const known = modesFor(language);
  const asked = language === 'python' ? get('python.modes', [...known]) : get('node.modes', [...known]);
  const modes = (Array.isArray(asked) ? asked : []).filter((m): m is Mode => (known as readonly string[]).includes(m));
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
      modes: modes.length ? [...new Set(modes)] : [...known],
      timeoutS: Math.max(1, get('timeoutSeconds', DEFAULTS.timeoutS)),
      lagBudgetMs: Math.max(0, get('lagBudgetMs', 100)),
    },
    pythonPath: get('python.path', '').trim(),
    nodePath: get('node.path', '').trim(),
    lagBudgetMs: Math.max(0, get('lagBudgetMs', 100)),
    codeLens: get('codeLens.enabled', true),
    saveBeforeRun: get('saveBeforeRun', 'ask') === 'always' ? 'always' : 'ask',
  };
}
