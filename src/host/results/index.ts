/**
 * Result panels: editor-area webviews showing a saved result (a training
 * run now; barriers, kernel PCA and slices later). Each panel remembers
 * {kind, file} in its webview state, and the WebviewPanelSerializer reopens it
 * after a window reload by reading the file again: nothing is recomputed.
 *
 * Adding a kind: a variant in ResultDataSchema (src/protocol.ts), a
 * ResultKindHost here (how to load it, see trainingRun.ts), and a renderer in
 * webview/results/.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { ResultDataSchema, ResultPanelStateSchema, validate, type ResultData, type ResultKind, type WebviewMessage } from '../../protocol';
import { COMMANDS, INTERNAL_COMMANDS, WEBVIEW_TYPES } from '../commandTable';
import { errorMessage, type Log } from '../log';
import { WebviewChannel, saveExportedImage, setWebviewHtml, webviewOptions } from '../webview';
import { checkWorkspaceFile, isCheckpointPath } from '../workspace';

export interface LoadedResult<K extends ResultKind = ResultKind> {
  title: string;
  data: Extract<ResultData, { kind: K }>;
}

export interface ResultKindHost<K extends ResultKind = ResultKind> {
  kind: K;
  /** Panel title before the result has loaded. */
  title(file: string): string;
  /** Read the saved result (throws an error naming the file when it cannot). */
  load(file: string): Promise<LoadedResult<K>>;
}

interface Panel {
  kind: ResultKind;
  file: string;
  panel: vscode.WebviewPanel;
  channel: WebviewChannel;
  ready: boolean;
}

export class ResultPanels implements vscode.WebviewPanelSerializer, vscode.Disposable {
  private readonly kinds = new Map<ResultKind, ResultKindHost>();
  private readonly panels = new Set<Panel>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: Log,
    private readonly checkOutgoing: boolean,
  ) {}

  register(kind: ResultKindHost): void {
    this.kinds.set(kind.kind, kind);
  }

  /** Open (or reveal) the panel of a result file. */
  open(kind: ResultKind, file: string): void {
    for (const p of this.panels) {
      if (p.kind === kind && p.file === file) {
        p.panel.reveal();
        return;
      }
    }
    const host = this.kinds.get(kind);
    if (!host) throw new Error(`no result panel for kind "${kind}"`);
    const panel = vscode.window.createWebviewPanel(WEBVIEW_TYPES.result, host.title(file), vscode.ViewColumn.Active, {
      ...webviewOptions(this.extensionUri),
      enableFindWidget: true,
    });
    this.attach(panel, kind, file);
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const v = validate(ResultPanelStateSchema, state, 'state');
    const file = v.ok ? checkWorkspaceFile(v.value.file) : undefined;
    if (!v.ok || !file || !this.kinds.has(v.value.kind)) {
      this.log.warn(`result panel: cannot restore (${v.ok ? 'its result file is gone or outside the workspace' : v.error})`);
      panel.dispose();
      return;
    }
    this.attach(panel, v.value.kind, file);
  }

  private attach(panel: vscode.WebviewPanel, kind: ResultKind, file: string): void {
    panel.webview.options = webviewOptions(this.extensionUri);
    const channel = new WebviewChannel(panel.webview, this.log, `result panel (${kind})`, this.checkOutgoing);
    const p: Panel = { kind, file, panel, channel, ready: false };
    this.panels.add(p);
    channel.onMessage((m) => this.onMessage(p, m));
    panel.onDidChangeViewState(() => {
      if (!panel.visible) p.ready = false;
    });
    panel.onDidDispose(() => {
      channel.dispose();
      this.panels.delete(p);
    });
    setWebviewHtml(panel.webview, this.extensionUri, 'result', this.kinds.get(kind)!.title(file));
  }

  private async send(p: Panel): Promise<void> {
    const host = this.kinds.get(p.kind)!;
    try {
      const r = await host.load(p.file);
      // Results come from disk: check them like any other input before the page sees them.
      const v = validate(ResultDataSchema, r.data, 'result');
      if (!v.ok) throw new Error(`${p.file}: the result does not have the expected shape (${v.error})`);
      p.panel.title = r.title;
      if (p.ready) void p.channel.post({ type: 'result', file: p.file, title: r.title, data: v.value });
    } catch (e) {
      this.log.warn(`result panel: ${errorMessage(e)}`);
      if (p.ready) void p.channel.post({ type: 'resultError', file: p.file, message: errorMessage(e) });
    }
  }

  private async onMessage(p: Panel, m: WebviewMessage): Promise<void> {
    switch (m.type) {
      case 'ready':
        p.ready = true;
        await this.send(p);
        return;
      case 'inspect': {
        const file = checkWorkspaceFile(m.path);
        if (!file || !isCheckpointPath(file)) {
          this.log.warn(`result panel: refused to inspect ${JSON.stringify(m.path.slice(0, 300))}: not a checkpoint inside the workspace`);
          return;
        }
        await vscode.commands.executeCommand(COMMANDS.inspectCheckpoint.id, vscode.Uri.file(file));
        return;
      }
      case 'openRun': {
        const file = checkWorkspaceFile(m.runJson);
        if (!file || path.basename(file) !== 'run.json') {
          this.log.warn(`result panel: refused to open ${JSON.stringify(m.runJson.slice(0, 300))}`);
          return;
        }
        await vscode.commands.executeCommand(INTERNAL_COMMANDS.openRun, vscode.Uri.file(file));
        return;
      }
      case 'export':
        await saveExportedImage(m, this.log, path.dirname(p.file));
        return;
      default:
        this.log.warn(`result panel: ignored a "${m.type}" message (not used here)`);
    }
  }

  dispose(): void {
    for (const p of this.panels) p.panel.dispose();
  }
}
