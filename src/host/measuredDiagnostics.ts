/**
 * Measured diagnostics (issue 15): every call site of a measured function in code that runs
 * on the loop gets a diagnostic in the Problems panel with the figure of the mode it runs in
 * (report/measuredCalls.ts). The newest report per function counts: after a run, and from
 * the history after a reload. Sites follow edits (an edit on a call's line removes its
 * diagnostic, as the annotations do), a document is scanned again when saved, and an edit
 * of the measured function itself turns its diagnostics into "measured before your last
 * change". `looplag.diagnostics.enabled` turns them off at once.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CalledTarget, CallSite } from '../fixes/callSites';
import { isDefaultExport } from '../fixes/callSites';
import { targetSourceHash } from '../fixes/functionSource';
import type { Range as TextRange } from '../fixes/text';
import { shiftAnchors } from '../report/annotationText';
import type { HistoryStore } from '../report/historyStore';
import { fixHoverMarkdown, judgeCall, summarize, type CallJudgement, type MeasuredSummary } from '../report/measuredCalls';
import type { Report } from '../shared/protocol';
import { clampKnob, KNOBS } from '../shared/settings';
import { SECTION, type SettingTypes } from './ids';
import { CallSiteScanner, readScanned, type FileSites } from './measuredScan';

/** `diagnostic.code.value` of every measured diagnostic (the code actions look for it). */
export const MEASURED_CODE = 'looplag.measured';
/** Where `diagnostic.code` links: the README section on them. */
export const MEASURED_DOCS = 'https://github.com/looplag/looplag#measured-diagnostics-and-quick-fixes';
/** A change to the measured function's file is hashed again this long after typing stops. */
const REHASH_DELAY_MS = 300;

/** What a diagnostic stands for, for its code actions. */
export interface MeasuredEntry {
  uri: vscode.Uri;
  summary: MeasuredSummary;
  site: CallSite;
  judgement: CallJudgement;
}

/** `looplag.diagnostics.enabled` for a file (per-folder values apply). */
export function diagnosticsEnabled(scope: vscode.Uri | undefined): boolean {
  return vscode.workspace.getConfiguration(SECTION, scope).get<SettingTypes['diagnostics.enabled']>('diagnostics.enabled') ?? true;
}

export function toVsRange(r: TextRange): vscode.Range {
  return new vscode.Range(new vscode.Position(r.start.line, r.start.character), new vscode.Position(r.end.line, r.end.character));
}

function contains(r: vscode.Range, p: vscode.Position): boolean {
  const after = p.line > r.start.line || (p.line === r.start.line && p.character >= r.start.character);
  const before = p.line < r.end.line || (p.line === r.end.line && p.character <= r.end.character);
  return after && before;
}

export class MeasuredDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('Loop Lag');
  /** The newest summary per measured function (`file::qualname`). */
  private summaries = new Map<string, MeasuredSummary>();
  /** Each measured function's hash in the text on screen (or on disk), and whether it is its file's default export. */
  private readonly current = new Map<string, { stamp: string; hash: string | undefined; defaultExport: boolean }>();
  /** The call sites found, by file URI. */
  private readonly sites = new Map<string, { uri: vscode.Uri; sites: FileSites }>();
  /** Each file's diagnostics and what they stand for (the code actions' lookup). */
  private readonly entries = new Map<string, Map<vscode.Diagnostic, MeasuredEntry>>();
  private readonly scanner = new CallSiteScanner();
  /** A newer scan makes an older one stop. */
  private generation = 0;
  private rehash: ReturnType<typeof setTimeout> | undefined;
  private readonly disposables: vscode.Disposable[];

  constructor(onDidShowReport: vscode.Event<Report | null>, private readonly history: HistoryStore, private readonly log: vscode.LogOutputChannel) {
    this.disposables = [
      this.collection,
      onDidShowReport((report) => report && this.add(report)),
      vscode.workspace.onDidChangeTextDocument((e) => this.edited(e)),
      vscode.workspace.onDidSaveTextDocument((d) => this.background(this.rescan(d.uri), 'a rescan')),
      vscode.workspace.onDidOpenTextDocument((d) => !this.sites.has(d.uri.toString()) && this.background(this.rescan(d.uri), 'a rescan')),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${SECTION}.diagnostics.enabled`) || e.affectsConfiguration(`${SECTION}.lagBudgetMs`)) this.renderAll();
      }),
      // JS/TS calls have no edit of their own: the hover shows the report's fix to copy.
      vscode.languages.registerHoverProvider(['javascript', 'typescript'].map((language) => ({ language, scheme: 'file' })), { provideHover: (doc, pos) => this.hover(doc, pos) }),
    ];
  }

  private hover(doc: vscode.TextDocument, pos: vscode.Position): vscode.Hover | undefined {
    for (const [d, e] of this.entries.get(doc.uri.toString()) ?? []) {
      if (!contains(d.range, pos) || e.judgement.stale) continue;
      const text = fixHoverMarkdown(e.summary);
      if (!text) continue;
      // Not trusted, no HTML: the fix quotes the user's code (escaped as well).
      const md = new vscode.MarkdownString(text);
      md.isTrusted = false;
      md.supportHtml = false;
      return new vscode.Hover(md, d.range);
    }
    return undefined;
  }

  /** The diagnostic's meaning, when it is one of ours on show in `uri`. */
  lookup(uri: vscode.Uri, diagnostic: vscode.Diagnostic): MeasuredEntry | undefined {
    const entries = this.entries.get(uri.toString());
    const same = entries?.get(diagnostic);
    if (same) return same;
    // The code action context hands copies: match by range and message.
    for (const [d, e] of entries ?? []) if (d.range.isEqual(diagnostic.range) && d.message === diagnostic.message) return e;
    return undefined;
  }

  /** After a reload: the newest report of each function in the history (reports are read one at a time, the host's loop free between). */
  async loadHistory(): Promise<void> {
    const t0 = Date.now();
    let parseMs = 0;
    // Reports only: a worker sweep measures pool sizes, not the function's lines.
    const entries = (await this.history.list()).filter((e) => e.kind !== 'sweep');
    const found = new Map<string, MeasuredSummary>();
    for (const e of entries) {
      const t = performance.now();
      const report = await this.history.get(e.id);
      parseMs += performance.now() - t;
      const s = report && summarize(report);
      if (s && !found.has(s.key)) found.set(s.key, s);
      await new Promise((r) => setImmediate(r));
    }
    for (const [k, s] of found) if (!this.summaries.has(k)) this.summaries.set(k, s);
    this.log.info(`measured diagnostics: ${found.size} measured function(s) in ${entries.length} report(s) of the history, read in ${Date.now() - t0} ms (${Math.round(parseMs)} ms reading and parsing)`);
    if (found.size) await this.refresh();
  }

  /** Work started from an event: a failure (a file that breaks the scan) is logged, never an unhandled rejection. */
  private background(work: Promise<unknown>, what: string): void {
    work.catch((e: unknown) => this.log.warn(`measured diagnostics: ${what} failed: ${(e as Error)?.stack ?? e}`));
  }

  /** A report on show: its function's summary, if newer than the one held. */
  private add(report: Report): void {
    const s = summarize(report);
    if (!s) return;
    const held = this.summaries.get(s.key);
    if (held && Date.parse(held.createdAt) > Date.parse(s.createdAt)) return;
    this.summaries.set(s.key, s);
    this.background(this.refresh(), 'a refresh');
  }

  /** Loop Lag: Clear Annotations: every measured diagnostic goes, until the next report. */
  clear(): void {
    this.generation++;
    this.summaries = new Map();
    this.sites.clear();
    this.entries.clear();
    this.collection.clear();
  }

  private targets(): Map<string, CalledTarget> {
    const out = new Map<string, CalledTarget>();
    for (const [k, s] of this.summaries) {
      const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(s.file));
      out.set(k, {
        file: s.file, qualname: s.qualname, language: s.language, root: folder?.uri.fsPath ?? path.dirname(s.file),
        ...(s.module ? { module: s.module } : {}), defaultExport: this.current.get(k)?.defaultExport ?? false,
      });
    }
    return out;
  }

  /** Each measured function's hash in its file as it is now (once per version of that file). */
  private async hashAll(): Promise<void> {
    for (const [k, s] of this.summaries) {
      const read = await readScanned(vscode.Uri.file(s.file));
      if (!read) {
        // Too large to read here (the engine hashes any size): it cannot be compared, so the
        // figures stand rather than every call saying "measured before your last change".
        this.current.set(k, { stamp: 'unread', hash: s.sourceHash, defaultExport: this.current.get(k)?.defaultExport ?? false });
        continue;
      }
      if (this.current.get(k)?.stamp === read.stamp) continue;
      const hash = targetSourceHash(read.text, { language: s.language, qualname: s.qualname, lines: null, line: s.line });
      this.current.set(k, { stamp: read.stamp, hash, defaultExport: s.language !== 'python' && isDefaultExport(read.text, s.qualname) });
    }
  }

  /** Hash, then scan the open documents and the workspace for call sites; diagnostics appear file by file. */
  private async refresh(): Promise<void> {
    const gen = ++this.generation;
    await this.hashAll();
    if (gen !== this.generation) return;
    const found = new Set<string>();
    const stats = await this.scanner.scan(this.targets(), (uri, sites) => {
      if (gen !== this.generation) return;
      found.add(uri.toString());
      this.sites.set(uri.toString(), { uri, sites });
      this.render(uri);
    }, () => gen !== this.generation);
    if (gen !== this.generation) return;
    for (const [k, { uri }] of this.sites) {
      if (found.has(k)) continue;
      this.sites.delete(k);
      this.render(uri);
    }
    this.log.info(`measured diagnostics: ${stats.files} file(s) looked at, ${stats.withSites} with call sites, in ${stats.wallMs} ms ` +
      `(parsing on the extension host's loop: ${stats.busyMs} ms in all, ${stats.longestMs} ms for the longest file)`);
  }

  /** One file again (saved, or opened), with the summaries held. */
  private async rescan(uri: vscode.Uri): Promise<void> {
    if (!this.summaries.size || uri.scheme !== 'file') return;
    const isTargetFile = [...this.summaries.values()].some((s) => s.file === uri.fsPath);
    if (isTargetFile) await this.hashAll();
    const sites = await this.scanner.fileSites(uri, this.targets());
    if (sites?.size) this.sites.set(uri.toString(), { uri, sites });
    else this.sites.delete(uri.toString());
    if (isTargetFile) this.renderAll();
    else this.render(uri);
  }

  private renderAll(): void {
    const uris = new Map<string, vscode.Uri>();
    for (const { uri } of this.sites.values()) uris.set(uri.toString(), uri);
    for (const k of this.entries.keys()) if (!uris.has(k)) uris.set(k, vscode.Uri.parse(k));
    for (const uri of uris.values()) this.render(uri);
  }

  private render(uri: vscode.Uri): void {
    const held = this.sites.get(uri.toString());
    const entries = new Map<vscode.Diagnostic, MeasuredEntry>();
    if (held && diagnosticsEnabled(uri)) {
      const budgetMs = clampKnob('lagBudgetMs', vscode.workspace.getConfiguration(SECTION, uri).get('lagBudgetMs', KNOBS.lagBudgetMs.default));
      for (const [key, sites] of held.sites) {
        const summary = this.summaries.get(key);
        if (!summary) continue;
        for (const site of sites) {
          if (!site.onLoop) continue;
          const judgement = judgeCall(summary, site, budgetMs, this.current.get(key)?.hash);
          if (!judgement) continue;
          const d = new vscode.Diagnostic(toVsRange(site.range), judgement.message,
            judgement.severity === 'warning' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Information);
          d.source = 'Loop Lag';
          d.code = { value: MEASURED_CODE, target: vscode.Uri.parse(MEASURED_DOCS) };
          entries.set(d, { uri, summary, site, judgement });
        }
      }
    }
    if (entries.size) this.entries.set(uri.toString(), entries);
    else this.entries.delete(uri.toString());
    this.collection.set(uri, [...entries.keys()]);
  }

  /** Sites move with the lines above them; one whose line was edited goes. An edit of a measured function is hashed again. */
  private edited(e: vscode.TextDocumentChangeEvent): void {
    const key = e.document.uri.toString();
    const held = this.sites.get(key);
    if (held && e.contentChanges.length) {
      const shifted: FileSites = new Map();
      for (const [k, sites] of held.sites) {
        let anchors = sites.map((site) => ({ line: site.range.start.line, site }));
        for (const c of e.contentChanges) {
          anchors = shiftAnchors(anchors, {
            startLine: c.range.start.line, startCharacter: c.range.start.character,
            endLine: c.range.end.line, endCharacter: c.range.end.character, text: c.text,
          });
        }
        shifted.set(k, anchors.map(({ line, site }) => {
          const d = line - site.range.start.line;
          return { ...site, range: { start: { ...site.range.start, line }, end: { ...site.range.end, line: site.range.end.line + d } } };
        }));
      }
      this.sites.set(key, { uri: held.uri, sites: shifted });
      this.render(held.uri);
    }
    if (e.contentChanges.length && [...this.summaries.values()].some((s) => s.file === e.document.uri.fsPath)) {
      clearTimeout(this.rehash);
      this.rehash = setTimeout(() => this.background(this.hashAll().then(() => this.renderAll()), 'a rehash'), REHASH_DELAY_MS);
    }
  }

  dispose(): void {
    this.generation++;
    clearTimeout(this.rehash);
    for (const d of this.disposables) d.dispose();
  }
}
