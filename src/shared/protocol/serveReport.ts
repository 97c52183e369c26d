/**
 * The service-mode document: looplag.serve/1 (issue 14), one `looplag serve` session: the
 * user's server under load, per variant (as written, more processes, other thread
 * limits), what every endpoint's requests, the probe and the server's loop experienced.
 */
import { Infer, int, num, obj } from '../validate';

export const SERVE_SCHEMA = 'looplag.serve/1';

/** Request latency from each request's intended start (HDR histogram), ms. */
export const LatencyStats = obj({ count: int, p50Ms: num, p90Ms: num, p99Ms: num, p999Ms: num, maxMs: num, meanMs: num });
export type LatencyStats = Infer<typeof LatencyStats>;
