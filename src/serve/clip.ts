/**
 * A server process's window cut to the load's measured part. The server's window opens
 * when it reads `measure` (Python: after the load's measured start, `offsetMs` later; Node:
 * at the load's start, `measure.t0EpochMs`, having recorded since ready) and closes
 * at `stop`, which comes after the load has waited for its last requests (up to the
 * request timeout): an idle tail, or a stall after the measured part, is not what the
 * endpoints' figures describe, so lag, stalls, the predicted wait and the handlers' spans
 * are taken over the load's measured part only. CPU stays over the whole window (a
 * cumulative clock cannot be cut), with that window's length.
 */
import type { ServerProcessWindow } from '../shared/protocol/serve';
import type { LoadResult } from './load/types';

/** `w` on its own clock, cut to `[from, to]` ms: the load's measured part seen from this process. */
export function clipToLoad(w: ServerProcessWindow, load: LoadResult | null): ServerProcessWindow {
  if (!load) return w;
  const offset = w.t0EpochMs - load.t0EpochMs;
  const from = Math.max(0, -offset);
  const to = Math.min(w.wallMs, load.durationMs - offset);
  if (to <= from) return { ...w, wallMs: 0, samples: [], requests: w.requests.map((r) => ({ ...r, spans: [] })) };
  // A gap that crosses an edge keeps its part inside (a stall in progress at the end is cut
  // there; one begun before the window's start, too), even with nothing else to cut.
  const samples = w.samples.flatMap(([wake, lag]) => {
    const start = wake - lag;
    if (wake < from || start > to) return [];
    if (start >= from && wake <= to) return [[wake, lag]];
    const end = Math.min(wake, to);
    return [[end, end - Math.max(start, from)]];
  });
  const requests = w.requests.map((r) => ({
    ...r,
    spans: r.spans.flatMap(([a, b]) => (b < from || a > to ? [] : [[Math.max(a, from), Math.min(b, to)]])),
  }));
  return { ...w, wallMs: to - from, samples, requests };
}
