/**
 * Did each endpoint keep up with the rate? The serve verdict judges what *other* requests
 * waited (the probe, the loop) and timeouts; a sweep claims more: that the endpoint
 * sustains its rate. An endpoint served more slowly than requests arrive builds a queue, so
 * its latency climbs through the measured part (a `def` route on 1 thread token, 2 req/s of
 * capacity at 3 req/s: its last requests waited ~6 s, under the generator's timeout, and
 * the point was within budget). Pure.
 */
import { fmtMs, printable } from '../../shared/format';
import type { EndpointStats } from '../../shared/protocol/serveReport';

/** Fewer completed requests than this in the timeline: no trend is read. */
const MIN_POINTS = 8;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * Why an endpoint fell behind (`GET /x answered in 6.5 s at the end, 510 ms at the start`),
 * or null: the median latency of the last quarter of its requests (by intended start) is
 * above the first quarter's by more than the budget, and at least twice it. A latency that
 * varies without a trend (a slow route, jitter) does not count.
 */
export function fellBehind(e: Pick<EndpointStats, 'name' | 'timeline'>, budgetMs: number): string | null {
  if (e.timeline.length < MIN_POINTS) return null;
  const byStart = [...e.timeline].sort((a, b) => a[0] - b[0]).map(([, ms]) => ms);
  const quarter = Math.floor(byStart.length / 4);
  const first = median(byStart.slice(0, quarter));
  const last = median(byStart.slice(byStart.length - quarter));
  if (last - first <= budgetMs || last < 2 * first) return null;
  return `${printable(e.name)} answered in ${fmtMs(last)} at the end, ${fmtMs(first)} at the start`;
}

/** Every endpoint that fell behind, in the document's order. */
export function endpointsBehind(endpoints: readonly Pick<EndpointStats, 'name' | 'timeline'>[], budgetMs: number): string[] {
  return endpoints.map((e) => fellBehind(e, budgetMs)).filter((x): x is string => x !== null);
}
