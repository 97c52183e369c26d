/**
 * The last N reports and worker sweeps of a workspace, on disk: one JSON file per document
 * plus an index, each written atomically (temp file + rename), so a crash mid-write never
 * leaves a truncated history. Reports live in `reports/`, sweeps in `sweeps/`: an earlier
 * version reading this index finds no report under a sweep's id (nothing shown, no error),
 * and its index entries without `kind` are reports. No vscode import: the extension passes
 * its storage folder.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Report, Sweep } from '../shared/protocol';
import { ServeReport } from '../shared/protocol/serveReport';
import { HistoryEntry } from '../shared/webviewProtocol';
import { arr } from '../shared/validate';
import { writeFileAtomic } from './export';

export const HISTORY_LIMIT = 50;

/** What a history entry holds: a run's report (entries written before sweeps were kept have no `kind`) or a worker sweep. */
export type HistoryKind = NonNullable<HistoryEntry['kind']>;

export class HistoryStore {
  private entries: HistoryEntry[] | null = null;
  /** Writes are chained so two saves never interleave their index updates. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly dir: string, private readonly limit = HISTORY_LIMIT) {}

  private indexFile(): string {
    return path.join(this.dir, 'index.json');
  }

  private reportFile(id: string, kind: HistoryKind = 'report'): string {
    return path.join(this.dir, kind === 'sweep' ? 'sweeps' : 'reports', `${id.replace(/[^\w.-]/g, '_')}.json`);
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

  /** A report of the history; null for a sweep's id, a missing or an unreadable file. */
  async get(id: string): Promise<Report | null> {
    try {
      return Report.parse(JSON.parse(await fs.readFile(this.reportFile(id), 'utf8')));
    } catch {
      return null;
    }
  }

  /** A worker sweep of the history; null for a report's id, a missing or an unreadable file. */
  async getSweep(id: string): Promise<Sweep | null> {
    try {
      return Sweep.parse(JSON.parse(await fs.readFile(this.reportFile(id, 'sweep'), 'utf8')));
    } catch {
      return null;
    }
  }

  add(report: Report, label: string, headline: string): Promise<HistoryEntry> {
    return this.addDocument('report', report, label, headline);
  }

  /** A worker sweep into the history, beside the reports (the same limit counts both). */
  addSweep(sweep: Sweep, label: string, headline: string): Promise<HistoryEntry> {
    return this.addDocument('sweep', sweep, label, headline);
  }

  private addDocument(kind: HistoryKind, doc: Report | Sweep, label: string, headline: string): Promise<HistoryEntry> {
    const run = async () => {
      const entry: HistoryEntry = {
        id: `${Date.parse(doc.createdAt) || Date.now()}-${randomBytes(3).toString('hex')}`,
        createdAt: doc.createdAt, label, headline, status: doc.status,
        // Reports' entries stay as they were: an entry without `kind` is a report.
        ...(kind === 'sweep' ? { kind } : {}),
      };
      await writeFileAtomic(this.reportFile(entry.id, kind), JSON.stringify(doc));
      const entries = [entry, ...(await this.list())];
      const dropped = entries.splice(this.limit);
      await writeFileAtomic(this.indexFile(), JSON.stringify(entries));
      this.entries = entries;
      await Promise.all(dropped.map((e) => fs.rm(this.reportFile(e.id, e.kind), { force: true })));
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
