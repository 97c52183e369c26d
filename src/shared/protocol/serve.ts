/**
 * Service mode (issue 14): the user's own server under load. Three parties:
 *  - the **server harness**: a process of the user's runtime that runs their app with
 *    Loop Lag's heartbeat (and attribution) inside the server's own loop: Python
 *    (`looplag_sidecar/serve/`, an ASGI app under the user's uvicorn) or Node
 *    (`src/sidecars/node/serve/`, the user's script with an instrumentation preload);
 *  - the **load generator**: an open-loop scheduler in a Node process of its own (never
 *    inside the server's loop, never in the editor's), `src/serve/load/`;
 *  - the **host** (CLI or editor), `src/serve/`, which starts both per variant and builds
 *    the `looplag.serve/1` document.
 * The harness speaks JSON lines on the protocol descriptor with the run's nonce, like the
 * sidecars (engine/sidecarProcess.ts), and reads host messages on stdin. The Python
 * mirror is src/sidecars/python/looplag_sidecar/serve/protocol.py.
 */
import { arr, bool, Infer, int, literal, nullable, num, obj, optional, str, tagged } from '../validate';
import { RunError } from './common';
import { AttributionPlan, RawAttribution } from './attribution';
import { Runtime, Sample } from './sidecar';

/** Bumped on any incompatible change to the host⇄server-harness messages. */
export const SERVE_PROTOCOL_VERSION = 1;

// ---------------------------------------------------------------------------
// host → server harness (stdin)

/** What to serve (by `type`). `asgi`: `module:attribute` imported as uvicorn does (appDir first on sys.path); `node`: a script that starts an http server. */
export const ServeApp = tagged({
  asgi: obj({
    type: literal('asgi'),
    /** `package.module:app` (uvicorn's APP spec; `:factory()` not supported). */
    target: str,
    /** Put first on sys.path (uvicorn's --app-dir): the workspace folder, else the current directory. */
    appDir: str,
    /** ASGI lifespan: uvicorn's `--lifespan` (auto: run it when the app supports it). */
    lifespan: literal('auto', 'on', 'off'),
  }),
  node: obj({
    type: literal('node'),
    /** The server's entry script (absolute); .js/.mjs/.cjs/.ts, loaded as the Node sidecar loads targets. */
    script: str,
    /** Its process.argv after the script. */
    args: arr(str),
  }),
});
export type ServeApp = Infer<typeof ServeApp>;

export const ServePlan = obj({
  app: ServeApp,
  /**
   * Server processes: 1 runs the app as written (one process, one loop); N > 1 starts N
   * processes sharing one listening socket (uvicorn --workers N; Node: N processes), each
   * with its own loop (and GIL), each measured.
   */
  processes: int,
  /** Python: the AnyIO thread limiter's tokens (sync endpoints run there; 40 by default); null: as the app sets it. */
  threadTokens: nullable(int),
  /** The port to listen on; 0: a free one, chosen by the harness. Always on 127.0.0.1. */
  port: int,
  /**
   * The probe route the harness answers itself, ahead of the app (200, body `ok`): a path
   * with the run's nonce, so it never shadows a user route.
   */
  pingPath: str,
  heartbeatMs: int,
  /** Where the loop was blocked, in the server's loop (see protocol/attribution.ts). */
  attribution: AttributionPlan,
  /** Seconds the app may take to start (import, lifespan startup, listen) before the run fails. */
  startTimeoutS: num,
});
export type ServePlan = Infer<typeof ServePlan>;

export const ServeHostMessage = tagged({
  start: obj({ type: literal('start'), protocol: int, plan: ServePlan }),
  /**
   * Begin the measured window (the warm-up requests are done). `t0EpochMs`: the host's
   * wall clock when the load's measured part began. A harness that reads `measure` on the
   * server's loop (Node) has recorded since `ready` and starts its window there, so a stall
   * in progress when the message came is counted; absent: when it is read. (Python reads
   * it on a thread of its own and starts then.)
   */
  measure: obj({ type: literal('measure'), t0EpochMs: optional(num) }),
  /** End the window: the harness sends `window`, then shuts the server down (lifespan shutdown) and exits. */
  stop: obj({ type: literal('stop') }),
});
export type ServeHostMessage = Infer<typeof ServeHostMessage>;

// ---------------------------------------------------------------------------
// server harness → host (the protocol pipe)

/** A route the app declares (FastAPI/Starlette `app.routes`; Express's router stack). */
export const ServeRoute = obj({
  methods: arr(str),
  path: str,
  /** The handler's name and where it is defined (workspace-relative when inside the workspace). */
  handler: nullable(str),
  file: nullable(str),
  line: nullable(int),
  /** Python: `async def` (runs on the loop) or `def` (runs in the AnyIO threadpool). */
  isAsync: nullable(bool),
});
export type ServeRoute = Infer<typeof ServeRoute>;

/** One server process's loop over the measured window (all times ms on that process's monotonic clock since `measure`). */
export const ServerProcessWindow = obj({
  pid: int,
  /** The process's wall clock (ms since the epoch) at the window's t0: the host aligns it with the load's timeline. */
  t0EpochMs: num,
  wallMs: num,
  /** Heartbeat samples `[tMs, lagMs]` by wake time, as in RawWindow. */
  samples: arr(Sample),
  cpu: obj({ userMs: num, systemMs: num }),
  /** Requests the app handled in the window, per route (path template when the framework names it, else the raw path). */
  requests: arr(obj({
    route: str,
    method: str,
    /** `[startMs, endMs]` on this window's clock, in arrival order; capped at 20 000 per route (the rest counted in `dropped`). */
    spans: arr(arr(num)),
    dropped: int,
  })),
  /** Stacks sampled during stalls (the plan's attribution); null when off. */
  attribution: nullable(RawAttribution),
  /** Python: the AnyIO limiter's tokens in force during the window. */
  threadTokens: optional(nullable(int)),
  notes: optional(arr(str)),
});
export type ServerProcessWindow = Infer<typeof ServerProcessWindow>;

export const ServeSidecarMessage = tagged({
  hello: obj({ type: literal('hello'), protocol: int, sidecar: literal('python', 'node'), runtime: Runtime }),
  /** Listening (every process): requests may start. */
  ready: obj({
    type: literal('ready'),
    port: int,
    pids: arr(int),
    routes: arr(ServeRoute),
    /** The server's own name and version (uvicorn 0.17.6; node:http). */
    server: str,
    /** Start-up: from the plan to listening, ms. */
    startupMs: num,
  }),
  window: obj({ type: literal('window'), processes: arr(ServerProcessWindow) }),
  /** The app failed (import, lifespan startup, a crash) or the harness did; the run ends. */
  error: obj({ type: literal('error'), error: RunError }),
  done: obj({ type: literal('done') }),
});
export type ServeSidecarMessage = Infer<typeof ServeSidecarMessage>;
