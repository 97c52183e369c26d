/**
 * Runs looplag.json's budgets one after another through the engine entry points the CLI
 * uses (runSession and buildReport for a function, runServe and buildServeReport for an
 * endpoint), and judges each with the CLI's own exit codes (report/exitCode.ts,
 * serve/exitCode.ts). A result per budget, as it ends: `looplag test` prints it, and an
 * editor's Testing view can map it to a TestRun (pass → passed, fail → failed with the
 * headline as the message, error → errored, skipped → skipped).
 */
import { runSession } from '../engine/runSession';
import { EXIT, exitCode } from '../report/exitCode';
import { compactHeadline } from '../report/verdict';
import { buildServeReport } from '../serve/buildServeReport';
import { serveExitCode } from '../serve/exitCode';
import { runServe } from '../serve/session';
import { fmtBudget, judgedP99Ms, measured } from '../serve/verdict';
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
  const common = { python: b.python ?? o.python, node: b.node ?? o.node, signal: o.signal, onStderr: o.onStderr };
  const base = { name: b.name, index: b.index, kind: b.kind, budgetMs: b.budgetMs };
  if (b.kind === 'function') {
    if (!b.plan) {
      return { ...base, outcome: 'error', exitCode: EXIT.notMeasured, figure: null, summary: 'not measured', message: `error [target-not-found]: ${b.unusable}`, durationMs: Date.now() - started, report: null };
    }
    const report = await runSession({ ...common, target: b.plan.target, settings: b.plan.settings, freeThreaded: b.plan.flags['free-threaded'] ?? 'auto' });
    const { code, stderr } = exitCode(report, b.budgetMs);
    const ok = report.runs.filter((r) => r.status === 'ok');
    // Every measured mode must keep the budget (as exit code 3): the worst one, named when there are several.
    const worst = ok.reduce<typeof ok[number] | null>((w, r) => (!w || r.lag.maxMs > w.lag.maxMs ? r : w), null);
    const figure = worst ? { label: ok.length > 1 ? `${worst.mode} lag max` : 'lag max', ms: worst.lag.maxMs } : null;
    return judged(base, code, stderr, figure, report.headline ?? compactHeadline(report), report, started);
  }
  const c = b.command;
  const inputs = await runServe({
    ...common, app: c.app, settings: c.settings, processes: c.processes, threadTokens: c.threadTokens,
    workspaceRoot: c.workspaceRoot, ...(c.timeoutS !== null ? { timeoutS: c.timeoutS } : {}),
  });
  const report = buildServeReport(inputs);
  const { code, stderr } = serveExitCode(report, b.budgetMs);
  // The variants' worst: the budget holds only when every variant keeps it (as the exit code).
  const figures = report.variants.filter(measured).map(judgedP99Ms).filter((x): x is number => x !== null);
  const label = report.variants.some((v) => v.probe) ? 'probe p99' : 'predicted wait p99';
  const figure = figures.length ? { label, ms: Math.max(...figures) } : null;
  return judged(base, code, stderr, figure, report.headline, report, started);
}

function judged(
  base: Pick<BudgetResult, 'name' | 'index' | 'kind' | 'budgetMs'>, code: number, stderr: string[],
  figure: BudgetResult['figure'], headline: string, report: Report | ServeReport, started: number,
): BudgetResult {
  const outcome: BudgetOutcome = code === EXIT.ok ? 'pass' : code === EXIT.budget ? 'fail' : 'error';
  const shown = figure ? `${figure.label} ${fmtMs(figure.ms)} ${figure.ms <= base.budgetMs ? '≤' : '>'} ${fmtBudget(base.budgetMs)}` : '';
  const reason = (stderr[0] ?? '').replace(/^looplag: /, '');
  return {
    ...base, outcome, exitCode: code, figure,
    summary: outcome === 'error' ? (shown ? `${shown}, not judged` : 'not measured') : shown || `within ${fmtBudget(base.budgetMs)}`,
    message: outcome === 'fail' ? headline : outcome === 'error' ? reason : '',
    durationMs: Date.now() - started,
    report,
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
