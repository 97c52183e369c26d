/**
 * From the run's inputs (target, settings, the engine's options) to what a sidecar is
 * told to do: the RunPlan of its `start` message.
 */
import * as path from 'node:path';
import { RuntimeInfo, runtimeOf } from '../shared/modes';
import type { Language, Mode, RunPlan, RunSettings, RunTarget } from '../shared/protocol';
import { SWITCHES } from '../shared/settings';

/** What a sidecar's user output is capped at (stdout and stderr each), bytes. */
export const DEFAULT_OUTPUT_CAP_BYTES = 64 * 1024;

/** The engine's options a plan reads (see RunOptions in runSession.ts). */
export interface PlanOptions {
  target: RunTarget & { workspaceRoot: string | null };
  settings: RunSettings;
  baselineMs?: number;
  diagnostic?: boolean;
  sweepWorkers?: number[];
  sweepRounds?: RunPlan['sweepRounds'];
  outputCapBytes?: number;
}

/**
 * The settings a session runs and reports with: a runtime without a GIL (Node) has no
 * GIL probe and no switch interval, so its report must not claim a probe ran.
 */
export function sessionSettings(language: Language, settings: RunSettings): RunSettings {
  return runtimeOf(language).gil ? settings : { ...settings, gilProbe: false, gilProbeInWindow: false, switchIntervalS: null };
}

/**
 * Where the loop was blocked: the runtime's sampling defaults (RUNTIMES), on unless the
 * settings turn it off, and off in a sweep (its document shows no blockers, and the
 * sampling would cost its throughput figures); sent either way, so a sidecar never guesses.
 */
export function attributionPlan(language: Language, settings: RunSettings, sweep = false): RunPlan['attribution'] {
  const sampling: RuntimeInfo['attribution'] = runtimeOf(language).attribution;
  const { intervalMs, rearmMs } = sampling;
  const enabled = !sweep && (settings.attribution ?? SWITCHES.attribution.default);
  return { enabled, intervalMs, ...(rearmMs !== undefined ? { rearmMs } : {}) };
}

/**
 * The plan for one sidecar: the modes it measures (all of the session's, or its one mode
 * with a sidecar per mode), with `settings` the session's (see sessionSettings).
 */
export function runPlanFor(opts: PlanOptions, settings: RunSettings, modes: Mode[]): RunPlan {
  return {
    target: {
      file: path.resolve(opts.target.file),
      qualname: opts.target.qualname,
      lines: opts.target.lines,
      args: opts.target.args,
      workspaceRoot: opts.target.workspaceRoot,
    },
    modes,
    concurrency: opts.settings.concurrency,
    workers: opts.settings.workers,
    switchIntervalS: settings.switchIntervalS,
    heartbeatMs: opts.settings.heartbeatMs,
    gilProbe: settings.gilProbe,
    gilProbeInWindow: settings.gilProbeInWindow ?? false,
    warmup: settings.warmup ?? true,
    attribution: attributionPlan(opts.target.language, settings, Boolean(opts.sweepWorkers)),
    callTimeoutS: settings.callTimeoutS ?? null,
    baselineMs: opts.baselineMs ?? 300,
    diagnostic: opts.diagnostic ?? true,
    ...(opts.sweepWorkers ? { sweepWorkers: opts.sweepWorkers } : {}),
    ...(opts.sweepRounds ? { sweepRounds: opts.sweepRounds } : {}),
    outputCapBytes: opts.outputCapBytes ?? DEFAULT_OUTPUT_CAP_BYTES,
  };
}
