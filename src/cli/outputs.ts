/**
 * The CLI's last step: the report (or sweep) on stdout, the files asked for, and the
 * exit code with its stderr line (precedence: report/exitCode.ts).
 */
import * as path from 'node:path';
import { EXIT, errorExitCode, exitCode } from '../report/exitCode';
import { documentJson, reportHtml, sweepHtml, writeFileAtomicSync } from '../report/export';
import { formatSweepText } from '../report/sweepText';
import { formatReportText } from '../report/textTable';
import { Report, Sweep } from '../shared/protocol';
import { Plan } from './plan';

export function writeRunOutputs(report: Report, { flags: o, budgetMs }: Plan): number {
  if (o.json) process.stdout.write(JSON.stringify(report) + '\n');
  else process.stdout.write(formatReportText(report));
  if (!writeFiles('report', [[o.out, () => documentJson(report)], [o.html, () => reportHtml(report, WEBVIEW_DIR)]])) return EXIT.usage;
  const { code, stderr } = exitCode(report, budgetMs, Boolean(o.verbose));
  for (const line of stderr) process.stderr.write(line + '\n');
  return code;
}

export function writeSweepOutputs(result: Sweep, { flags: o }: Plan): number {
  if (o.json) process.stdout.write(JSON.stringify(result) + '\n');
  else process.stdout.write(formatSweepText(result));
  if (!writeFiles('sweep', [[o.out, () => documentJson(result)], [o.html, () => sweepHtml(result, WEBVIEW_DIR)]])) return EXIT.usage;
  if (result.error) {
    process.stderr.write(`looplag: error [${result.error.kind}]: ${result.error.message}\n`);
    return errorExitCode(result.error.kind);
  }
  const raised = result.points.filter((p) => p.raised);
  if (raised.length) {
    process.stderr.write(`looplag: calls raised in ${raised.map((p) => `${p.mode} W=${p.workers} (${p.raised!.count} of ${p.raised!.calls}: ${p.raised!.error})`).join(', ')}\n`);
    return EXIT.callsFailed;
  }
  return EXIT.ok;
}

/** The report UI bundle, built next to the CLI's bundle (dist/webview), for `--html` pages. */
export const WEBVIEW_DIR = path.join(__dirname, 'webview');

/**
 * Writes each file asked for (a null name: not asked for) atomically and on its own, so one
 * that cannot be written does not cost the others; false, after saying which on stderr, when any failed.
 */
export function writeFiles(noun: string, files: readonly (readonly [file: string | null | undefined, data: () => string])[]): boolean {
  let ok = true;
  for (const [file, data] of files) {
    if (!file) continue;
    try {
      writeFileAtomicSync(file, data());
    } catch (e) {
      process.stderr.write(`looplag: could not write the ${noun}: ${file}: ${(e as Error).message}\n`);
      ok = false;
    }
  }
  return ok;
}
