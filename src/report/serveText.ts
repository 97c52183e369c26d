/** Placeholder until the **servereport** engineer's CLI table is merged (the lead takes theirs). */
import type { ServeReport } from '../serve/buildServeReport';

export function serveText(report: ServeReport): string {
  const lines = report.inputs.variants.map((v) => `${v.variant.name}: ${v.status}${v.error ? ` (${v.error.message})` : ''}`);
  return lines.join('\n') + '\n';
}
