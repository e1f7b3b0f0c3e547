/**
 * Result panels: editor-area webviews showing a saved result (a training
 * run, one barrier path, an all-pairs barrier matrix, a kernel PCA map, a
 * Hessian spectrum, a gradient check, a slice). Each panel remembers
 * {kind, file} in its webview state, and the WebviewPanelSerializer reopens it
 * after a window reload by reading the file again: nothing is recomputed.
 * Result files (*.path.json, barriers.json, *.kpca.json, *.hessian.json,
 * *.gradcheck.json, *.slice.json) also open in the same page as a read-only
 * custom editor.
 *
 * A result still being computed is a live panel: it shows the job's status
 * line and the path height per iteration as the worker reports them
 * (coalesced like the side view's charts), then the saved result when the
 * job has written it.
 *
 * Adding a kind: a variant in ResultDataSchema (src/protocol.ts), a
 * ResultKindHost here (how to load it, see trainingRun.ts), and a renderer in
 * webview/results/.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { ResultDataSchema, ResultPanelStateSchema, type PageHostMessage, type PageRequest, type ResultData, type ResultKind } from '../../protocol';
import { validate } from '../../schema';
import { Coalescer } from '../coalescer';
import { WEBVIEW_TYPES } from '../commandTable';
import { errorMessage, type Log } from '../log';
import { readJsonResult, resultKindOf } from '../../results/resultKind';
import { maxStreamRateSetting } from '../settings';
import { PageController, type PageHandlers } from '../pageController';
import { webviewOptions } from '../webview';
import { checkWorkspaceFile } from '../workspace';

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

type Progress = Extract<PageHostMessage<'result'>, { type: 'resultProgress' }>;
type Series = NonNullable<Progress['series']>;

interface Panel {
  /** Undefined for a result file opened as an editor: the file says which kind it is. */
  kind: ResultKind | undefined;
  file: string;
  panel: vscode.WebviewPanel;
  page: PageController<'result'>;
  live?: LiveResult;
  /** How far the page's copy of the live series goes. */
  sent?: { id: string | null; n: number };
  coalescer?: Coalescer<true>;
  /** Why the computation behind a live panel stopped. */
  failed?: string;
  /** The kind of the result last shown (an editor learns it from the file). */
  shownKind?: ResultKind;
}

/** What a panel's own buttons ask of the host (kernel PCA overlays), given the panel's file. */
export type PanelRequestHandler = (file: string, m: PageRequest<'result'>) => Promise<void>;

/**
 * A result being computed. The job reports into it; every panel showing the
 * file gets the status and the height series (a snapshot when its page
 * loads, then only what is new).
 */
export class LiveResult {
  status = 'starting…';
  series: { id: string; steps: number; heights: number[]; best: number[] } | null = null;
  private closed = false;

  constructor(
    private readonly owner: ResultPanels,
    readonly kind: ResultKind,
    readonly file: string,
    public title: string,
  ) {}

  get active(): boolean {
    return !this.closed;
  }

  setStatus(text: string): void {
    this.status = text;
    this.owner.liveChanged(this);
  }

  /** A new path starts (all-pairs: the next pair); its heights replace the previous path's. */
  startSeries(id: string, steps: number): void {
    this.series = { id, steps, heights: [], best: [] };
    this.owner.liveChanged(this);
  }

  addPoint(height: number, best: number): void {
    if (!this.series || !Number.isFinite(height) || !Number.isFinite(best)) return;
    this.series.heights.push(height);
    this.series.best.push(best);
    this.owner.liveChanged(this);
  }

  /** The result file is written: panels load and show it. */
  complete(): void {
    if (this.closed) return;
    this.closed = true;
    this.owner.liveEnded(this, undefined);
  }

  fail(message: string): void {
    if (this.closed) return;
    this.closed = true;
    this.owner.liveEnded(this, message);
  }

  /** Whether some panel still shows this computation. */
  get shown(): boolean {
    return this.owner.isShown(this);
  }
}

export class ResultPanels implements vscode.WebviewPanelSerializer, vscode.CustomReadonlyEditorProvider, vscode.Disposable {
  private readonly kinds = new Map<ResultKind, ResultKindHost>();
  private readonly panels = new Set<Panel>();
  private requestHandler: PanelRequestHandler | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: Log,
    private readonly checkOutgoing: boolean,
  ) {}

  register<K extends ResultKind>(kind: ResultKindHost<K>): void {
    this.kinds.set(kind.kind, kind as unknown as ResultKindHost);
  }

  /** Who handles the kernel PCA panels' overlay buttons. */
  onPanelRequest(handler: PanelRequestHandler): void {
    this.requestHandler = handler;
  }

  /** A status line under every panel showing `file` (busy: its buttons wait). */
  setStatus(file: string, text: string, busy: boolean): void {
    for (const p of this.panels) if (p.file === file && !p.live) p.page.post({ type: 'resultStatus', file, text, busy });
  }

  /** Open (or reveal) the panel of a result file. */
  open(kind: ResultKind, file: string): void {
    const existing = this.find(file, kind);
    if (existing) {
      if (!existing.live) {
        // Shown already: the file may have been rewritten since.
        existing.failed = undefined;
        void this.send(existing);
      }
      existing.panel.reveal();
      return;
    }
    this.create(kind, file, this.host(kind).title(file));
  }

  /** A panel for a result that a job is computing now; it shows the saved result when the job completes. */
  openLive(kind: ResultKind, file: string, title: string): LiveResult {
    const live = new LiveResult(this, kind, file, title);
    const existing = this.find(file, kind);
    if (existing) {
      this.makeLive(existing, live);
      existing.panel.title = title;
      existing.panel.reveal();
    } else {
      const p = this.create(kind, file, title);
      this.makeLive(p, live);
    }
    return live;
  }

  // -- serializer and custom editor ------------------------------------------------------------

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const v = validate(ResultPanelStateSchema, state, 'state');
    const file = v.ok ? checkWorkspaceFile(v.value.file) : undefined;
    if (!v.ok || !file || !this.kinds.has(v.value.kind)) {
      this.log.warn(`result panel: cannot restore (${v.ok ? 'its result file is gone or outside the workspace' : v.error})`);
      panel.dispose();
      return;
    }
    this.attach(panel, v.value.kind, file, this.host(v.value.kind).title(file));
  }

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): void {
    this.attach(panel, undefined, document.uri.fsPath, path.basename(document.uri.fsPath));
  }

  // -- live panels ------------------------------------------------------------------------------

  /** @internal LiveResult calls this when its status or series changed. */
  liveChanged(live: LiveResult): void {
    for (const p of this.panels) if (p.live === live && p.page.ready) p.coalescer?.push(true);
  }

  /** @internal */
  liveEnded(live: LiveResult, failure: string | undefined): void {
    for (const p of this.panels) {
      if (p.live !== live) continue;
      p.coalescer?.flush();
      p.coalescer?.dispose();
      p.coalescer = undefined;
      p.live = undefined;
      p.sent = undefined;
      p.failed = failure;
      void this.send(p);
    }
  }

  /** @internal */
  isShown(live: LiveResult): boolean {
    for (const p of this.panels) if (p.live === live) return true;
    return false;
  }

  private makeLive(p: Panel, live: LiveResult): void {
    p.coalescer?.dispose();
    p.live = live;
    p.failed = undefined;
    p.sent = undefined;
    p.coalescer = new Coalescer<true>(() => this.sendProgress(p, false), () => true, maxStreamRateSetting());
    if (p.page.ready) this.sendProgress(p, true);
  }

  private sendProgress(p: Panel, snapshot: boolean): void {
    const live = p.live;
    if (!live || !p.page.ready) return;
    let series: Series | null = null;
    const s = live.series;
    if (s) {
      const continues = !snapshot && p.sent && p.sent.id === s.id && p.sent.n <= s.heights.length;
      const from = continues ? p.sent!.n : 0;
      series = { id: s.id, from, steps: s.steps, heights: s.heights.slice(from), best: s.best.slice(from) };
      if (s.heights.length > 0) series.straight = s.heights[0];
      p.sent = { id: s.id, n: s.heights.length };
    } else {
      p.sent = { id: null, n: 0 };
    }
    p.page.post({ type: 'resultProgress', file: p.file, kind: live.kind, title: live.title, status: live.status, series });
  }

  // -- panels ------------------------------------------------------------------------------------

  private host(kind: ResultKind): ResultKindHost {
    const h = this.kinds.get(kind);
    if (!h) throw new Error(`no result panel for kind "${kind}"`);
    return h;
  }

  private find(file: string, kind: ResultKind): Panel | undefined {
    for (const p of this.panels) if (p.file === file && (p.kind === kind || p.kind === undefined)) return p;
    return undefined;
  }

  private create(kind: ResultKind, file: string, title: string): Panel {
    const panel = vscode.window.createWebviewPanel(WEBVIEW_TYPES.result, title, vscode.ViewColumn.Active, {
      ...webviewOptions(this.extensionUri),
      enableFindWidget: true,
    });
    return this.attach(panel, kind, file, title);
  }

  private attach(panel: vscode.WebviewPanel, kind: ResultKind | undefined, file: string, title: string): Panel {
    // The panel and its page controller refer to each other: `page` is set at once, below.
    const p = { kind, file, panel } as Panel;
    p.page = new PageController(panel, {
      page: 'result',
      name: `result panel (${kind ?? path.basename(file)})`,
      title,
      extensionUri: this.extensionUri,
      log: this.log,
      checkOutgoing: this.checkOutgoing,
      handlers: this.handlers(p),
      onReady: () => {
        p.sent = undefined;
        return this.send(p);
      },
      // A hidden page is rebuilt when shown again; it then asks for everything.
      onHidden: () => (p.sent = undefined),
      exportFolder: () => path.dirname(file),
    });
    this.panels.add(p);
    panel.onDidDispose(() => {
      p.coalescer?.dispose();
      this.panels.delete(p);
    });
    return p;
  }

  private async loadAny(p: Panel): Promise<LoadedResult> {
    let kind = p.kind;
    if (!kind) {
      // A result file opened as an editor says itself which kind it holds (ours, or the CLI's JSON).
      kind = resultKindOf(readJsonResult(p.file), p.file);
      if (!this.kinds.has(kind)) throw new Error(`${p.file}: Landscape cannot show a "${kind}" result here`);
    }
    return this.host(kind).load(p.file);
  }

  private async send(p: Panel): Promise<void> {
    if (p.live) {
      this.sendProgress(p, true);
      return;
    }
    if (p.failed !== undefined) {
      p.page.post({ type: 'resultError', file: p.file, message: p.failed });
      return;
    }
    try {
      const r = await this.loadAny(p);
      // Results come from disk: check them like any other input before the page sees them.
      const v = validate(ResultDataSchema, r.data, 'result');
      if (!v.ok) throw new Error(`${p.file}: the result does not have the expected shape (${v.error})`);
      p.panel.title = r.title;
      p.shownKind = v.value.kind;
      p.page.post({ type: 'result', file: p.file, title: r.title, data: v.value });
    } catch (e) {
      this.log.warn(`result panel: ${errorMessage(e)}`);
      p.page.post({ type: 'resultError', file: p.file, message: errorMessage(e) });
    }
  }

  /** A result panel's own requests; ready, inspect, openRun and export are the page controller's. */
  private handlers(p: Panel): PageHandlers<'result'> {
    return { kpcaOverlay: (m) => this.overlayRequest(p, m), removeOverlay: (m) => this.overlayRequest(p, m) };
  }

  private async overlayRequest(p: Panel, m: PageRequest<'result'>): Promise<void> {
    // Only a kernel PCA panel has these buttons, and they act on its own file.
    if ((p.kind ?? p.shownKind) !== 'kpca' || p.live || !this.requestHandler) {
      this.log.warn(`result panel: refused a "${m.type}" request: not a kernel PCA panel`);
      return;
    }
    await this.requestHandler(p.file, m);
  }

  dispose(): void {
    for (const p of this.panels) p.panel.dispose();
  }
}
