/**
 * `looplag serve` through the real CLI: its help documents every flag it accepts, usage
 * errors exit 2 before anything starts, a runtime that cannot start exits 1 with one
 * line, and `looplag run`'s command line is untouched by the subcommand.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { CLI_OPTIONS } from '../../src/cli/commandLine';
import { SERVE_OPTIONS } from '../../src/cli/serveCommandLine';
import { runCli, scratchFolders } from '../support/helpers';

const scratch = scratchFolders();

test('looplag serve --help documents every flag it accepts, the variants and every exit code', async () => {
  const r = await runCli(['serve', '--help']);
  assert.equal(r.code, 0);
  assert.equal(r.stderr, '');
  const options = Object.keys(SERVE_OPTIONS);
  assert.ok(options.length >= 18, `parsed options: ${options.join(', ')}`);
  for (const name of options) assert.match(r.stdout, new RegExp(`^ +(-\\w, )?--${name}\\b`, 'm'), `--${name} in looplag serve --help`);
  for (const code of [0, 1, 2, 3, 4, 124, 130]) assert.match(r.stdout, new RegExp(`^ +${code} +\\S`, 'm'), `exit code ${code}`);
  for (const variant of ['as written', 'processes', 'threads']) assert.match(r.stdout, new RegExp(`^ +${variant} +\\S`, 'm'));
  assert.match(r.stdout, /127\.0\.0\.1 only/);
});

test('looplag --help names the serve subcommand; the run flags are not serve\'s', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^ +looplag serve APP /m);
  // `serve` is a subcommand of its own: run's flags are not accepted there, nor serve's by run.
  assert.ok(!('endpoint' in CLI_OPTIONS));
  const run = await runCli(['run', 'x.py::f', '--endpoint', 'GET /']);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /^looplag: Unknown option '--endpoint'/);
});

test('usage errors exit 2 with one specific line, before anything starts', async () => {
  const cases: [string[], RegExp][] = [
    [['serve'], /^looplag serve: missing APP/],
    [['serve', 'main:app', '--endpoint', 'GET /', '--workers', '1'], /^looplag serve: --workers must be a whole number from 2 to 64, got "1"\n/],
    [['serve', 'main:app', '--endpoint', 'TEAPOT /'], /^looplag serve: --endpoint "TEAPOT \/": unknown method TEAPOT/],
    [['serve', 'main:app', '--endpoint', 'POST /x'], /^looplag serve: --endpoint "POST \/x" needs a body/],
    [['serve', 'main:app', '--endpoint', 'GET /', '--rate', '-1'], /^looplag serve: --rate must be a number from 0\.1 to 10000, got "-1"\n/],
    [['serve', 'nope', '--endpoint', 'GET /'], /^looplag serve: APP must be a Python ASGI app/],
  ];
  for (const [argv, pattern] of cases) {
    const r = await runCli(argv);
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.match(r.stderr, /Run `looplag serve --help` for usage\.\n$/);
    assert.equal(r.stderr.split('\n').length, 3, r.stderr);
    assert.equal(r.stdout, '');
  }
});

test('a Python that cannot be started: exit 1, one line naming it; --out still gets the document', async () => {
  const out = path.join(scratch.dir(), 'doc.json');
  // --out, not --json: the helper validates a --json stdout as looplag.report/1.
  const r = await runCli(['serve', 'main:app', '--endpoint', 'GET /', '--python', '/nonexistent/python3', '--out', out]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^looplag: error \[interpreter-not-found\]: cannot start Python interpreter `\/nonexistent\/python3`/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  const doc = JSON.parse(fs.readFileSync(out, 'utf8')) as { schema: string };
  assert.equal(doc.schema, 'looplag.serve/1');
});
