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
