/**
 * `Measure endpoint under load` above each route handler: a FastAPI/Starlette route
 * decorator (above the first decorator, not between decorator and `def`), an Express,
 * Fastify or Koa-router route call. A lexical scan of the text in the editor (no process:
 * the app's own route list is read when the command runs). Hidden in untrusted workspaces
 * and with `looplag.serve.codeLens` off.
 */
import * as vscode from 'vscode';
import { languageOfDocument } from '../engine/languageTools';
import { COMMANDS, commandLink } from './ids';
import { readServeSettings } from './serveConfig';
import { RouteSite, scanRoutes } from './serveSource';

/** Larger files get no endpoint lens: scanned on the host's loop, they would hold it up. */
const MAX_SCANNED_LINES = 20_000;
const MAX_SCANNED_CHARS = 1_000_000;

export const ENDPOINT_LENS_TITLE = '▶ Measure endpoint under load';

export class EndpointCodeLens implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly disposables: vscode.Disposable[];
  private readonly scanned = new Map<string, { version: number; sites: RouteSite[] }>();

  constructor() {
    this.disposables = [
      this.changed,
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.changed.fire()),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('looplag.serve') && this.changed.fire()),
      vscode.workspace.onDidCloseTextDocument((d) => this.scanned.delete(d.uri.toString())),
    ];
  }

  provideCodeLenses(doc: vscode.TextDocument, token?: vscode.CancellationToken): vscode.CodeLens[] {
    const language = languageOfDocument(doc.languageId);
    if (!vscode.workspace.isTrusted || doc.uri.scheme !== 'file' || !language) return [];
    // The scan runs on the extension host's loop: a generated or minified file is not scanned.
    if (doc.lineCount > MAX_SCANNED_LINES || doc.getText().length > MAX_SCANNED_CHARS) return [];
    const serve = readServeSettings(doc.uri);
    if (!serve.codeLens || token?.isCancellationRequested) return [];
    const { ratePerS, durationS } = serve.settings;
    return this.sites(doc, language === 'python' ? 'python' : language === 'typescript' ? 'typescript' : 'javascript').map((site) => {
      const endpoint = `${site.methods[0]} ${site.path}`;
      const range = new vscode.Range(site.line - 1, 0, site.line - 1, 0);
      return new vscode.CodeLens(range, commandLink(COMMANDS.measureEndpoint, ENDPOINT_LENS_TITLE, [doc.uri, endpoint],
        `Start this app on 127.0.0.1 and send ${endpoint} ${ratePerS} requests/s for ${durationS} s (looplag.serve.*), measuring what a trivial request waits and the server's event loop`));
    });
  }

  /** The document's routes, scanned once per version (CodeLens are asked for again on every pause in typing and scroll). */
  private sites(doc: vscode.TextDocument, language: 'python' | 'javascript' | 'typescript'): RouteSite[] {
    const key = doc.uri.toString();
    const cached = this.scanned.get(key);
    if (cached?.version === doc.version) return cached.sites;
    const sites = scanRoutes(doc.getText(), language);
    this.scanned.set(key, { version: doc.version, sites });
    return sites;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
