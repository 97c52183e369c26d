/**
 * The open-loop schedule: when each request of each stream is meant to start. Pure.
 *
 * Stream s of k sends its i-th request at `offset_s + i / rate_s` from the run's start
 * (warm-up included), whatever happened to the ones before: a server that stalls cannot
 * slow the arrivals, so the stall shows in the latency of every request that arrives
 * during it (no coordinated omission). The offsets stagger the streams by a fraction of
 * their own interval, so k streams at one rate interleave instead of sending together.
 */
import type { LoadPlan } from './types';

export interface StreamSpec {
  /** Index in the result: the targets in order, then the probe. */
  index: number;
  name: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | null;
  ratePerS: number;
  /** From the run's start to the stream's first request, ms. */
  offsetMs: number;
  intervalMs: number;
  probe: boolean;
}

/** The streams of a plan: its targets, then the probe when there is one. */
export function streamsOf(plan: LoadPlan): StreamSpec[] {
  const raw = [
    ...plan.targets.map((t) => ({ name: t.name, method: t.method.toUpperCase(), path: t.path, headers: t.headers ?? {}, body: t.body ?? null, ratePerS: plan.ratePerS, probe: false })),
    ...(plan.probe ? [{ name: `GET ${plan.probe.path}`, method: 'GET', path: plan.probe.path, headers: {}, body: null, ratePerS: plan.probe.ratePerS, probe: true }] : []),
  ];
  const k = raw.length;
  return raw.map((s, index) => {
    const intervalMs = 1000 / s.ratePerS;
    return { ...s, index, headers: withContentType(s.headers, s.body), intervalMs, offsetMs: (index / k) * intervalMs };
  });
}

/** A body that parses as JSON gets `content-type: application/json`, unless the headers set one. */
export function withContentType(headers: Record<string, string>, body: string | null): Record<string, string> {
  if (body === null || Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) return headers;
  try {
    JSON.parse(body);
  } catch {
    return headers;
  }
  return { ...headers, 'content-type': 'application/json' };
}

/** The intended start of request `i` of a stream, ms from the run's start. */
export function intendedAt(stream: StreamSpec, i: number): number {
  return stream.offsetMs + i * stream.intervalMs;
}

/** The first request index intended at or after `tMs` (the measured part's first, say). */
export function firstIndexAtOrAfter(stream: StreamSpec, tMs: number): number {
  let i = Math.max(0, Math.ceil((tMs - stream.offsetMs) / stream.intervalMs));
  // Floating point: step to the exact boundary either way.
  while (i > 0 && intendedAt(stream, i - 1) >= tMs) i--;
  while (intendedAt(stream, i) < tMs) i++;
  return i;
}

/** How many of a stream's requests are intended in [fromMs, toMs). */
export function countIn(stream: StreamSpec, fromMs: number, toMs: number): number {
  return firstIndexAtOrAfter(stream, toMs) - firstIndexAtOrAfter(stream, fromMs);
}
