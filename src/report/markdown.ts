import type { ModeRun, Report } from '../shared/protocol';
import { fmtMs, fmtPct, fmtSpeedup } from '../shared/format';
import { concurrentCalls } from '../shared/frameworks';
import { runtimeNameOfReport, runtimeOfReport } from '../shared/modes';
import { hasLag, partialPhrase } from './textTable';
import { verdicts } from './verdict';
import { nextStep } from './nextStep';
import { attributionOffNote, blockerWords, noBlockersReason, shownBlockers } from './blockerText';

/** Markdown cells: pipes and newlines would break the table; HTML is neutralised. */
export function cell(text: string): string {
  return text.replace(/[\\|`*_[\]<>]/g, (c) => `\\${c}`).replace(/\r?\n/g, ' ');
}

/** The mode, marked when its window was cut (the figures stop at the cut). */
function modeCell(r: ModeRun): string {
  return r.partial ? `${r.mode} (partial)` : r.mode;
}

/** The top blockers per mode as a table (the report keeps 10), and why a mode has none. */
function blockersMarkdown(report: Report): string[] {
  const rows = shownBlockers(report).map(([r, b]) => {
    const w = blockerWords(b);
    return `| ${cell(r.mode)} | ${cell(w.share)} | ${w.place ? cell(w.place) : '–'} | ${cell(w.what)} | ${fmtMs(b.stalledMs)} |`;
  });
  const none = report.runs.flatMap((r) => {
    const why = noBlockersReason(r);
    return why ? [`> ${cell(r.mode)}: ${cell(why)}`] : [];
  });
  const off = attributionOffNote(report);
  const out: string[] = [];
  if (rows.length) out.push('', '**Where the loop was blocked** (share of the stalled time)', '', '| mode | share | line | what | stalled |', '|---|---:|---|---|---:|', ...rows);
  for (const line of [...none, ...(off ? [`> ${cell(off)}`] : [])]) out.push('', line);
  return out;
}

/** A fenced code block that no backtick run in `code` can close early. */
export function codeBlock(code: string, language: string): string[] {
  const longest = Math.max(2, ...(code.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  return [`${fence}${language === 'python' ? 'python' : 'js'}`, ...code.split('\n'), fence];
}

/** A short Markdown summary for a pull request or an issue. */
export function reportMarkdown(report: Report): string {
  const t = report.target;
  const what = t.qualname ?? (t.lines ? `lines ${t.lines.start}-${t.lines.end}` : '?');
  const rt = report.runtime;
  const out: string[] = [];
  out.push(`### Loop Lag: \`${what.replace(/`/g, "'")}\``);
  out.push('');
  out.push(`${cell(t.file)}${t.line ? `:${t.line}` : ''} · args \`${t.args.replace(/`/g, "'") || '(none)'}\` · ` +
    (rt ? `${cell(rt.implementation)} ${cell(rt.version)} (${runtimeOfReport(report).gil ? `GIL ${rt.gilEnabled ? 'on' : 'off'}, ` : ''}${rt.cpuCount} cores) · ` : '') +
    `${concurrentCalls(report)} · ${report.createdAt}`);
  out.push('');
  if (report.headline) out.push(`**${cell(report.headline)}**`, '');
  const step = nextStep(report);
  if (step) {
    out.push(`${step.kind === 'change' ? 'Change' : 'How'}: ${cell(step.advice.title)}`, '', ...codeBlock(step.advice.fix, runtimeNameOfReport(report)), '');
  }
  for (const v of verdicts(report)) out.push(`- **${v.level}** ${cell(v.text)}`);
  out.push('');
  const measured = report.runs.filter((r) => r.status !== 'skipped');
  // Event-loop utilization is Node's own measure of a busy loop; Python has no counterpart.
  const elu = report.runs.some((r) => r.elu !== undefined && r.elu !== null);
  // Node: how long a tiny job waited for libuv's threadpool (p50 / max), which loop lag does not show.
  const tp = report.runs.some((r) => r.threadpool);
  if (measured.length) {
    out.push(`| mode | lag p50 | lag p99 | lag max | stalls | stalled |${elu ? ' ELU |' : ''}${tp ? ' threadpool wait |' : ''} wall | speedup |`);
    out.push(`|---|---:|---:|---:|---:|---:|${elu ? '---:|' : ''}${tp ? '---:|' : ''}---:|---:|`);
    for (const r of measured) {
      if (!hasLag(r)) {
        out.push(`| ${cell(modeCell(r))} | – | – | – | – | – |${elu ? ' – |' : ''}${tp ? ' – |' : ''} ${fmtMs(r.wallMs)} | – |`);
        continue;
      }
      const tpCell = r.threadpool ? `${fmtMs(r.threadpool.probeP50Ms)} / ${fmtMs(r.threadpool.probeMaxMs)}` : '–';
      out.push(`| ${cell(modeCell(r))} | ${fmtMs(r.lag.p50Ms)} | ${fmtMs(r.lag.p99Ms)} | ${fmtMs(r.lag.maxMs)} | ${r.lag.stallCount} | ` +
        `${fmtPct(r.lag.stalledFrac)} |${elu ? ` ${r.elu === null || r.elu === undefined ? '–' : r.elu.toFixed(2)} |` : ''}${tp ? ` ${tpCell} |` : ''} ${fmtMs(r.wallMs)} | ${fmtSpeedup(r)} |`);
    }
  }
  // Skipped modes: one line per reason instead of rows of dashes (the run's own error is the headline).
  const skipped = new Map<string, string[]>();
  for (const r of report.runs.filter((x) => x.status === 'skipped')) {
    const why = (r.error?.message ?? 'not run').replace(/^not measured:\s*/i, '');
    skipped.set(why, [...(skipped.get(why) ?? []), r.mode]);
  }
  const runError = report.error?.message.replace(/^not measured:\s*/i, '');
  for (const [why, modes] of skipped) if (why !== runError) out.push('', `> not measured: ${cell(modes.join(', '))}: ${cell(why)}`);
  out.push(...blockersMarkdown(report));
  for (const r of report.runs) {
    const partial = partialPhrase(r);
    if (partial) out.push('', `> ${cell(r.mode)}: ${cell(partial)}`);
  }
  if (!report.quality.trustworthy) out.push('', '> ⚠ The machine was busy during the run: numbers may be inflated.');
  return out.join('\n') + '\n';
}
