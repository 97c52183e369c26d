/**
 * `report.target.sourceHash` from real runs (Python and TypeScript through the CLI): the hash
 * the engine stored is the one the editor computes on the same file (src/fixes/functionSource.ts),
 * for a decorated function, a decorated static method and selected lines; an edit of the
 * function's body after the run gives another.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { targetSourceHash } from '../../src/fixes/functionSource';
import { FIXTURES, reportOf, runCli } from '../support/helpers';

const DIR = path.join(FIXTURES, 'measured');

for (const [target, file] of [
  ['pkg/render.py::render', 'pkg/render.py'],
  ['web/render.ts::Renderer.run', 'web/render.ts'],
  ['pkg/render.py:9-10', 'pkg/render.py'],
] as const) {
  test(`${target}: the report's sourceHash is the editor's for the same text`, async () => {
    const args = target.includes('::') ? ['--args', '100'] : [];
    const report = reportOf(await runCli(['run', path.join(DIR, target), ...args, '--modes', 'inline', '--concurrency', '1', '--json']));
    const text = fs.readFileSync(path.join(DIR, file), 'utf8');
    const hash = report.target.sourceHash;
    assert.match(hash ?? '', /^[0-9a-f]{16}$/, JSON.stringify(report.target));
    assert.equal(targetSourceHash(text, report.target), hash);
    assert.notEqual(targetSourceHash(text.replace('total += i * scale', 'total += i * scale * 2').replace('return render(n);', 'return render(n) + 1;').replace('    return fn', '    return fn or None'), report.target), hash);
  });
}
