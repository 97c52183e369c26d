/**
 * `▶ Measure loop lag` above every function that can be measured, and the last
 * result's headline next to it. Hidden in untrusted workspaces and when disabled.
 */
import * as vscode from 'vscode';
import { HostSettings, readSettings } from './config';
import { COMMANDS, commandLink } from './ids';
import { candidatesFor, resolveRuntime } from './interpreter';
import { Language, languageOfDocument, MEASURED_LANGUAGE_IDS, outlineFile, OutlineFunction } from '../engine/languageTools';
import type { RunController } from './runController';

const MEASURABLE = new Set(['function', 'staticmethod', 'classmethod']);

/** The files the CodeLens is offered on: Python, JavaScript and TypeScript, on disk. */
export const CODELENS_SELECTOR: vscode.DocumentFilter[] = MEASURED_LANGUAGE_IDS.map((language) => ({ language, scheme: 'file' }));

/**
 * Above the function's first decorator (the outline's `line`, from the parser), not
 * between `@app.get(...)` and `def`: where the endpoint lens goes too (decorators.ts).
 */
export function lensRange(fn: Pick<OutlineFunction, 'line'>): vscode.Range {
  return new vscode.Range(fn.line - 1, 0, fn.line - 1, 0);
}

export class LoopLagCodeLens implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly cache = new Map<string, { version: number; functions: OutlineFunction[] }>();
  private readonly disposables: vscode.Disposable[];

  constructor(private readonly runs: RunController, private readonly log: vscode.LogOutputChannel) {
    this.disposables = [
      this.changed,
      runs.onDidChangeResults(() => this.changed.fire()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.changed.fire()),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('looplag') && this.changed.fire()),
      vscode.workspace.onDidCloseTextDocument((d) => this.cache.delete(d.uri.toString())),
    ];
  }

  async provideCodeLenses(doc: vscode.TextDocument, token: vscode.CancellationToken): Promise<vscode.CodeLens[]> {
    const language = languageOfDocument(doc.languageId);
    if (!vscode.workspace.isTrusted || doc.uri.scheme !== 'file' || !language) return [];
    const settings = readSettings(doc.uri, language);
    if (!settings.codeLens) return [];
    const functions = await this.outline(doc, language, settings);
    if (token.isCancellationRequested) return [];
    const lenses: vscode.CodeLens[] = [];
    for (const fn of functions) {
      if (!MEASURABLE.has(fn.kind) || fn.isGenerator) continue;
      const range = lensRange(fn);
      lenses.push(new vscode.CodeLens(range, commandLink(COMMANDS.measureFunction, '▶ Measure loop lag', [doc.uri, fn.qualname],
        `Run ${settings.report.concurrency} concurrent calls of ${fn.qualname} in each mode (${settings.report.modes.join(', ')}) and measure the event loop`)));
      const hint = this.runs.headlineFor(doc.uri.fsPath, fn.qualname);
      if (hint) lenses.push(new vscode.CodeLens(range, commandLink(COMMANDS.showReport, hint.title, [], `${hint.tooltip}\n\nOpen the Loop Lag report`)));
    }
    return lenses;
  }

  /** The sidecar's outline of the saved file (Python's `ast`, the TypeScript parser), cached per document version. */
  private async outline(doc: vscode.TextDocument, language: Language, settings: HostSettings): Promise<OutlineFunction[]> {
    const key = doc.uri.toString();
    const hit = this.cache.get(key);
    if (hit && hit.version === doc.version) return hit.functions;
    // The outline reads the file on disk: while the editor has unsaved edits, keep the
    // lenses of the last save rather than outline stale text on every pause in typing.
    if (hit && doc.isDirty) return hit.functions;
    try {
      const interpreter = await resolveRuntime(doc.uri, language, settings, this.log);
      const r = await this.outlineWithFirstWorking(language, candidatesFor(language, interpreter), doc.uri.fsPath);
      // A file with a syntax error keeps its last good lenses.
      const functions = r.ok ? r.functions : hit?.functions ?? [];
      this.cache.set(key, { version: doc.version, functions });
      return functions;
    } catch (e) {
      this.log.warn(`CodeLens: could not outline ${doc.uri.fsPath}: ${(e as Error).message}`);
      return hit?.functions ?? [];
    }
  }

  /**
   * The outline from the first runtime that can run the tool, in the engine's order
   * (`python3`, then `python`; `node`, then the editor's own runtime).
   */
  private async outlineWithFirstWorking(language: Language, candidates: ReturnType<typeof candidatesFor>, file: string) {
    for (const [i, c] of candidates.entries()) {
      try {
        return await outlineFile(language, c, this.runs.sidecarDirs, file);
      } catch (e) {
        if (c.explicit || i === candidates.length - 1) throw e;
      }
    }
    throw new Error('no runtime to try');
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
