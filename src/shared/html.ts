/**
 * HTML text and CSP nonces, shared by the webview panel's page and the standalone report
 * page. Web standards only (Web Crypto, `btoa`): the same in Node 20 and a browser.
 */

/** Text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A CSP nonce: 18 bytes from the platform's cryptographic random source, base64 (never `Math.random()`). */
export function newNonce(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(18))));
}
