/**
 * The editor's Testing view in words, kept apart from `vscode` so it is unit-tested: what a
 * budget's item says it measures, and which state (and message) a BudgetResult gives it.
 */
import * as path from 'node:path';
import { EXIT } from '../report/exitCode';
import type { Budget } from './config';
import type { BudgetResult } from './run';

/** `render.py::render · inline, thread` or `GET /reports, POST /items · 20 req/s`: the item's description. */
export function describeBudget(b: Budget, dir: string): string {
  if (b.kind === 'endpoint') {
    const s = b.command.settings;
    return `${s.endpoints.map((e) => e.name).join(', ')} · ${s.ratePerS} req/s`;
  }
  if (!b.plan) return b.unusable ?? 'not found';
  const t = b.plan.target;
  const file = path.relative(dir, t.file).split(path.sep).join('/');
  const where = t.qualname ? `${file}::${t.qualname}` : t.lines ? `${file}:${t.lines.start}-${t.lines.end}` : file;
  return `${where} · ${b.plan.settings.modes.join(', ')}`;
}

/**
 * The test run's verdict for an item. `failed` and `errored` carry the message shown on the
 * entry: `summary` (what went over, or that it was not measured) and `detail` (the report's
 * headline, or why), and `message`, both on one line as `looplag test` prints them.
 */
export type BudgetTestState =
  | { state: 'passed'; durationMs: number }
  | { state: 'failed' | 'errored'; message: string; summary: string; detail: string; durationMs: number }
  | { state: 'skipped'; why: string };

/**
 * pass → passed; fail → failed with `probe p99 850 ms > 100 ms: <the report's headline>`
 * (what went over, then the report's one sentence: the line `looplag test` prints); error →
 * errored with why it was not measured or judged; a budget stopped by Cancel (exit 130) or
 * never started → skipped: the run was stopped, nothing was judged.
 */
export function budgetTestState(r: BudgetResult): BudgetTestState {
  if (r.outcome === 'skipped' || (r.outcome === 'error' && r.exitCode === EXIT.interrupted)) {
    return { state: 'skipped', why: r.outcome === 'skipped' ? r.message : 'stopped while it ran' };
  }
  if (r.outcome === 'pass') return { state: 'passed', durationMs: r.durationMs };
  const message = r.message ? `${r.summary}: ${r.message}` : r.summary;
  return { state: r.outcome === 'fail' ? 'failed' : 'errored', message, summary: r.summary, detail: r.message, durationMs: r.durationMs };
}
