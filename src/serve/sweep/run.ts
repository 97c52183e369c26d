/**
 * A service-mode sweep (issue 14): the variants asked for (as written, N server processes,
 * one per AnyIO thread-token count), each run at every rate of the sweep in ascending order
 * until it stops climbing (climb.ts). Each point is one looplag serve session of one
 * variant (runServe): a fresh server per point, so a rate's backlog, grown memory or
 * threads never carry into the next, at the cost of one start-up per point. Every point
 * shares the sweep's deadline and cancel signal; what was measured before either is kept.
 */
import type { RunError, Runtime } from '../../shared/protocol';
import type { ServeApp } from '../../shared/protocol/serve';
import type { ServeReport } from '../../shared/protocol/serveReport';
import { SERVE_KNOBS } from '../../shared/serveSettings';
import { buildServeReport } from '../buildServeReport';
import type { ServeSettings, ServeVariant } from '../inputs';
import { defaultServeTimeoutS, runServe, ServeOptions, ServeProgress, serveVariants } from '../session';
import { ClimbStep, climb } from './climb';
import { endpointsBehind } from './keepUp';

export interface ServeSweepOptions extends Omit<ServeOptions, 'processes' | 'threadTokens' | 'variants' | 'deadline' | 'onVariant' | 'onProgress'> {
  /** Requests per second per endpoint, ascending. */
  ratesPerS: number[];
  /** `--workers N`: also the app in N server processes; null/undefined: not. */
  processes?: number | null;
  /** `--sweep-threads`: one variant per AnyIO thread-token count (Python), ascending. */
  threadTokens?: number[];
  onProgress?(p: ServeProgress & { ratePerS: number }): void;
  /** Each point as it ends: its looplag.serve/1 document (for live views). */
  onPoint?(variant: ServeVariant, ratePerS: number, report: ServeReport): void;
}

/** What a sweep gathered: per variant one step per rate, a measured step holding that point's looplag.serve/1 document. */
export interface ServeSweepInputs {
  app: ServeApp;
  runtime: Runtime | null;
  /** As asked, `ratePerS` aside (each point has its own). */
  settings: ServeSettings;
  ratesPerS: number[];
  processes: number | null;
  threadTokens: number[];
  variants: ServeVariant[];
  steps: ClimbStep<ServeReport>[][];
  /** Why the sweep ended early (cancel, timeout, an app that cannot start); null when it ran to its end. */
  error: RunError | null;
  timeoutS: number;
  createdAt: string;
  workspaceRoot: string | null;
}

/** The variants of a sweep, in the order they run at each rate and are shown. */
export function sweepVariants(processes?: number | null, threadTokens: readonly number[] = []): ServeVariant[] {
  return [...serveVariants(processes, null), ...threadTokens.map((t) => ({ name: 'threads' as const, processes: 1, threadTokens: t }))];
}

/** The sweep's limit when none is given: every point as a serve session's default. */
export function defaultSweepTimeoutS(settings: Pick<ServeSettings, 'warmupS' | 'durationS'>, points: number, startTimeoutS: number = SERVE_KNOBS.startTimeoutS.default): number {
  return defaultServeTimeoutS(settings, points, startTimeoutS);
}

export async function runServeSweep(opts: ServeSweepOptions): Promise<ServeSweepInputs> {
  const { ratesPerS, processes, threadTokens, onProgress, onPoint, ...serve } = opts;
  const variants = sweepVariants(processes, threadTokens);
  const timeoutS = opts.timeoutS ?? defaultSweepTimeoutS(opts.settings, variants.length * ratesPerS.length, opts.startTimeoutS);
  const deadline = Date.now() + timeoutS * 1000;
  const createdAt = new Date().toISOString();
  let runtime: Runtime | null = null;
  let error: RunError | null = null;
  const steps = await climb(variants, ratesPerS, async (variant, ratePerS) => {
    const inputs = await runServe({
      ...serve,
      settings: { ...opts.settings, ratePerS },
      variants: [variant],
      timeoutS,
      deadline,
      onProgress: (p) => onProgress?.({ ...p, ratePerS }),
    });
    runtime ??= inputs.runtime;
    error ??= inputs.error;
    const report = buildServeReport(inputs);
    onPoint?.(variant, ratePerS, report);
    const v = report.variants[0];
    const behind = v?.verdict === 'within-budget' ? endpointsBehind(v.endpoints, report.settings.verdictBudgetMs) : [];
    return { point: report, verdict: v?.verdict ?? 'not-measured', ended: inputs.error, behind };
  });
  return {
    app: opts.app, runtime, settings: opts.settings, ratesPerS, processes: processes ?? null,
    threadTokens: threadTokens ?? [], variants, steps, error, timeoutS, createdAt, workspaceRoot: opts.workspaceRoot,
  };
}
