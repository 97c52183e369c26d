/**
 * Measure Endpoint's pure parts (issue 14): the app a Python file defines and its module,
 * the route handlers the endpoint CodeLens goes above (real FastAPI and Express files,
 * stacked decorators, `methods=`), path parameters, the settings → ServeSettings mapping
 * and package.json's `looplag.serve.*` against SERVE_KNOBS, the endpoint items, the
 * prompts' checks, the serve view's openLocation rule and the live state.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { serveNamesLine } from '../../src/host/reveal';
import { serveSettingsFrom } from '../../src/host/serveConfig';
import { appProblem } from '../../src/host/serveCommand';
import { bodyProblem, endpointItems, endpointProblem, OTHER_LABEL } from '../../src/host/servePrompts';
import { partialServeReport, requestVariants, serveLive, serveProgressText } from '../../src/host/serveRun';
import { fillPath, findAsgiApps, pathParams, pythonModuleOf, routeMatches, scanRoutes } from '../../src/host/serveSource';
import type { ServeInputs } from '../../src/serve/inputs';
import { ServeReport } from '../../src/shared/protocol/serveReport';
import { Knob } from '../../src/shared/settings';
import { SERVE_KNOBS, SERVE_OFF_AT_ZERO, ServeKnobName } from '../../src/shared/serveSettings';
import { FIXTURES, REPO } from '../support/helpers';

const FASTAPI_APP = fs.readFileSync(path.join(FIXTURES, 'serve', 'python', 'app.py'), 'utf8');
const SHOP = fs.readFileSync(path.join(FIXTURES, 'e2e', 'serve', 'shop.py'), 'utf8');
const EXPRESS_APP = fs.readFileSync(path.join(FIXTURES, 'serve', 'node', 'express.cjs'), 'utf8');

/** 1-based line of the first line containing `text`. */
function lineOf(source: string, text: string): number {
  const i = source.split('\n').findIndex((l) => l.includes(text));
  assert.ok(i >= 0, text);
  return i + 1;
}

test('the ASGI app a Python file binds at module level: FastAPI and Starlette, annotated or module-qualified; not an APIRouter, not nested', () => {
  assert.deepEqual(findAsgiApps(FASTAPI_APP), [{ name: 'app', line: lineOf(FASTAPI_APP, 'app = FastAPI()') }]);
  assert.deepEqual(findAsgiApps(SHOP).map((a) => a.name), ['app']);
  const src = [
    'import fastapi, starlette.applications',
    'router = APIRouter()',
    'api: Starlette = Starlette(routes=routes)',
    'admin = fastapi.FastAPI(title="admin")',
    'def make():',
    '    inner = FastAPI()',
    'not_app = FastAPIish()',
  ].join('\n');
  assert.deepEqual(findAsgiApps(src), [{ name: 'api', line: 3 }, { name: 'admin', line: 4 }]);
});

test('a Python file\'s module as `python -m` imports it from the workspace folder', () => {
  assert.equal(pythonModuleOf('/w/app/main.py', '/w'), 'app.main');
  assert.equal(pythonModuleOf('/w/shop.py', '/w'), 'shop');
  assert.equal(pythonModuleOf('/w/pkg/__init__.py', '/w'), 'pkg');
  assert.equal(pythonModuleOf('/elsewhere/main.py', '/w'), null, 'outside the workspace');
  assert.equal(pythonModuleOf('/w/my-app/main.py', '/w'), null, 'a folder that is no identifier');
  assert.equal(pythonModuleOf('/w/server.js', '/w'), null);
});

test('the endpoint lens: one per FastAPI route decorator, on its line, with the method and path template', () => {
  const sites = scanRoutes(FASTAPI_APP, 'python');
  assert.ok(sites.length >= 6, `${sites.length} routes`);
  assert.deepEqual(sites.find((s) => s.path === '/items/{item_id}'), { methods: ['GET'], path: '/items/{item_id}', line: lineOf(FASTAPI_APP, '@app.get("/items/{item_id}")') });
  for (const s of sites) assert.match(FASTAPI_APP.split('\n')[s.line - 1], /^@app\.get\(/, `line ${s.line} is the decorator`);
});

test('stacked decorators: the lens goes above the first, never between a decorator and its def; route/api_route read methods=', () => {
  const src = [
    'from starlette.applications import Starlette',            // 1
    '',                                                          // 2
    '@cache(ttl=5)',                                             // 3
    '@router.post("/auth/hash", status_code=201)',               // 4
    'async def hash_password(body: Body):',                      // 5
    '    ...',                                                   // 6
    '',                                                          // 7
    '@app.route("/legacy", methods=["PUT"])',                    // 8
    'def legacy(request): ...',                                  // 9
    '@app.api_route(',                                           // 10
    '    "/both",',                                              // 11
    '    methods=["GET", "patch"],',                             // 12
    ')',                                                         // 13
    'async def both(): ...',                                     // 14
    '    @app.get(\'/indented\')',                               // 15
    '    async def indented(): ...',                             // 16
    'x = app.get("/not-a-decorator")',                           // 17
  ].join('\n');
  assert.deepEqual(scanRoutes(src, 'python'), [
    { methods: ['POST'], path: '/auth/hash', line: 3 },
    { methods: ['PUT'], path: '/legacy', line: 8 },
    { methods: ['GET', 'PATCH'], path: '/both', line: 10 },
    { methods: ['GET'], path: '/indented', line: 15 },
  ]);
});

test('JS/TS routes: Express app and router calls, Fastify, Koa-router; not a getter with one argument, not a comment', () => {
  assert.deepEqual(scanRoutes(EXPRESS_APP, 'javascript'), [
    { methods: ['GET'], path: '/users/:id', line: lineOf(EXPRESS_APP, "app.get('/users/:id'") },
    { methods: ['POST'], path: '/items', line: lineOf(EXPRESS_APP, "api.post('/items'") },
  ]);
  const src = [
    "import Fastify from 'fastify';",
    "fastify.get(`/docs/:id`, async (req) => ({ id: req.params.id }));",
    "router.delete('/items/:id?', handler);",
    "const v = cache.get('/x');",
    "// app.get('/commented', h);",
    "  app.put(\"/orders\", express.json(), save); app.patch('/orders/:id', h);",
  ].join('\n');
  assert.deepEqual(scanRoutes(src, 'typescript'), [
    { methods: ['GET'], path: '/docs/:id', line: 2 },
    { methods: ['DELETE'], path: '/items/:id?', line: 3 },
    { methods: ['PUT'], path: '/orders', line: 6 },
    { methods: ['PATCH'], path: '/orders/:id', line: 6 },
  ]);
  // A file that imports no server framework has no routes: a client's `get` is not one.
  assert.deepEqual(scanRoutes(src.split('\n').slice(1).join('\n'), 'typescript'), []);
  const client = "import axios from 'axios';\nconst r = await axios.get('/api/users', { params });\nhttp.get('/health', cb);";
  assert.deepEqual(scanRoutes(client, 'javascript'), []);
  assert.equal(scanRoutes("const { Router } = require('express');\nrouter.get('/x', h);", 'javascript').length, 1, 'a CJS router module');
  assert.deepEqual(scanRoutes('@app.get("/x")\ndef x():\n    pass\n', 'python'), [], 'no FastAPI or Starlette import');
});

test('path parameters: FastAPI {name} and {name:converter}, Express :name and :name?, filled percent-encoded', () => {
  assert.deepEqual(pathParams('/items/{item_id}'), ['item_id']);
  assert.deepEqual(pathParams('/files/{path:path}/v/{v}'), ['path', 'v']);
  assert.deepEqual(pathParams('/docs/:id/:rev?'), ['id', 'rev']);
  assert.deepEqual(pathParams('/reports/sales'), []);
  assert.equal(fillPath('/items/{item_id}', { item_id: '7' }), '/items/7');
  assert.equal(fillPath('/files/{path:path}', { path: 'a/b c' }), '/files/a/b%20c');
  assert.equal(fillPath('/docs/:id', { id: 'é' }), '/docs/%C3%A9');
  // The route's own characters as HTTP sends them, and an Express parameter's pattern dropped with it.
  assert.equal(fillPath('/café/{x}', { x: '1' }), '/caf%C3%A9/1');
  assert.equal(fillPath('/a b', {}), '/a%20b');
  assert.equal(fillPath('/users/:id(\\d+)', { id: '5' }), '/users/5');
  assert.deepEqual(pathParams('/users/:id(\\d+)'), ['id']);
  assert.ok(routeMatches({ methods: ['GET'], path: '/api/items' }, { method: 'GET', path: '/items' }), 'a router mounted under a prefix');
  assert.ok(!routeMatches({ methods: ['POST'], path: '/items' }, { method: 'GET', path: '/items' }));
});

test('settings → ServeSettings: defaults from SERVE_KNOBS, ranges kept, 0 or 1 worker and 0 threads mean no variant, the function-mode settings shared', () => {
  const d = serveSettingsFrom(() => undefined);
  assert.deepEqual(d.settings, { ratePerS: 20, durationS: 10, warmupS: 2, probeRatePerS: 20, budgetMs: 100, heartbeatMs: 1, stallMs: 50, attribution: true });
  assert.equal(d.processes, null);
  assert.equal(d.threadTokens, null);
  assert.equal(d.startTimeoutS, 30);
  assert.equal(d.codeLens, true);
  const values: Record<string, unknown> = {
    'serve.rate': 50000, 'serve.duration': 0.2, 'serve.warmup': 'x', 'serve.probeRate': 0, 'serve.workers': 3.4, 'serve.threads': 8,
    'serve.startTimeout': 5, lagBudgetMs: 250, attribution: false, stallThresholdMs: 20, heartbeatMs: 2, 'serve.codeLens': false,
  };
  const s = serveSettingsFrom((k) => values[k]);
  assert.equal(s.settings.ratePerS, SERVE_KNOBS.ratePerS.max);
  assert.equal(s.settings.durationS, SERVE_KNOBS.durationS.min);
  assert.equal(s.settings.warmupS, SERVE_KNOBS.warmupS.default, 'nonsense gives the default');
  assert.equal(s.settings.probeRatePerS, 0, 'no probe');
  assert.equal(s.processes, 3);
  assert.equal(s.threadTokens, 8);
  assert.equal(s.startTimeoutS, 5);
  assert.deepEqual([s.settings.budgetMs, s.settings.attribution, s.settings.stallMs, s.settings.heartbeatMs, s.codeLens], [250, false, 20, 2, false]);
  for (const w of [0, 1, -3]) assert.equal(serveSettingsFrom((k) => (k === 'serve.workers' ? w : undefined)).processes, null, `workers ${w}`);
  assert.equal(serveSettingsFrom((k) => (k === 'serve.threads' ? 0 : undefined)).threadTokens, null);
  // rate × duration within the generator's per-stream cap: the run is shortened, not refused.
  const big = serveSettingsFrom((k) => ({ 'serve.rate': 10000, 'serve.duration': 3600 } as Record<string, unknown>)[k]);
  assert.ok(big.settings.ratePerS * big.settings.durationS <= 5_000_000, `${big.settings.ratePerS} × ${big.settings.durationS}`);
});

test('package.json contributes each looplag.serve.* knob with its default, range and type (0 for the extra variants\' "none")', () => {
  const props = (JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
    contributes: { configuration: { properties: Record<string, { type: string; default: unknown; minimum?: number; maximum?: number }> } };
  }).contributes.configuration.properties;
  for (const [name, knob] of Object.entries(SERVE_KNOBS) as [ServeKnobName, Knob][]) {
    const p = props[`looplag.${knob.setting}`];
    assert.ok(p, `looplag.${knob.setting} (${name}) is contributed`);
    const off = SERVE_OFF_AT_ZERO.has(name);
    assert.equal(p.default, off ? 0 : knob.default, `${name}: default`);
    assert.equal(p.minimum, off ? 0 : knob.min, `${name}: minimum`);
    assert.equal(p.maximum, knob.max, `${name}: maximum`);
    assert.equal(p.type, knob.integer ? 'integer' : 'number', `${name}: type`);
  }
  assert.equal(props['looplag.serve.codeLens']?.default, true);
});

test('the variants asked: N processes and T threads for a Python app; N node:cluster workers for a Node server, no threads', () => {
  const host = { ...serveSettingsFrom(() => undefined), processes: 2, threadTokens: 8 };
  assert.deepEqual(requestVariants({ app: { type: 'asgi', target: 'a:app', appDir: '/w', lifespan: 'auto' }, host }).map((v) => v.name), ['as-written', 'processes', 'threads']);
  assert.deepEqual(requestVariants({ app: { type: 'node', script: '/w/s.js', args: [] }, host }).map((v) => v.name), ['as-written', 'processes']);
});

test('the endpoint items: one per route and method, HEAD beside GET dropped, the lens\'s route picked (under a router prefix too), then Other…', () => {
  const routes = [
    { methods: ['GET', 'HEAD'], path: '/items/{item_id}', handler: 'item', file: 'app.py', line: 40, isAsync: true },
    { methods: ['POST'], path: '/api/orders', handler: 'create', file: 'orders.py', line: 9, isAsync: false },
    { methods: ['GET', 'HEAD'], path: '/docs', handler: 'swagger_ui_html', file: '/usr/lib/python3/dist-packages/fastapi/applications.py', line: 231, isAsync: true },
  ];
  const items = endpointItems([routes[2], ...routes.slice(0, 2)], [], 'POST /orders');
  assert.deepEqual(items.map((i) => i.label), ['GET /items/{item_id}', 'POST /api/orders', 'GET /docs', OTHER_LABEL], 'the framework\'s routes (outside the workspace) last');
  assert.deepEqual(items.filter((i) => i.picked).map((i) => i.label), ['POST /api/orders']);
  assert.equal(items[0].detail, 'app.py:40 · async def');
  // No routes reported (a plain http server): what the file registers; a lens's route not among them is added.
  const fromFile = endpointItems([], [{ methods: ['GET'], path: '/docs/:id', line: 3 }], 'DELETE /x');
  assert.deepEqual(fromFile.map((i) => `${i.picked ? '☑' : '☐'} ${i.label}`), ['☐ GET /docs/:id', '☑ DELETE /x', `☐ ${OTHER_LABEL}`]);
});

test('the prompts\' checks: APP and METHOD /path as looplag serve checks them (without the flag\'s name), JSON bodies', () => {
  assert.equal(appProblem('app.main:app', '/w'), null);
  assert.match(appProblem('main.py', '/w') ?? '', /module:attribute \(e\.g\. main:app\)/);
  assert.match(appProblem('create_app()', '/w') ?? '', /factory|module:attribute/);
  assert.equal(endpointProblem('post /orders?x=1'), null);
  assert.equal(endpointProblem('GET orders'), 'the path must start with / (the server is on 127.0.0.1; give the path only)');
  assert.match(endpointProblem('FETCH /x') ?? '', /^unknown method FETCH/);
  assert.equal(bodyProblem('{"a": 1}'), null);
  assert.match(bodyProblem('{a: 1}') ?? '', /^not JSON/);
});

test('a serve view opens only the lines its blockers name (the merged, per-process and per-handler blockers, their stacks)', () => {
  const report = ServeReport.parse(JSON.parse(fs.readFileSync(path.join(FIXTURES, 'serve', 'report', 'stalling-asgi.json'), 'utf8')));
  assert.ok(serveNamesLine(report, 'app/reports.py', 42));
  assert.ok(!serveNamesLine(report, 'app/reports.py', 40), 'the handler\'s def line is a route, not a blocker');
  assert.ok(!serveNamesLine(report, '../../etc/passwd', 1));
  const noBlockers = { variants: report.variants.map((v) => ({ ...v, blockers: [], loop: { ...v.loop, processes: v.loop.processes.map((p) => ({ ...p, blockers: [] })) }, byHandler: [] })) };
  assert.ok(!serveNamesLine(noBlockers, 'app/reports.py', 42), 'without the blockers the line is refused');
});

test('live: the progress words, the panel\'s ServeLive, and the document before any variant ended', () => {
  const settings = { warmupS: 2, durationS: 10 };
  assert.equal(serveProgressText({ variant: 'as written', phase: 'measuring', elapsedMs: 6200, sent: 124, completed: 120 }, settings), 'as written: 6.2 s / 10 s, 124 sent');
  assert.equal(serveProgressText({ variant: '2 processes', phase: 'starting', elapsedMs: 0, sent: 0, completed: 0 }, settings), '2 processes: starting');
  assert.deepEqual(serveLive({ variant: '2 processes', phase: 'warmup', elapsedMs: 500, sent: 10, completed: 9 }, 1, 2, settings),
    { variant: '2 processes', variantIndex: 1, variants: 2, phase: 'warmup', elapsedMs: 500, durationMs: 2000, sent: 10, completed: 9 });
  const base: ServeInputs = {
    app: { type: 'asgi', target: 'shop:app', appDir: '/w', lifespan: 'auto' }, runtime: null, variants: [], error: null, createdAt: '2026-11-30T12:00:00.000Z', workspaceRoot: '/w',
    settings: { ratePerS: 20, durationS: 10, warmupS: 2, probeRatePerS: 20, endpoints: [{ name: 'GET /report', method: 'GET', path: '/report' }], budgetMs: 100, heartbeatMs: 1, stallMs: 50, attribution: true },
  };
  const r = ServeReport.parse(partialServeReport(base, []));
  assert.deepEqual(r.variants, []);
  assert.equal(r.verdict, 'not-measured');
});

test('the endpoint lens: shown in a trusted workspace only, none for a huge file, the file scanned once per version', async () => {
  const vscode = await import('vscode');
  const fake = await import('../support/fakeVscode');
  const { EndpointCodeLens } = await import('../../src/host/serveLens');
  const source = 'from fastapi import FastAPI\napp = FastAPI()\n\n@app.get("/report")\ndef report():\n    return {}\n';
  let reads = 0;
  const doc = (text: string, version = 1) => ({
    languageId: 'python', uri: vscode.Uri.file('/w/shop.py'), version, lineCount: text.split('\n').length,
    getText: () => ((reads += 1), text),
  }) as unknown as import('vscode').TextDocument;
  const lens = new EndpointCodeLens();
  try {
    const shown = lens.provideCodeLenses(doc(source));
    assert.equal(shown.length, 1);
    assert.equal(shown[0].range.start as unknown, 3, 'above the decorator (the fake Range keeps the line as given)');
    const before = reads;
    lens.provideCodeLenses(doc(source));
    assert.equal(reads - before, 1, 'the same version is not scanned again (one read for the size check)');
    fake.workspace.isTrusted = false;
    assert.deepEqual(lens.provideCodeLenses(doc(source, 2)), [], 'Restricted Mode: no lens');
    fake.workspace.isTrusted = true;
    const huge = source + '# filler\n'.repeat(30_000);
    assert.deepEqual(lens.provideCodeLenses(doc(huge, 3)), [], 'a 30,000-line file is not scanned on the host');
  } finally {
    fake.workspace.isTrusted = true;
    lens.dispose();
  }
});
