/** `looplag serve --help`: every flag of SERVE_OPTIONS (cli/serveCommandLine.ts) and every exit code, checked by a test. */
import { MAX_SWEEP_RATES, MAX_SWEEP_THREADS, SERVE_KNOBS } from '../shared/serveSettings';
import { KNOBS } from '../shared/settings';

const K = SERVE_KNOBS;

export const SERVE_HELP = `looplag serve: measure your own server under load: what a trivial request waits, and
what the server's event loop does, while your endpoints are called at a steady rate

Usage:
  looplag serve APP --endpoint "METHOD /path" [--endpoint ...] [options]
  looplag serve APP --endpoint "METHOD /path" --sweep-rate 5,10,20,40 [--sweep-threads 1,4,40] [options]

APP is a Python ASGI app as module:attribute (FastAPI, Starlette, anything uvicorn
serves; e.g. app.main:app, imported from --workspace), run under your own uvicorn in
your Python; or a Node server script (.js .mjs .cjs .ts) that starts an http server
(http, Express, Fastify, Koa), run under your Node. Either way it listens on
127.0.0.1 only, with Loop Lag's heartbeat (and where the loop was blocked) inside the
server's own loop; it runs your code, so only run it on a workspace you trust.

Requests are open loop: each endpoint at --rate per second whatever the server does,
timed from when each should have started (a stall cannot hide by slowing the sender).
A probe request Loop Lag answers inside your server shows what a trivial request waits.

Variants, each in fresh server processes, side by side:
  as written   one server process, one loop (always)
  processes    --workers N server processes sharing the port (uvicorn --workers N;
               Node: node:cluster workers), each with its own loop (and GIL), each
               measured
  threads      --threads T: the AnyIO thread limiter at T tokens, where FastAPI and
               Starlette run sync (def) endpoints (Python only; AnyIO's default is 40)

A sweep (--sweep-rate) runs each variant at each rate, ascending, in a fresh server
per point, until a rate is over the budget, has failed requests or is not measured (its
higher rates are not run), and reports the highest rate each variant sustains within
the budget (looplag.serveSweep/1).

Options:
  --endpoint "M /path"  a request to send: method and path with its query, e.g.
                        "GET /reports/sales?year=2024"; repeat for more endpoints
  --body JSON|@FILE     the body of the --endpoint before it (POST, PUT and PATCH need
                        one): inline JSON, or a file's contents as they are
  --header "K: V"       a header sent with every endpoint's requests (repeat for more)
  --rate N              requests per second per endpoint (default: ${K.ratePerS.default}; ${K.ratePerS.min} to ${K.ratePerS.max})
  --duration S          the measured seconds per variant (default: ${K.durationS.default}; ${K.durationS.min} to ${K.durationS.max})
  --warmup S            seconds of requests before measuring, not counted (default: ${K.warmupS.default})
  --probe-rate N        probe requests per second (default: ${K.probeRatePerS.default}; 0: no probe)
  --workers N           also run the app in N server processes (${K.workers.min} to ${K.workers.max}; default: not)
  --threads T           also run the app with T AnyIO thread tokens (Python; default: not)
  --sweep-rate LIST     a sweep over these rates per endpoint instead of --rate, e.g.
                        5,10,20,40 (sorted ascending; at most ${MAX_SWEEP_RATES})
  --sweep-threads LIST  with --sweep-rate: one variant per AnyIO thread-token count,
                        e.g. 1,4,40, instead of --threads (Python; at most ${MAX_SWEEP_THREADS})
  --budget-ms X         the lag budget: exit 3 when the probe's or the loop's p99 exceeds
                        X ms in any measured variant (default: no gate; the verdict
                        judges with ${KNOBS.lagBudgetMs.default} ms)
  --json                print the document (looplag.serve/1) alone on stdout
  --out FILE            also write the document as JSON to FILE
  --html FILE           also write the document as a self-contained HTML page (works
                        offline: the panel's serve view, lines as text)
  --python PATH         Python for an ASGI app, with uvicorn installed (default:
                        python3, then python)
  --node PATH           Node for a server script (default: node on PATH, then the Node
                        running this CLI)
  --workspace DIR       where the app is imported from, and what blocking lines are
                        relative to (default: current directory)
  --timeout S           give up after S seconds, keeping what was measured (default:
                        per variant ${K.startTimeoutS.default} s to start + warm-up + duration + 20 s)
  --no-attribution      do not look for where the loop was blocked
  --verbose             print error details and the server's own stderr
  -h, --help            this help

Exit codes (as for \`looplag run\`; when several apply: 1/124/130, then 5, then 4, then 3):
  0    measured (a variant may still have failed to start; see the document)
  1    nothing was measured (one line on stderr says why)
  2    usage error
  3    a measured variant exceeded --budget-ms (the probe's or a loop's lag p99,
       or a request timed out)
  4    requests failed in a measured variant (a connection error, a 4xx or 5xx)
  5    a server failed after it listened (crashed under load, or killed at a limit):
       that variant's figures stop there
  124  timed out (the document keeps the variants measured before)
  130  interrupted (Ctrl+C; the document keeps what was measured)
  A sweep: 3 and 4 only when a variant misses its lowest rate (over the budget, or
  requests failed there); a higher rate missed is the sweep's finding, exit 0.

Example:
  looplag serve app.main:app --endpoint "GET /reports/sales" --endpoint "POST /auth/hash" \\
    --body '{"password": "x"}' --rate 20 --duration 10 --workers 2 --budget-ms 100
  looplag serve app.main:app --endpoint "GET /reports/sales" --sweep-rate 5,10,20,40 \\
    --sweep-threads 1,4,40 --workers 2 --duration 5 --budget-ms 100
`;
