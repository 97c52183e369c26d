/** The static "may block the loop" hints (src/fixes/scan*.ts): what is flagged, and what is not. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { scanBlockingCalls } from '../../src/fixes/scan';
import { fixture } from '../support/fixes';
import { FIXTURES } from '../support/helpers';

const apis = (text: string, lang: 'python' | 'javascript' | 'typescript') =>
  scanBlockingCalls(text, lang).map((f) => `${f.range.start.line}:${f.api}:${f.rule}`);

test('Python: blocking calls in an async def are hinted with the ruff rule they mirror, through import aliases', () => {
  const src = [
    'import time as t', //                      0
    'from time import sleep as nap', //         1
    'import requests, subprocess', //           2
    'import urllib.request', //                 3
    'from os import system', //                 4
    'async def handler(url):', //               5
    '    t.sleep(1)', //                        6
    '    nap(2)', //                            7
    '    r = requests.post(', //                8
    '        url, json={"a": 1})', //           9
    '    urllib.request.urlopen(url)', //       10
    '    subprocess.check_output(["ls"])', //   11
    '    system("ls")', //                      12
    '    data = open(url).read()', //           13
    'async def one(): nap(3)', //               14
  ].join('\n');
  assert.deepEqual(apis(src, 'python'), [
    '6:time.sleep:ASYNC251', '7:time.sleep:ASYNC251', '8:requests.post:ASYNC210', '10:urllib.request.urlopen:ASYNC210',
    '11:subprocess.check_output:ASYNC221', '12:os.system:ASYNC221', '13:open(…).read:ASYNC230', '14:time.sleep:ASYNC251',
  ]);
  const [first] = scanBlockingCalls(src, 'python');
  assert.deepEqual(first.range, { start: { line: 6, character: 4 }, end: { line: 6, character: 14 } });
  assert.equal(first.message, '`time.sleep` may block the loop — Measure');
  assert.equal(first.language, 'python');
  // A multi-line call's range ends at its closing parenthesis.
  assert.deepEqual(scanBlockingCalls(src, 'python')[2].range.end, { line: 9, character: 27 });
});

test('Python: nothing outside async code, in strings or comments, in nested defs, lambdas or class bodies, awaited, or rebound by an import', () => {
  const src = [
    'import time',
    'from aiofiles import open',
    'time.sleep(1)',
    'def plain():',
    '    time.sleep(1)',
    'async def outer():',
    '    def inner():',
    '        time.sleep(1)',
    '    f = lambda: time.sleep(1)',
    '    class K:',
    '        time.sleep(1)',
    '    s = "time.sleep(1)"',
    '    d = """',
    '    time.sleep(1)',
    '    """',
    '    # time.sleep(1)',
    '    async with open("f") as fh:',
    '        await fh.read()',
    '    await asyncio.sleep(1)',
    '    time.sleep',
    '    return [lambda: time.sleep(2), 1]',
    'def after():',
    '    time.sleep(1)',
  ].join('\n');
  assert.deepEqual(apis(src, 'python'), []);
  // Not vacuous: the same call at the async def's own level is hinted, after the nested def ends.
  assert.deepEqual(apis(src.replace('    time.sleep\n', '    time.sleep(9)\n'), 'python'), ['19:time.sleep:ASYNC251']);
});

test('Python fixture: the FastAPI module hints its one blocking stdlib call', () => {
  assert.deepEqual(apis(fixture('fastapi_app.py'), 'python'), ['40:time.sleep:ASYNC251']);
  assert.deepEqual(apis(fixture('workers.py'), 'python'), ['12:time.sleep:ASYNC251']);
});

test('JS/TS: core *Sync calls in async functions, arrows, methods and route handlers, through every import form (n/no-sync)', () => {
  const src = [
    "import * as fs from 'node:fs';", //                               0
    "import { pbkdf2Sync as derive } from 'crypto';", //               1
    "const { gzipSync } = require('zlib'), cp = require('child_process');", // 2
    'async function a(p) { return fs.readFileSync(p); }', //           3
    "app.get('/x', (req, res) => { res.send(gzipSync(buf)); });", //   4
    "const b = async (x): Promise<Buffer> => derive(x, 's', 1, 32, 'sha256');", // 5
    'class C { async m() { return fs.statSync(".").size } }', //       6
    "router.post(`/y`, function (req, res) { cp.execSync('ls'); });", // 7
    'app.use(async (ctx) => { ctx.body = fs?.readdirSync(".") });', // 8
  ].join('\n');
  assert.deepEqual(apis(src, 'typescript'), [
    '3:fs.readFileSync:n/no-sync', '4:zlib.gzipSync:n/no-sync', '5:crypto.pbkdf2Sync:n/no-sync', '6:fs.statSync:n/no-sync',
    '7:child_process.execSync:n/no-sync', '8:fs.readdirSync:n/no-sync',
  ]);
  assert.equal(scanBlockingCalls(src, 'javascript')[0].message, '`fs.readFileSync` may block the loop — Measure');
});

test('JS/TS: nothing at the top level, in plain functions (nested ones too), strings, templates, regexes, comments, or on a user object', () => {
  const src = [
    "import fs from 'fs';",
    "const cache = require('./cache');",
    "fs.readFileSync('config.json');",
    'function load() { return fs.readFileSync("x"); }',
    'async function outer() {',
    '  function inner() { fs.readFileSync("y"); }',
    '  const later = () => fs.readFileSync("z");',
    '  const s = "fs.readFileSync(1)", t = `${"fs.readFileSync(2)"}`;',
    '  const re = /fs.readFileSync(3)/g;',
    '  // fs.readFileSync(4)',
    '  /* fs.readFileSync(5) */',
    '  await cache.getSync();',
    '  return cacheMap.get("k", () => 1);',
    '}',
    'const m = new Map(); m.get("k", (x) => fs.readFileSync(x));', // a key, not a route path
  ].join('\n');
  assert.deepEqual(apis(src, 'javascript'), []);
  // Not vacuous: the same call in the async function's own body is hinted.
  assert.deepEqual(apis(src.replace('  // fs.readFileSync(4)', '  fs.readFileSync(4)'), 'javascript'), ['9:fs.readFileSync:n/no-sync']);
});

test('JS/TS fixtures: the Express handler, the CJS and the TS module', () => {
  assert.deepEqual(apis(fixture('express_app.mjs'), 'javascript'), ['9:fs.readFileSync:n/no-sync', '14:crypto.pbkdf2Sync:n/no-sync', '18:zlib.gzipSync:n/no-sync']);
  assert.deepEqual(apis(fixture('worker_cjs.js'), 'javascript'), ['7:fs.readFileSync:n/no-sync', '11:crypto.scryptSync:n/no-sync', '15:zlib.gzipSync:n/no-sync', '16:zlib.gunzipSync:n/no-sync']);
  assert.deepEqual(apis(fixture('store.ts'), 'typescript'), ['8:fs.statSync:n/no-sync', '12:crypto.pbkdf2Sync:n/no-sync', '17:fs.readFileSync:n/no-sync']);
});

test('the repository\'s own server fixtures: the blocking calls in async handlers, none in the plain def endpoints', () => {
  const read = (p: string) => fs.readFileSync(path.join(FIXTURES, p), 'utf8');
  // `def sleep(): time.sleep(0.1)` runs in AnyIO's threads: not hinted; the async endpoints' `open` is.
  assert.deepEqual(apis(read('serve/python/app.py'), 'python'), ['55:open:ASYNC230', '75:open:ASYNC230']);
  // node:http's async request handler writes its marker file synchronously.
  assert.deepEqual(apis(read('serve/node/server.mjs'), 'javascript'), ['24:fs.writeFileSync:n/no-sync']);
});
