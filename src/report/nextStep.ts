/**
 * The one change a report asks for, with its code: what the views put right under the
 * headline, so the verdict, the change and its figure come first (issue 16). The headline
 * says whether the planned mode is safe; this picks the advice that says what to do.
 */
import { plannedModeOf } from '../advice/advise';
import { routeStepTitle, routeWordsOf } from '../advice/frameworkText';
import { SNIPPETS } from '../advice/snippets';
import { runtimeNameOfReport } from '../shared/modes';
import type { Advice, Report } from '../shared/protocol';

export interface NextStep {
  advice: Advice & { fix: string };
  /** `change`: the planned mode is not safe (critical/warning advice); `how`: it is, and this is how to write it. */
  kind: 'change' | 'how';
}

/**
 * The planned mode's most severe advice with a fix (the advice is ordered most severe
 * first); when the planned mode has only `ok`/`info` advice with a fix, that one as the
 * way to write it (not for a route, safe as its framework runs it); null when the planned
 * mode was not measured to its end, its calls raised, or no advice carries code.
 */
export function nextStep(report: Report): NextStep | null {
  const planned = plannedModeOf(report);
  const run = report.runs.find((r) => r.mode === planned);
  // Calls that raised or never finished: the headline says so, and no fix is judged on them.
  if (!run || run.status !== 'ok' || run.partial || run.taskStats.errorCount > 0) return null;
  const withFix = report.advice.filter((a): a is NextStep['advice'] => Boolean(a.fix) && a.mode === planned);
  const change = withFix.find((a) => a.severity === 'critical' || a.severity === 'warning');
  if (change) return { advice: inRouteWords(report, planned, withWholeFix(report, change)), kind: 'change' };
  // A route safe where its framework runs it is safe as written: no code to add (the framework makes the call).
  if (routeWordsOf(report, planned)) return null;
  const how = withFix.find((a) => a.severity === 'ok' || a.severity === 'info');
  return how ? { advice: withWholeFix(report, how), kind: 'how' } : null;
}

/**
 * The report shows a setup block once and later advice refers to it ("the same setup as
 * under … above"); shown first, the step carries the block itself.
 */
function withWholeFix(report: Report, step: NextStep['advice']): NextStep['advice'] {
  const sameSetup = SNIPPETS[runtimeNameOfReport(report)].sameSetup;
  const original = report.advice.find((a) => a.fix && a !== step && sameSetup(a.title) === step.fix);
  return original?.fix ? { ...step, fix: original.fix } : step;
}

/** A route's step says what the headline does, in its framework's words (the advice's id and code stay). */
function inRouteWords(report: Report, planned: string, step: NextStep['advice']): NextStep['advice'] {
  const title = routeStepTitle(report, planned, step.id);
  return title ? { ...step, title } : step;
}

/** Lines of a fix that call into a pool or the loop's executor: the line where the change happens. */
const OFFLOAD_CALL = /\b(to_thread|run_in_executor|run_in_threadpool|submit|runInWorker|runInChild|run)\s*\(/;

/**
 * The 0-based line of `fix` a reader must see first: the last line that makes the call
 * (the function's name, or an offloading call), not an import; null when none does. A
 * setup block opens on imports and a pool, and the call it exists for comes at its end.
 */
export function keyLineOf(fix: string, qualname: string | null): number | null {
  const name = qualname?.split('.').pop();
  const calls = (line: string) => (name && new RegExp(`\\b${name.replace(/[$]/g, '\\$&')}\\b`).test(line)) || OFFLOAD_CALL.test(line);
  const lines = fix.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i].trim();
    if (!line || /^(from|import)\s|^(const|let|var)\s.*\brequire\(|^(#|\/\/)/.test(line) || /^(async\s+)?(def|function)\s/.test(line)) continue;
    if (calls(line)) return i;
  }
  return null;
}
