/**
 * Where the CodeLens go on decorated functions (issue 16: `▶ Measure loop lag` sat
 * between `@app.get(...)` and `def`): above the first decorator, stacked and multi-line
 * decorators included, for the function lens (the outline's `line`, here the TypeScript
 * parser in-process; Python's is checked with the real interpreter in
 * test/sidecar/lensPlacement.test.ts) and the endpoint lens (decorators.ts's walk), on
 * real files in test/fixtures/decorators.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { lensRange } from '../../src/host/codeLens';
import { firstDecoratorLine } from '../../src/host/decorators';
import { scanRoutes } from '../../src/host/serveSource';
import { outline } from '../../src/sidecars/node/outline';
import { FIXTURES } from '../support/helpers';

const DIR = path.join(FIXTURES, 'decorators');
const PY = fs.readFileSync(path.join(DIR, 'routes.py'), 'utf8');
const TS = fs.readFileSync(path.join(DIR, 'handlers.ts'), 'utf8');

/** 0-based index of the first line starting (after indentation) with `text`. */
function at(source: string, text: string): number {
  const i = source.split('\n').findIndex((l) => l.trimStart().startsWith(text));
  assert.ok(i >= 0, text);
  return i;
}

/** Each Python function's `def` line and its first decorator's line (0-based). */
const PY_CASES = [
  { def: 'def read_item', first: '@app.get("/items/{item_id}")' },
  { def: 'async def create_item', first: '@traced\n@app.post' },
  { def: 'def limited', first: '@limiter(' },
  { def: 'def cached', first: '@functools.lru_cache(' },
  { def: 'def health', first: '@app.get("/health")' },
  { def: 'def plain', first: 'def plain' },
];

function firstLineOf(source: string, marker: string): number {
  if (!marker.includes('\n')) return at(source, marker);
  const [a, b] = marker.split('\n');
  const lines = source.split('\n');
  const i = lines.findIndex((l, k) => l.startsWith(a) && lines[k + 1]?.startsWith(b));
  assert.ok(i >= 0, marker);
  return i;
}

test('the decorator walk: from a def (or any of its decorators) to the first decorator, across calls spanning lines and comments', () => {
  const lines = PY.split('\n');
  for (const c of PY_CASES) {
    const def = at(PY, c.def);
    const first = firstLineOf(PY, c.first);
    assert.equal(firstDecoratorLine(lines, def), first, c.def);
    // From the route decorator itself (what the endpoint scan starts from): the same line.
    for (let i = first; i < def; i++) if (/^\s*@/.test(lines[i])) assert.equal(firstDecoratorLine(lines, i), first, `${c.def} from line ${i + 1}`);
  }
  // A statement ending in a bracket above a decorator is not one of its lines.
  const src = ['x = dict(', '    a=1,', ')', '@traced', 'def f():', '    pass'];
  assert.equal(firstDecoratorLine(src, 4), 3);
  // Nor is the end of the previous method's body.
  const ts = TS.split('\n');
  assert.equal(firstDecoratorLine(ts, at(TS, 'static async list')), at(TS, "@Get('/items')"));
  assert.equal(firstDecoratorLine(ts, at(TS, 'static read')), at(TS, "@Get('/items/:id')"));
});

test('the endpoint lens goes above every decorator of the route handler, multi-line ones included', () => {
  const sites = scanRoutes(PY, 'python');
  const byPath = Object.fromEntries(sites.map((s) => [s.path, s.line - 1]));
  assert.deepEqual(byPath, {
    '/items/{item_id}': at(PY, '@app.get("/items/{item_id}")'),
    '/items': firstLineOf(PY, '@traced\n@app.post'),
    // Before: between `)` of @limiter(...) and @app.get, since the walk stopped at a line not starting with @.
    '/limited': at(PY, '@limiter('),
    '/health': at(PY, '@app.get("/health")'),
  });
});

test('the function lens goes above the first decorator (TypeScript, from the parser), where the walk puts it', () => {
  const r = outline(__dirname, 'handlers.ts', TS);
  assert.ok(r.ok);
  const lines = TS.split('\n');
  // The fake vscode.Range keeps its first argument (the start line) as `start`.
  const lens = (q: string) => Number(lensRange(r.functions.find((f) => f.qualname === q)!).start);
  assert.equal(lens('Api.read'), at(TS, "@Get('/items/:id')"));
  assert.equal(lens('Api.list'), at(TS, "@Get('/items')"));
  assert.equal(lens('plain'), at(TS, 'export function plain'));
  for (const f of r.functions) assert.equal(lens(f.qualname), firstDecoratorLine(lines, f.defLine - 1), f.qualname);
});
