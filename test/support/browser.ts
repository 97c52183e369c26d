/** Real Debian Chromium driven by playwright-core (no downloaded browsers here). */
import * as fs from 'node:fs';
import { Browser, chromium } from 'playwright-core';

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
