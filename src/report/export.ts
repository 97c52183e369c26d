/**
 * Writing a report (or a sweep) to a file, shared by the CLI (--out, --html) and the
 * extension (history, Export JSON, Save HTML): the same JSON text, the same standalone
 * page from the built UI, and writes a reader never sees half done. No vscode import.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Report, Sweep } from '../shared/protocol';
import type { ServeReport } from '../shared/protocol/serveReport';
import { serveStandaloneHtml, standaloneHtml, sweepStandaloneHtml, UiAssets } from './html';

/** The JSON file's text: indented, one trailing newline. */
export function documentJson(doc: Report | Sweep | ServeReport): string {
  return JSON.stringify(doc, null, 2) + '\n';
}

/**
 * The self-contained HTML page of a report, with the UI built into `webviewDir` (dist/webview);
 * with `compare`, the page shows the two compared (before, after and the deltas).
 */
export function reportHtml(report: Report, webviewDir: string, compare: Report | null = null): string {
  return standaloneHtml(report, readUiAssets(webviewDir), compare);
}

/** The self-contained HTML page of a service-mode document (looplag.serve/1), with the UI built into `webviewDir`. */
export function serveHtml(report: ServeReport, webviewDir: string): string {
  return serveStandaloneHtml(report, readUiAssets(webviewDir));
}

/** The self-contained HTML page of a worker sweep (looplag.sweep/1), with the UI built into `webviewDir`. */
export function sweepHtml(sweep: Sweep, webviewDir: string): string {
  return sweepStandaloneHtml(sweep, readUiAssets(webviewDir));
}

/** The report UI bundle and its standalone styles (fonts inlined), as built by esbuild.mjs. */
export function readUiAssets(webviewDir: string): UiAssets {
  return {
    js: fs.readFileSync(path.join(webviewDir, 'main.js'), 'utf8'),
    css: fs.readFileSync(path.join(webviewDir, 'standalone.css'), 'utf8'),
  };
}

/** A temp file beside `file` (same folder, so the rename is atomic), unique per process and write. */
function tempFileFor(file: string): string {
  return `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

/** Write then rename, so a reader never sees half a file; the temp file never stays behind. */
export function writeFileAtomicSync(file: string, data: string): void {
  const tmp = tempFileFor(file);
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** `writeFileAtomicSync` off the event loop, creating the folder first (the history's first report). */
export async function writeFileAtomic(file: string, data: string): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const tmp = tempFileFor(file);
  try {
    await fs.promises.writeFile(tmp, data);
    await fs.promises.rename(tmp, file);
  } catch (e) {
    await fs.promises.rm(tmp, { force: true });
    throw e;
  }
}
