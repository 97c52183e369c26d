/**
 * Two reports to compare, from one real document (test/fixtures/reports/cpu-bound-python.json:
 * cpu_bound.py on CPython 3.11, inline, thread and process modes; not safe in a thread pool).
 * "After" is the same document edited as a fix would change it, an hour later:
 * - thread: the loop's lag is the process run's (a responsive loop: max 15.7 ms instead of
 *   1.09 s), so the planned mode (thread) is now within the 100 ms budget: Not safe → Safe;
 * - process: throughput 2% higher (within the 5% noise: ≈);
 * - inline: wall time 30% longer and throughput 30% lower (worse on both);
 * the advice and the headline then recomputed by the engine (advice/advise.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { advise, headline } from '../../src/advice/advise';
import { Report } from '../../src/shared/protocol';
import { FIXTURES } from './helpers';

export function comparePair(): { before: Report; after: Report } {
  const read = () => Report.parse(JSON.parse(fs.readFileSync(path.join(FIXTURES, 'reports', 'cpu-bound-python.json'), 'utf8')));
  const before = read();
  const after = read();
  after.createdAt = new Date(Date.parse(before.createdAt) + 3_600_000).toISOString();
  const run = (mode: string) => after.runs.find((r) => r.mode === mode)!;
  run('thread').lag = structuredClone(run('process').lag);
  const process = run('process');
  process.throughputPerS = process.throughputPerS! * 1.02;
  const inline = run('inline');
  inline.wallMs *= 1.3;
  inline.throughputPerS = inline.throughputPerS! / 1.3;
  after.advice = advise(after);
  after.headline = headline(after);
  return { before, after };
}
