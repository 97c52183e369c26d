/**
 * The load generator's contract (issue 14): an open-loop scheduler that sends each target
 * at a constant arrival rate, in a Node process of its own, and times every request from
 * its *intended* start (so a server that stalls cannot hide it by slowing the sender:
 * no coordinated omission). Implemented in src/serve/load/; used by src/serve/session.ts.
 */
import type { LatencyStats } from '../../shared/protocol/serveReport';

/** One stream of requests. */
export interface LoadTarget {
  /** As the report names it: `GET /reports/sales`. */
  name: string;
  method: string;
  /** Path and query, starting with `/`. */
  path: string;
  headers?: Record<string, string>;
  /** Sent as is (a JSON body gets `content-type: application/json` unless headers say otherwise). */
  body?: string | null;
}

export interface LoadPlan {
  /** `http://127.0.0.1:PORT`. */
  origin: string;
  /** Each sent at `ratePerS`, open loop; the streams' phases are staggered so their sends do not coincide. */
  targets: LoadTarget[];
  ratePerS: number;
  /** The probe: a trivial request at a steady rate, timed like the others; null: none. */
  probe: { path: string; ratePerS: number } | null;
  /** Requests at the same rates before the measured part, not counted (connections opened, caches and JIT warm). */
  warmupMs: number;
  durationMs: number;
  /** A request not answered this long after its intended start failed (`timeout`). */
  timeoutMs: number;
  /** Connections to the origin (undici Pool); requests beyond them queue in the generator, their wait counted in their latency. */
  maxConnections: number;
}

export interface TargetResult {
  name: string;
  method: string;
  path: string;
  /** Requests whose intended start was in the measured part. */
  sent: number;
  /** Answered (any status). */
  completed: number;
  /** No answer: an error or a timeout (see `errors`). */
  failed: number;
  /** `"200": 1234`. */
  statusCodes: Record<string, number>;
  /** `"timeout": 3`, `"ECONNRESET": 1`. */
  errors: Record<string, number>;
  /** From intended start to the response's end, over the completed requests (HDR histogram); null: none completed. */
  latency: LatencyStats | null;
  /** Completed per second of the measured part. */
  throughputPerS: number;
  /**
   * Per request, by intended start: `[tMs since the measured t0, latencyMs or null when it failed, status or 0]`.
   * At most 20 000 per target, evenly thinned beyond (a note in `generator.notes` says so).
   */
  timeline: [number, number | null, number][];
}

export interface LoadResult {
  /** The generator's wall clock (ms since the epoch) at the measured t0: aligns the timeline with the server's. */
  t0EpochMs: number;
  durationMs: number;
  targets: TargetResult[];
  probe: TargetResult | null;
  /** How late the generator itself sent (its own loop's delay): evidence it was not the bottleneck. */
  generator: { sendLagP99Ms: number; sendLagMaxMs: number; cpuMs: number; notes: string[] };
}

export interface LoadProgress {
  phase: 'warmup' | 'measuring' | 'draining';
  elapsedMs: number;
  sent: number;
  completed: number;
}

export interface LoadOptions {
  /** The Node to run the generator on (default: process.execPath; the editor passes its own with ELECTRON_RUN_AS_NODE). */
  nodePath?: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /**
   * Called when the warm-up ends and the measured part begins, with when it began (the
   * wall clock, ms since the epoch, as `LoadResult.t0EpochMs`): the host opens the server's window there.
   */
  onMeasureStart?(t0EpochMs: number): void;
  onProgress?(p: LoadProgress): void;
}
