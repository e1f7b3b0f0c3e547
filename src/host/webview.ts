/**
 * What every Landscape webview shares: options (scripts on, local files only
 * from dist/ and media/), the CSP'd HTML shell, a message channel that
 * validates everything the page sends, and saving exported plots.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { validateHostMessage, validateWebviewMessage, type HostMessage, type ViewName, type WebviewMessage } from '../protocol';
import { previewMessage } from '../schema';
import { decodeImageDataUrl, makeNonce, renderHtml } from './html';
import type { Log } from './log';

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

export function setWebviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, view: ViewName, title: string): void {
  const uri = (...p: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...p)).toString();
  webview.html = renderHtml({
    view,
    title,
    cspSource: webview.cspSource,
    nonce: makeNonce(),
    plotlyUri: uri('dist', 'plotly.min.js'),
    scriptUri: uri('dist', 'webview.js'),
    styleUri: uri('media', 'landscape.css'),
  });
}

/**
 * Typed, validated messaging with one webview. Invalid messages from the page
 * are logged and dropped. Outgoing messages are validated too while
 * developing (a bug on our side shows up in the log, not as a blank chart).
 */
export class WebviewChannel implements vscode.Disposable {
  private readonly subs: vscode.Disposable[] = [];

  constructor(
    private readonly webview: vscode.Webview,
    private readonly log: Log,
    private readonly name: string,
    private readonly checkOutgoing = false,
  ) {}

  onMessage(handler: (m: WebviewMessage) => void | Promise<void>): void {
    this.subs.push(
      this.webview.onDidReceiveMessage((raw: unknown) => {
        const v = validateWebviewMessage(raw);
        if (!v.ok) {
          this.log.warn(`${this.name}: ignored an invalid message from the webview (${v.error}): ${previewMessage(raw)}`);
          return;
        }
        if (v.value.type === 'log') {
          const line = `${this.name} webview: ${v.value.message}`;
          if (v.value.level === 'error') this.log.error(line);
          else if (v.value.level === 'warn') this.log.warn(line);
          else this.log.info(line);
          return;
        }
        Promise.resolve()
          .then(() => handler(v.value))
          .catch((e: unknown) => this.log.error(`${this.name}: handling "${v.value.type}" failed: ${e instanceof Error ? e.message : String(e)}`));
      }),
    );
  }

  post(m: HostMessage): Thenable<boolean> {
    if (this.checkOutgoing) {
      const v = validateHostMessage(m);
      if (!v.ok) {
        this.log.error(`${this.name}: refusing to send an invalid ${m.type} message (${v.error})`);
        return Promise.resolve(false);
      }
    }
    return this.webview.postMessage(m);
  }

  dispose(): void {
    for (const s of this.subs.splice(0)) s.dispose();
  }
}

/** The page asked to save a plot: the user picks where, then we write it. */
export async function saveExportedImage(m: Extract<WebviewMessage, { type: 'export' }>, log: Log, defaultDir: string | undefined): Promise<void> {
  const bytes = decodeImageDataUrl(m.dataUrl, m.format);
  if (!bytes || bytes.length === 0) {
    log.warn(`export: ignored an image that is not a ${m.format} data URL`);
    return;
  }
  const base = m.name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+/, '').slice(0, 80) || 'landscape-plot';
  const dir = defaultDir ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const target = await vscode.window.showSaveDialog({
    defaultUri: dir ? vscode.Uri.file(path.join(dir, `${base}.${m.format}`)) : undefined,
    filters: m.format === 'png' ? { 'PNG image': ['png'] } : { 'SVG image': ['svg'] },
    saveLabel: `Save ${m.format.toUpperCase()}`,
  });
  if (!target) return;
  await vscode.workspace.fs.writeFile(target, bytes);
  log.info(`saved plot ${target.fsPath} (${bytes.length} bytes)`);
  void vscode.window.showInformationMessage(`Saved ${path.basename(target.fsPath)}`, 'Open').then((pick) => {
    if (pick) void vscode.commands.executeCommand('vscode.open', target);
  });
}
