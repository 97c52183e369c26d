/**
 * The report webview panel: create-or-show, revive after a reload (serializer), typed
 * and validated messages, state re-sent whenever the panel becomes visible again.
 */
import * as vscode from 'vscode';
import { FromWebview } from '../shared/webviewProtocol';
import type { ToWebview } from '../shared/webviewProtocol';
import { newNonce } from '../shared/html';
import { webviewHtml } from './webviewHtml';

export const REPORT_VIEW_TYPE = 'looplag.report';

export interface ReportPanelHost {
  /** The whole view state: a report view (`state`), a worker sweep (`sweep`) or a service-mode session (`serve`) on show. */
  state(): Extract<ToWebview, { type: 'state' | 'sweep' | 'serve' }>;
  /** A validated message from the webview. */
  onMessage(message: FromWebview): void;
  /** The panel was closed by the user (e.g. cancel a run in progress). */
  onClosed?(): void;
  log?(text: string): void;
}

export class ReportPanelController implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private ready = false;
  private panelDisposables: vscode.Disposable[] = [];

  constructor(private readonly extensionUri: vscode.Uri, private readonly host: ReportPanelHost) {}

  get isOpen(): boolean {
    return this.panel !== undefined;
  }

  /** Show the panel beside the editor, creating it if needed. */
  show(preserveFocus = true): void {
    if (this.panel) {
      this.panel.reveal(undefined, preserveFocus);
      return;
    }
    const panel = vscode.window.createWebviewPanel(
      REPORT_VIEW_TYPE,
      'Loop Lag',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus },
      this.webviewOptions(),
    );
    this.attach(panel);
  }

  /** For the serializer: adopt a panel VS Code restored after a reload. */
  revive(panel: vscode.WebviewPanel): void {
    if (this.panel) {
      // One report panel: a restored duplicate goes; closing ours would cancel a run.
      panel.dispose();
      return;
    }
    panel.webview.options = this.webviewOptions();
    this.attach(panel);
  }

  /**
   * Send a message if the webview is ready (`state` is re-sent on `ready` anyway). Typed
   * here and validated by the receiver: re-validating a 180,000-sample report on the
   * extension host's loop would cost it tens of milliseconds for nothing. False when not sent.
   */
  post(message: ToWebview): boolean {
    if (!this.panel || !this.ready) return false;
    void this.panel.webview.postMessage(message);
    return true;
  }

  refresh(): void {
    this.post(this.host.state());
  }

  private webviewOptions(): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    return {
      enableScripts: true,
      retainContextWhenHidden: false,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(this.extensionUri, 'media')],
    };
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    this.ready = false;
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'icon.png');
    const webview = panel.webview;
    webview.html = webviewHtml({
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview', 'main.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview', 'main.css')).toString(),
      nonce: newNonce(),
    });
    this.panelDisposables.push(
      webview.onDidReceiveMessage((data: unknown) => this.receive(data)),
      panel.onDidChangeViewState((e) => {
        // Without retainContextWhenHidden the webview reloads when shown again: it will
        // say `ready`; until then it cannot take messages.
        if (!e.webviewPanel.visible) this.ready = false;
      }),
      panel.onDidDispose(() => this.onDisposed()),
    );
  }

  private receive(data: unknown): void {
    let message: FromWebview;
    try {
      message = FromWebview.parse(data);
    } catch (e) {
      this.host.log?.(`ignored an invalid message from the report panel: ${(e as Error).message}`);
      return;
    }
    if (message.type === 'ready') {
      this.ready = true;
      this.refresh();
      return;
    }
    this.host.onMessage(message);
  }

  private onDisposed(): void {
    this.panel = undefined;
    this.ready = false;
    for (const d of this.panelDisposables.splice(0)) d.dispose();
    this.host.onClosed?.();
  }

  dispose(): void {
    this.panel?.dispose();
  }
}

/** Restores the panel after a window reload; the state comes from the host's history. */
export function registerReportSerializer(controller: ReportPanelController): vscode.Disposable {
  return vscode.window.registerWebviewPanelSerializer(REPORT_VIEW_TYPE, {
    async deserializeWebviewPanel(panel: vscode.WebviewPanel) {
      controller.revive(panel);
    },
  });
}
