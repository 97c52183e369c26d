/** `looplag serve`'s command line (cli/serveCommandLine.ts): what it reads, and each usage error, before anything starts. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { parseServeArgs, ServeCommand } from '../../src/cli/serveCommandLine';
import { UsageError } from '../../src/engine/options';
import { defaultServeTimeoutS, serveVariants } from '../../src/serve/session';
import { SERVE_KNOBS } from '../../src/shared/serveSettings';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'looplag-serve-args-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
fs.writeFileSync(path.join(dir, 'server.js'), 'require("http").createServer().listen(0)\n');
fs.writeFileSync(path.join(dir, 'body.txt'), 'a=1&b=2');
fs.mkdirSync(path.join(dir, 'folder.js'));

function parse(...argv: string[]): ServeCommand {
  const r = parseServeArgs(argv, dir);
  assert.notEqual(r, 'help');
  return r as ServeCommand;
}

function usageError(argv: string[], pattern: RegExp): void {
  assert.throws(() => parseServeArgs(argv, dir), (e: Error) => {
    assert.ok(e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'), `${e.name}: ${e.message}`);
    assert.match(e.message, pattern);
    return true;
  });
}

describe('what it reads', () => {
  test('an ASGI app with the defaults: one endpoint, as written only', () => {
    const c = parse('app.main:app', '--endpoint', 'get /reports/sales?year=2024');
    assert.deepEqual(c.app, { type: 'asgi', target: 'app.main:app', appDir: dir, lifespan: 'auto' });
    assert.deepEqual(c.settings.endpoints, [{ name: 'GET /reports/sales?year=2024', method: 'GET', path: '/reports/sales?year=2024' }]);
    assert.equal(c.settings.ratePerS, SERVE_KNOBS.ratePerS.default);
    assert.equal(c.settings.durationS, 10);
    assert.equal(c.settings.warmupS, 2);
    assert.equal(c.settings.probeRatePerS, 20);
    assert.equal(c.settings.attribution, true);
    assert.equal(c.processes, null);
    assert.equal(c.threadTokens, null);
    assert.equal(c.budgetMs, null);
    assert.equal(c.timeoutS, null);
    assert.equal(c.json, false);
  });

  test('each --body belongs to the --endpoint before it; --header goes with every endpoint', () => {
    const c = parse('main:app', '--endpoint', 'POST /auth/hash', '--body', '{"password":"x"}', '--endpoint', 'GET /a',
      '--endpoint', 'PUT /b', '--body', '@body.txt', '--header', 'Authorization: Bearer t', '--header', 'X-Trace:1');
    const headers = { Authorization: 'Bearer t', 'X-Trace': '1' };
    assert.deepEqual(c.settings.endpoints, [
      { name: 'POST /auth/hash', method: 'POST', path: '/auth/hash', headers, body: '{"password":"x"}' },
      { name: 'GET /a', method: 'GET', path: '/a', headers },
      { name: 'PUT /b', method: 'PUT', path: '/b', headers, body: 'a=1&b=2' },
    ]);
  });

  test('a Node script, the knobs, the variants, the outputs', () => {
    const c = parse('server.js', '--endpoint', 'GET /', '--rate', '50', '--duration', '3', '--warmup', '0', '--probe-rate', '0',
      '--budget-ms', '100', '--timeout', '90', '--json', '--out', 'doc.json', '--html', 'doc.html', '--no-attribution', '--node', '/usr/bin/node');
    assert.deepEqual(c.app, { type: 'node', script: path.join(dir, 'server.js'), args: [] });
    assert.deepEqual([c.settings.ratePerS, c.settings.durationS, c.settings.warmupS, c.settings.probeRatePerS], [50, 3, 0, 0]);
    assert.equal(c.processes, null, 'no --workers variant unless asked');
    assert.equal(parse('server.js', '--endpoint', 'GET /', '--workers', '3').processes, 3, 'a Node server in N processes (node:cluster)');
    assert.equal(c.budgetMs, 100);
    assert.equal(c.settings.budgetMs, 100);
    assert.equal(c.timeoutS, 90);
    assert.equal(c.settings.attribution, false);
    assert.equal(c.out, path.join(dir, 'doc.json'));
    assert.equal(c.html, path.join(dir, 'doc.html'));
    assert.equal(c.node, '/usr/bin/node');
  });

  test('--help', () => {
    assert.equal(parseServeArgs(['--help'], dir), 'help');
    assert.equal(parseServeArgs(['main:app', '-h'], dir), 'help');
  });

  test('variants in order: as written, N processes, T threads', () => {
    assert.deepEqual(serveVariants(null, null).map((v) => v.name), ['as-written']);
    assert.deepEqual(serveVariants(3, 8), [
      { name: 'as-written', processes: 1, threadTokens: null },
      { name: 'processes', processes: 3, threadTokens: null },
      { name: 'threads', processes: 1, threadTokens: 8 },
    ]);
    const c = parse('main:app', '--endpoint', 'GET /', '--threads', '8');
    assert.equal(c.threadTokens, 8);
  });

  test('the default --timeout covers every variant\'s start, warm-up, duration and stop', () => {
    const one = defaultServeTimeoutS({ warmupS: 2, durationS: 10 }, 1);
    assert.ok(one >= 30 + 2 + 10 + 20, `${one}`);
    assert.equal(defaultServeTimeoutS({ warmupS: 2, durationS: 10 }, 2), 2 * one);
  });
});

describe('usage errors, each specific', () => {
  const ep = ['--endpoint', 'GET /'];
  const cases: [string, string[], RegExp][] = [
    ['no APP', [...ep], /missing APP/],
    ['two APPs', ['a:b', 'c:d', ...ep], /expected one APP/],
    ['APP neither module:attr nor a script', ['myapp', ...ep], /APP must be a Python ASGI app as module:attribute .* or a Node server script/],
    ['a Python file instead of module:attr', ['main.py', ...ep], /name the ASGI app as module:attribute \(e\.g\. main:app\), not the file main\.py/],
    ['an app factory', ['main:create()', ...ep], /factory .* not supported/],
    ['a script that does not exist', ['missing.js', ...ep], /the Node server script missing\.js does not exist/],
    ['a folder named like a script', ['folder.js', ...ep], /folder\.js is not a file/],
    ['no endpoint', ['main:app'], /at least one --endpoint/],
    ['an endpoint without a path', ['main:app', '--endpoint', 'GET'], /write it as "METHOD \/path"/],
    ['an unknown method', ['main:app', '--endpoint', 'FETCH /x'], /unknown method FETCH; use one of/],
    ['a path not starting with /', ['main:app', '--endpoint', 'GET reports'], /the path must start with \//],
    ['a full URL', ['main:app', '--endpoint', 'GET http://example.com/x'], /the path must start with \//],
    ['a path with a non-ASCII character', ['main:app', '--endpoint', 'GET /café'], /percent-encoded/],
    ['an endpoint twice', ['main:app', ...ep, ...ep], /--endpoint "GET \/" is given twice/],
    ['a POST without a body', ['main:app', '--endpoint', 'POST /auth/hash'], /--endpoint "POST \/auth\/hash" needs a body/],
    ['a body before any endpoint', ['main:app', '--body', '{}', ...ep], /--body applies to the --endpoint before it/],
    ['a body on GET', ['main:app', ...ep, '--body', '{}'], /a GET request has no body/],
    ['two bodies', ['main:app', '--endpoint', 'POST /x', '--body', '{}', '--body', '{}'], /has two --body values/],
    ['a body that is not JSON', ['main:app', '--endpoint', 'POST /x', '--body', '{oops'], /--body for "POST \/x" is not JSON/],
    ['a body file that is missing', ['main:app', '--endpoint', 'POST /x', '--body', '@nope.json'], /cannot read .*nope\.json: no such file/],
    ['a header without a colon', ['main:app', ...ep, '--header', 'Authorization'], /write it as "Name: value"/],
    ['a header the generator sets', ['main:app', ...ep, '--header', 'Content-Length: 3'], /set by the load generator itself/],
    ['rate 0', ['main:app', ...ep, '--rate', '0'], /--rate must be a number from 0\.1 to 10000, got "0"/],
    ['rate negative', ['main:app', ...ep, '--rate', '-5'], /--rate must be a number from 0\.1/],
    ['rate not a number', ['main:app', ...ep, '--rate', 'fast'], /--rate must be a number/],
    ['duration too long', ['main:app', ...ep, '--duration', '4000'], /--duration must be a number from 1 to 3600/],
    ['duration 0', ['main:app', ...ep, '--duration', '0'], /--duration must be a number from 1/],
    ['warm-up negative', ['main:app', ...ep, '--warmup', '-1'], /--warmup must be a number from 0/],
    ['probe rate too high', ['main:app', ...ep, '--probe-rate', '5000'], /--probe-rate must be a number from 0 to 1000/],
    ['more requests than a stream holds', ['main:app', ...ep, '--rate', '10000', '--duration', '3600'], /is 36000000 requests per endpoint: at most 5000000/],
    ['--workers 1', ['main:app', ...ep, '--workers', '1'], /--workers must be a whole number from 2 to 64, got "1"/],
    ['--workers not whole', ['main:app', ...ep, '--workers', '2.5'], /--workers must be a whole number/],
    ['--threads 0', ['main:app', ...ep, '--threads', '0'], /--threads must be a whole number from 1/],
    ['--threads on a Node server', ['server.js', ...ep, '--threads', '4'], /--threads sets the AnyIO thread limiter of a Python ASGI app/],
    ['--python on a Node server', ['server.js', ...ep, '--python', 'python3'], /--python applies to a Python ASGI app/],
    ['--node on an ASGI app', ['main:app', ...ep, '--node', 'node'], /--node applies to a Node server script/],
    ['--budget-ms negative', ['main:app', ...ep, '--budget-ms', '-1'], /--budget-ms must be a number from 0/],
    ['--timeout 0', ['main:app', ...ep, '--timeout', '0'], /--timeout must be a number from 0\.1/],
    ['--workspace not a folder', ['main:app', ...ep, '--workspace', 'server.js'], /--workspace .* is not a folder/],
    ['--out in a missing folder', ['main:app', ...ep, '--out', 'no/such/dir/doc.json'], /--out .*: folder .* does not exist/],
    ['--out a folder', ['main:app', ...ep, '--out', 'folder.js'], /--out .* is a folder/],
    ['--html in a missing folder', ['main:app', ...ep, '--html', 'no/such/dir/doc.html'], /--html .*: folder .* does not exist/],
    ['--html a folder', ['main:app', ...ep, '--html', 'folder.js'], /--html .* is a folder/],
    ['--out and --html the same file', ['main:app', ...ep, '--out', 'doc.json', '--html', './doc.json'], /--out and --html name the same file/],
    ['an unknown flag', ['main:app', ...ep, '--modes', 'inline'], /Unknown option '--modes'/],
    ['a flag without its value', ['main:app', '--endpoint'], /argument missing/],
  ];
  for (const [what, argv, pattern] of cases) test(what, () => usageError(argv, pattern));
});
