/**
 * `looplag serve`'s arguments (after `serve`) to a checked session: the app, each endpoint
 * and its body, the headers, the ranges, the output file, all before anything starts. The
 * CLI (cli/serveCommandLine.ts) and looplag.json's endpoint budgets (budgets/config.ts)
 * both check through it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { parseKnob, UsageError } from '../engine/options';
import { checkOutputPath, isDirectory, sameFile } from '../engine/plan';
import { joinNegativeValues } from '../engine/runFlags';
import type { ServeSettings } from './inputs';
import { MAX_REQUESTS_PER_STREAM } from './load/messages';
import type { LoadTarget } from './load/types';
import type { ServeApp } from '../shared/protocol/serve';
import { MAX_SWEEP_RATES, MAX_SWEEP_THREADS, SERVE_KNOBS } from '../shared/serveSettings';
import { Knob, KNOBS, SWITCHES } from '../shared/settings';
import { BODY_METHODS, NO_BODY_METHODS, parseApp, parseEndpoint } from './appSpec';

/** Every flag `looplag serve` accepts (a test checks that `looplag serve --help` documents each one). */
export const SERVE_OPTIONS = {
  endpoint: { type: 'string', multiple: true },
  body: { type: 'string', multiple: true },
  header: { type: 'string', multiple: true },
  rate: { type: 'string' },
  duration: { type: 'string' },
  warmup: { type: 'string' },
  'probe-rate': { type: 'string' },
  workers: { type: 'string' },
  threads: { type: 'string' },
  'sweep-rate': { type: 'string' },
  'sweep-threads': { type: 'string' },
  'budget-ms': { type: 'string' },
  json: { type: 'boolean' },
  out: { type: 'string' },
  html: { type: 'string' },
  python: { type: 'string' },
  node: { type: 'string' },
  workspace: { type: 'string' },
  timeout: { type: 'string' },
  'no-attribution': { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Headers the load generator sets itself (the connection, the body's length): a user value would contradict it. */
const MANAGED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection']);
/** RFC 9110's token: a header name. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** A `looplag serve` session, checked and ready to start. */
export interface ServeCommand {
  app: ServeApp;
  settings: ServeSettings;
  /** `--workers N`: the extra variant's server processes; null: as written only. */
  processes: number | null;
  /** `--threads T` (Python): the extra variant's AnyIO thread tokens; null: none. */
  threadTokens: number | null;
  /** `--sweep-rate LIST [--sweep-threads LIST]`: a sweep (looplag.serveSweep/1) instead of one session; null: none. */
  sweep: ServeSweepFlags | null;
  budgetMs: number | null;
  /** --timeout; null: the session's default (defaultServeTimeoutS). */
  timeoutS: number | null;
  workspaceRoot: string;
  python: string | undefined;
  node: string | undefined;
  json: boolean;
  out: string | undefined;
  /** --html: the document as a self-contained page (report/html.ts serveStandaloneHtml). */
  html: string | undefined;
  verbose: boolean;
}

/** A sweep's lists, each ascending without repeats. */
export interface ServeSweepFlags {
  ratesPerS: number[];
  /** One threads variant per value (Python); empty: none. */
  threadTokens: number[];
}

/** Pure but for reading `--body @FILE` and checking paths: the session, `help`, or a UsageError. */
export function parseServeArgs(argv: string[], cwd: string): ServeCommand | 'help' {
  const { values: o, positionals, tokens } = parseArgs({ args: joinNegativeValues(argv), allowPositionals: true, options: SERVE_OPTIONS, tokens: true });
  if (o.help) return 'help';
  if (positionals.length !== 1) {
    throw new UsageError(positionals.length === 0
      ? 'missing APP: a Python ASGI app as module:attribute (e.g. app.main:app) or a Node server script'
      : `expected one APP, got ${positionals.map((p) => `"${p}"`).join(' ')}`);
  }
  const workspaceRoot = path.resolve(cwd, o.workspace ?? '.');
  if (!isDirectory(workspaceRoot)) throw new UsageError(`--workspace ${workspaceRoot} is not a folder`);
  const app = parseApp(positionals[0], workspaceRoot, cwd);
  if (app.type === 'node' && o.python !== undefined) throw new UsageError('--python applies to a Python ASGI app; a Node server runs under --node');
  if (app.type === 'asgi' && o.node !== undefined) throw new UsageError('--node applies to a Node server script; a Python ASGI app runs under --python');
  if (app.type === 'node' && o.threads !== undefined) throw new UsageError('--threads sets the AnyIO thread limiter of a Python ASGI app; a Node server has none');
  if (app.type === 'node' && o['sweep-threads'] !== undefined) throw new UsageError('--sweep-threads sets the AnyIO thread limiter of a Python ASGI app; a Node server has none');
  const sweep = parseSweep(o['sweep-rate'], o['sweep-threads'], { rate: o.rate, threads: o.threads });
  if (sweep && o.html) throw new UsageError('--html writes one session\'s page; a sweep (--sweep-rate) writes its document with --out or --json');
  const headers = parseHeaders(o.header ?? []);
  const endpoints = parseEndpoints(tokens ?? [], headers, cwd);
  const budgetMs = parseKnob(KNOBS.lagBudgetMs, o['budget-ms']);
  for (const [flag, file] of [['--out', o.out], ['--html', o.html]] as const) {
    if (file) checkOutputPath(flag, path.resolve(cwd, file));
  }
  if (o.out && o.html && sameFile(path.resolve(cwd, o.out), path.resolve(cwd, o.html))) throw new UsageError(`--out and --html name the same file: ${o.out}`);
  const ratePerS = sweep ? sweep.ratesPerS[0] : parseKnob(SERVE_KNOBS.ratePerS, o.rate) ?? SERVE_KNOBS.ratePerS.default;
  const durationS = parseKnob(SERVE_KNOBS.durationS, o.duration) ?? SERVE_KNOBS.durationS.default;
  // The generator keeps a few bytes per measured request (its timeline and counts): capped per stream.
  const highest = sweep ? sweep.ratesPerS[sweep.ratesPerS.length - 1] : ratePerS;
  if (highest * durationS > MAX_REQUESTS_PER_STREAM) {
    throw new UsageError(`${sweep ? '--sweep-rate' : '--rate'} ${highest} for --duration ${durationS} s is ${Math.round(highest * durationS)} requests per endpoint: at most ${MAX_REQUESTS_PER_STREAM} (lower the rate or the duration)`);
  }
  return {
    app,
    settings: {
      ratePerS,
      durationS,
      warmupS: parseKnob(SERVE_KNOBS.warmupS, o.warmup) ?? SERVE_KNOBS.warmupS.default,
      probeRatePerS: parseKnob(SERVE_KNOBS.probeRatePerS, o['probe-rate']) ?? SERVE_KNOBS.probeRatePerS.default,
      endpoints,
      budgetMs,
      heartbeatMs: KNOBS.heartbeatMs.default,
      stallMs: KNOBS.stallMs.default,
      attribution: o['no-attribution'] ? false : SWITCHES.attribution.default,
    },
    processes: parseKnob(SERVE_KNOBS.workers, o.workers),
    threadTokens: parseKnob(SERVE_KNOBS.threads, o.threads),
    sweep,
    budgetMs,
    timeoutS: parseKnob(KNOBS.timeoutS, o.timeout),
    workspaceRoot,
    python: o.python,
    node: o.node,
    json: Boolean(o.json),
    out: o.out === undefined ? undefined : path.resolve(cwd, o.out),
    html: o.html === undefined ? undefined : path.resolve(cwd, o.html),
    verbose: Boolean(o.verbose),
  };
}

/**
 * `--sweep-rate 5,10,20,40` and `--sweep-threads 1,4,40`: each value checked as `--rate`
 * and `--threads` are, the list sorted ascending (the sweep climbs) without repeats. A sweep
 * replaces `--rate` and `--threads` (its lists say which rates and tokens); `--sweep-threads`
 * needs `--sweep-rate` (at one rate, `--threads T` is the variant).
 */
export function parseSweep(rates: string | undefined, threads: string | undefined, single: { rate?: string; threads?: string }): ServeSweepFlags | null {
  if (rates === undefined) {
    if (threads !== undefined) throw new UsageError('--sweep-threads runs with a rate sweep: add --sweep-rate LIST (for one variant at one rate, use --threads T)');
    return null;
  }
  if (single.rate !== undefined) throw new UsageError('--rate and --sweep-rate cannot be combined: --sweep-rate lists the rates');
  if (single.threads !== undefined && threads !== undefined) throw new UsageError('--threads and --sweep-threads cannot be combined: --sweep-threads lists the token counts');
  const ratesPerS = parseList('--sweep-rate', rates, SERVE_KNOBS.ratePerS, MAX_SWEEP_RATES);
  const threadTokens = threads === undefined ? [] : parseList('--sweep-threads', threads, SERVE_KNOBS.threads, MAX_SWEEP_THREADS);
  // `--threads T` with a sweep: one threads variant, as it adds one to `looplag serve`.
  if (single.threads !== undefined) threadTokens.push(parseKnob(SERVE_KNOBS.threads, single.threads)!);
  return { ratesPerS, threadTokens };
}

function parseList(flag: string, text: string, knob: Knob, max: number): number[] {
  const items = text.split(',').map((x) => x.trim());
  if (items.some((x) => x === '')) throw new UsageError(`${flag} "${text}": write the values separated by commas, e.g. ${flag === '--sweep-rate' ? '5,10,20,40' : '1,4,40'}`);
  const values = [...new Set(items.map((x) => parseKnob({ ...knob, flag }, x)!))].sort((a, b) => a - b);
  if (values.length > max) throw new UsageError(`${flag} lists ${values.length} values: at most ${max} (each is a server start, a warm-up and a measured part per variant)`);
  return values;
}

type Token = NonNullable<ReturnType<typeof parseArgs>['tokens']>[number];

/** Each `--endpoint "METHOD /path"`, with the `--body` that follows it (in command-line order). */
export function parseEndpoints(tokens: Token[], headers: Record<string, string>, cwd: string): LoadTarget[] {
  const endpoints: LoadTarget[] = [];
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    if (t.name === 'endpoint') {
      const e = parseEndpoint(t.value ?? '');
      if (endpoints.some((x) => x.name === e.name)) throw new UsageError(`--endpoint "${e.name}" is given twice`);
      endpoints.push({ ...e, ...(Object.keys(headers).length ? { headers } : {}) });
    } else if (t.name === 'body') {
      const last = endpoints[endpoints.length - 1];
      if (!last) throw new UsageError('--body applies to the --endpoint before it: put it after one');
      if (last.body !== undefined) throw new UsageError(`--endpoint "${last.name}" has two --body values`);
      if (NO_BODY_METHODS.has(last.method)) throw new UsageError(`--endpoint "${last.name}": a ${last.method} request has no body`);
      last.body = readBody(t.value ?? '', last.name, cwd);
    }
  }
  if (!endpoints.length) throw new UsageError('name at least one --endpoint "METHOD /path" to send requests to');
  for (const e of endpoints) {
    if ((BODY_METHODS as readonly string[]).includes(e.method) && e.body === undefined) {
      throw new UsageError(`--endpoint "${e.name}" needs a body: add --body JSON or --body @FILE after it`);
    }
  }
  return endpoints;
}

/** An inline body must be JSON (it is sent as application/json); `@FILE` is sent as the file holds it. */
function readBody(text: string, endpoint: string, cwd: string): string {
  if (text.startsWith('@')) {
    const file = path.resolve(cwd, text.slice(1));
    try {
      return fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new UsageError(`--body ${text} for "${endpoint}": cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
    }
  }
  try {
    JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--body for "${endpoint}" is not JSON (${(e as Error).message}); for another format use --body @FILE and --header "Content-Type: …"`);
  }
  return text;
}

/** Each `--header "Name: value"`, sent with every endpoint's requests (not the probe's). */
export function parseHeaders(texts: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const text of texts) {
    const at = text.indexOf(':');
    const name = at > 0 ? text.slice(0, at).trim() : '';
    const value = at > 0 ? text.slice(at + 1).trim() : '';
    if (!HEADER_NAME.test(name)) throw new UsageError(`--header "${text}": write it as "Name: value"`);
    if (/[\r\n\0]/.test(value)) throw new UsageError(`--header "${name}": a value cannot hold a line break`);
    if (MANAGED_HEADERS.has(name.toLowerCase())) throw new UsageError(`--header "${name}" is set by the load generator itself`);
    if (Object.keys(headers).some((k) => k.toLowerCase() === name.toLowerCase())) throw new UsageError(`--header "${name}" is given twice`);
    headers[name] = value;
  }
  return headers;
}
