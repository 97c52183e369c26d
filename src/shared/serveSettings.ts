/**
 * Service mode's knobs (issue 14), as shared/settings.ts's: each default, range and unit
 * once, for the CLI's `looplag serve` flags and the editor's `looplag.serve.*` settings.
 */
import type { Knob } from './settings';

export const SERVE_KNOBS = {
  /** Open loop: requests per second per endpoint, whatever the server does. */
  ratePerS: { default: 20, min: 0.1, max: 10000, integer: false, unit: 'requests/s per endpoint', flag: '--rate', setting: 'serve.rate' },
  durationS: { default: 10, min: 1, max: 3600, integer: false, unit: 's measured per variant', flag: '--duration', setting: 'serve.duration' },
  /** Connections opened, caches and JIT warm before the window: not counted. */
  warmupS: { default: 2, min: 0, max: 600, integer: false, unit: 's', flag: '--warmup', setting: 'serve.warmup' },
  /** 0: no probe. */
  probeRatePerS: { default: 20, min: 0, max: 1000, integer: false, unit: 'probe requests/s', flag: '--probe-rate', setting: 'serve.probeRate' },
  /** The extra variant's server processes: one more than as written, at least. */
  workers: { default: 2, min: 2, max: 64, integer: true, unit: 'server processes', flag: '--workers', setting: 'serve.workers' },
  /** Python: the AnyIO thread limiter's tokens in the extra `threads` variant. */
  threads: { default: 40, min: 1, max: 10000, integer: true, unit: 'AnyIO thread tokens', flag: '--threads', setting: 'serve.threads' },
  /** The app's start-up: import, lifespan startup, listen. */
  startTimeoutS: { default: 30, min: 1, max: 600, integer: false, unit: 's', flag: '--start-timeout', setting: 'serve.startTimeout' },
} as const satisfies Record<string, Knob>;

/**
 * Values a sweep's list may hold (`--sweep-rate`, `--sweep-threads`): each is a server
 * start, a warm-up and a measured part per variant (12 rates × 3 variants at the default
 * 10 s is about 8 minutes), so the sweep's time stays in proportion.
 */
export const MAX_SWEEP_RATES = 12;
export const MAX_SWEEP_THREADS = 8;

export type ServeKnobName = keyof typeof SERVE_KNOBS;

/**
 * The extra variants' knobs: the editor's setting also takes 0, "no such variant" (the
 * CLI leaves the flag out), so package.json's minimum for them is 0, not the knob's.
 */
export const SERVE_OFF_AT_ZERO: ReadonlySet<ServeKnobName> = new Set<ServeKnobName>(['workers', 'threads']);

/**
 * An editor value kept to its knob's range, as clampKnob: nonsense gives the default; for
 * the extra variants' knobs 0 (or anything below the knob's minimum) means none: null.
 */
export function clampServeKnob(name: ServeKnobName, value: unknown): number | null {
  const k: Knob = SERVE_KNOBS[name];
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n)) return SERVE_OFF_AT_ZERO.has(name) ? null : k.default;
  if (SERVE_OFF_AT_ZERO.has(name) && n < k.min) return null;
  const kept = Math.min(k.max, Math.max(k.min, n));
  return k.integer ? Math.round(kept) : kept;
}
