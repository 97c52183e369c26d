import { fmtPct } from '../shared/format';
import type { LagStats } from '../shared/protocol';

/**
 * Above this share of the machine's CPU used by other processes during a window,
 * our own threads had to wait for cores: lag and wall times are inflated, so the
 * report is marked untrustworthy. A quarter of all cores is an honest line on a
 * 2-core machine (half a core stolen is already visible in thread-mode numbers).
 */
export const BUSY_MACHINE_FRAC = 0.25;

/** An idle heartbeat's p99 above this says the machine or the interpreter adds lag by itself. */
export const NOISY_FLOOR_P99_MS = 2;

export interface QualityInput {
  windows: { mode: string; backgroundCpuFrac: number | null }[];
  baseline: LagStats | null;
  gilProbe: boolean;
  gilProbeInWindow?: boolean;
  /** The runtime has a GIL (RUNTIMES[…].gil): the GIL notes apply only then (old callers: assume Python). */
  gil?: boolean;
  /** Whether a diagnostic window ran (sweeps and long calls have none: then no note about it). */
  diagnostic?: boolean;
}

export function assessQuality(input: QualityInput): { backgroundCpuFrac: number | null; trustworthy: boolean; notes: string[] } {
  const notes: string[] = [];
  let worst: number | null = null;
  for (const w of input.windows) {
    if (w.backgroundCpuFrac === null) continue;
    worst = worst === null ? w.backgroundCpuFrac : Math.max(worst, w.backgroundCpuFrac);
    if (w.backgroundCpuFrac >= BUSY_MACHINE_FRAC) {
      notes.push(`Other processes used ${fmtPct(w.backgroundCpuFrac)} of the machine's CPU during the ${w.mode} window: ` +
        'its lag and times are inflated. Rerun on a quieter machine.');
    }
  }
  if (worst === null && input.windows.length) {
    notes.push('Background CPU load could not be measured (not available on this platform, or the windows were too short to tell).');
  }
  if (input.baseline && input.baseline.p99Ms > NOISY_FLOOR_P99_MS) {
    notes.push(`The idle loop's own lag p99 was ${input.baseline.p99Ms.toFixed(2)} ms before any work ran: ` +
      'lags below that are noise on this machine.');
  }
  if (input.gilProbe && input.gilProbeInWindow && input.gil !== false) {
    notes.push('A GIL-wait probe thread ran in every window (--gil-probe-in-window); it competes for the GIL like any ' +
      'thread and inflates thread-mode lag for pure-Python work (leave looplag.gilProbeInWindow off to measure without it).');
  } else if (input.gilProbe && input.gil !== false && input.diagnostic !== false) {
    notes.push('GIL waits come from the one-thread diagnostic window before thread mode: no probe thread ran in the ' +
      'measured windows, so it did not add to their lag (--gil-probe-in-window / looplag.gilProbeInWindow measures them in each window).');
  }
  return { backgroundCpuFrac: worst, trustworthy: worst === null || worst < BUSY_MACHINE_FRAC, notes };
}

