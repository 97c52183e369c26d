/**
 * Placeholder until the **servereport** engineer's looplag.serve/1 document is merged
 * (the lead takes theirs): the CLI codes against `buildServeReport(inputs)` only.
 */
import { SERVE_SCHEMA } from '../shared/protocol/serveReport';
import type { ServeInputs } from './inputs';

export interface ServeReport {
  schema: typeof SERVE_SCHEMA;
  inputs: ServeInputs;
}

export function buildServeReport(inputs: ServeInputs): ServeReport {
  return { schema: SERVE_SCHEMA, inputs };
}
