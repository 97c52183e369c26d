/**
 * The webview panel's HTML: no data in it (the state is posted after the UI says
 * `ready`), scripts only by nonce, everything else only from the extension's own files.
 */
import { escapeHtml } from '../shared/html';

export interface WebviewHtmlOptions {
  /** `webview.cspSource` */
  cspSource: string;
  /** `webview.asWebviewUri(dist/webview/main.js)` */
  scriptUri: string;
  /** `webview.asWebviewUri(dist/webview/main.css)` */
  styleUri: string;
  nonce: string;
}

export function webviewCsp(o: Pick<WebviewHtmlOptions, 'cspSource' | 'nonce'>): string {
  return [
    "default-src 'none'",
    `img-src ${o.cspSource} data: blob:`,
    `style-src ${o.cspSource}`,
    `font-src ${o.cspSource}`,
    `script-src 'nonce-${o.nonce}'`,
  ].join('; ');
}

export function webviewHtml(o: WebviewHtmlOptions): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(webviewCsp(o))}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${escapeHtml(o.styleUri)}">
<title>Loop Lag</title>
</head>
<body>
<main id="app" aria-live="polite"></main>
<script nonce="${escapeHtml(o.nonce)}" src="${escapeHtml(o.scriptUri)}"></script>
</body>
</html>
`;
}
