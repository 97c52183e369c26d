/** The run's inputs: what the editor or the CLI asks for (the engine plans the sidecars' runs from them). */
import { LANGUAGE_NAMES } from '../modes';
import type { Mode } from './common';

export const LANGUAGES = LANGUAGE_NAMES;
export type Language = (typeof LANGUAGES)[number];

/** What to measure, as the user named it (the sidecar gets a TargetSpec planned from it). */
export interface RunTarget {
  file: string;
  qualname: string | null;
  lines: { start: number; end: number } | null;
  args: string;
  language: Language;
}

/** How to measure it; the report states them back (Report.settings). */
export interface RunSettings {
  concurrency: number;
  workers: number | null;
  switchIntervalS: number | null;
  heartbeatMs: number;
  stallMs: number;
  gilProbe: boolean;
  /** Python: the probe also runs in the measured windows (opt-in: it inflates their lag). */
  gilProbeInWindow?: boolean;
  /** One unmeasured warm-up call per process/worker before each window (default true). */
  warmup?: boolean;
  /** Set by the engine: each mode ran in a fresh sidecar of its own. */
  isolatedModes?: boolean;
  modes: Mode[];
  timeoutS: number;
  /** Seconds a call may run before its window is cut (see RunPlan.callTimeoutS). */
  callTimeoutS?: number;
  lagBudgetMs?: number | null;
  plannedMode?: string | null;
  /** Look for where the loop was blocked (default: SWITCHES.attribution in shared/settings.ts). */
  attribution?: boolean;
}
