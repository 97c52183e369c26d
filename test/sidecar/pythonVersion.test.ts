/**
 * The interpreter picker's version probe on real programs: this machine's python3 and
 * /usr/bin/python3 answer with their versions, a program that is no Python is named so,
 * and one that never answers is given up on at the time limit (the picker never waits
 * longer).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { whichOnPath } from '../../src/host/pythonDiscovery';
import { probeVersion } from '../../src/host/pythonVersion';
import { scratchFolders } from '../support/helpers';

const scratch = scratchFolders();

test('python3 on PATH and /usr/bin/python3 answer with their versions', async () => {
  const onPath = await whichOnPath(['python3'], process.env.PATH ?? '', false);
  assert.ok(onPath);
  for (const file of [onPath, ...(fs.existsSync('/usr/bin/python3') ? ['/usr/bin/python3'] : [])]) {
    const answer = await probeVersion(file);
    assert.ok(answer.ok, `${file}: ${JSON.stringify(answer)}`);
    assert.match(answer.version.version, /^3\.\d+\.\d+$/);
    assert.ok(answer.version.full.startsWith(answer.version.version), answer.version.full);
  }
});

test('a program that is no Python, a missing file, and one that never answers (given up on at the limit)', async () => {
  const dir = scratch.dir();
  const echo = path.join(dir, 'python3');
  fs.writeFileSync(echo, '#!/bin/sh\necho hello\n', { mode: 0o755 });
  const silent = path.join(dir, 'python3.12');
  fs.writeFileSync(silent, '#!/bin/sh\nexec sleep 30\n', { mode: 0o755 });
  assert.deepEqual(await probeVersion(echo), { ok: false, reason: 'did not answer as Python does' });
  assert.deepEqual(await probeVersion(path.join(dir, 'none')), { ok: false, reason: 'not found' });
  const t0 = Date.now();
  assert.deepEqual(await probeVersion(silent, 500), { ok: false, reason: 'no answer within 0.5 s' });
  const tookMs = Date.now() - t0;
  assert.ok(tookMs < 5_000, `gave up after ${tookMs} ms`);
});
