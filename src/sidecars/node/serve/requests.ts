/**
 * The app's requests in the measured window, per route and method: when each started
 * (the server emitted it) and ended (the response finished, or its connection closed),
 * on the window's clock. Only requests that start inside the window are kept, at most
 * MAX_SPANS per route; the rest are counted.
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

export class RequestLog {
  private readonly routes = new Map<string, RouteLog>();
  private t0: number | null = null;
  private open = 0;

  /** From now on requests are recorded, times relative to `t0` (ms on nowMs()'s clock). */
  begin(t0: number): void {
    this.t0 = t0;
  }

  /** Stops recording; how many requests that started in the window had not ended. */
  end(): number {
    this.t0 = null;
    const open = this.open;
    this.open = 0;
    return open;
  }

  get recording(): boolean {
    return this.t0 !== null;
  }

  /** Called as the server emits the request, before the app's listeners run. */
  track(req: http.IncomingMessage, res: http.ServerResponse, rawPath: string): void {
    const t0 = this.t0;
    if (t0 === null) return;
    const start = nowMs() - t0;
    this.open++;
    let ended = false;
    const done = () => {
      if (ended) return;
      ended = true;
      // A window that ended meanwhile has been sent: the request is only counted as open.
      if (this.t0 !== t0) return;
      this.open--;
      this.add(routeOf(req, rawPath), req.method ?? 'GET', start, nowMs() - t0);
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
    if (log.spans.length < MAX_SPANS) log.spans.push([r4(startMs), r4(endMs)]);
    else log.dropped++;
  }

  /** The window's `requests`, spans in arrival order. */
  take(): ServerProcessWindow['requests'] {
    const out = [...this.routes.values()].map((l) => ({ ...l, spans: l.spans.sort((a, b) => a[0] - b[0]) }));
    this.routes.clear();
    return out;
  }
}

function r4(x: number): number {
  return Math.round(x * 10000) / 10000;
}
