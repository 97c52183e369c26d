/**
 * `npm run screenshot`: the README's picture of Loop Lag in VS Code, taken from a real
 * run in code-server (needs `npm run package` and scripts/e2e-setup.sh first).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { launchChromium } from '../support/browser';
import { startCodeServer } from '../support/codeServer';
import { REPO, tmpDir } from '../support/helpers';
import { clickCodeLens, openFile, openWorkbench, runCommand, waitUntil, webviewFrame } from '../support/workbench';

/** Runs to try for one the report trusts (each ~30 s here). */
const ATTEMPTS = 3;

async function main(): Promise<void> {
  const folder = tmpDir('looplag-shot-');
  fs.copyFileSync(path.join(REPO, 'examples', 'python', 'cpu_bound.py'), path.join(folder, 'cpu_bound.py'));
  const server = await startCodeServer({
    folder, vsix: path.join(REPO, 'looplag.vsix'),
    userSettings: { 'workbench.colorTheme': 'Default Dark Modern', 'looplag.concurrency': 6, 'window.zoomLevel': 0 },
  });
  const { browser, close } = await launchChromium();
  try {
    const page = await openWorkbench(browser, server.url, folder);
    await page.setViewportSize({ width: 1600, height: 1000 });
    // The editor and the panel side by side at half the window each (issue 16's newcomer view).
    await runCommand(page, 'View: Close Primary Side Bar');
    await openFile(page, 'cpu_bound.py');
    // A busy machine flags the run and inflates its figures: measure again (up to
    // ATTEMPTS runs) for a picture of a run the report trusts, else keep the last one.
    let trusted = false;
    let headline = '';
    for (let attempt = 1; ; attempt++) {
      // The panel may have the focus after a run: the CodeLens is in the editor's group.
      if (attempt > 1) await runCommand(page, 'View: Focus First Editor Group');
      const since = Date.now();
      await clickCodeLens(page, '▶ Measure loop lag', { timeoutMs: 60_000 });
      ({ trusted, headline } = await finishedReport(page, since));
      if (trusted || attempt === ATTEMPTS) {
        if (!trusted) process.stderr.write(`screenshot: the machine was busy in all ${ATTEMPTS} runs; the picture shows the flag\n`);
        break;
      }
    }
    // The editor's CodeLens says the same run's verdict (not the previous attempt's): its
    // title is the headline, shortened with "…".
    const lens = page.locator('.codelens-decoration a', { hasText: /^(Not safe|Safe|Not measured) / });
    await waitUntil(async () => (await lens.allTextContents()).some((t) => headline.startsWith(t.split('…')[0].trim())), 'the headline CodeLens of the last run', 30_000);
    const out = path.join(REPO, 'docs', 'images', 'vscode-panel.png');
    await page.screenshot({ path: out });
    process.stdout.write(`wrote ${out}\n`);
  } finally {
    await close();
    await server.stop();
    fs.rmSync(folder, { recursive: true, force: true });
  }
}

/** Waits for the panel's finished report made after `since`: its headline, and whether the run was trusted (no busy-machine flag). */
async function finishedReport(page: Page, since: number): Promise<{ trusted: boolean; headline: string }> {
  let found = { trusted: false, headline: '' };
  await waitUntil(async () => {
    try {
      const frame = await webviewFrame(page, { extensionId: 'looplag.looplag', timeoutMs: 2_000 });
      const state = await frame.evaluate(() => ({
        createdAt: document.querySelector('header time')?.getAttribute('datetime') ?? '',
        done: document.querySelectorAll('figure[data-chart] canvas').length > 0 && !document.querySelector('[data-testid="running"]'),
        busy: document.querySelector('[data-testid="quality"]') !== null,
        headline: document.querySelector('[data-testid="headline"]')?.textContent ?? '',
      }));
      found = { trusted: !state.busy, headline: state.headline };
      return state.done && Date.parse(state.createdAt) >= since;
    } catch {
      return false;
    }
  }, 'the finished report', 120_000);
  return found;
}

main().catch((e) => {
  process.stderr.write(`screenshot: ${e instanceof Error ? e.stack : e}\n`);
  process.exit(1);
});
