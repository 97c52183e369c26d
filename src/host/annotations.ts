/**
 * The blocking lines of the report on show, annotated in the editors (issue 13): an
 * end-of-line text in the `looplag.blockedLineForeground` colour and a hover with the
 * advice. Anchors follow edits (report/annotationText.ts `shiftAnchors`), are drawn
 * again when an editor becomes visible, and are only drawn on a line that still holds
 * the measured text. `looplag.annotations` turns them off at once.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LineAnnotation, lineAnnotations, shiftAnchors, sourceMatches } from '../report/annotationText';
import type { Report } from '../shared/protocol';
import { annotationsEnabled } from './config';
import { SECTION } from './ids';

export const BLOCKED_LINE_COLOR = 'looplag.blockedLineForeground';

export class EditorAnnotations implements vscode.Disposable {
  /** Each file's annotated lines, by absolute path. */
  private byFile = new Map<string, LineAnnotation[]>();
  private readonly decoration: vscode.TextEditorDecorationType;
  private readonly disposables: vscode.Disposable[];

  /** `onDidShowReport`: the report the panel shows after a run or from the history; null when a run starts. */
  constructor(onDidShowReport: vscode.Event<Report | null>) {
    this.decoration = vscode.window.createTextEditorDecorationType({
      after: { color: new vscode.ThemeColor(BLOCKED_LINE_COLOR), margin: '0 0 0 3em' },
      rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
    });
    this.disposables = [
      this.decoration,
      onDidShowReport((report) => this.show(report)),
      vscode.window.onDidChangeVisibleTextEditors((editors) => editors.forEach((e) => this.draw(e))),
      vscode.workspace.onDidChangeTextDocument((e) => this.edited(e)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${SECTION}.annotations`)) this.drawAll();
      }),
      vscode.languages.registerHoverProvider({ scheme: 'file' }, { provideHover: (doc, pos) => this.hover(doc, pos) }),
    ];
  }

  /** Annotate a report's blocking lines (replacing any before); null clears them. */
  show(report: Report | null): void {
    this.byFile = new Map();
    if (report) {
      for (const a of lineAnnotations(report, workspaceRootOf(report))) {
        this.byFile.set(a.file, [...(this.byFile.get(a.file) ?? []), a]);
      }
    }
    this.drawAll();
  }

  /** Loop Lag: Clear Annotations. */
  clear(): void {
    this.show(null);
  }

  /** The annotations a document shows now: with the setting on, on lines that still hold the measured text. */
  shown(doc: vscode.TextDocument): LineAnnotation[] {
    if (!annotationsEnabled(doc.uri)) return [];
    return (this.byFile.get(doc.uri.fsPath) ?? []).filter((a) => a.line < doc.lineCount && sourceMatches(a.source, doc.lineAt(a.line).text));
  }

  private drawAll(): void {
    for (const editor of vscode.window.visibleTextEditors) this.draw(editor);
  }

  private draw(editor: vscode.TextEditor): void {
    const doc = editor.document;
    editor.setDecorations(this.decoration, this.shown(doc).map((a) => {
      const end = doc.lineAt(a.line).range.end;
      return { range: new vscode.Range(end, end), renderOptions: { after: { contentText: a.text } } };
    }));
  }

  private edited(e: vscode.TextDocumentChangeEvent): void {
    const file = e.document.uri.fsPath;
    let anchors = this.byFile.get(file);
    if (!anchors?.length || !e.contentChanges.length) return;
    // VS Code lists a multi-cursor edit's changes bottom to top, so each range is still
    // in the coordinates the anchors have when it is applied.
    for (const c of e.contentChanges) {
      anchors = shiftAnchors(anchors, {
        startLine: c.range.start.line, startCharacter: c.range.start.character,
        endLine: c.range.end.line, endCharacter: c.range.end.character, text: c.text,
      });
    }
    this.byFile.set(file, anchors);
    for (const editor of vscode.window.visibleTextEditors) if (editor.document === e.document) this.draw(editor);
  }

  private hover(doc: vscode.TextDocument, pos: vscode.Position): vscode.Hover | undefined {
    const a = this.shown(doc).find((x) => x.line === pos.line);
    if (!a) return undefined;
    // Not trusted, no HTML: the text comes from the user's code (escaped as well).
    const md = new vscode.MarkdownString(a.hover);
    md.isTrusted = false;
    md.supportHtml = false;
    return new vscode.Hover(md, doc.lineAt(a.line).range);
  }

  dispose(): void {
    this.byFile = new Map();
    for (const d of this.disposables) d.dispose();
  }
}

/**
 * The folder the report's user paths are relative to: the run's workspace folder (the
 * sidecar's `workspaceRoot`), else the target's own folder (a run outside any folder).
 */
function workspaceRootOf(report: Report): string {
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(report.target.file));
  return folder?.uri.fsPath ?? path.dirname(report.target.file);
}
