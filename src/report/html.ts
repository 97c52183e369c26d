import { escapeHtml, newNonce } from '../shared/html';
import type { Report, Sweep } from '../shared/protocol';
import type { ServeReport } from '../shared/protocol/serveReport';

/**
 * JSON that is safe inside a `<script type="application/json">` element: `<`, `>` and
 * `&` become \u escapes (so `</script>` or `<!--` in a function name or in printed output
 * cannot end the element), as do the two line separators JavaScript once choked on.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Inline script text that cannot close its element early. */
function inlineScript(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\x21--');
}

function inlineStyle(css: string): string {
  return css.replace(/<\/(style)/gi, '<\\/$1');
}

export interface UiAssets {
  /** The report UI bundle (dist/webview/main.js). */
  js: string;
  /** Its styles with fonts inlined (dist/webview/standalone.css). */
  css: string;
}

/**
 * A self-contained report page that works offline from a file: the UI bundle and its
 * styles inlined under a nonce-based CSP, the report embedded as inert JSON.
 */
export function standaloneHtml(report: Report, assets: UiAssets, compare: Report | null = null, nonce = newNonce()): string {
  const what = report.target.qualname ?? (report.target.lines ? `lines ${report.target.lines.start}-${report.target.lines.end}` : 'report');
  return page(what, { report, compare }, assets, nonce);
}

/**
 * The same page for a service-mode document (looplag.serve/1): the UI reads `{ serve }`
 * from the data element and shows the serve view (src/webview/serveView.ts).
 */
export function serveStandaloneHtml(report: ServeReport, assets: UiAssets, nonce = newNonce()): string {
  const app = report.app.type === 'asgi' ? report.app.target : report.app.script;
  return page(`serve ${app}`, { serve: report }, assets, nonce);
}

/** The same page for a worker sweep (looplag.sweep/1): the UI reads `{ sweep }` and shows the sweep view (src/webview/sweepView.ts). */
export function sweepStandaloneHtml(sweep: Sweep, assets: UiAssets, nonce = newNonce()): string {
  const t = sweep.target;
  return page(`sweep ${t.qualname ?? (t.lines ? `lines ${t.lines.start}-${t.lines.end}` : '')}`, { sweep }, assets, nonce);
}

function page(title: string, payload: unknown, assets: UiAssets, nonce: string): string {
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    'font-src data:',
    'img-src data: blob:',
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="looplag">
<title>Loop Lag: ${escapeHtml(title)}</title>
<style nonce="${nonce}">${inlineStyle(assets.css)}</style>
</head>
<body>
<main id="app" aria-live="polite"></main>
<script type="application/json" id="looplag-data">${jsonForScript(payload)}</script>
<script nonce="${nonce}">${inlineScript(assets.js)}</script>
</body>
</html>
`;
}
