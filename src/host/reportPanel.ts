/**
 * The optimizer study's report.html in an editor panel, as the file is: it
 * is a complete page with Plotly and its data inlined, so it runs under a
 * policy of its own that allows exactly its inline scripts by hash (see
 * reportHtml.ts). It loads nothing else: no local resource roots, no command
 * links, and the host listens to nothing the page could post.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { ReportPanelStateSchema as ReportStateSchema } from '../protocol';
import { validate } from '../schema';
import { WEBVIEW_TYPES } from './commandTable';
import { errorMessage, type Log } from './log';
import { escapeHtml } from './html';
import { prepareReport } from './reportHtml';
import { checkWorkspaceFile } from './workspace';

const MAX_REPORT_BYTES = 64 * 1024 * 1024;


export class ReportPanels implements vscode.WebviewPanelSerializer, vscode.Disposable {
  private readonly panels = new Map<string, vscode.WebviewPanel>();

  constructor(private readonly log: Log) {}

  open(file: string): void {
    const existing = this.panels.get(file);
    if (existing) {
      this.load(existing, file);
      existing.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(WEBVIEW_TYPES.report, this.title(file), vscode.ViewColumn.Active, {
      enableScripts: true,
      enableCommandUris: false,
      enableFindWidget: true,
      localResourceRoots: [],
      // Replotting 3 MB of Plotly on every tab switch is slow; the report is static, so keeping it is cheap.
      retainContextWhenHidden: true,
    });
    this.track(panel, file);
    this.load(panel, file);
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const v = validate(ReportStateSchema, state, 'state');
    const file = v.ok ? checkWorkspaceFile(v.value.file) : undefined;
    if (!file || path.basename(file) !== 'report.html') {
      this.log.warn(`report panel: cannot restore (${v.ok ? 'the report is gone or outside the workspace' : v.error})`);
      panel.dispose();
      return;
    }
    panel.webview.options = { enableScripts: true, enableCommandUris: false, localResourceRoots: [] };
    this.track(panel, file);
    this.load(panel, file);
  }

  private title(file: string): string {
    return `Study report (${path.basename(path.dirname(file))})`;
  }

  private track(panel: vscode.WebviewPanel, file: string): void {
    this.panels.set(file, panel);
    panel.onDidDispose(() => {
      if (this.panels.get(file) === panel) this.panels.delete(file);
    });
  }

  private load(panel: vscode.WebviewPanel, file: string): void {
    try {
      const size = fs.statSync(file).size;
      if (size > MAX_REPORT_BYTES) throw new Error(`${file}: the report is larger than ${MAX_REPORT_BYTES} bytes`);
      const r = prepareReport(fs.readFileSync(file, 'utf8'), { file });
      if (r.blocked) this.log.warn(`report panel: ${file} loads ${r.blocked} external script(s); the panel's policy blocks them`);
      panel.webview.html = r.html;
      panel.title = this.title(file);
    } catch (e) {
      const msg = errorMessage(e);
      this.log.warn(`report panel: ${msg}`);
      panel.webview.html = `<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'"></head><body><p>${escapeHtml(msg)}</p></body></html>`;
    }
  }

  dispose(): void {
    for (const p of this.panels.values()) p.dispose();
  }
}
