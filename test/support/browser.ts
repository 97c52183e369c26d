/** Real Debian Chromium driven by playwright-core (no downloaded browsers here). */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import { webviewHtml } from '../../src/panel/webviewHtml';
import { newNonce } from '../../src/shared/html';
import { REPO, tmpDir } from './helpers';

export const CHROMIUM = process.env.LOOPLAG_CHROMIUM ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<{ browser: Browser; close(): Promise<void> }> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: \`npm test\` installs Debian's chromium (scripts/test.sh); set LOOPLAG_CHROMIUM to use another`);
  }
  // playwright-core gives every launch a fresh, temporary user-data dir of its own.
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
    ],
  });
  return { browser, close: () => browser.close() };
}

/** Installed before any page script: records CSP violations and any script an attacker got to run. */
export const SECURITY_PROBE = `
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__cspViolations.push({ directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample });
  });
  window.__xss = [];
  window.alert = (m) => window.__xss.push(String(m));
`;

/**
 * dist/ served like a webview's resource root, and at `/` the page the panel sets as its
 * html (src/panel/webviewHtml.ts): the report UI as VS Code loads it, for Chromium.
 */
export async function serveWebview(): Promise<{ origin: string; close(): Promise<void> }> {
  let origin = '';
  const dist = path.join(REPO, 'dist');
  const server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/') {
      res.setHeader('content-type', 'text/html');
      res.end(webviewHtml({ cspSource: origin, scriptUri: `${origin}/webview/main.js`, styleUri: `${origin}/webview/main.css`, nonce: newNonce() }));
      return;
    }
    const file = path.join(dist, path.normalize(url.pathname));
    if (!file.startsWith(dist) || !fs.existsSync(file)) {
      res.statusCode = 404;
      res.end();
      return;
    }
    res.setHeader('content-type', file.endsWith('.js') ? 'text/javascript' : file.endsWith('.css') ? 'text/css' : 'font/ttf');
    fs.createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/**
 * The webview as the panel loads it, in a new page of `browser`: the security probe, a
 * stand-in `acquireVsCodeApi` that records what the page posts (`window.__posted`) and
 * the state it saves (`window.__state`), and the page's `ready` awaited.
 */
export async function openPanelPage(browser: Browser, origin: string, viewport: { width: number; height: number }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  await page.addInitScript(SECURITY_PROBE + `
    window.__posted = [];
    window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__posted.push(m), setState: (s) => (window.__state = s), getState: () => null });
  `);
  await page.goto(origin);
  await page.waitForFunction(() => (window as unknown as { __posted: { type: string }[] }).__posted.some((m) => m.type === 'ready'));
  return page;
}

/** Hooks of node:test that set up and tear down around a file's tests. */
interface Hooks {
  before(fn: () => Promise<void>): void;
  after(fn: () => Promise<void>): void;
}

/**
 * One Chromium, the served webview and a scratch folder for a test file: started in its
 * `before`, closed and removed in its `after`. Read the fields inside tests only.
 */
export function panelHarness(hooks: Hooks, prefix: string): { browser: Browser; origin: string; work: string; open(viewport: { width: number; height: number }): Promise<Page> } {
  let closeBrowser: (() => Promise<void>) | undefined;
  let served: { origin: string; close(): Promise<void> } | undefined;
  const harness = {
    browser: undefined as unknown as Browser,
    origin: '',
    work: '',
    open: (viewport: { width: number; height: number }) => openPanelPage(harness.browser, harness.origin, viewport),
  };
  hooks.before(async () => {
    harness.work = tmpDir(prefix);
    const launched = await launchChromium();
    harness.browser = launched.browser;
    closeBrowser = launched.close;
    served = await serveWebview();
    harness.origin = served.origin;
  });
  hooks.after(async () => {
    await served?.close();
    await closeBrowser?.();
    if (harness.work) fs.rmSync(harness.work, { recursive: true, force: true });
  });
  return harness;
}
