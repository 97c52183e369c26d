/**
 * Runs looplag.json's budgets one after another through the engine entry points the CLI
 * uses (runSession and buildReport for a function, runServe and buildServeReport for an
 * endpoint), and judges each with the CLI's own exit codes (report/exitCode.ts,
 * serve/exitCode.ts). A result per budget, as it ends: `looplag test` prints it, and an
 * editor's Testing view can map it to a TestRun (pass → passed, fail → failed with the
 * headline as the message, error → errored, skipped → skipped).
 */
import type { RuntimeChoice } from '../engine/runtimes';
import { runSession } from '../engine/runSession';
import { EXIT, exitCode } from '../report/exitCode';
import { compactHeadline } from '../report/verdict';
import { buildServeReport } from '../serve/buildServeReport';
import { serveExitCode } from '../serve/exitCode';
import { runServe } from '../serve/session';
import { fmtBudget, judgedP99Ms, measured, overBudgetFigures } from '../serve/verdict';
import { fmtMs, printable } from '../shared/format';
import type { Report } from '../shared/protocol';
import type { ServeReport } from '../shared/protocol/serveReport';
import type { Budget, BudgetConfig } from './config';

/** pass: within budget (exit 0); fail: over it (exit 3); error: not measured, or calls/requests failed (any other code); skipped: not run (the run was stopped first). */
export type BudgetOutcome = 'pass' | 'fail' | 'error' | 'skipped';

export interface BudgetResult {
  name: string;
  /** Its place in the file's `budgets`. */
  index: number;
  kind: Budget['kind'];
  outcome: BudgetOutcome;
  /** What `looplag run` / `looplag serve` would have exited with (README's exit code table); null when skipped. */
  exitCode: number | null;
  budgetMs: number;
  /** The figure judged: a function's longest loop lag over its measured modes, an endpoint's probe p99 (else the predicted wait); null when none was measured. */
  figure: { label: string; ms: number } | null;
  /** `lag max 12 ms ≤ 100 ms`, `probe p99 850 ms > 100 ms`, or why it was not measured. */
  summary: string;
  /** For a fail, the report's one-sentence headline; for an error, the reason (the CLI's stderr line); else ''. */
  message: string;
  durationMs: number;
  /** The looplag.report/1 or looplag.serve/1 document; null when nothing ran. */
  report: Report | ServeReport | null;
}

export interface BudgetRunOptions {
  /** `--python` / `--node`: for budgets that name no interpreter of their own. */
  python?: string;
  node?: string;
  /** Node with no `node` on PATH and none named: the runtime to fall back on (the editor's own; default the CLI's Node). */
  fallbackRuntime?: RuntimeChoice['fallbackRuntime'];
  /** Stops the budget running (its partial result is reported as an error, exit 130) and skips the rest. */
  signal?: AbortSignal;
  onStderr?(text: string): void;
  /** A budget starts (for a progress line). */
  onStart?(budget: Budget): void;
}

/** Runs `config.budgets` in order; `onResult` hears each as it ends. Never rejects for the user's code. */
export async function runBudgets(config: BudgetConfig, options: BudgetRunOptions = {}, onResult?: (r: BudgetResult) => void): Promise<BudgetResult[]> {
  const results: BudgetResult[] = [];
  for (const budget of config.budgets) {
    const result = options.signal?.aborted ? skipped(budget) : await runBudget(budget, options);
    results.push(result);
    onResult?.(result);
  }
  return results;
}

function skipped(b: Budget): BudgetResult {
  return { name: b.name, index: b.index, kind: b.kind, outcome: 'skipped', exitCode: null, budgetMs: b.budgetMs, figure: null, summary: 'not run', message: 'interrupted before it started', durationMs: 0, report: null };
}

async function runBudget(b: Budget, o: BudgetRunOptions): Promise<BudgetResult> {
  o.onStart?.(b);
  const started = Date.now();
  const common = { python: b.python ?? o.python, node: b.node ?? o.node, fallbackRuntime: o.fallbackRuntime, signal: o.signal, onStderr: o.onStderr };
  const base = { name: b.name, index: b.index, kind: b.kind, budgetMs: b.budgetMs };
  if (b.kind === 'function') {
    if (!b.plan) {
      return { ...base, outcome: 'error', exitCode: EXIT.notMeasured, figure: null, summary: 'not measured', message: `error [target-not-found]: ${b.unusable}`, durationMs: Date.now() - started, report: null };
    }
    try {
      const report = await runSession({ ...common, target: b.plan.target, settings: b.plan.settings, freeThreaded: b.plan.flags['free-threaded'] ?? 'auto' });
      return { ...base, ...judgeRunReport(report, b.budgetMs, b.plan.flags.modes !== undefined), durationMs: Date.now() - started, report };
    } catch (e) {
      return unexpected(base, e, started);
    }
  }
  const c = b.command;
  try {
    const inputs = await runServe({
      ...common, app: c.app, settings: c.settings, processes: c.processes, threadTokens: c.threadTokens,
      workspaceRoot: c.workspaceRoot, ...(c.timeoutS !== null ? { timeoutS: c.timeoutS } : {}),
    });
    const report = buildServeReport(inputs);
    return { ...base, ...judgeServeReport(report, b.budgetMs), durationMs: Date.now() - started, report };
  } catch (e) {
    return unexpected(base, e, started);
  }
}

/** Our own failure (never the user's code: the engine reports that): this budget errs, the others still run. */
function unexpected(base: Pick<BudgetResult, 'name' | 'index' | 'kind' | 'budgetMs'>, e: unknown, started: number): BudgetResult {
  return { ...base, outcome: 'error', exitCode: EXIT.notMeasured, figure: null, summary: 'not measured', message: `internal error: ${(e as Error)?.message ?? String(e)}`, durationMs: Date.now() - started, report: null };
}

type Judgement = Pick<BudgetResult, 'outcome' | 'exitCode' | 'figure' | 'summary' | 'message'>;

/**
 * A function budget's verdict: the run's exit code (every measured mode within the budget,
 * calls that finished and did not raise), and every mode measured: a mode the budget lists
 * that was skipped or failed (the interpreter pool before Python 3.14, arguments a process
 * cannot take) was not measured, so it cannot pass; with no `modes` listed, the defaults a
 * runtime skips (that same interpreter pool) do not count, a mode that failed does.
 */
export function judgeRunReport(report: Report, budgetMs: number, modesListed: boolean): Judgement {
  const { code, stderr } = exitCode(report, budgetMs);
  const ok = report.runs.filter((r) => r.status === 'ok');
  // Every measured mode must keep the budget (as exit code 3): the worst one, named when there are several.
  const worst = ok.reduce<typeof ok[number] | null>((w, r) => (!w || r.lag.maxMs > w.lag.maxMs ? r : w), null);
  const figure = worst ? { label: ok.length > 1 ? `${worst.mode} lag max` : 'lag max', ms: worst.lag.maxMs } : null;
  const missing = report.runs.filter((r) => r.status === 'failed' || (modesListed && r.status === 'skipped'));
  if ((code === EXIT.ok || code === EXIT.budget) && missing.length) {
    const why = missing.map((r) => `${r.mode} (${printable(r.error?.message ?? r.status)})`).join(', ');
    return { outcome: 'error', exitCode: EXIT.notMeasured, figure, summary: 'not measured', message: `not measured: ${why}` };
  }
  return judged(budgetMs, code, stderr, figure, report.headline ?? compactHeadline(report), []);
}

/**
 * An endpoint budget's verdict: `looplag serve`'s exit code, every variant measured (one
 * that never listened was not), and figures that describe the server (a load generator
 * that fell behind sent less load than asked: its within-budget is no claim). A fail names
 * what went over (the probe, the loops' lag, timeouts), not only the probe.
 */
export function judgeServeReport(report: ServeReport, budgetMs: number): Judgement {
  const { code, stderr } = serveExitCode(report, budgetMs);
  // The variants' worst: the budget holds only when every variant keeps it (as the exit code).
  const figures = report.variants.filter(measured).map(judgedP99Ms).filter((x): x is number => x !== null);
  const label = report.variants.some((v) => v.probe) ? 'probe p99' : 'predicted wait p99';
  const figure = figures.length ? { label, ms: Math.max(...figures) } : null;
  if (code === EXIT.ok || code === EXIT.budget) {
    const missing = report.variants.filter((v) => !measured(v));
    if (missing.length) {
      const why = missing.map((v) => `${v.label} (${printable(v.error?.message ?? v.status)})`).join(', ');
      return { outcome: 'error', exitCode: EXIT.notMeasured, figure, summary: 'not measured', message: `not measured: ${why}` };
    }
    if (code === EXIT.ok && !report.quality.trustworthy) {
      return { outcome: 'error', exitCode: EXIT.notMeasured, figure, summary: figure ? `${figure.label} ${fmtMs(figure.ms)}, not judged` : 'not judged', message: `not judged: ${report.quality.notes.join(' ')}` };
    }
  }
  const over = report.variants.filter(measured).flatMap((v) => overBudgetFigures(v, budgetMs).map((f) => (report.variants.length > 1 ? `${v.label}: ${f}` : f)));
  return judged(budgetMs, code, stderr, figure, report.headline, over);
}

/** `over`: what went over the budget, for a fail's summary (else the figure against the budget). */
function judged(budgetMs: number, code: number, stderr: string[], figure: BudgetResult['figure'], headline: string, over: string[]): Judgement {
  const outcome: BudgetOutcome = code === EXIT.ok ? 'pass' : code === EXIT.budget ? 'fail' : 'error';
  const shown = outcome === 'fail' && over.length ? `${over.join(', ')} > ${fmtBudget(budgetMs)}`
    : figure ? `${figure.label} ${fmtMs(figure.ms)} ${figure.ms <= budgetMs ? '≤' : '>'} ${fmtBudget(budgetMs)}` : '';
  const reason = (stderr[0] ?? '').replace(/^looplag: /, '');
  return {
    outcome, exitCode: code, figure,
    summary: outcome === 'error' ? (shown ? `${shown}, not judged` : 'not measured') : shown || `within ${fmtBudget(budgetMs)}`,
    message: outcome === 'fail' ? headline : outcome === 'error' ? reason : '',
  };
}

/**
 * `looplag test`'s exit code over its budgets, by the runs' precedence (report/exitCode.ts):
 * interrupted (130), then a budget not measured (1) or timed out (124), calls or a server
 * that did not finish (5), calls or requests that failed (4), a budget exceeded (3), else 0.
 */
export function budgetsExitCode(results: readonly Pick<BudgetResult, 'exitCode'>[]): number {
  const order = [EXIT.interrupted, EXIT.notMeasured, EXIT.timeout, EXIT.callsUnfinished, EXIT.callsFailed, EXIT.budget];
  const codes = new Set(results.map((r) => r.exitCode));
  if (results.some((r) => r.exitCode === null)) codes.add(EXIT.interrupted);
  return order.find((c) => codes.has(c)) ?? ([...codes].find((c) => c !== null && c !== EXIT.ok) ?? EXIT.ok);
}

/** One line per budget, the verdict first: `✓ render_article  lag max 12 ms ≤ 100 ms`. */
export function resultLine(r: BudgetResult): string {
  const mark = r.outcome === 'pass' ? '✓' : r.outcome === 'skipped' ? '-' : '✗';
  // Names and messages come from the user's file and code: one line, no terminal escapes.
  return `${mark} ${printable(r.name)}  ${r.summary}${r.message ? `: ${printable(r.message)}` : ''}`;
}

/** `3 budgets: 1 within, 1 over, 1 not measured (12.3 s)`. */
export function summaryLine(results: readonly BudgetResult[]): string {
  const n = (o: BudgetOutcome) => results.filter((r) => r.outcome === o).length;
  const parts = [`${n('pass')} within`, `${n('fail')} over`, ...(n('error') ? [`${n('error')} not measured`] : []), ...(n('skipped') ? [`${n('skipped')} not run`] : [])];
  const s = results.reduce((a, r) => a + r.durationMs, 0) / 1000;
  return `${results.length} budget${results.length === 1 ? '' : 's'}: ${parts.join(', ')} (${s.toFixed(1)} s)`;
}
