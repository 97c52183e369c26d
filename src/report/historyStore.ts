/**
 * The last N reports of a workspace, on disk: one JSON file per report plus an index,
 * each written atomically (temp file + rename), so a crash mid-write never leaves a
 * truncated history. No vscode import: the extension passes its storage folder.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Report } from '../shared/protocol';
import { ServeReport } from '../shared/protocol/serveReport';
import { HistoryEntry } from '../shared/webviewProtocol';
import { arr } from '../shared/validate';
import { writeFileAtomic } from './export';

export const HISTORY_LIMIT = 50;

export class HistoryStore {
  private entries: HistoryEntry[] | null = null;
  /** Writes are chained so two saves never interleave their index updates. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly dir: string, private readonly limit = HISTORY_LIMIT) {}

  private indexFile(): string {
    return path.join(this.dir, 'index.json');
  }

  private reportFile(id: string): string {
    return path.join(this.dir, 'reports', `${id.replace(/[^\w.-]/g, '_')}.json`);
  }

  /** Newest first. A missing or unreadable index is an empty history, never an error. */
  async list(): Promise<HistoryEntry[]> {
    if (!this.entries) {
      try {
        this.entries = arr(HistoryEntry).parse(JSON.parse(await fs.readFile(this.indexFile(), 'utf8')));
      } catch {
        this.entries = [];
      }
    }
    return [...this.entries];
  }

  async get(id: string): Promise<Report | null> {
    try {
      return Report.parse(JSON.parse(await fs.readFile(this.reportFile(id), 'utf8')));
    } catch {
      return null;
    }
  }

  add(report: Report, label: string, headline: string): Promise<HistoryEntry> {
    const run = async () => {
      const entry: HistoryEntry = {
        id: `${Date.parse(report.createdAt) || Date.now()}-${randomBytes(3).toString('hex')}`,
        createdAt: report.createdAt, label, headline, status: report.status,
      };
      await writeFileAtomic(this.reportFile(entry.id), JSON.stringify(report));
      const entries = [entry, ...(await this.list())];
      const dropped = entries.splice(this.limit);
      await writeFileAtomic(this.indexFile(), JSON.stringify(entries));
      this.entries = entries;
      await Promise.all(dropped.map((e) => fs.rm(this.reportFile(e.id), { force: true })));
      return entry;
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** The last service-mode document of the workspace (one, replaced by the next): `serve/last.json`. */
  saveServe(report: ServeReport): Promise<void> {
    const run = () => writeFileAtomic(this.serveFile(), JSON.stringify(report));
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** The last service-mode document, or null (none, or unreadable). */
  async lastServe(): Promise<ServeReport | null> {
    try {
      return ServeReport.parse(JSON.parse(await fs.readFile(this.serveFile(), 'utf8')));
    } catch {
      return null;
    }
  }

  private serveFile(): string {
    return path.join(this.dir, 'serve', 'last.json');
  }
}
