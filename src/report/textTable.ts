import type { ModeRun, Report } from '../shared/protocol';
import { fmtMs, fmtNum, fmtPct, fmtSpeedup, suspectOf } from '../shared/format';
import { concurrentCalls } from '../shared/frameworks';
import { runtimeOfReport } from '../shared/modes';
import { attributionOffNote, blockerSentence, noBlockersReason, shownBlockers } from './blockerText';
import { nextStep } from './nextStep';

/** A fix up to this many lines is printed under the headline; a longer one after the advice. */
const SHORT_FIX_LINES = 8;

/** What cut a partial run, as the views name it. */
const CUT_BY: Partial<Record<string, string>> = {
  'call-timeout': '--call-timeout', timeout: '--timeout', cancelled: 'a cancel', crashed: 'a crash',
};

/**
 * A partial run for people: `partial: cut at 3.00 s by --timeout; 2 of 10 calls unfinished`,
 * or null for a run measured to its end. The views all show it next to the mode.
 */
export function partialPhrase(r: ModeRun): string | null {
  if (!r.partial) return null;
  const by = (r.error && CUT_BY[r.error.kind]) ?? 'an error';
  const unfinished = r.taskStats.unfinishedCount ?? 0;
  const crashed = r.taskStats.crashedCount ?? 0;
  const calls = [unfinished ? `${unfinished} unfinished` : '', crashed ? `${crashed} crashed` : ''].filter(Boolean).join(', ');
  const noSamples = r.lag.sampleCount === 0 ? '; no lag samples' : '';
  return `partial: cut at ${fmtMs(r.wallMs)} by ${by}${calls ? `; ${calls} of ${r.tasks.length} calls` : ''}${noSamples}`;
}

/** A partial run without samples has no lag figures: dashes, not zeros that read as a quiet loop. */
export function hasLag(r: ModeRun): boolean {
  return r.status !== 'skipped' && !(r.partial && r.lag.sampleCount === 0);
}

const gil = (report: Report) => runtimeOfReport(report).gil;
const libuv = (report: Report) => runtimeOfReport(report).libuv;

/** `applies`: a column shown only for reports whose runtime has it (GIL for Python, ELU for Node). */
const COLUMNS: { title: string; cell(r: ModeRun): string; applies?(report: Report): boolean }[] = [
  { title: 'mode', cell: (r) => r.mode },
  { title: 'status', cell: (r) => (r.partial ? `${r.status} (partial)` : r.status) },
  { title: 'workers', cell: (r) => (r.workers === null ? '–' : String(r.workers)) },
  { title: 'wall', cell: (r) => fmtMs(r.wallMs) },
  { title: 'lag p50', cell: (r) => fmtMs(r.lag.p50Ms) },
  { title: 'lag p99', cell: (r) => fmtMs(r.lag.p99Ms) },
  { title: 'lag max', cell: (r) => fmtMs(r.lag.maxMs) },
  { title: 'stalls', cell: (r) => String(r.lag.stallCount) },
  { title: 'stalled', cell: (r) => fmtPct(r.lag.stalledFrac) },
  { title: 'beats', cell: (r) => `${r.lag.sampleCount}/${r.lag.expectedSampleCount}` },
  // `*`: measured in the one-thread diagnostic window, not in this one (no probe ran here).
  { title: 'GIL wait p50', cell: (r) => (r.gilWait ? `${fmtMs(r.gilWait.p50Ms)}${r.gilWaitSource === 'diagnostic' ? '*' : ''}` : '–'), applies: gil },
  { title: 'ELU', cell: (r) => fmtNum(r.elu, 2), applies: libuv },
  { title: 'ELD max', cell: (r) => fmtMs(r.eventLoopDelay?.maxMs), applies: libuv },
  { title: 'transfer', cell: (r) => (r.transfer ? `${fmtMs(r.transfer.loopMs)} on loop` : '–'), applies: libuv },
  // libuv's threadpool, as a tiny unrelated job waited for it: p50 / max.
  { title: 'threadpool wait', cell: (r) => (r.threadpool ? `${fmtMs(r.threadpool.probeP50Ms)} / ${fmtMs(r.threadpool.probeMaxMs)}` : '–'), applies: libuv },
  { title: 'queue max', cell: (r) => fmtMs(r.taskStats.queueMaxMs) },
  { title: 'task p50', cell: (r) => fmtMs(r.taskStats.runP50Ms) },
  { title: 'tasks/s', cell: (r) => fmtNum(r.throughputPerS, 1) },
  { title: 'speedup', cell: fmtSpeedup },
  { title: 'CPU/wall', cell: (r) => `${fmtNum(r.cpu.parallelism, 2)}${suspectOf(r, 'parallelism') ? '?' : ''}` },
  { title: 'start-up', cell: (r) => fmtMs(r.startupMs) },
];

/** The top blockers per mode under the table (the report keeps 10), or why a mode has none. */
function blockerLines(report: Report): string[] {
  const shown = shownBlockers(report).map(([r, b]) => `  ${r.mode}: ${blockerSentence(b)}`);
  const none = report.runs.flatMap((r) => {
    const why = noBlockersReason(r);
    return why ? [`  ${r.mode}: ${why}`] : [];
  });
  const off = attributionOffNote(report);
  if (!shown.length && !none.length) return off ? ['', off] : [];
  return ['', 'where the loop was blocked (share of the stalled time):', ...shown, ...none, ...(off ? [off] : [])];
}

/**
 * The CLI's human output: header, the headline and the change it asks for (with its code),
 * one row per measured mode, then what was not measured, errors and notes, each said once.
 */
export function formatReportText(report: Report): string {
  const lines: string[] = [];
  const t = report.target;
  const what = t.qualname ?? (t.lines ? `lines ${t.lines.start}-${t.lines.end}` : '?');
  const where = t.definedIn ? `${t.file}, defined in ${t.definedIn.file}:${t.definedIn.line}` : `${t.file}${t.line ? `:${t.line}` : ''}`;
  lines.push(`Loop Lag · ${what}(${t.args}) in ${where}`);
  if (report.runtime) {
    const r = report.runtime;
    const gilState = gil(report) ? ` · GIL ${r.gilEnabled ? 'on' : 'off'}` : '';
    const interval = !gil(report) ? '' : `switch interval ${fmtMs((report.settings.switchIntervalS ?? 0) * 1000)} · `;
    lines.push(`${r.implementation} ${r.version}${gilState} · ${r.cpuCount} cores · ` +
      `${concurrentCalls(report)} · ${interval}` +
      `heartbeat ${report.settings.heartbeatMs} ms · stall ≥ ${report.settings.stallMs} ms`);
  }
  if (report.headline) lines.push(`→ ${report.headline}`);
  // The change the headline asks for, with its code: here when short, else after the advice (a full setup block).
  const step = nextStep(report);
  const stepCode = step ? step.advice.fix.split('\n').map((code) => (code ? `    ${code}` : '')) : [];
  const codeFirst = stepCode.length <= SHORT_FIX_LINES;
  if (step) {
    lines.push(`  ${step.kind}: ${step.advice.title} (${step.advice.id})${codeFirst ? '' : ': the code is at the end'}`);
    if (codeFirst) lines.push(...stepCode);
  }
  if (report.baseline) {
    lines.push(`idle floor: lag p50 ${fmtMs(report.baseline.lag.p50Ms)}, p99 ${fmtMs(report.baseline.lag.p99Ms)}` +
      (report.baseline.gilWait ? `, GIL wait p50 ${fmtMs(report.baseline.gilWait.p50Ms)}` : ''));
  }
  const measured = report.runs.filter((r) => r.status !== 'skipped');
  if (measured.length) {
    const columns = COLUMNS.filter((c) => c.applies?.(report) ?? true);
    // Skipped modes measured nothing: they get a line under the table, not a row of dashes.
    // A partial run without samples: dashes in its lag cells, not zeros that read as a quiet loop.
    const lagColumn = (title: string) => title.startsWith('lag ') || title === 'stalls' || title === 'stalled' || title === 'beats';
    const cells = (r: ModeRun) => columns.map((c) => (!hasLag(r) && lagColumn(c.title) ? '–' : c.cell(r)));
    const rows = [columns.map((c) => c.title), ...measured.map(cells)];
    const widths = columns.map((_, i) => Math.max(...rows.map((row) => row[i].length)));
    lines.push('');
    rows.forEach((row, n) => {
      lines.push(row.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  '));
      if (n === 0) lines.push(widths.map((w) => '─'.repeat(w)).join('  '));
    });
    if (columns.some((c) => c.title === 'GIL wait p50') && report.runs.some((r) => r.gilWaitSource === 'diagnostic')) {
      lines.push('* GIL wait measured in the one-thread diagnostic window before thread mode (no probe ran in the window above)');
    }
  }
  lines.push(...blockerLines(report));
  // One line per message, naming every mode it applies to: an import error is said once, not per mode.
  const perMode = new Map<string, string[]>();
  const say = (mode: string, text: string) => perMode.set(text, [...(perMode.get(text) ?? []), mode]);
  const runError = report.error ? `[${report.error.kind}] ${report.error.message}` : null;
  for (const r of report.runs) {
    // A mode skipped for the run's own error repeats the `error` line below.
    const why = r.error && `[${r.error.kind}] ${r.error.message.replace(/^not measured:\s*/i, '')}`;
    if (why && !(r.status === 'skipped' && why === runError)) say(r.mode, `${r.status === 'skipped' ? 'skipped' : 'failed'} ${why}`);
    const partial = partialPhrase(r);
    if (partial) say(r.mode, partial);
    const errs = r.tasks.filter((x) => x.error);
    if (errs.length) say(r.mode, `${errs.length} of ${r.tasks.length} calls raised ${errs[0].error!.type}: ${errs[0].error!.message}`);
    for (const note of r.notes ?? []) say(r.mode, note);
    for (const x of r.suspect ?? []) say(r.mode, `${x.field} ? ${x.reason}`);
    if (r.output.truncated) say(r.mode, `user output truncated (${r.output.stdoutBytes + r.output.stderrBytes} bytes printed)`);
  }
  for (const [text, modes] of perMode) lines.push(`${modes.join(', ')}: ${text}`);
  if (report.error) lines.push(`error [${report.error.kind}]: ${report.error.message}`);
  for (const note of report.quality.notes) lines.push(`note: ${note}`);
  if (report.advice.length) lines.push('');
  for (const a of report.advice) lines.push(`${a.severity.padEnd(8)} ${a.id}${a.mode ? ` (${a.mode})` : ''}: ${a.title}`);
  if (step && !codeFirst) lines.push('', `${step.kind} (${step.advice.id}${step.advice.mode ? `, ${step.advice.mode}` : ''}):`, ...stepCode);
  return lines.join('\n') + '\n';
}
