/**
 * The text of the files a measured function may be called from, read without holding the
 * extension host up: open documents as they are on screen, other workspace files from disk
 * (found by `findFiles` with a limit, none over the size limits the CodeLens keep), each
 * file's call sites computed once per version (a document's version, a file's mtime and
 * size) and the work split with a yield to the host's loop after every file.
 */
import { promises as fs } from 'node:fs';
import * as vscode from 'vscode';
import { findAllCallSites, type CalledTarget, type CallSite } from '../fixes/callSites';
import { languageOfDocument, type Language } from '../engine/languageTools';

/**
 * A larger file is not scanned: parsed on the host's loop, a 250 KB file dense with calls
 * took 220–450 ms on a loaded 2-core machine (1 MB: 0.7–2 s), 20 KB 5–15 ms. Tighter than
 * serveLens.ts's limits, as this scan reads every file of the workspace that names the function.
 */
export const MAX_SCANNED_LINES = 5_000;
export const MAX_SCANNED_CHARS = 200_000;
/** Workspace files looked at per scan, at most (findFiles' limit). */
export const MAX_SCANNED_FILES = 2_000;

const GLOBS: { readonly [family: string]: string } = {
  python: '**/*.py',
  js: '**/*.{js,mjs,cjs,jsx,ts,mts,cts,tsx}',
};
const EXCLUDE = '{**/node_modules/**,**/.git/**,**/.venv/**,**/venv/**,**/__pycache__/**,**/site-packages/**,**/dist/**,**/out/**}';

/** Python calls Python, JS and TS call each other. */
export function familyOf(language: Language): 'python' | 'js' {
  return language === 'python' ? 'python' : 'js';
}

function familyOfFile(fsPath: string): 'python' | 'js' | undefined {
  if (fsPath.endsWith('.py')) return 'python';
  return /\.(m|c)?(j|t)sx?$/.test(fsPath) ? 'js' : undefined;
}

/** A file's text as the editor has it (open) or the disk does, with a stamp that changes with it; undefined when too large or unreadable. */
export async function readScanned(uri: vscode.Uri): Promise<{ text: string; stamp: string } | undefined> {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open) {
    if (open.lineCount > MAX_SCANNED_LINES) return undefined;
    const text = open.getText();
    return text.length > MAX_SCANNED_CHARS ? undefined : { text, stamp: `v${open.version}` };
  }
  try {
    const stat = await fs.stat(uri.fsPath);
    if (!stat.isFile() || stat.size > MAX_SCANNED_CHARS * 2) return undefined;
    const text = await fs.readFile(uri.fsPath, 'utf8');
    if (text.length > MAX_SCANNED_CHARS || text.split('\n', MAX_SCANNED_LINES + 1).length > MAX_SCANNED_LINES) return undefined;
    return { text, stamp: `m${stat.mtimeMs}:${stat.size}` };
  } catch {
    return undefined;
  }
}

/** The call sites of every target in one file, by target key. */
export type FileSites = Map<string, CallSite[]>;

/** What one scan did, for the log: files looked at, files with sites, the parsing time on the host's loop (total, longest file) and the wall time. */
export interface ScanStats {
  files: number;
  withSites: number;
  busyMs: number;
  longestMs: number;
  wallMs: number;
}

/**
 * Call-site cache: per file, the stamp it was scanned at and its sites. `scan` visits open
 * documents first, then the workspace's files; a file whose stamp (and the set of targets)
 * did not change is not parsed again.
 */
export class CallSiteScanner {
  private readonly cache = new Map<string, { stamp: string; targets: string; sites: FileSites }>();
  /** Time spent parsing on the host's loop (the synchronous part), summed and the longest, since the counter was read. */
  private parsed = { totalMs: 0, longestMs: 0 };

  constructor(private readonly yieldToLoop: () => Promise<void> = () => new Promise((r) => setImmediate(r))) {}

  /** One file's sites (cached by stamp). */
  async fileSites(uri: vscode.Uri, targets: ReadonlyMap<string, CalledTarget>): Promise<FileSites | undefined> {
    const family = familyOfFile(uri.fsPath);
    const mine = [...targets].filter(([, t]) => familyOf(t.language) === family);
    if (!family || !mine.length) return undefined;
    const read = await readScanned(uri);
    if (!read) return undefined;
    const key = uri.toString();
    const targetsKey = mine.map(([k]) => k).join('\n');
    const cached = this.cache.get(key);
    if (cached && cached.stamp === read.stamp && cached.targets === targetsKey) return cached.sites;
    const t0 = performance.now();
    const sites: FileSites = findAllCallSites(read.text, uri.fsPath, new Map(mine));
    const ms = performance.now() - t0;
    this.parsed.totalMs += ms;
    this.parsed.longestMs = Math.max(this.parsed.longestMs, ms);
    this.cache.set(key, { stamp: read.stamp, targets: targetsKey, sites });
    return sites;
  }

  /** Every file that may call the targets: open documents, then the workspace's (bounded). */
  async scan(targets: ReadonlyMap<string, CalledTarget>, onFile: (uri: vscode.Uri, sites: FileSites) => void, isCancelled: () => boolean): Promise<ScanStats> {
    const started = Date.now();
    const stats: ScanStats = { files: 0, withSites: 0, busyMs: 0, longestMs: 0, wallMs: 0 };
    this.parsed = { totalMs: 0, longestMs: 0 };
    const families = new Set([...targets.values()].map((t) => familyOf(t.language)));
    const seen = new Set<string>();
    const open = vscode.workspace.textDocuments.filter((d) => d.uri.scheme === 'file' && languageOfDocument(d.languageId)).map((d) => d.uri);
    const onDisk: vscode.Uri[] = [];
    for (const family of families) onDisk.push(...await vscode.workspace.findFiles(GLOBS[family], EXCLUDE, MAX_SCANNED_FILES));
    for (const uri of [...open, ...onDisk]) {
      if (isCancelled()) break;
      if (seen.has(uri.toString())) continue;
      seen.add(uri.toString());
      const sites = await this.fileSites(uri, targets);
      stats.files++;
      if (sites?.size) {
        stats.withSites++;
        onFile(uri, sites);
      }
      await this.yieldToLoop();
    }
    stats.wallMs = Date.now() - started;
    stats.busyMs = Math.round(this.parsed.totalMs * 10) / 10;
    stats.longestMs = Math.round(this.parsed.longestMs * 10) / 10;
    return stats;
  }

  forget(uri: vscode.Uri): void {
    this.cache.delete(uri.toString());
  }

  clear(): void {
    this.cache.clear();
  }
}
