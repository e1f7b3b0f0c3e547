/**
 * The checkpoint viewer: a read-only custom editor for *.safetensors (so
 * opening one never shows binary noise), and the same page in a plain panel
 * for tfjs model.json files (which are JSON and keep their text editor).
 * Reading the tensors and re-evaluating run as worker jobs.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { CheckpointPanelStateSchema, type Action, type CheckpointDetails, type EvalResult, type PageHostMessage } from '../protocol';
import { validate } from '../schema';
import { COMMAND_LIST, COMMANDS, WEBVIEW_TYPES } from './commandTable';
import { isCancelled, type JobHandle, type JobRunner } from './jobs';
import { errorMessage, type Log } from './log';
import type { MinimumA } from './minimumA';
import { PageController, type PageHandlers } from './pageController';
import { webviewOptions } from './webview';
import { checkWorkspaceFile, isCheckpointPath } from './workspace';

interface Session {
  file: string;
  panel: vscode.WebviewPanel;
  page: PageController<'checkpoint'>;
  info?: CheckpointDetails;
  infoError?: string;
  loading?: JobHandle<'inspect'>;
  evaluation?: EvalResult;
  evaluationError?: string;
  evaluating?: JobHandle<'evaluate'>;
}

export class CheckpointViewers implements vscode.CustomReadonlyEditorProvider, vscode.WebviewPanelSerializer, vscode.Disposable {
  private readonly sessions = new Set<Session>();
  private readonly subs: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly jobs: JobRunner,
    private readonly minimumA: MinimumA,
    private readonly log: Log,
    private readonly checkOutgoing: boolean,
  ) {
    this.subs.push(minimumA.onDidChange(() => this.postActions()));
  }

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): void {
    this.attach(panel, document.uri.fsPath);
  }

  /** A viewer in a plain panel (for model.json, which keeps its text editor). */
  openPanel(file: string): void {
    for (const s of this.sessions) {
      if (s.file === file && s.panel.viewType === WEBVIEW_TYPES.checkpointPanel) {
        s.panel.reveal();
        return;
      }
    }
    const panel = vscode.window.createWebviewPanel(WEBVIEW_TYPES.checkpointPanel, this.title(file), vscode.ViewColumn.Active, {
      ...webviewOptions(this.extensionUri),
      enableFindWidget: true,
    });
    this.attach(panel, file);
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const v = validate(CheckpointPanelStateSchema, state, 'state');
    const file = v.ok ? checkWorkspaceFile(v.value.file) : undefined;
    if (!file || !isCheckpointPath(file)) {
      this.log.warn(`checkpoint viewer: cannot restore a panel (${v.ok ? 'its file is gone or outside the workspace' : v.error})`);
      panel.dispose();
      return;
    }
    this.attach(panel, file);
  }

  /** The file of the viewer the user is looking at, if any. */
  activeFile(): string | undefined {
    for (const s of this.sessions) if (s.panel.active) return s.file;
    return undefined;
  }

  private title(file: string): string {
    const base = path.basename(file);
    return base === 'model.json' ? `${path.basename(path.dirname(file))}/model.json` : base;
  }

  private actions(file: string): Action[] {
    const a = this.minimumA.get();
    return (
      COMMAND_LIST.filter((c) => c.viewerAction)
        // The barrier to Minimum A needs an A, and one other than this file.
        .filter((c) => c.id !== COMMANDS.barrierToMinimumA.id || (a !== undefined && a !== file))
        .map((c) => {
          const action: Action = { command: c.id, label: c.viewerLabel ?? c.title };
          if (c.id === COMMANDS.setMinimumA.id && a) action.detail = a === file ? 'this checkpoint is Minimum A' : `Minimum A is now ${path.basename(a)}`;
          if (c.id === COMMANDS.barrierToMinimumA.id && a) action.detail = `from ${path.basename(path.dirname(a))}/${path.basename(a)}`;
          return action;
        })
    );
  }

  private attach(panel: vscode.WebviewPanel, file: string): void {
    // The session and its page controller refer to each other: `page` is set at once, below.
    const s = { file, panel } as Session;
    const name = `checkpoint viewer (${path.basename(file)})`;
    // These info lines time the way to the tensor table (the end-to-end test prints them).
    this.log.info(`${name}: opening`);
    s.page = new PageController(panel, {
      page: 'checkpoint',
      name,
      title: this.title(file),
      extensionUri: this.extensionUri,
      log: this.log,
      checkOutgoing: this.checkOutgoing,
      handlers: this.handlers(s),
      onReady: () => {
        this.log.info(`${name}: page ready`);
        this.sendState(s);
        this.load(s);
      },
      exportFolder: () => path.dirname(file),
    });
    this.sessions.add(s);
    panel.onDidDispose(() => {
      s.loading?.cancel();
      s.evaluating?.cancel();
      this.sessions.delete(s);
    });
    // Read the file while the page loads: its 'ready' then finds the tensors waiting (or nearly).
    this.load(s);
  }

  private post(s: Session, m: PageHostMessage<'checkpoint'>): void {
    s.page.post(m);
  }

  private postActions(): void {
    for (const s of this.sessions) this.post(s, { type: 'actions', actions: this.actions(s.file) });
  }

  private sendState(s: Session): void {
    if (s.info) this.post(s, { type: 'checkpoint', file: s.file, name: this.title(s.file), info: s.info, actions: this.actions(s.file) });
    else if (s.infoError) this.post(s, { type: 'checkpointError', file: s.file, message: s.infoError });
    if (s.evaluating) this.post(s, { type: 'evaluating' });
    else if (s.evaluation) this.post(s, { type: 'evaluation', result: s.evaluation });
    else if (s.evaluationError) this.post(s, { type: 'evaluationError', message: s.evaluationError });
  }

  private load(s: Session): void {
    if (s.loading || s.info) return;
    if (!fs.existsSync(s.file)) {
      s.infoError = `${s.file}: file not found`;
      this.sendState(s);
      return;
    }
    const job = this.jobs.start({ kind: 'inspect', file: s.file }, { title: `Landscape: reading ${path.basename(s.file)}` });
    const started = Date.now();
    s.loading = job;
    job.result.then(
      (info) => {
        this.log.info(`checkpoint viewer (${path.basename(s.file)}): read in ${Date.now() - started} ms`);
        s.info = info;
        s.infoError = undefined;
      },
      (e: unknown) => {
        s.infoError = isCancelled(e) ? 'Reading the checkpoint was cancelled. Reopen it to try again.' : errorMessage(e);
      },
    ).finally(() => {
      s.loading = undefined;
      this.sendState(s);
    });
  }

  private evaluate(s: Session): void {
    if (s.evaluating) return;
    const job = this.jobs.start({ kind: 'evaluate', file: s.file }, { title: `Landscape: evaluating ${path.basename(s.file)}` });
    s.evaluating = job;
    s.evaluation = undefined;
    s.evaluationError = undefined;
    this.post(s, { type: 'evaluating' });
    job.result.then(
      (r) => (s.evaluation = r),
      (e: unknown) => (s.evaluationError = isCancelled(e) ? 'Evaluation cancelled.' : errorMessage(e)),
    ).finally(() => {
      s.evaluating = undefined;
      this.sendState(s);
    });
  }

  /** The viewer's own requests; ready, export and the rest are the page controller's. */
  private handlers(s: Session): PageHandlers<'checkpoint'> {
    return {
      evaluate: () => this.evaluate(s),
      runAction: (m) => this.runAction(s, m.command),
    };
  }

  /** A viewer button: only an action the viewer offers, and only on the viewer's own file. */
  private async runAction(s: Session, command: string): Promise<void> {
    if (!this.actions(s.file).some((a) => a.command === command)) {
      this.log.warn(`checkpoint viewer: refused to run "${command.slice(0, 100)}": not one of the viewer's actions`);
      return;
    }
    await vscode.commands.executeCommand(command, vscode.Uri.file(s.file));
  }

  dispose(): void {
    for (const s of this.sessions) s.panel.dispose();
    for (const d of this.subs.splice(0)) d.dispose();
  }
}
