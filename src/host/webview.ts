/**
 * What every Landscape webview shares: options (scripts on, local files only
 * from dist/ and media/), the CSP'd HTML shell, and saving exported plots.
 * The messages of each page go through its PageController (pageController.ts).
 */
import * as path from 'path';
import * as vscode from 'vscode';
import type { SharedWebviewMessage, ViewName } from '../protocol';
import { decodeImageDataUrl, makeNonce, renderHtml } from './html';
import type { Log } from './log';

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

/**
 * Which Plotly build a page runs (from dist/): the side view and the checkpoint viewer draw only
 * scatter and bar traces, so they get the basic bundle (1.2 MB), which runs in about a quarter
 * of the full one's time; result panels draw heatmaps, contours and 3-D surfaces.
 */
const PLOTLY_BUNDLE: Record<ViewName, string> = {
  side: 'plotly-basic.min.js',
  checkpoint: 'plotly-basic.min.js',
  result: 'plotly.min.js',
};

export function setWebviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, view: ViewName, title: string): void {
  const uri = (...p: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...p)).toString();
  webview.html = renderHtml({
    view,
    title,
    cspSource: webview.cspSource,
    nonce: makeNonce(),
    plotlyUri: uri('dist', PLOTLY_BUNDLE[view]),
    scriptUri: uri('dist', 'webview.js'),
    styleUri: uri('media', 'landscape.css'),
  });
}

/** The page asked to save a plot: the user picks where, then we write it. */
export async function saveExportedImage(m: Extract<SharedWebviewMessage, { type: 'export' }>, log: Log, defaultDir: string | undefined): Promise<void> {
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
