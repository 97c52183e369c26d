/**
 * The function CodeLens on decorated Python functions, from the real interpreter's
 * outline (python3's `ast`): above the first decorator, stacked and multi-line ones
 * included, on the same line as the endpoint lens's walk (test/unit/lensPlacement.test.ts
 * has the TypeScript side and the walk itself).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { lensRange } from '../../src/host/codeLens';
import { firstDecoratorLine } from '../../src/host/decorators';
import { scanRoutes } from '../../src/host/serveSource';
import { runTool } from '../../src/engine/languageTools';
import { defaultPythonSidecarDir } from '../../src/engine/runtimes';
import { FIXTURES } from '../support/helpers';

const FILE = path.join(FIXTURES, 'decorators', 'routes.py');

test('python3\'s outline puts each function lens above its first decorator, where the endpoint lens goes', async () => {
  const answer = await runTool({ command: 'python3' }, path.join(defaultPythonSidecarDir(), 'run_sidecar.py'), ['outline', FILE]);
  assert.ok(answer.type === 'outline', JSON.stringify(answer));
  const source = fs.readFileSync(FILE, 'utf8');
  const lines = source.split('\n');
  // The fake vscode.Range keeps its first argument (the start line) as `start`.
  const lensLine = (q: string) => Number(lensRange(answer.functions.find((f) => f.qualname === q)!).start);
  const atLine = (text: string) => lines.findIndex((l) => l.startsWith(text));
  assert.equal(lensLine('read_item'), atLine('@app.get("/items/{item_id}")'));
  assert.equal(lensLine('create_item'), lines.findIndex((l, k) => l === '@traced' && lines[k + 1].startsWith('@app.post')));
  assert.equal(lensLine('limited'), atLine('@limiter('));
  assert.equal(lensLine('cached'), atLine('@functools.lru_cache('));
  assert.equal(lensLine('health'), atLine('@app.get("/health")'));
  assert.equal(lensLine('plain'), atLine('def plain'));
  for (const f of answer.functions) assert.equal(lensLine(f.qualname), firstDecoratorLine(lines, f.defLine - 1), f.qualname);
  // The endpoint lens of each route handler shares its function lens's line.
  const byName: Record<string, string> = { '/items/{item_id}': 'read_item', '/items': 'create_item', '/limited': 'limited', '/health': 'health' };
  for (const site of scanRoutes(source, 'python')) assert.equal(site.line - 1, lensLine(byName[site.path]), site.path);
});
