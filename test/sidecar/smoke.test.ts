import assert from 'node:assert/strict';
import { test } from 'node:test';
import { run, runCli } from '../support/helpers';

test('the cpu_bound_task example is measured in every mode through the CLI', async () => {
  const r = await runCli(['run', 'examples/python/cpu_bound.py::cpu_bound_task', '--concurrency', '3', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const report = r.report!;
  assert.equal(report.schema, 'looplag.report/1');
  assert.equal(report.status, 'complete');
  assert.equal(run(report, 'inline').status, 'ok');
  assert.equal(run(report, 'thread').tasks.length, 3);
  assert.equal(run(report, 'process').status, 'ok');
  assert.equal(run(report, 'interpreter').status, 'skipped');
});
