/**
 * Measured diagnostics (issue 15), as data and words: what the editor keeps of a report per
 * measured function (`MeasuredSummary`: small, so the newest report of every target fits in
 * memory), how a call site of it is judged (severity and message from the run of the mode the
 * call runs in, against the lag budget; "measured before your last change" when the function's
 * source hash differs from the report's), and which quick fixes the measurement dictates.
 * Pure: the host (host/measuredDiagnostics.ts) draws them; the tests read them.
 */
import { fmtMs } from '../shared/format';
import type { Language, Mode, Report } from '../shared/protocol';
import { codeBlock, codeSpan, inlineMarkdown, modePhrase } from './annotationText';

/** What a call site's judgement needs of a report. */
export interface MeasuredSummary {
  /** `file::qualname`: the newest report per key wins. */
  key: string;
  file: string;
  qualname: string;
  language: Language;
  module?: string;
  line: number | null;
  isAsync: boolean | null;
  sourceHash?: string;
  createdAt: string;
  concurrency: number;
  runs: { mode: Mode; lagMaxMs: number; stallCount: number }[];
  advice: { id: string; severity: string; mode?: string }[];
  /** The first advice with a fix that is not "ok" (its code to copy: JS/TS calls have no edit of their own). */
  fix?: { title: string; code: string };
}

/** A report's summary for the call sites of its function; null for selected lines or a report with no measured run. */
export function summarize(report: Report): MeasuredSummary | null {
  const t = report.target;
  if (!t.qualname || t.definedIn) return null;
  const runs = report.runs.filter((r) => r.status === 'ok' && r.lag.sampleCount > 0).map((r) => ({ mode: r.mode, lagMaxMs: r.lag.maxMs, stallCount: r.lag.stallCount }));
  if (!runs.length) return null;
  return {
    key: summaryKey(t.file, t.qualname),
    file: t.file, qualname: t.qualname, language: t.language, line: t.line, isAsync: t.isAsync,
    ...(t.module ? { module: t.module } : {}),
    ...(t.sourceHash ? { sourceHash: t.sourceHash } : {}),
    createdAt: report.createdAt,
    concurrency: report.settings.concurrency,
    runs,
    advice: report.advice.map((a) => ({ id: a.id, severity: a.severity, ...(a.mode ? { mode: a.mode } : {}) })),
    ...fixOf(report),
  };
}

function fixOf(report: Report): { fix?: MeasuredSummary['fix'] } {
  const a = report.advice.find((x) => x.fix && x.severity !== 'ok');
  return a?.fix ? { fix: { title: a.title, code: a.fix } } : {};
}

/**
 * The hover over a JS/TS call's diagnostic: the advice's title and its fix as a code block
 * (the report's text, escaped: it quotes the user's code). Undefined without a fix.
 */
export function fixHoverMarkdown(s: MeasuredSummary): string | undefined {
  if (!s.fix) return undefined;
  return [`**Loop Lag** · ${codeSpan(`${s.qualname}()`)}`, '', `**${inlineMarkdown(s.fix.title)}**`, '', codeBlock(s.fix.code, s.language)].join('\n');
}

export function summaryKey(file: string, qualname: string): string {
  return `${file}::${qualname}`;
}

/** The quick fixes a measurement can dictate (each built by a src/fixes builder). */
export type MeasuredFix = 'to-thread' | 'process-pool' | 'fastapi-def' | 'worker-pool';

export interface CallJudgement {
  severity: 'warning' | 'information';
  message: string;
  /** The run the figure is from (null: stale, no figure). */
  mode: Mode | null;
  stale: boolean;
  /** The fixes to offer, the measurement's choice first and `preferred`. */
  fixes: { fix: MeasuredFix; preferred: boolean }[];
}

/** "14:02": the report's local time of day. */
export function clockTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '?' : `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

const GIL_HELD = new Set(['gil-held-native', 'gil-contention']);

/**
 * A call site of the summary's function, running in `mode` (`inline`: called on the loop; a
 * pool's mode: already offloaded to it). `currentHash`: the function's hash in the text on
 * screen (undefined: not found there). Null: no diagnostic (no stall in that mode, or that
 * mode was not measured for an offloaded call).
 */
export function judgeCall(
  s: MeasuredSummary, site: { callee: string; mode: Mode }, budgetMs: number, currentHash: string | undefined, clock: (iso: string) => string = clockTime,
): CallJudgement | null {
  const call = `\`${site.callee}()\``;
  if (s.sourceHash && currentHash !== s.sourceHash) {
    return { severity: 'information', message: `${call} was measured before your last change — measure it again`, mode: null, stale: true, fixes: [] };
  }
  const own = s.runs.find((r) => r.mode === site.mode);
  // A call on the loop pays inline's figure; unmeasured inline, the first pool's figure stands in, and the words say so.
  const run = own ?? (site.mode === 'inline' ? s.runs[0] : undefined);
  if (!run || run.stallCount === 0) return null;
  const gilHeld = run.mode === 'thread' && s.advice.some((a) => GIL_HELD.has(a.id) && a.mode === 'thread');
  const verb = run.mode === 'inline' ? 'blocked the loop' : gilHeld ? 'held the GIL' : 'stalled the loop';
  const where = run.mode === 'inline' ? '' : ` ${modePhrase(run.mode)}`;
  const whose = own ? run.mode : `${run.mode}; inline was not measured`;
  const message = `${call} ${verb} ${fmtMs(run.lagMaxMs)}${where} for ${s.concurrency} concurrent call${s.concurrency === 1 ? '' : 's'} (measured ${clock(s.createdAt)}, ${whose})`;
  return {
    severity: run.lagMaxMs > budgetMs ? 'warning' : 'information',
    message, mode: run.mode, stale: false,
    fixes: site.mode !== 'inline' ? [] : s.language === 'python' ? pythonFixes(s, budgetMs) : nodeFixes(s, budgetMs),
  };
}

/**
 * What the measurement says a Python call on the loop should become: the GIL released (thread
 * mode within budget, no GIL-holding advice) → `asyncio.to_thread`, and a FastAPI endpoint may
 * become a plain `def`; the GIL held or pure Python (`gil-held-native`, `gil-contention`, or
 * threads over budget where processes kept it) → the process pool. Nothing measured in a
 * pool: no fix is the measurement's (Measure again is).
 */
export function pythonFixes(s: MeasuredSummary, budgetMs: number): CallJudgement['fixes'] {
  const within = (mode: Mode) => s.runs.some((r) => r.mode === mode && r.lagMaxMs <= budgetMs);
  const measured = (mode: Mode) => s.runs.some((r) => r.mode === mode);
  const gilHeld = s.advice.some((a) => GIL_HELD.has(a.id) && a.severity !== 'ok' && a.severity !== 'info');
  const threadOk = within('thread') && !gilHeld;
  const processOk = within('process');
  if (threadOk) {
    return [{ fix: 'to-thread', preferred: true }, { fix: 'fastapi-def', preferred: false }, ...(processOk ? [{ fix: 'process-pool' as const, preferred: false }] : [])];
  }
  const threadFailed = measured('thread') && !within('thread');
  if (processOk || ((gilHeld || threadFailed) && !measured('process'))) {
    return [{ fix: 'process-pool', preferred: true }];
  }
  return [];
}

/**
 * What the measurement says a JS/TS call on the loop should become: worker threads kept the
 * loop within budget (the worker run within `lagBudgetMs`, or the `worker-recommended` advice)
 * → a worker pool module. Otherwise no edit is the measurement's: the hover shows the report's fix.
 */
export function nodeFixes(s: MeasuredSummary, budgetMs: number): CallJudgement['fixes'] {
  const workerOk = s.runs.some((r) => r.mode === 'worker' && r.lagMaxMs <= budgetMs)
    || s.advice.some((a) => a.id === 'worker-recommended' && a.severity !== 'ok');
  return workerOk ? [{ fix: 'worker-pool', preferred: true }] : [];
}
