/**
 * A service-mode document as a standalone page and as Markdown: the page embeds the
 * document as inert JSON under the same CSP as a report's; the Markdown says what each
 * variant came to, a variant cut short included.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serveStandaloneHtml } from '../../src/report/html';
import { serveMarkdown } from '../../src/report/serveText';
import { buildServeReport } from '../../src/serve/buildServeReport';
import { ServeReport } from '../../src/shared/protocol/serveReport';
import { inputs, stallingVariant, TWO_WORKERS, variant, processWindow } from '../support/serveInputs';

const PAYLOAD = "</script><img src=x onerror=alert('x')><!--";
const ASSETS = { js: 'console.log("</script>")', css: 'body{}</style>' };

function hostile(): ServeReport {
  const r = buildServeReport(inputs([stallingVariant()]));
  return {
    ...r,
    app: { type: 'asgi', target: `app.main:${PAYLOAD}`, appDir: '/w', lifespan: 'auto' },
    headline: `GET /${PAYLOAD} \u2028`,
    variants: r.variants.map((v) => ({ ...v, endpoints: v.endpoints.map((e) => ({ ...e, name: `GET /${PAYLOAD}` })) })),
  };
}

test('serveStandaloneHtml: the document as inert JSON that parses back, the title escaped, scripts and styles under the nonce', () => {
  const doc = hostile();
  const html = serveStandaloneHtml(doc, ASSETS, 'n0nce');
  const data = /<script type="application\/json" id="looplag-data">([^]*?)<\/script>/.exec(html)![1];
  assert.ok(!/[<>&\u2028]/.test(data), 'no raw <, >, & or line separator inside the data element');
  assert.deepEqual(ServeReport.parse(JSON.parse(data).serve), doc);
  const title = /<title>([^<]*)<\/title>/.exec(html)![1];
  assert.match(title, /^Loop Lag: serve app\.main:&lt;\/script&gt;&lt;img src=x onerror=alert\(.*\)&gt;&lt;!--$/);
  assert.ok(html.includes('content="default-src &#39;none&#39;; script-src &#39;nonce-n0nce&#39;; style-src &#39;nonce-n0nce&#39;; font-src data:; img-src data: blob:"'), 'the CSP');
  // The JSON, the bundle (its `</script>` made harmless) and nothing else: one element each.
  assert.equal(html.match(/<script\b/g)!.length, 2);
  assert.equal(html.match(/<\/script>/g)!.length, 2);
  assert.match(html, /<script nonce="n0nce">console\.log\("<\\\/script>"\)<\/script>/);
  assert.equal(html.match(/<\/style>/g)!.length, 1);
  // The payload's key tells the UI which view to show (src/webview/main.ts).
  assert.deepEqual(Object.keys(JSON.parse(data)), ['serve']);
});

test('serveMarkdown: a variant cut short says so (not "not measured") and the session error follows its table (Markdown-escaped)', () => {
  const cancelled = { kind: 'cancelled' as const, message: 'cancelled with the app as written under load', detail: null };
  const cut = { ...stallingVariant(), status: 'failed' as const, error: cancelled };
  const never = variant(TWO_WORKERS, [processWindow(1, [])], null, { status: 'failed', error: cancelled });
  const md = serveMarkdown(buildServeReport(inputs([cut, never], { error: cancelled })));
  // The streams' rows (the blockers' table after them has its own columns).
  const rows = md.split('\n').filter((l) => l.startsWith('| as written |') && l.split('|').length === 13);
  assert.ok(rows.length >= 2, md);
  for (const row of rows) assert.match(row, /\| cut short, no verdict \|$/);
  assert.match(md, /^\| 2 uvicorn workers \| – .* \| not measured \|$/m);
  assert.match(md, /^> error \\\[cancelled\\\]: cancelled with the app as written under load \(the figures stop at the cut\)$/m);
});
