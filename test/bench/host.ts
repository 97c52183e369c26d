/**
 * The host side's own costs, on synthetic data (no process is measured): reducing and
 * validating a long report, a live panel update, the report UI's first render in
 * Chromium, and the bundles' sizes and load times.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as zlib from 'node:zlib';
import { buildReport, SessionState } from '../../src/report/buildReport';
import { standaloneHtml } from '../../src/report/html';
import { applyLiveDelta, liveDelta } from '../../src/shared/liveReport';
import { Mode, Report, RunSettings, SidecarMessage } from '../../src/shared/protocol';
import { ToWebview } from '../../src/shared/webviewProtocol';
import { lagStats } from '../../src/stats/lagStats';
import { CHROMIUM, launchChromium } from '../support/browser';
import { lcg, syntheticWindow } from '../support/syntheticReport';
import * as fakeVscode from '../support/fakeVscode';
import { kb, median, ms, progress, REPO, Table } from './format';
import { TARGETS } from './runtimes';

function timeIt(reps: number, fn: () => void): number {
  fn(); // warm-up (JIT)
  const xs: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    xs.push(performance.now() - t0);
  }
  return median(xs)!;
}

export function hostCosts(t: Table): void {
  progress('host-side costs');
  t.section('host side: 3 modes × 60,000 samples (synthetic, = 60 s windows at 1 ms)');
  const rand = lcg(42);
  const settings: RunSettings = {
    modes: ['inline', 'thread', 'process'], concurrency: 10, workers: null, switchIntervalS: 0.005,
    heartbeatMs: 1, stallMs: 50, gilProbe: true, timeoutS: 120,
  };
  const windows = settings.modes.map((m) => syntheticWindow(m, 60_000, rand));
  const state: SessionState = {
    target: { file: TARGETS, qualname: 'noop', lines: null, args: '', language: 'python' },
    settings, createdAt: new Date(), runtime: null, resolved: null,
    baseline: syntheticWindow('baseline' as Mode, 300, rand), windows, error: null, finished: true,
  };
  t.row('lagStats, one window of 60,000', ms(timeIt(5, () => lagStats(windows[0].samples, { ...settings, wallMs: windows[0].wallMs }))), 'median of 5');
  let report: Report | null = null;
  t.row('buildReport, 3 × 60,000', ms(timeIt(5, () => (report = buildReport(state)))), 'median of 5; runs again on every onRun (live views)');
  const json = JSON.stringify(report);
  t.row('report JSON size', kb(Buffer.byteLength(json)), 'samples are kept in the report for the timeline');
  t.row('Report.parse(JSON.parse(report))', ms(timeIt(3, () => Report.parse(JSON.parse(json)))), 'what a reader of --json / --out pays to validate');
  // A live panel update as the last of the three modes ends: what crosses to the webview
  // (as JSON, like postMessage) and what the webview validates before it draws.
  const full = report!;
  const before = { ...full, runs: full.runs.slice(0, 2) };
  const deliver = (m: unknown) => ToWebview.parse(JSON.parse(JSON.stringify(m)));
  const whole = { type: 'live', report: full, progress: null };
  const delta = { type: 'liveDelta', ...liveDelta(before, full), progress: null };
  t.row('live panel update, 3rd mode: whole report', ms(timeIt(3, () => deliver(whole))),
    `${kb(Buffer.byteLength(JSON.stringify(whole)))} serialized, parsed, validated; before issue 12, every mode's update`);
  t.row('live panel update, 3rd mode: finished window', ms(timeIt(3, () => applyLiveDelta(before, deliver(delta) as Extract<ToWebview, { type: 'liveDelta' }>))),
    `${kb(Buffer.byteLength(JSON.stringify(delta)))}: the report's head and the new window (liveDelta), applied`);
  const line = JSON.stringify({ type: 'window', window: windows[0] });
  t.row('sidecar window line: parse + validate', ms(timeIt(3, () => SidecarMessage.parse(JSON.parse(line)))),
    `one 60,000-sample window message, ${kb(Buffer.byteLength(line))}`);

  const cli = path.join(REPO, 'dist', 'cli.js');
  if (fs.existsSync(cli)) {
    const bytes = fs.readFileSync(cli);
    t.row('dist/cli.js size', kb(bytes.length), `gzip ${kb(zlib.gzipSync(bytes).length)}; esbuild dev build (not minified)`);
  } else {
    t.row('dist/cli.js size', '–', 'not built: run `node esbuild.mjs` first');
  }
}

/** The report UI in real Chromium: first full render of 3 modes × 60,000 samples, and bundle sizes. */
export async function uiRender(t: Table): Promise<void> {
  progress('report UI render');
  t.section('report UI: 3 modes × 60,000 samples in Chromium (standalone HTML)');
  const dir = path.join(REPO, 'dist', 'webview');
  for (const name of ['main.js', 'main.css', 'standalone.css']) {
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) {
      t.row(`dist/webview/${name}`, '–', 'not built');
      continue;
    }
    const bytes = fs.readFileSync(file);
    t.row(`dist/webview/${name}`, kb(bytes.length), `gzip ${kb(zlib.gzipSync(bytes).length)}${name === 'standalone.css' ? '; codicon font inlined' : ''}`);
  }
  if (!fs.existsSync(CHROMIUM)) {
    t.row('first full render', '–', `${CHROMIUM} not installed (npm test installs it)`);
    return;
  }
  const rand = lcg(7);
  const settings: RunSettings = {
    modes: ['inline', 'thread', 'process'], concurrency: 10, workers: null, switchIntervalS: 0.005,
    heartbeatMs: 1, stallMs: 50, gilProbe: true, timeoutS: 120,
  };
  const report = buildReport({
    target: { file: TARGETS, qualname: 'noop', lines: null, args: '', language: 'python' },
    settings, createdAt: new Date(), runtime: null, resolved: null, baseline: null,
    windows: settings.modes.map((m) => syntheticWindow(m, 60_000, rand)), error: null, finished: true,
  });
  const html = standaloneHtml(report, { js: fs.readFileSync(path.join(dir, 'main.js'), 'utf8'), css: fs.readFileSync(path.join(dir, 'standalone.css'), 'utf8') });
  const file = path.join(os.tmpdir(), `looplag-bench-${process.pid}.html`);
  fs.writeFileSync(file, html);
  t.row('standalone HTML size', kb(Buffer.byteLength(html)), 'bundle, styles, font and the 180,000 samples in one file');
  const { browser, close } = await launchChromium();
  try {
    const renders: number[] = [];
    const firsts: number[] = [];
    let points = 0;
    for (let i = 0; i < 3; i++) {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      await page.goto(`file://${file}`);
      await page.waitForSelector('body[data-rendered="true"]', { timeout: 30_000 });
      const d = await page.evaluate(() => ({ ...document.body.dataset }));
      renders.push(Number(d.renderMs));
      firsts.push(Number(d.renderedAtMs));
      points = await page.$$eval('figure[data-chart^="lag-"] canvas', (c) => c.length);
      await page.close();
    }
    t.row('render(): DOM, table and 7 charts', ms(median(renders)!), 'target ≤ 250 ms; median of 3 page loads');
    t.row('navigation start → fully rendered', ms(median(firsts)!), 'includes parsing the inlined bundle and the 3.5 MB report');
    t.row('lag charts drawn', String(points), 'min/max decimation per pixel bucket: every stall kept');
  } finally {
    await close();
    fs.rmSync(file, { force: true });
  }
}

/** The extension's bundle: size, load time and activate() time (VS Code stood in by the fake module). */
export function extensionActivation(t: Table): void {
  progress('extension activation');
  t.section('VS Code extension: dist/extension.js');
  const bundle = path.join(REPO, 'dist', 'extension.js');
  if (!fs.existsSync(bundle)) {
    t.row('dist/extension.js', '–', 'not built');
    return;
  }
  const bytes = fs.readFileSync(bundle);
  t.row('dist/extension.js size', kb(bytes.length), `gzip ${kb(zlib.gzipSync(bytes).length)}`);
  const vsix = path.join(REPO, 'looplag.vsix');
  if (fs.existsSync(vsix)) t.row('looplag.vsix size', kb(fs.statSync(vsix).size), 'target ≤ 1.5 MB; ~1 MB of it is the TypeScript compiler (Node sidecar, .ts targets)');
  // The bundle requires 'vscode' at load: hand it the stand-in module.
  const Module = require('node:module') as { _load(request: string, ...rest: unknown[]): unknown };
  const load = Module._load;
  Module._load = (request: string, ...rest: unknown[]) => (request === 'vscode' ? fakeVscode : load(request, ...rest));
  try {
    const t0 = performance.now();
    const ext = require(bundle) as { activate(context: unknown): void };
    const loadMs = performance.now() - t0;
    const storage = fs.mkdtempSync(path.join(os.tmpdir(), 'looplag-bench-ext-'));
    const context = {
      subscriptions: [] as { dispose(): unknown }[], extensionUri: fakeVscode.Uri.file(REPO),
      storageUri: fakeVscode.Uri.file(storage), globalStorageUri: fakeVscode.Uri.file(storage),
      extension: { id: 'looplag.looplag', packageJSON: { version: '0.1.0' } },
      workspaceState: { get: () => undefined, update: async () => undefined },
    };
    const t1 = performance.now();
    ext.activate(context);
    const activateMs = performance.now() - t1;
    for (const d of context.subscriptions) d.dispose();
    fs.rmSync(storage, { recursive: true, force: true });
    t.row('require(dist/extension.js)', ms(loadMs), 'parse and evaluate the bundle');
    t.row('activate()', ms(activateMs), 'registrations only; no process is started at activation');
  } finally {
    Module._load = load;
  }
}
