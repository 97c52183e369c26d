/**
 * `looplag sweep --html` (issue 16: a sweep exports like a run) on a real python3 through
 * the real CLI: the page embeds the very document `--out` wrote, and the flag is checked
 * before anything runs, as `looplag run`'s is.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { Sweep } from '../../src/shared/protocol';
import { REPO, runCli, tmpDir } from '../support/helpers';

const work = tmpDir('looplag-sweep-export-');
after(() => fs.rmSync(work, { recursive: true, force: true }));

/** ~20 ms of pure-Python work per call: 4 windows of 2 calls, a 2 s budget. */
const SWEEP = ['sweep', 'examples/python/cpu_bound.py::cpu_bound_task', '--args', '365, 50_000', '--modes', 'thread,process', '--workers', '1,2', '--concurrency', '2', '--sweep-budget-s', '2'];

test('looplag sweep --html writes the standalone page of the sweep --out writes, beside the table on stdout', async (t) => {
  const out = path.join(work, 'sweep.json');
  const html = path.join(work, 'sweep.html');
  const started = Date.now();
  const r = await runCli([...SWEEP, '--out', out, '--html', html]);
  t.diagnostic(`sweep with --out and --html: exit ${r.code} in ${Date.now() - started} ms`);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Loop Lag sweep · cpu_bound_task/);
  const sweep = Sweep.parse(JSON.parse(fs.readFileSync(out, 'utf8')));
  assert.equal(sweep.points.length, 4);
  const page = fs.readFileSync(html, 'utf8');
  const data = /<script type="application\/json" id="looplag-data">(.*?)<\/script>/s.exec(page);
  assert.ok(data, 'the page embeds the sweep');
  assert.deepEqual(JSON.parse(data[1]), { sweep });
  assert.match(page, /<title>Loop Lag: sweep cpu_bound_task<\/title>/);
  // The report UI bundle is inlined (the page opens offline); nothing is loaded from elsewhere.
  assert.ok(page.includes(fs.readFileSync(path.join(REPO, 'dist', 'webview', 'main.js'), 'utf8').slice(0, 200)));
  assert.doesNotMatch(page, /<script[^>]+src=|<link[^>]+href=/);
});

test('looplag sweep --html is checked before anything runs: a folder, or the --out file, is a usage error', async () => {
  const folder = await runCli([...SWEEP, '--html', work]);
  assert.equal(folder.code, 2, folder.stderr);
  assert.match(folder.stderr, /--html .* is a folder/);
  const same = path.join(work, 'same');
  const clash = await runCli([...SWEEP, '--out', same, '--html', same]);
  assert.equal(clash.code, 2, clash.stderr);
  assert.match(clash.stderr, /--out and --html name the same file/);
  assert.equal(clash.stdout, '', 'nothing measured');
});
