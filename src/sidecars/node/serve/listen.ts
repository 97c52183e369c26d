/**
 * The user's server, seen from inside: `net.Server.prototype.listen` is replaced before
 * their script loads, so every server it starts listens on 127.0.0.1 whatever it asked
 * (a script binding 0.0.0.0 or `::` must not be exposed by a measurement), and the first
 * `http.Server` to listen is the one measured: it listens on the plan's port (0: a free
 * one), answers the probe route itself ahead of the app's listeners, and reports each
 * request of the app. Unix-socket paths and inherited handles are left as asked: they
 * are not on the network, and the host could not reach them over TCP anyway.
 */
import * as http from 'node:http';
import * as net from 'node:net';

export const LOOPBACK = '127.0.0.1';

/** What the harness learns from the measured server. */
export interface ServerHooks {
  /** The plan's port (0: a free one). */
  port: number;
  /** The probe route, answered 200 `ok` before the app sees it. */
  pingPath: string;
  /** The first http server called listen(): it is the one measured. */
  onChosen(server: http.Server): void;
  onListening(server: http.Server): void;
  /** A cluster worker's (--workers N): the measured server's port is shared through node:cluster. */
  shared?: boolean;
  /** Shared, but the measured server refuses to share its port (why, in words): it is not listened. */
  onUnshareable?(why: string): void;
  /** It could not listen (EADDRINUSE, EACCES): emitted before `listening`. */
  onListenError(server: http.Server, error: Error): void;
  /** A request for the app (not the probe), with its path as received (no query). */
  onRequest(req: http.IncomingMessage, res: http.ServerResponse, path: string): void;
}

type Listen = (this: net.Server, ...args: unknown[]) => net.Server;

interface Normalized {
  options: net.ListenOptions;
  callback: ((...a: unknown[]) => void) | undefined;
}

/**
 * `listen`'s arguments as one options object, or null for those left alone (a socket
 * path, a handle or fd): `listen()`, `listen(cb)`, `listen(port[, host][, backlog][, cb])`,
 * `listen(options[, cb])`, a port given as a numeric string.
 */
export function normalizeListenArgs(args: unknown[]): Normalized | null {
  const rest = [...args];
  const callback = typeof rest[rest.length - 1] === 'function' ? (rest.pop() as (...a: unknown[]) => void) : undefined;
  const first = rest[0];
  if (first === undefined || first === null) return { options: {}, callback };
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    const options: net.ListenOptions = { port: Number(first) };
    if (typeof rest[1] === 'string') options.host = rest[1];
    const backlog = typeof rest[1] === 'number' ? rest[1] : rest[2];
    if (typeof backlog === 'number') options.backlog = backlog;
    return { options, callback };
  }
  if (typeof first === 'object') {
    const o = first as Record<string, unknown>;
    if (o.path || o.handle || o.fd !== undefined || '_handle' in o) return null;
    return { options: { ...(o as net.ListenOptions) }, callback };
  }
  return null;
}

/** The path part of a request target (`/a/b?x=1` → `/a/b`). */
export function pathOf(url: string | undefined): string {
  const u = url ?? '/';
  const q = u.search(/[?#]/);
  return q < 0 ? u : u.slice(0, q);
}

/**
 * Replaces `net.Server.prototype.listen` for the rest of the process; returns the
 * function that puts the original back.
 */
export function instrumentListen(hooks: ServerHooks): () => void {
  const proto = net.Server.prototype as unknown as { listen: Listen };
  const original = proto.listen;
  let chosen: http.Server | null = null;
  proto.listen = function (this: net.Server, ...args: unknown[]): net.Server {
    const normalized = normalizeListenArgs(args);
    if (!normalized) return original.apply(this, args);
    const isMeasured = chosen === null && this instanceof http.Server;
    const options: net.ListenOptions = { ...normalized.options, host: LOOPBACK };
    delete options.ipv6Only;
    if (isMeasured && hooks.shared && options.exclusive) {
      // Node would bind it in this worker alone, on a port of its own: not the app in N processes.
      hooks.onUnshareable?.('it listens with `exclusive: true`');
      return this;
    }
    if (isMeasured) {
      const server = this as http.Server;
      chosen = server;
      options.port = hooks.port;
      hooks.onChosen(server);
      wrapRequests(server, hooks);
      const onError = (e: Error) => hooks.onListenError(server, e);
      server.on('error', onError);
      server.once('listening', () => {
        server.off('error', onError);
        hooks.onListening(server);
      });
    } else if (options.port === undefined) {
      options.port = 0;
    }
    return normalized.callback ? original.call(this, options, normalized.callback) : original.call(this, options);
  };
  return () => {
    proto.listen = original;
  };
}

/**
 * The probe answered here, before any listener of the app's (so it never reaches the
 * app's routes, logs or middleware); every other request reported, then passed on.
 */
function wrapRequests(server: http.Server, hooks: ServerHooks): void {
  const emit = server.emit as (this: http.Server, event: string | symbol, ...args: unknown[]) => boolean;
  server.emit = function (this: http.Server, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'request') {
      const req = args[0] as http.IncomingMessage;
      const res = args[1] as http.ServerResponse;
      const path = pathOf(req.url);
      if (path === hooks.pingPath) {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
        res.end('ok');
        return true;
      }
      hooks.onRequest(req, res, path);
    }
    return emit.call(this, event, ...args);
  } as typeof server.emit;
}
