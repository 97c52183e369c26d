/// <reference lib="dom" />
/**
 * The busy-machine flag does not fire on the editor's own work (issue 16's "Done when"): with
 * the report panel open and visible beside the editor, a Python and a Node function of ~1–2 s
 * in all are measured in code-server, and the report trusts its figures (every window's
 * background CPU under 25%). It fired on every run in the editor when the panel redrew its
 * charts during the windows, the workbench animated, the status bar and notification were
 * redrawn at each call's end (Chromium, which draws them, is not code-server's process), and
 * the meter spanned more than the window.
 *
 * Apart from the sidecar, the test measures who used the machine (processLoad.ts), over each
 * window's own span (`runs[].t0EpochMs` + `wallMs`): code-server's processes, the sidecars,
 * this test's Chromium, and everything else. The run starts once the workbench has settled
 * after opening the file. On a quiet machine (load that neither the product nor the editor
 * made under 10% in every window; Chromium's drawing is not excused) the report must trust
 * its figures and count no window busier than it was; otherwise the run is measured again,
 * up to three times, and then the check is skipped with the measured load as the reason.
 * The webview records each of its renders: each one while the run went on shows it running,
 * and none draws a chart.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import type { Frame, Page } from 'playwright-core';
import { BUSY_MACHINE_FRAC as BUSY_FRAC } from '../../src/report/quality';
import type { Report } from '../../src/shared/protocol';
import { useWorkbench } from '../support/e2e';
import { FIXTURES, REPO, tmpDir } from '../support/helpers';
import { historyDir, historyReports } from '../support/history';
import { describeLoad, recordLoad, settle } from '../support/processLoad';
import { goToLine, openFile, runCommand, waitUntil, webviewFrame } from '../support/workbench';

const VSIX = path.join(REPO, 'looplag.vsix');
const WORKSPACE = path.join(FIXTURES, 'e2e', 'busy');
const EXTENSION_ID = 'looplag.looplag';
const STATUS_ITEM = 'looplag.looplag.looplag.status';
const ATTEMPTS_ON_BUSY_MACHINE = 3;
const RUN_TIMEOUT_MS = 90_000;
/**
 * A window is judged on a quiet machine when the load that neither the product nor the editor
 * made (other people's processes, other programs under code-server, this test's own process)
 * stayed under this share of the machine, measured apart. Chromium is not excused: what it
 * draws during a window is the product's doing (a redraw of ours shows there), or the
 * workbench's, which the flag counts in code-server too.
 */
const QUIET_FRAC = 0.1;
/** How far a window's background may exceed the load measured apart: ticks and snapshot spacing (seen: up to 6 points). */
const AGREE_WITHIN = 0.15;
/** Five calls of 100 ms per mode: windows of ~0.3–0.5 s, long enough for /proc's 10 ms ticks. */
const CONCURRENCY = 5;

const skip = !fs.existsSync(VSIX) && 'no looplag.vsix: run `npm run package`';

/** What the webview's page records of each of its renders (installed by `recordRenders`). */
interface RenderRecord {
  atMs: number;
  /** The same moment on the wall clock (ms since the Unix epoch), as a report's runs[].t0EpochMs. */
  atEpochMs: number;
  canvases: number;
  running: boolean;
  fn: string | null;
}

describe('Loop Lag in VS Code: the busy-machine flag stays off with the report panel open', { skip }, () => {
  let folder: string;
  const session = useWorkbench(() => {
    folder = tmpDir('looplag-e2e-busy-');
    fs.cpSync(WORKSPACE, folder, { recursive: true });
    return {
      folder, vsix: VSIX,
      userSettings: {
        'looplag.concurrency': CONCURRENCY,
        'looplag.python.modes': ['inline', 'thread', 'process'],
        'looplag.node.modes': ['inline', 'worker', 'process'],
      },
    };
  });
  after(() => fs.rmSync(folder, { recursive: true, force: true }));

  for (const { language, file, line } of [
    { language: 'python', file: 'spin.py', line: 7 },
    { language: 'javascript', file: 'spin.js', line: 4 },
  ] as const) {
    test(`${language}: a run with the panel open and visible keeps the report trustworthy, and the panel draws no chart until the run ends`, async (t) => {
      const { page, server } = session;
      const busy: string[] = [];
      for (let attempt = 1; attempt <= ATTEMPTS_ON_BUSY_MACHINE; attempt++) {
        const frame = await panelBesideEditor(page, file);
        await recordRenders(frame);
        await recordWorkbenchChanges(page);
        await goToLine(page, line);
        // Opening a file sets the editor to work (a language server loading, the workbench
        // drawing): that is load, so the run starts once it has passed.
        const settled = await settle(server.pid, { quietFrac: QUIET_FRAC, spanMs: 1000, timeoutMs: 30_000 });
        t.diagnostic(`attempt ${attempt}: ${settled.quiet ? 'quiet' : 'still busy after 30 s'} before the run: ${describeLoad(settled.last)}`);
        const before = reportCount(server);
        const load = recordLoad(server.pid);
        await runCommand(page, 'Loop Lag: Measure Function');
        const animations = await workbenchAnimations(page);
        // A directory listing now and then: the panel is not polled while the run goes on.
        await waitUntil(() => reportCount(server) > before, 'the run\'s report in the history', RUN_TIMEOUT_MS);
        load.stop();
        const report = newest(server, language);
        const measured = report.runs.filter((r) => r.status !== 'skipped');

        assert.equal(report.status, 'complete', report.error?.message);
        assert.deepEqual(measured.map((r) => [r.mode, r.status, r.tasks.length]), report.settings.modes.map((m) => [m, 'ok', CONCURRENCY]));
        // Each window's own span, measured apart: what the sidecar should have counted as other processes.
        const windows = measured.map((r) => {
          assert.equal(typeof r.t0EpochMs, 'number', `${r.mode}: the window's start on the wall clock`);
          const apart = load.between(r.t0EpochMs!, r.t0EpochMs! + r.wallMs);
          assert.ok(apart, `${r.mode}: the window lies within the load's recording`);
          return { mode: r.mode, report: r.backgroundCpuFrac, apart };
        });
        t.diagnostic(`  report: background ${pct(report.quality.backgroundCpuFrac)}, trustworthy ${report.quality.trustworthy}`);
        for (const w of windows) {
          t.diagnostic(`  ${w.mode}: the report counts ${pct(w.report)}, measured apart ${pct(w.apart.notTheEditors)} (${describeLoad(w.apart)})`);
        }
        t.diagnostic(`  the whole run: ${describeLoad(load.whole())}`);
        t.diagnostic(`  animations in the workbench as the run started: ${animations.join(', ') || 'none'}`);
        const renders = await rendersUntilShown(page, report);
        t.diagnostic(`  panel renders: ${renders.map((r) => `${Math.round(r.atMs)} ms ${r.running ? 'running' : 'done'} ${r.canvases} canvas`).join('; ')}`);
        const changes = [
          ...(await workbenchChanges(page)),
          ...renders.map((r) => ({ atEpochMs: r.atEpochMs, what: `panel render (${r.running ? 'running' : 'done'})` })),
        ];
        for (const r of measured) {
          const inside = changes.filter((c) => c.atEpochMs >= r.t0EpochMs! && c.atEpochMs <= r.t0EpochMs! + r.wallMs);
          const before = changes.filter((c) => c.atEpochMs >= r.t0EpochMs! - 1000 && c.atEpochMs < r.t0EpochMs!);
          t.diagnostic(`  drawn during the ${r.mode} window: ${inside.map((c) => `${Math.round(c.atEpochMs - r.t0EpochMs!)} ms ${c.what}`).join('; ') || 'nothing'}` +
            ` (in the second before it: ${before.map((c) => `${Math.round(c.atEpochMs - r.t0EpochMs!)} ms ${c.what}`).join('; ') || 'nothing'})`);
        }
        // Up to the last window's end the run was certainly going on: every render then says so and draws no chart.
        const lastWindowEnd = Math.max(...measured.map((r) => r.t0EpochMs! + r.wallMs));
        const duringRun = renders.filter((r) => r.atEpochMs <= lastWindowEnd);
        assert.ok(duringRun.length >= 2, `the panel showed the run in progress and a mode's result (${duringRun.length} renders before its end)`);
        assert.deepEqual(duringRun.filter((r) => !r.running || r.canvases > 0), [], 'each render while the run went on shows it running, with no chart');
        assert.ok(renders[renders.length - 1].canvases > 0, 'the charts once it ended');
        assert.notEqual(report.quality.backgroundCpuFrac, null, 'the windows were long enough to measure the machine\'s load');

        // Load neither the product nor the editor made, per window.
        const notOurs = (w: (typeof windows)[number]) => w.apart.others + w.apart.editorOther + w.apart.test;
        const worst = windows.reduce((a, w) => (notOurs(w) > notOurs(a) ? w : a));
        if (notOurs(worst) < QUIET_FRAC) {
          // A quiet machine: whatever the report counts beyond what was there is the tool's own doing.
          for (const w of windows) {
            assert.ok(w.report !== null && w.report <= w.apart.notTheEditors + AGREE_WITHIN,
              `${w.mode}: the report counts ${pct(w.report)} of the machine as other processes' while ${pct(w.apart.notTheEditors)} was measured apart (${describeLoad(w.apart)})`);
          }
          assert.ok(report.quality.trustworthy && report.quality.backgroundCpuFrac! < BUSY_FRAC,
            `the report flagged the machine busy (${pct(report.quality.backgroundCpuFrac)}) while load the product and the editor did not make was at most ${pct(notOurs(worst))} in any window (${worst.mode}: ${describeLoad(worst.apart)})`);
          return;
        }
        busy.push(`${worst.mode} window: ${pct(notOurs(worst))} not ours measured apart (${describeLoad(worst.apart)}), ${pct(worst.report)} in the report`);
      }
      t.skip(`the machine was busy in each of ${ATTEMPTS_ON_BUSY_MACHINE} runs (${busy.join('; ')}): the flag staying off is not checked`);
    });
  }
});

/**
 * What the workbench animates once the run started (the status bar shows it): Chromium draws
 * every frame of it, and Chromium is not code-server's process, so the sidecar counts it as load.
 */
async function workbenchAnimations(page: Page): Promise<string[]> {
  const seen = await page.waitForFunction((id) => document.getElementById(id)?.textContent?.includes('Loop Lag:') ?? false, STATUS_ITEM, { polling: 100, timeout: 30_000 })
    .then(() => true, () => false);
  if (!seen) return ['(the status bar never showed the run)'];
  return page.evaluate(() => document.getAnimations().map((a) => {
    const target = (a.effect as KeyframeEffect | null)?.target;
    return `${(a as CSSAnimation).animationName ?? 'animation'} on .${(target?.getAttribute('class') ?? '?').trim().split(/\s+/).slice(0, 3).join('.')}`;
  }));
}

/** Open `file` and the report panel beside it (visible, the editor focused); the panel's content frame. */
async function panelBesideEditor(page: Page, file: string): Promise<Frame> {
  await openFile(page, file);
  await runCommand(page, 'Loop Lag: Show Report');
  // The command focuses the panel once it read the history: then back to the editor, not before.
  await page.waitForSelector('.editor-group-container.active .tab.active[aria-label^="Loop Lag"]', { timeout: 15_000 });
  const frame = await webviewFrame(page, { extensionId: EXTENSION_ID });
  await page.locator('.tabs-container .tab').filter({ hasText: file }).first().click();
  await page.waitForSelector(`.editor-group-container.active .editor-instance .monaco-editor.focused[data-uri$="/${file}"]`, { timeout: 15_000 });
  return frame;
}

/**
 * Has the workbench's page record when the status bar and the notifications change (their
 * text, or an element added or removed), on the wall clock. A MutationObserver: nothing
 * runs in the page between changes.
 */
async function recordWorkbenchChanges(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __changes: { atEpochMs: number; what: string }[]; __changeObserver?: MutationObserver };
    w.__changeObserver?.disconnect();
    w.__changes = [];
    w.__changeObserver = new MutationObserver((mutations) => {
      const what = new Set(mutations.map((m) => {
        const el = m.target instanceof Element ? m.target : m.target.parentElement;
        return el?.closest('.notifications-toasts, .notifications-center') ? 'notification' : 'status bar';
      }));
      w.__changes.push({ atEpochMs: performance.timeOrigin + performance.now(), what: [...what].join('+') });
    });
    for (const el of Array.from(document.querySelectorAll('.part.statusbar, .notifications-toasts'))) {
      w.__changeObserver.observe(el, { subtree: true, childList: true, characterData: true, attributes: true });
    }
  });
}

async function workbenchChanges(page: Page): Promise<{ atEpochMs: number; what: string }[]> {
  return page.evaluate(() => (window as unknown as { __changes?: { atEpochMs: number; what: string }[] }).__changes ?? []);
}

/**
 * Has the panel's page record each render (the body's `data-rendered*` attributes, which
 * render() sets every time): when, how many chart canvases it left, and whether a run was in
 * progress. A MutationObserver: the page is not polled, nothing runs in it between renders.
 */
async function recordRenders(frame: Frame): Promise<void> {
  await frame.evaluate(() => {
    const w = window as unknown as { __renders: RenderRecord[]; __renderObserver?: MutationObserver };
    w.__renderObserver?.disconnect();
    w.__renders = [];
    w.__renderObserver = new MutationObserver(() => {
      w.__renders.push({
        atMs: performance.now(),
        atEpochMs: performance.timeOrigin + performance.now(),
        canvases: document.querySelectorAll('figure[data-chart] canvas').length,
        running: document.querySelector('[data-testid="running"]') !== null,
        fn: document.querySelector('[data-testid="target-name"]')?.textContent ?? null,
      });
    });
    w.__renderObserver.observe(document.body, { attributes: true, attributeFilter: ['data-rendered', 'data-rendered-at-ms'] });
  });
}

/** The renders the panel recorded, once it shows `report` finished; fails if its page was replaced meanwhile. */
async function rendersUntilShown(page: Page, report: Report): Promise<RenderRecord[]> {
  const frame = await webviewFrame(page, { extensionId: EXTENSION_ID });
  let renders: RenderRecord[] | undefined;
  await waitUntil(async () => {
    const seen = await frame.evaluate(() => ({
      renders: (window as unknown as { __renders?: RenderRecord[] }).__renders,
      createdAt: document.querySelector('header time')?.getAttribute('datetime') ?? null,
    }));
    assert.ok(seen.renders, 'the panel\'s page was replaced during the run (it should stay open and visible)');
    renders = seen.renders;
    const last = renders[renders.length - 1];
    return Date.parse(seen.createdAt ?? '') === Date.parse(report.createdAt) && last !== undefined && !last.running && last.canvases > 0;
  }, 'the finished report in the panel', 30_000);
  return renders!;
}

function reportCount(server: { userDataDir: string }): number {
  const dir = historyDir(server);
  return dir ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')).length : 0;
}

function newest(server: { userDataDir: string }, language: string): Report {
  const mine = historyReports(server).filter((r) => r.target.qualname === 'spin' && r.target.language === language);
  assert.ok(mine.length, `a report of spin (${language})`);
  return mine[mine.length - 1];
}

function pct(x: number | null | undefined): string {
  return x === null || x === undefined ? '–' : `${Math.round(x * 100)}%`;
}
