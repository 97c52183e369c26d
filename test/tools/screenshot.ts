/**
 * `npm run screenshot`: the README's picture of Loop Lag in VS Code, taken from a real
 * run in code-server (needs `npm run package` and scripts/e2e-setup.sh first).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { launchChromium } from '../support/browser';
import { startCodeServer } from '../support/codeServer';
import { REPO, tmpDir } from '../support/helpers';
import { clickCodeLens, openFile, openWorkbench, waitUntil, webviewFrame } from '../support/workbench';

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
    await openFile(page, 'cpu_bound.py');
    await clickCodeLens(page, '▶ Measure loop lag', { timeoutMs: 60_000 });
    await waitUntil(async () => {
      try {
        const frame = await webviewFrame(page, { extensionId: 'looplag.looplag', timeoutMs: 2_000 });
        return await frame.evaluate(() => document.querySelectorAll('figure[data-chart] canvas').length >= 4 && !document.querySelector('[data-testid="running"]'));
      } catch {
        return false;
      }
    }, 'the finished report', 120_000);
    await waitUntil(async () => (await page.locator('.codelens-decoration a', { hasText: /^(Not safe|Safe|Not measured) / }).count()) > 0, 'the headline CodeLens', 30_000);
    const out = path.join(REPO, 'docs', 'images', 'vscode-panel.png');
    await page.screenshot({ path: out });
    process.stdout.write(`wrote ${out}\n`);
  } finally {
    await close();
    await server.stop();
    fs.rmSync(folder, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`screenshot: ${e instanceof Error ? e.stack : e}\n`);
  process.exit(1);
});
