/**
 * What a service-mode session gathered, per variant, before the document is built:
 * src/serve/session.ts fills it, src/serve/buildServeReport.ts turns it into looplag.serve/1.
 */
import type { CapturedOutput, RunError, Runtime } from '../shared/protocol';
import type { ServeApp, ServeRoute, ServerProcessWindow } from '../shared/protocol/serve';
import type { LoadResult, LoadTarget } from './load/types';

/** A service-level mode: the app as written, N server processes, or T AnyIO thread tokens (Python). */
export interface ServeVariant {
  name: 'as-written' | 'processes' | 'threads';
  processes: number;
  /** null: as the app sets it (AnyIO's default is 40). */
  threadTokens: number | null;
}

export interface VariantInputs {
  variant: ServeVariant;
  status: 'ok' | 'failed' | 'skipped';
  error: RunError | null;
  /** From the harness's `ready`; null when the server never listened. */
  ready: { port: number; pids: number[]; routes: ServeRoute[]; server: string; startupMs: number } | null;
  load: LoadResult | null;
  /** One per server process, from the harness's `window`; empty when it never sent one. */
  server: ServerProcessWindow[];
  /** What the server printed on fds 1 and 2, capped (head and tail). */
  output: CapturedOutput;
  /** What the session saw of this variant beyond its figures (a server that did not end when told and was killed). */
  notes?: string[];
}

export interface ServeSettings {
  ratePerS: number;
  durationS: number;
  warmupS: number;
  probeRatePerS: number;
  endpoints: LoadTarget[];
  /** The lag budget the verdict and the CLI's gate use (ms, probe p99 and loop lag p99); null: none. */
  budgetMs: number | null;
  heartbeatMs: number;
  stallMs: number;
  attribution: boolean;
}

export interface ServeInputs {
  app: ServeApp;
  /** The harness's runtime (from its hello); null when it never started. */
  runtime: Runtime | null;
  settings: ServeSettings;
  variants: VariantInputs[];
  /** Why the session ended early (cancel, timeout, the app failed to start in every variant); null when complete. */
  error: RunError | null;
  createdAt: string;
  /** The workspace the blocking lines are relative to. */
  workspaceRoot: string | null;
}
