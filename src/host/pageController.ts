/**
 * The host's side of one webview page (the side view, a checkpoint viewer, a
 * result panel): it owns the panel's or view's webview, validates every
 * message the page sends against that page's protocol (its own requests and
 * the shared ones; anything else, another page's messages included, is
 * logged and dropped), answers what every page shares once (ready, inspect,
 * openRun, export, log), and hands the page's own requests to a typed
 * handler table. Messages to the page go out only while it is ready: a page
 * that was hidden is rebuilt when shown again and then asks for everything.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import {
  isSharedWebviewMessage,
  validatePageHostMessage,
  validatePageMessage,
  type PageHostMessage,
  type PageRequest,
  type PageWebviewMessage,
  type SharedWebviewMessage,
  type ViewName,
} from '../protocol';
import { previewMessage } from '../schema';
import { COMMANDS, INTERNAL_COMMANDS } from './commandTable';
import { describeUntrustedPath } from './guards';
import { errorMessage, type Log } from './log';
import { saveExportedImage, setWebviewHtml, webviewOptions } from './webview';
import { checkWorkspaceFile, isCheckpointPath } from './workspace';

/** What a handler returns: nothing, or something to wait for (its failure is logged). */
export type Reply = void | PromiseLike<unknown>;

/** One handler per request of page P, each given its own message type. */
export type PageHandlers<P extends ViewName> = {
  [T in PageRequest<P>['type']]: (m: Extract<PageRequest<P>, { type: T }>) => Reply;
};

export interface PageOptions<P extends ViewName> {
  page: P;
  /** Names the page in the log, e.g. "checkpoint viewer (final.safetensors)". */
  name: string;
  /** The HTML title of the page. */
  title: string;
  extensionUri: vscode.Uri;
  log: Log;
  /** Validate outgoing messages too (while developing: a bug of ours shows in the log, not as a blank chart). */
  checkOutgoing: boolean;
  handlers: PageHandlers<P>;
  /** The page loaded (or lost track of a stream) and is ready: send it everything it shows. */
  onReady(): Reply;
  /** The page was hidden (and destroyed); it says 'ready' again when shown. */
  onHidden?(): void;
  /** The folder Export offers first. */
  exportFolder(): string | undefined;
}

/** What owns a webview: an editor panel or the side view. */
export type WebviewOwner = Pick<vscode.WebviewPanel, 'webview' | 'visible' | 'onDidDispose'> &
  (Pick<vscode.WebviewPanel, 'onDidChangeViewState'> | Pick<vscode.WebviewView, 'onDidChangeVisibility'>);

export class PageController<P extends ViewName> implements vscode.Disposable {
  private isReady = false;
  private readonly subs: vscode.Disposable[] = [];

  constructor(
    private readonly owner: WebviewOwner,
    private readonly o: PageOptions<P>,
  ) {
    owner.webview.options = webviewOptions(o.extensionUri);
    const hidden = () => {
      if (owner.visible) return;
      this.isReady = false;
      o.onHidden?.();
    };
    this.subs.push(
      owner.webview.onDidReceiveMessage((raw: unknown) => this.receive(raw)),
      'onDidChangeViewState' in owner ? owner.onDidChangeViewState(hidden) : owner.onDidChangeVisibility(hidden),
      owner.onDidDispose(() => this.dispose()),
    );
    setWebviewHtml(owner.webview, o.extensionUri, o.page, o.title);
  }

  /** The page has said 'ready' since it was last (re)built. */
  get ready(): boolean {
    return this.isReady;
  }

  /** Send the page a message; dropped while it is not ready (it asks for everything when it is). */
  post(m: PageHostMessage<P>): void {
    if (!this.isReady) return;
    if (this.o.checkOutgoing) {
      const v = validatePageHostMessage(this.o.page, m);
      if (!v.ok) {
        this.o.log.error(`${this.o.name}: refusing to send an invalid ${m.type} message (${v.error})`);
        return;
      }
    }
    void this.owner.webview.postMessage(m);
  }

  private receive(raw: unknown): void {
    const v = validatePageMessage(this.o.page, raw);
    if (!v.ok) {
      this.o.log.warn(`${this.o.name}: ignored an invalid message from the webview (${v.error}): ${previewMessage(raw)}`);
      return;
    }
    const m = v.value;
    Promise.resolve()
      .then(() => (isSharedWebviewMessage(m) ? this.shared(m) : this.own(m)))
      .catch((e: unknown) => this.o.log.error(`${this.o.name}: handling "${m.type}" failed: ${errorMessage(e)}`));
  }

  private own(m: PageRequest<P>): Reply {
    // The table has a handler for every type of PageRequest<P> (PageHandlers checks that); indexing it by a
    // generic page's message type is beyond what TypeScript can narrow.
    const handler = this.o.handlers[m.type as keyof PageHandlers<P>] as (m: PageRequest<P>) => Reply;
    return handler(m);
  }

  private shared(m: SharedWebviewMessage): Reply {
    switch (m.type) {
      case 'ready':
        this.isReady = true;
        return this.o.onReady();
      case 'log':
        return this.logLine(m.level, m.message);
      case 'inspect':
        return this.inspect(m.path);
      case 'openRun':
        return this.openRun(m.runJson);
      case 'export':
        return saveExportedImage(m, this.o.log, this.o.exportFolder());
    }
  }

  private logLine(level: 'info' | 'warn' | 'error', message: string): void {
    const line = `${this.o.name} webview: ${message}`;
    if (level === 'error') this.o.log.error(line);
    else if (level === 'warn') this.o.log.warn(line);
    else this.o.log.info(line);
  }

  /** A checkpoint the page names: opened in the viewer only if it is one, inside the workspace. */
  private async inspect(p: string): Promise<void> {
    const file = checkWorkspaceFile(p);
    if (!file || !isCheckpointPath(file)) {
      this.o.log.warn(`${this.o.name}: refused to inspect ${describeUntrustedPath(p)}: not a checkpoint file inside the workspace`);
      return;
    }
    await vscode.commands.executeCommand(COMMANDS.inspectCheckpoint.id, vscode.Uri.file(file));
  }

  /** A run the page names: opened only if it is a run.json inside the workspace. */
  private async openRun(p: string): Promise<void> {
    const file = checkWorkspaceFile(p);
    if (!file || path.basename(file) !== 'run.json') {
      this.o.log.warn(`${this.o.name}: refused to open ${describeUntrustedPath(p)}: not a run.json inside the workspace`);
      return;
    }
    await vscode.commands.executeCommand(INTERNAL_COMMANDS.openRun, vscode.Uri.file(file));
  }

  dispose(): void {
    this.isReady = false;
    for (const s of this.subs.splice(0)) s.dispose();
  }
}
