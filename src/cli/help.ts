/** `looplag --help`: every flag parseArgs accepts (cli/commandLine.ts) and every exit code, checked by a test. */
import { TOOL_VERSION } from '../report/buildReport';

export const HELP = `looplag ${TOOL_VERSION}: measure what a function does to the event loop

Usage:
  looplag run FILE::FUNCTION [options]     a top-level function (exported or not), or
                                           Class.method (Python: a staticmethod or
                                           classmethod; JS/TS: a static method)
  looplag run FILE:START-END [options]     a snippet: lines START..END (1-based),
                                           run as a function in the module's scope
  looplag sweep TARGET [options]           pool modes over a list of pool sizes (--workers
                                           LIST, default 1,2,4,cores,cores+4,32,40):
                                           throughput and lag per size, the recommended W
  looplag serve APP --endpoint "M /path"   your own server (a Python ASGI app or a Node
                                           http server) under load, its loop measured
                                           inside it: see \`looplag serve --help\`
  looplag test [--junit FILE]              looplag.json's budgets as tests: see
                                           \`looplag test --help\`
  looplag --help | --version

FILE is Python (.py) or JavaScript/TypeScript (.js .mjs .cjs .ts .mts .cts; ESM or
CommonJS; TypeScript runs without a build step).

Each mode runs N concurrent calls while a heartbeat on the event loop records lag.
Python (asyncio):
  inline       the N calls scheduled at once on the event loop (no offloading)
  thread       loop.run_in_executor(ThreadPoolExecutor(max_workers=W))
  process      ProcessPoolExecutor(max_workers=W), created and warmed before measuring
  interpreter  InterpreterPoolExecutor (Python 3.14+; otherwise reported as skipped)
Node:
  inline       the N calls scheduled at once on the main thread (no offloading)
  worker       a pool of W worker_threads (default: os.availableParallelism())
  process      a pool of W child processes (child_process.fork), started before measuring

Options:
  --args TEXT            call arguments as written inside the parentheses,
                         e.g. "365, 10**6" or "data, n=5" (evaluated in the module)
  --modes LIST           comma-separated modes (default: all of the language's modes)
  --concurrency N        concurrent calls per mode (default: 10)
  --workers N            pool size W; 0 = the executor's default (default: 0);
                         a FastAPI/Starlette def route's threads: its threadpool's
                         (sweep: a list, e.g. 1,2,4,cores,cores+4,32,40)
  --switch-interval S    sys.setswitchinterval(S) in seconds; 0 = leave it (default: 0)
  --heartbeat-ms N       heartbeat interval in whole ms (default: 1)
  --stall-ms N           lag at or above this is a stall (default: 50)
  --timeout S            give up after S seconds, keeping what was measured (default: 120)
  --call-timeout S       a call still running S seconds after it started is unfinished:
                         its mode's window is cut there (kept, marked partial) and the
                         next mode runs (default: --timeout / (modes + 1), at least 1)
  --python PATH          interpreter (default: python3, then python)
  --free-threaded PATH   also run thread mode under this free-threaded Python (3.13t+),
                         as its own column; "auto" finds python3.14t/3.13t on PATH
                         (default: auto; "off" to skip)
  --plan MODE            the mode you mean to deploy, which the headline judges
                         (default: thread for sync Python, inline for async and Node)
  --node PATH            Node for JS/TS targets (default: node on PATH, then the
                         Node running this CLI)
  --workspace DIR        workspace root added to sys.path (default: current directory)
  --no-gil-probe         do not run the GIL-wait probe thread at all (Python only;
                         by default it runs in the baseline and the one-thread
                         diagnostic window, never in a window whose lag is reported)
  --gil-probe-in-window  also run the GIL-wait probe in every measured window
                         (per-window GIL waits; it competes for the GIL and
                         inflates thread-mode lag for pure-Python work)
  --no-warmup            no unmeasured warm-up call before each window (for code
                         with side effects; one-time costs then land in the window)
  --no-attribution       do not look for where the loop was blocked (no stacks
                         sampled during stalls; the report says attribution was off)
  --json                 print the report (looplag.report/1) alone on stdout
  --out FILE             also write the report as JSON to FILE
  --html FILE            also write the report (sweep: the sweep) as a self-contained
                         HTML page (charts and tables; opens offline, attach it to a PR)
  --budget-ms X          the lag budget the headline judges with (default 100); exit 3
                         when any measured mode's max lag exceeds X ms
  --sweep-budget-s S     sweep: the time budget for all windows (default: 60); each
                         window runs repeated rounds (at least 3 and 0.5 s when the
                         budget allows, fewer and shorter when not, and says so)
  --verbose              print error details and the sidecar's own stderr
  -h, --help             this help
  -v, --version          the version

Exit codes (when several apply, the first listed of 1/124/130, then 5, then 4, then 3):
  0    measured (a mode may still have failed; see the report)
  1    the target could not be measured (one line on stderr says why)
  2    usage error
  3    a mode's max lag exceeded --budget-ms
  4    calls raised in a measured mode (with or without --budget-ms): the window timed
       the error path; one line on stderr names the first exception and its line
  5    calls did not finish: cut by --call-timeout or lost in a crash (a pool
       member or a mode's sidecar died); one line on stderr gives each mode's counts
  124  timed out (the report keeps the modes measured before)
  130  interrupted (Ctrl+C)

Example:
  looplag run examples/python/cpu_bound.py::cpu_bound_task --args "365, 350_000" --budget-ms 100
`;
