/**
 * Service mode (issue 14): which handler blocked the server's loop. A stall (a heartbeat
 * lag at or above `stallMs`, spanning `[wake − lag, wake]`) is charged to every route with
 * a request in flight during it, by the time its requests overlap the stall; a stall with
 * one route alone in flight (the probe aside: it is in flight in every stall, waiting) is
 * that route's for certain, and the lines sampled in those stalls (stats/blockers.ts) are
 * its top blocking line. Pure: the same windows give the same table.
 */
import type { Blocker } from '../shared/protocol/attribution';
import type { HandlerBlocking } from '../shared/protocol/serveReport';
import type { ServerProcessWindow } from '../shared/protocol/serve';
import { reduceBlockers, TOP_BLOCKERS } from './blockers';
import { round3 } from './percentiles';

export interface HandlerOptions {
  heartbeatMs: number;
  stallMs: number;
  /** Attribution on (the blockers are looked for). */
  enabled: boolean;
  /** The probe's path: its requests are no handler's. */
  probePath: string | null;
}

interface Stall {
  index: number;
  startMs: number;
  endMs: number;
}

interface RouteTally {
  method: string;
  route: string;
  requests: number;
  stalls: number;
  stalledMs: number;
  soleStalls: number;
  soleStalledMs: number;
  /** The sole stalls' whole lags: what their blockers' shares are of. */
  soleLagMs: number;
  /** Per process, the top lines of its sole stalls, and their stalled time. */
  sole: { blockers: Blocker[] }[];
}

/** Per route, the stalls during its requests, most stalled first (then by method and route). */
export function handlerBlocking(windows: readonly ServerProcessWindow[], opts: HandlerOptions): HandlerBlocking[] {
  const tallies = new Map<string, RouteTally>();
  for (const w of windows) {
    const stalls: Stall[] = [];
    w.samples.forEach(([wake, lag], index) => {
      if (lag >= opts.stallMs) stalls.push({ index, startMs: wake - lag, endMs: wake });
    });
    const routes = w.requests.filter((r) => r.route !== opts.probePath).map((r) => ({ ...r, union: spanUnion(r.spans) }));
    const soleOf = new Map<string, Set<number>>();
    const tallyOf = (r: { method: string; route: string }) => {
      const key = `${r.method}\u0000${r.route}`;
      let t = tallies.get(key);
      if (!t) {
        t = { method: r.method, route: r.route, requests: 0, stalls: 0, stalledMs: 0, soleStalls: 0, soleStalledMs: 0, soleLagMs: 0, sole: [] };
        tallies.set(key, t);
      }
      return t;
    };
    for (const r of routes) tallyOf(r).requests += r.spans.length + r.dropped;
    for (const s of stalls) {
      const inFlight = routes.map((r) => ({ r, ms: overlapMs(r.union, s) })).filter((x) => x.ms > 0);
      for (const { r, ms } of inFlight) {
        const t = tallyOf(r);
        t.stalls++;
        t.stalledMs += ms;
        if (inFlight.length === 1) {
          t.soleStalls++;
          t.soleStalledMs += ms;
          t.soleLagMs += s.endMs - s.startMs;
          const key = `${r.method}\u0000${r.route}`;
          soleOf.set(key, (soleOf.get(key) ?? new Set()).add(s.index));
        }
      }
    }
    for (const [key, indexes] of soleOf) {
      // Only this route's stalls stay stalls: the others' lags are zeroed (their wake times
      // kept, so every stack sample still finds its heartbeat), and reduceBlockers explains them.
      const samples = w.samples.map((s, i) => (indexes.has(i) ? s : [s[0], 0]));
      const found = reduceBlockers(w.attribution, { samples, heartbeatMs: opts.heartbeatMs, stallMs: opts.stallMs }, opts.enabled);
      tallies.get(key)!.sole.push({ blockers: found.blockers });
    }
  }
  return [...tallies.values()]
    .map((t): HandlerBlocking => {
      const top = mergeBlockers(t.sole, t.soleLagMs)[0];
      return {
        method: t.method,
        route: t.route,
        requests: t.requests,
        stalls: t.stalls,
        stalledMs: round3(t.stalledMs),
        soleStalls: t.soleStalls,
        soleStalledMs: round3(t.soleStalledMs),
        topBlocker: top && top.stalledMs > 0 ? top : null,
      };
    })
    .sort((a, b) => b.stalledMs - a.stalledMs || cmp(a.method, b.method) || cmp(a.route, b.route));
}

/** The spans (`[startMs, endMs]`) as disjoint intervals, by start: two requests in flight together count once. */
export function spanUnion(spans: readonly (readonly number[])[]): number[][] {
  const sorted = spans.filter((sp) => sp[1] > sp[0]).map((sp) => [sp[0], sp[1]]).sort((a, b) => a[0] - b[0]);
  const out: number[][] = [];
  for (const sp of sorted) {
    const last = out[out.length - 1];
    if (last && sp[0] <= last[1]) last[1] = Math.max(last[1], sp[1]);
    else out.push(sp);
  }
  return out;
}

/**
 * The time a stall overlaps a route's requests, given as their spanUnion: a binary search
 * to the first interval that ends after the stall starts (the intervals are disjoint, so
 * their ends ascend too), then the few that reach into it.
 */
export function overlapMs(union: readonly number[][], stall: { startMs: number; endMs: number }): number {
  let lo = 0;
  let hi = union.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (union[mid][1] <= stall.startMs) lo = mid + 1;
    else hi = mid;
  }
  let total = 0;
  for (let i = lo; i < union.length && union[i][0] < stall.endMs; i++) {
    total += Math.min(union[i][1], stall.endMs) - Math.max(union[i][0], stall.startMs);
  }
  return total;
}

/**
 * Several processes' blockers as one list: the same line (thread, step, file, line,
 * function) summed, its stack the one of the process where it stalled longest, its share
 * of `stalledMs` (all the processes' stalled time); the top TOP_BLOCKERS.
 */
export function mergeBlockers(parts: readonly { blockers: readonly Blocker[] }[], stalledMs: number): Blocker[] {
  const merged = new Map<string, { b: Blocker; biggestMs: number }>();
  for (const part of parts) {
    for (const b of part.blockers) {
      const key = [b.thread, b.step, b.file ?? '', b.line ?? '', b.function].join('\u0000');
      const seen = merged.get(key);
      if (!seen) {
        merged.set(key, { b: { ...b }, biggestMs: b.stalledMs });
        continue;
      }
      const sum = { stalledMs: seen.b.stalledMs + b.stalledMs, samples: seen.b.samples + b.samples, stalls: seen.b.stalls + b.stalls };
      seen.b = b.stalledMs > seen.biggestMs ? { ...b, ...sum } : { ...seen.b, ...sum };
      seen.biggestMs = Math.max(seen.biggestMs, b.stalledMs);
    }
  }
  return [...merged.values()]
    .map(({ b }) => ({ ...b, stalledMs: round3(b.stalledMs), share: stalledMs > 0 ? Math.floor(Math.min(1, b.stalledMs / stalledMs) * 10000) / 10000 : 0 }))
    .sort((a, b) => b.stalledMs - a.stalledMs || cmp(a.file, b.file) || (a.line ?? Infinity) - (b.line ?? Infinity) || cmp(a.function, b.function))
    .slice(0, TOP_BLOCKERS);
}

function cmp(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}
