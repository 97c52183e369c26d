/**
 * Service mode's settings (`looplag.serve.*`, from SERVE_KNOBS) and the function-mode
 * settings it shares (`looplag.lagBudgetMs`, `heartbeatMs`, `stallThresholdMs`,
 * `attribution`), read on every run for the app's file.
 */
import * as vscode from 'vscode';
import type { ServeSettings } from '../serve/inputs';
import { MAX_REQUESTS_PER_STREAM } from '../serve/load/messages';
import { clampServeKnob, SERVE_KNOBS, ServeKnobName } from '../shared/serveSettings';
import { clampKnob, KNOBS, SWITCHES } from '../shared/settings';
import { SECTION } from './ids';

/** What a Measure Endpoint session takes from the settings (the endpoints come from the user's picks). */
export interface ServeHostSettings {
  settings: Omit<ServeSettings, 'endpoints'>;
  /** `looplag.serve.workers` ≥ 2: the N-processes variant; null: none. */
  processes: number | null;
  /** `looplag.serve.threads` ≥ 1 (Python): the AnyIO limiter variant; null: none. */
  threadTokens: number | null;
  startTimeoutS: number;
  /** `looplag.serve.codeLens`: the endpoint lens above route handlers. */
  codeLens: boolean;
}

/** A reader of `looplag.<key>` (vscode's WorkspaceConfiguration.get): the mapping below is pure. */
export type SettingReader = (key: string) => unknown;

export function readServeSettings(scope: vscode.Uri | undefined): ServeHostSettings {
  const c = vscode.workspace.getConfiguration(SECTION, scope);
  return serveSettingsFrom((key) => c.get(key));
}

/** The settings → ServeSettings mapping, each value kept to its knob's range (a bad one gives the default). */
export function serveSettingsFrom(get: SettingReader): ServeHostSettings {
  const knob = (name: ServeKnobName) => clampServeKnob(name, get(SERVE_KNOBS[name].setting) ?? SERVE_KNOBS[name].default);
  const ratePerS = knob('ratePerS')!;
  // The generator's per-stream cap, as the CLI refuses past it: the editor shortens the run instead.
  const durationS = Math.min(knob('durationS')!, Math.max(SERVE_KNOBS.durationS.min, Math.floor(MAX_REQUESTS_PER_STREAM / ratePerS)));
  const budgetMs = clampKnob('lagBudgetMs', get(KNOBS.lagBudgetMs.setting) ?? KNOBS.lagBudgetMs.default);
  const attribution = get(SWITCHES.attribution.setting);
  const offAt0 = (name: 'workers' | 'threads') => (get(SERVE_KNOBS[name].setting) === undefined ? null : knob(name));
  return {
    settings: {
      ratePerS,
      durationS,
      warmupS: knob('warmupS')!,
      probeRatePerS: knob('probeRatePerS')!,
      // The editor always judges with looplag.lagBudgetMs (the CLI's --budget-ms is its gate).
      budgetMs,
      heartbeatMs: clampKnob('heartbeatMs', get(KNOBS.heartbeatMs.setting) ?? KNOBS.heartbeatMs.default),
      stallMs: clampKnob('stallMs', get(KNOBS.stallMs.setting) ?? KNOBS.stallMs.default),
      attribution: typeof attribution === 'boolean' ? attribution : SWITCHES.attribution.default,
    },
    processes: offAt0('workers'),
    threadTokens: offAt0('threads'),
    startTimeoutS: knob('startTimeoutS')!,
    codeLens: get('serve.codeLens') !== false,
  };
}
