/** Helpers for the quick-fix tests: find a call's range in a fixture, apply a fix's edits. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { nodeSyncToAsync } from '../../src/fixes/editsNode';
import { fastapiAsyncToDef, pythonProcessPool, pythonToThread } from '../../src/fixes/editsPython';
import { applyEdits, LineIndex, type FixResult, type Range } from '../../src/fixes/text';
import { FIXTURES } from './helpers';

export const FIXES = path.join(FIXTURES, 'fixes');

export function fixture(name: string): string {
  return fs.readFileSync(path.join(FIXES, name), 'utf8');
}

/** The range of the `nth` occurrence of `snippet` in `text` (a call as written). */
export function rangeOf(text: string, snippet: string, nth = 0): Range {
  let at = -1;
  for (let i = 0; i <= nth; i++) {
    at = text.indexOf(snippet, at + 1);
    assert.ok(at >= 0, `'${snippet}' (#${nth}) is in the text`);
  }
  return new LineIndex(text).range(at, at + snippet.length);
}

/** The text after the fix's edits; fails when the fix was not offered. */
export function applied(text: string, result: FixResult): string {
  assert.ok('edits' in result, `offered (${'notOffered' in result ? result.notOffered : ''})`);
  return applyEdits(text, result.edits);
}

/** A fixture and the fixes applied to it in turn (each step finds its call in the text so far). */
export interface Recipe {
  fixture: string;
  /** Its result's file under fixtures/fixes/golden. */
  golden: string;
  steps: ((text: string) => FixResult)[];
}

/** Every builder on every fixture: the golden files under fixtures/fixes/golden are their results. */
export const RECIPES: Recipe[] = [
  {
    fixture: 'fastapi_app.py',
    golden: 'fastapi_app.py',
    steps: [
      (t) => pythonToThread(t, rangeOf(t, 'digest(data.encode(), rounds=3)')), // keyword argument, existing `from asyncio import sleep`, `from __future__` first
      (t) => pythonProcessPool(t, rangeOf(t, 'checksum(\n        text,\n        salt="pepper",\n    )')), // multi-line, partial for a keyword
      (t) => pythonToThread(t, rangeOf(t, 'time.sleep(seconds)')),
      (t) => pythonToThread(t, rangeOf(t, 'digest(b"x")')), // its value used: `(await …).upper()`
      (t) => pythonProcessPool(t, rangeOf(t, 'checksum(digest(text.encode()))')), // nested: the outer call, pool reused
    ],
  },
  {
    // The alternative for an endpoint threads are safe for: FastAPI runs a plain def in its threadpool.
    fixture: 'fastapi_app.py',
    golden: 'fastapi_app_def.py',
    steps: [(t) => fastapiAsyncToDef(t, rangeOf(t, 'time.sleep(seconds)').start)],
  },
  {
    fixture: 'workers.py',
    golden: 'workers.py',
    steps: [
      (t) => pythonProcessPool(t, rangeOf(t, 'crunch(n, scale=2)')), // `import asyncio as aio` used
      (t) => pythonToThread(t, rangeOf(t, 't.sleep(0.01)')),
      (t) => pythonToThread(t, rangeOf(t, 'crunch(n)')), // nested in an expression, its value used
    ],
  },
  {
    fixture: 'express_app.mjs',
    golden: 'express_app.mjs',
    steps: [
      (t) => nodeSyncToAsync(t, rangeOf(t, "readFileSync(new URL('./config.json', import.meta.url), 'utf8')"), 'express_app.mjs'), // a plain handler made async
      (t) => nodeSyncToAsync(t, rangeOf(t, "crypto.pbkdf2Sync(password, salt, 1000, 32, 'sha256')"), 'express_app.mjs'),
      (t) => nodeSyncToAsync(t, rangeOf(t, 'gzipSync(\n    Buffer.from(text),\n    { level: 9 },\n  )'), 'express_app.mjs'),
    ],
  },
  {
    fixture: 'worker_cjs.js',
    golden: 'worker_cjs.js',
    steps: [
      (t) => nodeSyncToAsync(t, rangeOf(t, "fs.readFileSync(file, 'utf8')"), 'worker_cjs.js'),
      (t) => nodeSyncToAsync(t, rangeOf(t, "scryptSync(password, 'salt', 16)"), 'worker_cjs.js'),
      (t) => nodeSyncToAsync(t, rangeOf(t, 'zlib.gzipSync(text)'), 'worker_cjs.js'),
      (t) => nodeSyncToAsync(t, rangeOf(t, 'zlib.gunzipSync(packed)'), 'worker_cjs.js'), // promisify imported once
    ],
  },
  {
    fixture: 'store.ts',
    golden: 'store.ts',
    steps: [
      (t) => nodeSyncToAsync(t, rangeOf(t, 'statSync(`${this.dir}/${name}`)'), 'store.ts'),
      (t) => nodeSyncToAsync(t, rangeOf(t, "pbkdf2Sync(secret, 'salt', 1, 16, 'sha256')"), 'store.ts'),
      (t) => nodeSyncToAsync(t, rangeOf(t, "readFileSync(file, 'utf8')"), 'store.ts'),
    ],
  },
];

/** A recipe's result: its fixture with every step's edits applied in turn. */
export function cook(recipe: Recipe): string {
  return recipe.steps.reduce((text, step) => applied(text, step(text)), fixture(recipe.fixture));
}

export function golden(name: string): string {
  return fs.readFileSync(path.join(FIXES, 'golden', name), 'utf8');
}
