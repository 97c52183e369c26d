/**
 * The static "may block the loop" hints (issue 15, before any measurement): calls to
 * well-known blocking APIs in code that runs on the loop (src/fixes scanBlockingCalls),
 * shown as Information diagnostics — never a warning: only a measurement can say it blocks.
 * A lexical scan of the editor's text (no process, so no Workspace Trust needed), once per
 * document version and a short pause in typing, bounded in size as the endpoint lens is;
 * gone when the document closes or `looplag.hints.enabled` is turned off (at once).
 */
import * as vscode from 'vscode';
import { scanBlockingCalls, type Finding } from '../fixes';
import { ruleDoc } from '../fixes/hintRules';
import { languageOfDocument } from '../engine/languageTools';
import { SECTION, type SettingTypes } from './ids';

/**
 * Larger files get no hints: scanned on the host's loop, they would hold it up. Measured on
 * real files (stdlib Python, typescript.js): ~0.1-0.25 µs a character, so 150k characters
 * scan in ~15-35 ms (README "Hints before any measurement" has the figures).
 */
export const MAX_HINT_LINES = 5_000;
export const MAX_HINT_CHARS = 150_000;
/** A scan is logged when it takes longer than this (the host's loop is shared with every extension). */
const SLOW_SCAN_MS = 20;
/** Typing: scan once the edits pause this long, not on every keystroke. */
const TYPING_PAUSE_MS = 200;

/** The pending-work key of the open documents' staggered scan (updateAll). */
const ALL_KEY = '\0all';

/** The documents hints are shown on: Python, JavaScript and TypeScript, on disk or untitled. */
export const HINT_SCHEMES = new Set(['file', 'untitled']);

export class BlockingHints implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('looplag.hints');
  /** Each document's findings at the version they were scanned (the code actions read them). */
  private readonly scanned = new Map<string, { version: number; findings: Finding[] }>();
  private readonly pending = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly disposables: vscode.Disposable[];

  constructor(private readonly log: vscode.LogOutputChannel) {
    this.disposables = [
      this.collection,
      vscode.workspace.onDidOpenTextDocument((d) => this.update(d)),
      vscode.workspace.onDidChangeTextDocument((e) => e.contentChanges.length && this.schedule(e.document)),
      vscode.workspace.onDidCloseTextDocument((d) => this.forget(d.uri)),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration(`${SECTION}.hints.enabled`) && this.updateAll()),
    ];
    this.updateAll();
  }

  /** The finding a diagnostic of this collection stands for, in the document as it is now. */
  findingAt(doc: vscode.TextDocument, range: vscode.Range): Finding | undefined {
    const hit = this.scanned.get(doc.uri.toString());
    if (!hit || hit.version !== doc.version) return undefined;
    return hit.findings.find((f) => range.isEqual(toRange(f.range)));
  }

  /** Whether a diagnostic is one of these hints (the code actions get every provider's). */
  isHint(d: vscode.Diagnostic): boolean {
    return d.source === HINT_SOURCE && typeof d.code === 'object' && ruleDoc(String(d.code.value)) !== undefined;
  }

  /**
   * Every open document (activation, the setting turned on): one per turn of the host's
   * loop, so editors restored at start-up never add up to one long block (each scan is
   * bounded, their number is not). Turned off, they all go at once.
   */
  private updateAll(): void {
    const docs = [...vscode.workspace.textDocuments];
    if (docs.every((d) => !hintsEnabled(d.uri))) {
      for (const d of docs) this.update(d);
      return;
    }
    const next = () => {
      const doc = docs.shift();
      if (!doc) return;
      this.update(doc);
      this.pending.set(ALL_KEY, setTimeout(next, 0));
    };
    clearTimeout(this.pending.get(ALL_KEY));
    this.pending.set(ALL_KEY, setTimeout(next, 0));
  }

  private schedule(doc: vscode.TextDocument): void {
    const key = doc.uri.toString();
    clearTimeout(this.pending.get(key));
    this.pending.set(key, setTimeout(() => {
      this.pending.delete(key);
      this.update(doc);
    }, TYPING_PAUSE_MS));
  }

  private update(doc: vscode.TextDocument): void {
    const key = doc.uri.toString();
    const language = languageOfDocument(doc.languageId);
    if (!language || !HINT_SCHEMES.has(doc.uri.scheme) || doc.isClosed) return;
    if (!hintsEnabled(doc.uri)) {
      this.forget(doc.uri);
      return;
    }
    if (this.scanned.get(key)?.version === doc.version) return;
    if (doc.lineCount > MAX_HINT_LINES || doc.getText().length > MAX_HINT_CHARS) {
      this.log.info(`hints: ${vscode.workspace.asRelativePath(doc.uri)} not scanned (${doc.lineCount} lines; over ${MAX_HINT_LINES} lines or ${MAX_HINT_CHARS} characters)`);
      this.scanned.set(key, { version: doc.version, findings: [] });
      this.collection.delete(doc.uri);
      return;
    }
    const t0 = performance.now();
    const findings = scanBlockingCalls(doc.getText(), language);
    const ms = performance.now() - t0;
    if (ms > SLOW_SCAN_MS) this.log.info(`hints: scanning ${vscode.workspace.asRelativePath(doc.uri)} (${doc.lineCount} lines) took ${ms.toFixed(1)} ms`);
    this.scanned.set(key, { version: doc.version, findings });
    this.collection.set(doc.uri, findings.map(toDiagnostic));
  }

  private forget(uri: vscode.Uri): void {
    const key = uri.toString();
    clearTimeout(this.pending.get(key));
    this.pending.delete(key);
    this.scanned.delete(key);
    this.collection.delete(uri);
  }

  dispose(): void {
    for (const t of this.pending.values()) clearTimeout(t);
    this.pending.clear();
    for (const d of this.disposables) d.dispose();
  }
}

/** What the Problems panel shows as a diagnostic's source. */
export const HINT_SOURCE = 'Loop Lag';

function toRange(r: Finding['range']): vscode.Range {
  return new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);
}

/** A hint: Information, its rule as the code, linked to the rule's documentation. */
function toDiagnostic(f: Finding): vscode.Diagnostic {
  const d = new vscode.Diagnostic(toRange(f.range), f.message, vscode.DiagnosticSeverity.Information);
  d.source = HINT_SOURCE;
  const doc = ruleDoc(f.rule);
  d.code = doc ? { value: f.rule, target: vscode.Uri.parse(doc) } : f.rule;
  return d;
}

/** `looplag.hints.enabled` for a document (per folder). */
export function hintsEnabled(scope: vscode.Uri): boolean {
  return vscode.workspace.getConfiguration(SECTION, scope).get<SettingTypes['hints.enabled']>('hints.enabled') ?? true;
}
