/** The quick fixes' edit builders (src/fixes/edits*.ts) on real files: golden results, and where each is not offered. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nodeSyncToAsync } from '../../src/fixes/editsNode';
import { fastapiAsyncToDef, pythonProcessPool, pythonToThread } from '../../src/fixes/editsPython';
import { applyEdits } from '../../src/fixes/text';
import { applied, cook, fixture, golden, rangeOf, RECIPES } from '../support/fixes';

for (const recipe of RECIPES) {
  test(`${recipe.fixture} → golden/${recipe.golden}: every step offered, the result as written there`, () => {
    assert.equal(cook(recipe), golden(recipe.golden));
  });
}

test('one process pool and each import once, however many calls are fixed', () => {
  const text = golden('fastapi_app.py');
  assert.equal(text.match(/^_looplag_pool = /gm)?.length, 1);
  for (const imp of ['import asyncio', 'import concurrent.futures', 'import functools']) assert.equal(text.split('\n').filter((l) => l === imp).length, 1, imp);
  assert.equal(golden('worker_cjs.js').match(/require\('util'\)/g)?.length, 1);
  // `from __future__` stays first, the docstring above it.
  assert.match(text, /^"""[^\n]*"""\nfrom __future__ import annotations\n/);
});

test('Python imports: after the docstring, the shebang and __future__; an existing alias or to_thread import is used', () => {
  const call = (t: string) => rangeOf(t, 'work(1)');
  const bare = '#!/usr/bin/env python3\n"""Doc."""\n\n\nasync def f():\n    return work(1)\n';
  assert.equal(applied(bare, pythonToThread(bare, call(bare))), '#!/usr/bin/env python3\n"""Doc."""\nimport asyncio\n\n\nasync def f():\n    return await asyncio.to_thread(work, 1)\n');
  const future = 'from __future__ import annotations\nasync def f():\n    work(1)\n';
  assert.equal(applied(future, pythonToThread(future, call(future))), 'from __future__ import annotations\nimport asyncio\nasync def f():\n    await asyncio.to_thread(work, 1)\n');
  const named = 'from asyncio import to_thread\n\nasync def f():\n    work(1)';
  assert.equal(applied(named, pythonToThread(named, call(named))), 'from asyncio import to_thread\n\nasync def f():\n    await to_thread(work, 1)');
  const none = 'async def f():\n    work(1)';
  assert.equal(applied(none, pythonToThread(none, call(none))), 'import asyncio\nasync def f():\n    await asyncio.to_thread(work, 1)');
});

test('Python process pool: an imported ProcessPoolExecutor, `concurrent.futures as cf` or `from functools import partial` is used, not imported again', () => {
  const call = (t: string) => rangeOf(t, 'work(1, k=2)');
  const named = 'import asyncio\nfrom concurrent.futures import ProcessPoolExecutor\nfrom functools import partial\n\nasync def f():\n    return work(1, k=2)\n';
  assert.equal(
    applied(named, pythonProcessPool(named, call(named))),
    'import asyncio\nfrom concurrent.futures import ProcessPoolExecutor\nfrom functools import partial\n\n# One process pool for this module\'s CPU-bound calls (a Loop Lag quick fix).\n_looplag_pool = ProcessPoolExecutor()\n\nasync def f():\n    return await asyncio.get_running_loop().run_in_executor(_looplag_pool, partial(work, 1, k=2))\n',
  );
  const aliased = 'import concurrent.futures as cf\nimport functools\nasync def f():\n    work(1, k=2)\n';
  assert.equal(
    applied(aliased, pythonProcessPool(aliased, call(aliased))),
    'import concurrent.futures as cf\nimport functools\nimport asyncio\n\n# One process pool for this module\'s CPU-bound calls (a Loop Lag quick fix).\n_looplag_pool = cf.ProcessPoolExecutor()\nasync def f():\n    await asyncio.get_running_loop().run_in_executor(_looplag_pool, functools.partial(work, 1, k=2))\n',
  );
});

test('a CRLF file gets CRLF lines', () => {
  const py = 'import os\r\n\r\nasync def f():\r\n    work(1)\r\n';
  assert.equal(applied(py, pythonToThread(py, rangeOf(py, 'work(1)'))), 'import os\r\nimport asyncio\r\n\r\nasync def f():\r\n    await asyncio.to_thread(work, 1)\r\n');
  const js = "const fs = require('fs');\r\nasync function f() {\r\n  fs.readFileSync('x');\r\n}\r\n";
  assert.equal(applied(js, nodeSyncToAsync(js, rangeOf(js, "fs.readFileSync('x')"), 'f.js')), "const fs = require('fs');\r\nconst { readFile } = require('fs/promises');\r\nasync function f() {\r\n  await readFile('x');\r\n}\r\n");
});

test('Python: the fixes are not offered where their result would not run', () => {
  const text = fixture('fastapi_app.py');
  const reason = (r: ReturnType<typeof pythonToThread>) => ('notOffered' in r ? r.notOffered : 'offered');
  assert.match(reason(pythonToThread(text, rangeOf(text, 'hashlib.sha256(out)'))), /not in an async def/);
  assert.match(reason(pythonToThread(text, rangeOf(text, 'sleep(0)'))), /awaited already/);
  assert.match(reason(pythonToThread(text, rangeOf(text, 'data.encode'))), /does not end with a call/);
  assert.match(reason(pythonProcessPool(text, rangeOf(text, 'digest(b"x").upper()'))), /not a name another process can import/);
  assert.match(reason(fastapiAsyncToDef(text, rangeOf(text, 'digest(data.encode(), rounds=3)').start)), /the body awaits \(line 26\)/);
  assert.match(reason(fastapiAsyncToDef(text, rangeOf(text, 'def checksum').start)), /no async def here/);
  const undecorated = 'async def f():\n    return 1\n';
  assert.match(reason(fastapiAsyncToDef(undecorated, { line: 1, character: 4 })), /not a FastAPI route/);
  // The decorator's line counts as the endpoint's too.
  assert.equal(applyEdits(text, (fastapiAsyncToDef(text, rangeOf(text, '@app.get("/checksum")').start) as { edits: [] }).edits).includes('\ndef get_checksum('), true);
});

test('Node: the file\'s module format, quotes and semicolons; a taken name gets an Async suffix; a plain function is refused', () => {
  const cjs = '"use strict"\nconst { readFileSync, readFile } = require("fs")\nasync function f(p) {\n  return readFileSync(p)\n}\n';
  assert.equal(
    applied(cjs, nodeSyncToAsync(cjs, rangeOf(cjs, 'readFileSync(p)'), 'f.js')),
    '"use strict"\nconst { readFileSync, readFile } = require("fs")\nconst { readFile: readFileAsync } = require("fs/promises")\nasync function f(p) {\n  return await readFileAsync(p)\n}\n',
  );
  const esmNoImports = "export async function f() {\n  return (await import('node:zlib')).gzipSync('x');\n}\n";
  assert.ok('notOffered' in nodeSyncToAsync(esmNoImports, rangeOf(esmNoImports, "gzipSync('x')"), 'f.mjs'), 'no resolvable core module: nothing to rewrite');
  const ns = "import zlib from 'node:zlib';\nimport { promisify as p } from 'node:util';\nexport const f = async (b) => zlib.gzipSync(b).length;\n";
  assert.equal(
    applied(ns, nodeSyncToAsync(ns, rangeOf(ns, 'zlib.gzipSync(b)'), 'f.mjs')),
    "import zlib from 'node:zlib';\nimport { promisify as p } from 'node:util';\nexport const f = async (b) => (await p(zlib.gzip)(b)).length;\n",
  );
  const reason = (t: string, call: string) => {
    const r = nodeSyncToAsync(t, rangeOf(t, call), 'f.js');
    return 'notOffered' in r ? r.notOffered : 'offered';
  };
  const plain = "const fs = require('fs');\nfunction f(p) { return fs.readFileSync(p); }\nasync function g() { require('child_process').execSync('ls'); const cp = 1; }\n";
  assert.match(reason(plain, 'fs.readFileSync(p)'), /not in an async function or a route handler/);
  const cp = "const { execSync } = require('child_process');\nconst fs = require('fs');\nasync function g() { execSync('ls'); fs.existsSync('x'); }\n";
  assert.match(reason(cp, "execSync('ls')"), /`child_process.execSync` has no asynchronous twin/);
  assert.match(reason(cp, "fs.existsSync('x')"), /`fs.existsSync` has no asynchronous twin/);
});
