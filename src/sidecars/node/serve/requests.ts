/**
 * The app's requests, per route and method: when each started (the server emitted it) and
 * ended (the response finished, or its connection closed). Recorded from `ready` (times on
 * nowMs()'s clock), so that a window opened late (its `measure` read after a stall) can
 * start where the host's did: until then only the last KEEP_BEFORE_MS are kept (the
 * warm-up is seconds to minutes of requests); `cut(t0)` keeps those that started at t0
 * or after, and from then on at most MAX_SPANS per route, the rest counted.
 */
import type * as http from 'node:http';
import type { ServerProcessWindow } from '../../../shared/protocol/serve';
import { nowMs } from '../clock';

/** Spans kept per route (the protocol's cap). */
export const MAX_SPANS = 20_000;

interface RouteLog {
  route: string;
  method: string;
  spans: [number, number][];
  dropped: number;
}

/** Express sets these on the request once a route matched (`req.route.path` relative to `req.baseUrl`). */
interface ExpressRequest extends http.IncomingMessage {
  route?: { path?: unknown };
  baseUrl?: unknown;
}

/** The route a request matched: Express's template when it names one, else the path as received. */
export function routeOf(req: http.IncomingMessage, rawPath: string): string {
  const r = (req as ExpressRequest).route;
  if (r && r.path !== undefined && r.path !== null) {
    const base = typeof (req as ExpressRequest).baseUrl === 'string' ? (req as ExpressRequest).baseUrl as string : '';
    return base + String(r.path);
  }
  return rawPath;
}

interface Open {
  startMs: number;
}

export class RequestLog {
  private readonly routes = new Map<string, RouteLog>();
  private recording = false;
  /** The window's start, once known: spans before it are not kept, and the cap applies. */
  private t0: number | null = null;
  private readonly open = new Set<Open>();

  /** From now on requests are recorded (at `ready`). */
  begin(): void {
    this.recording = true;
  }

  /** Before the window starts: forgets what started before `beforeMs` (absolute), as the warm-up goes on. */
  trim(beforeMs: number): void {
    if (this.t0 !== null) return;
    // By start, not by position: spans are added as they end.
    for (const log of this.routes.values()) log.spans = log.spans.filter(([start]) => start >= beforeMs);
  }

  /** The window starts at `t0` (absolute ms): what started before it is dropped, open or not. */
  cut(t0: number): void {
    this.t0 = t0;
    for (const [key, log] of this.routes) {
      log.spans = log.spans.filter(([start]) => start >= t0);
      if (log.spans.length > MAX_SPANS) {
        log.dropped += log.spans.length - MAX_SPANS;
        log.spans.length = MAX_SPANS;
      }
      if (!log.spans.length && !log.dropped) this.routes.delete(key);
    }
    for (const o of this.open) if (o.startMs < t0) this.open.delete(o);
  }

  /** Stops recording; how many requests that started in the window had not ended. */
  end(): number {
    this.recording = false;
    const open = this.open.size;
    this.open.clear();
    return open;
  }

  /** Called as the server emits the request, before the app's listeners run. */
  track(req: http.IncomingMessage, res: http.ServerResponse, rawPath: string): void {
    if (!this.recording) return;
    const o: Open = { startMs: nowMs() };
    this.open.add(o);
    const done = () => {
      // Ended once; after the window was sent, or cut away before t0: not recorded.
      if (!this.open.delete(o) || !this.recording) return;
      this.add(routeOf(req, rawPath), req.method ?? 'GET', o.startMs, nowMs());
    };
    res.once('finish', done);
    res.once('close', done);
  }

  private add(route: string, method: string, startMs: number, endMs: number): void {
    const key = `${method} ${route}`;
    let log = this.routes.get(key);
    if (!log) {
      log = { route, method, spans: [], dropped: 0 };
      this.routes.set(key, log);
    }
    // Before the window starts every span is kept (trimmed by age): the cap counts from t0.
    if (this.t0 === null || log.spans.length < MAX_SPANS) log.spans.push([startMs, endMs]);
    else log.dropped++;
  }

  /** The window's `requests`, relative to its t0, in arrival order. */
  take(): ServerProcessWindow['requests'] {
    const t0 = this.t0 ?? 0;
    const out = [...this.routes.values()].map((l) => ({
      ...l, spans: l.spans.sort((a, b) => a[0] - b[0]).map(([a, b]) => [r4(a - t0), r4(b - t0)]),
    }));
    this.routes.clear();
    return out;
  }
}

function r4(x: number): number {
  return Math.round(x * 10000) / 10000;
}
