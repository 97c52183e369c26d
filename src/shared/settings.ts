/**
 * One settings model: each numeric knob's default, range and unit, once. The CLI's
 * parsing (engine/options.ts), the editor's settings (host/config.ts) and package.json's
 * `contributes.configuration` (checked by test/unit/settings.test.ts) all follow it, so a
 * value the CLI accepts the editor accepts too.
 */
export interface Knob {
  default: number;
  min: number;
  max: number;
  /** Whole numbers only. */
  integer: boolean;
  unit: string;
  /** The CLI flag, and the editor setting under `looplag.` (absent: that side has none). */
  flag?: string;
  setting?: string;
}

export const KNOBS = {
  concurrency: { default: 10, min: 1, max: 10000, integer: true, unit: 'concurrent calls per mode', flag: '--concurrency', setting: 'concurrency' },
  /** 0: the executor's own default size. */
  workers: { default: 0, min: 0, max: 1024, integer: true, unit: 'pool members', flag: '--workers', setting: 'workers' },
  /** 0: leave the interpreter's. */
  switchIntervalS: { default: 0, min: 0, max: 10, integer: false, unit: 's', flag: '--switch-interval', setting: 'python.switchInterval' },
  heartbeatMs: { default: 1, min: 1, max: 1000, integer: true, unit: 'ms', flag: '--heartbeat-ms', setting: 'heartbeatMs' },
  stallMs: { default: 50, min: 0.1, max: 600000, integer: false, unit: 'ms', flag: '--stall-ms', setting: 'stallThresholdMs' },
  lagBudgetMs: { default: 100, min: 0, max: 1e9, integer: false, unit: 'ms', flag: '--budget-ms', setting: 'lagBudgetMs' },
  timeoutS: { default: 120, min: 0.1, max: 86400, integer: false, unit: 's', flag: '--timeout', setting: 'timeoutSeconds' },
  /** The editor's 0 means "derived from the timeout", as the CLI without --call-timeout. */
  callTimeoutS: { default: 0, min: 0, max: 86400, integer: false, unit: 's', flag: '--call-timeout', setting: 'callTimeoutSeconds' },
  sweepBudgetS: { default: 60, min: 0.1, max: 86400, integer: false, unit: 's', flag: '--sweep-budget-s', setting: 'sweep.budgetSeconds' },
} as const satisfies Record<string, Knob>;

export type KnobName = keyof typeof KNOBS;

/** An on/off setting: its default, the CLI flag that turns it off and the editor setting under `looplag.`. */
export interface Switch {
  default: boolean;
  flag: string;
  setting: string;
}

export const SWITCHES = {
  /** Where the loop was blocked: stacks sampled during stalls (issue 13); off, the report says so. */
  attribution: { default: true, flag: '--no-attribution', setting: 'attribution' },
} as const satisfies Record<string, Switch>;

/** A setting's value kept to its knob's range (rounded when whole); a value that is no number gives the default. */
export function clampKnob(name: KnobName, value: unknown): number {
  const k: Knob = KNOBS[name];
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n)) return k.default;
  const kept = Math.min(k.max, Math.max(k.min, n));
  return k.integer ? Math.round(kept) : kept;
}
