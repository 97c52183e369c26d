/**
 * The CLI's last step: the report (or sweep) on stdout, the files asked for, and the
 * exit code with its stderr line (precedence: report/exitCode.ts).
 */
import * as path from 'node:path';
import { EXIT, errorExitCode, exitCode } from '../report/exitCode';
import { documentJson, reportHtml, writeFileAtomicSync } from '../report/export';
import { formatSweepText } from '../report/sweepText';
import { formatReportText } from '../report/textTable';
import { Report, Sweep } from '../shared/protocol';
import { Plan } from './plan';

export function writeRunOutputs(report: Report, { flags: o, budgetMs }: Plan): number {
  if (o.json) process.stdout.write(JSON.stringify(report) + '\n');
  else process.stdout.write(formatReportText(report));
  // Each file on its own: one that cannot be written does not cost the other.
  const writeFailures = [
    o.out ? tryWrite(o.out, () => documentJson(report)) : null,
    // The report UI bundle is built next to the CLI's bundle (dist/webview).
    o.html ? tryWrite(o.html, () => reportHtml(report, path.join(__dirname, 'webview'))) : null,
  ].filter((m) => m !== null);
  if (writeFailures.length) {
    for (const m of writeFailures) process.stderr.write(`looplag: could not write the report: ${m}\n`);
    return EXIT.usage;
  }
  const { code, stderr } = exitCode(report, budgetMs, Boolean(o.verbose));
  for (const line of stderr) process.stderr.write(line + '\n');
  return code;
}

export function writeSweepOutputs(result: Sweep, { flags: o }: Plan): number {
  if (o.json) process.stdout.write(JSON.stringify(result) + '\n');
  else process.stdout.write(formatSweepText(result));
  try {
    if (o.out) writeFileAtomicSync(o.out, documentJson(result));
  } catch (e) {
    process.stderr.write(`looplag: could not write the sweep: ${(e as Error).message}\n`);
    return EXIT.usage;
  }
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

/** Writes `file` atomically; the error message when it could not, else null. */
function tryWrite(file: string, data: () => string): string | null {
  try {
    writeFileAtomicSync(file, data());
    return null;
  } catch (e) {
    return `${file}: ${(e as Error).message}`;
  }
}
