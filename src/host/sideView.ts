/**
 * The Landscape side view: live training charts, the workspace's runs and
 * checkpoints, the backend, and the training form. It gets a snapshot of the
 * run store when its page loads (the page is rebuilt every time the view is
 * shown again), then coalesced deltas.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import type { PageHostMessage, TrainForm } from '../protocol';
import type { BackendStatus } from './backendStatus';
import { Coalescer } from './coalescer';
import { COMMANDS, VIEW_IDS } from './commandTable';
import { formFromExperiment, DEFAULT_EXPERIMENT, EXPERIMENT_FILE } from './experiment';
import type { Log } from './log';
import { mergeDeltas, type RunDelta, type RunStore } from './runStore';
import { readLastRun } from './lastRun';
import { maxStreamRateSetting, runsFolder } from './settings';
import type { StudyController } from './study';
import type { TrainingController } from './training';
import { loadExperiment } from './training';
import { PageController, type PageHandlers } from './pageController';
import { checkWorkspaceFile, primaryFolder } from './workspace';
import type { WorkspaceRuns } from './workspaceRuns';

/** How long after the page's 'ready' the backend probe starts (see probeSoon). */
const PROBE_DELAY_MS = 3000;

export class SideViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private page: PageController<'side'> | undefined;
  private readonly coalescer: Coalescer<RunDelta>;
  private readonly subs: vscode.Disposable[] = [];
  private readonly viewSubs: vscode.Disposable[] = [];
  private restoring: Promise<void> | undefined;
  private probeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly store: RunStore,
    private readonly runs: WorkspaceRuns,
    private readonly backend: BackendStatus,
    private readonly training: TrainingController,
    private readonly study: StudyController,
    private readonly log: Log,
    private readonly checkOutgoing: boolean,
  ) {
    this.coalescer = new Coalescer<RunDelta>((d) => this.post({ type: 'runDelta', ...d }), mergeDeltas, maxStreamRateSetting());
    const unsubscribe = store.onEvent((e) => {
      if (e.kind === 'reset') {
        this.coalescer.reset();
        if (this.isLive()) this.sendSnapshot();
        return;
      }
      if (!this.isLive()) return;
      this.coalescer.push(e.delta);
      const st = e.delta.status?.state;
      // The end of a run goes out at once, not up to 1/rate later.
      if (st === 'completed' || st === 'failed' || st === 'cancelled') this.coalescer.flush();
    });
    this.subs.push({ dispose: unsubscribe });
    this.subs.push(runs.onDidChange((list) => this.isLive() && void this.post({ type: 'runs', runs: list })));
    this.subs.push(backend.onDidChange((b) => this.isLive() && void this.post({ type: 'backend', backend: b })));
    const watcher = vscode.workspace.createFileSystemWatcher(`**/${EXPERIMENT_FILE}`);
    const formChanged = () => this.isLive() && this.sendForm();
    this.subs.push(watcher, watcher.onDidChange(formChanged), watcher.onDidCreate(formChanged), watcher.onDidDelete(formChanged));
    void this.restoreLastRun();
  }

  /**
   * With no run in the store (a fresh window, or after a reload), show the
   * newest run folder's curves as a finished run. The store's reset sends the
   * page a snapshot when it is showing.
   */
  restoreLastRun(): Promise<void> {
    if (this.store.current || this.restoring) return this.restoring ?? Promise.resolve();
    const root = primaryFolder()?.uri.fsPath;
    if (!root) return Promise.resolve();
    const dir = runsFolder(root);
    this.restoring = readLastRun(dir)
      .then((run) => {
        if (run && this.store.restore(run)) this.log.info(`side view: showing the last run, ${run.runDir} (${run.points.length} epochs)`);
      })
      .catch((e) => this.log.warn(`side view: could not read the last run in ${dir}: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => (this.restoring = undefined));
    return this.restoring;
  }

  setMaxRate(rate: number): void {
    this.coalescer.setRate(rate);
  }

  /** Show the view (Landscape: Open Panel). */
  async reveal(): Promise<void> {
    // These info lines time the way to the first chart (the end-to-end test prints them).
    this.log.info('side view: revealing');
    await vscode.commands.executeCommand(`workbench.view.extension.${VIEW_IDS.container}`);
    await vscode.commands.executeCommand(`${VIEW_IDS.side}.focus`);
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.disposeView();
    this.view = view;
    this.log.info('side view: building the page');
    const page = new PageController(view, {
      page: 'side',
      name: 'side view',
      title: 'Landscape',
      extensionUri: this.extensionUri,
      log: this.log,
      checkOutgoing: this.checkOutgoing,
      handlers: this.handlers(),
      onReady: () => {
        this.log.info('side view: page ready, sending the snapshot');
        this.sendSnapshot();
        this.probeSoon();
      },
      // A hidden view's page is destroyed (no retainContextWhenHidden: charts of
      // long runs are not worth the memory). Shown again, the new page says
      // 'ready' and gets a snapshot with the whole history.
      onHidden: () => this.coalescer.reset(),
      exportFolder: () => primaryFolder()?.uri.fsPath,
    });
    this.page = page;
    this.viewSubs.push(
      page,
      view.onDidDispose(() => {
        if (this.view === view) this.disposeView();
      }),
    );
    void this.runs.scanNow();
    void this.restoreLastRun();
  }

  /**
   * Ask the worker which backend it would use, once the page has had time to
   * draw: the probe loads tfjs in a worker thread (about a second of CPU), and
   * on two cores that second would otherwise come out of the first chart's.
   * The snapshot shows "checking…" until then; the answer arrives as 'backend'.
   */
  private probeSoon(): void {
    if (this.probeTimer) return;
    this.probeTimer = setTimeout(() => {
      this.probeTimer = undefined;
      void this.backend.probe();
    }, PROBE_DELAY_MS);
  }

  private isLive(): boolean {
    return this.view !== undefined && this.view.visible && this.page !== undefined && this.page.ready;
  }

  private post(m: PageHostMessage<'side'>): void {
    this.page?.post(m);
  }

  private currentForm(): { form: TrainForm; experimentFile: string | null } {
    const root = primaryFolder()?.uri.fsPath;
    if (!root) return { form: formFromExperiment(DEFAULT_EXPERIMENT), experimentFile: null };
    try {
      const loaded = loadExperiment(root);
      return { form: formFromExperiment(loaded.experiment), experimentFile: loaded.file ? path.relative(root, loaded.file) : null };
    } catch (e) {
      // A broken landscape.json: the form shows the defaults; Train reports the fault.
      this.log.warn(`side view: ${e instanceof Error ? e.message : String(e)}`);
      return { form: formFromExperiment(DEFAULT_EXPERIMENT), experimentFile: path.join(root, EXPERIMENT_FILE) };
    }
  }

  private sendForm(): void {
    const { form, experimentFile } = this.currentForm();
    this.post({ type: 'form', form, experimentFile });
  }

  private sendSnapshot(): void {
    if (!this.page) return;
    this.coalescer.reset();
    const { form, experimentFile } = this.currentForm();
    this.page.post({
      type: 'sideSnapshot',
      live: this.store.snapshot(),
      runs: this.runs.list,
      backend: this.backend.label,
      form,
      datasets: this.backend.datasets,
      optimizers: this.backend.optimizers,
      training: this.training.running || this.study.running,
      experimentFile,
    });
  }

  /** The side view's own requests; ready, inspect, openRun and export are the page controller's. */
  private handlers(): PageHandlers<'side'> {
    return {
      train: (m) => this.training.start(m.form),
      stop: () => {
        if (!this.training.stop() && !this.study.stop()) void vscode.window.showInformationMessage('Landscape: no training run to stop.');
      },
      openExperiment: () => this.openExperiment(),
      selectBackend: () => vscode.commands.executeCommand(COMMANDS.selectBackend.id),
    };
  }

  private async openExperiment(): Promise<void> {
    const root = primaryFolder()?.uri.fsPath;
    const file = root && path.join(root, EXPERIMENT_FILE);
    if (file && checkWorkspaceFile(file)) await vscode.window.showTextDocument(vscode.Uri.file(file));
    else await vscode.commands.executeCommand(COMMANDS.newExperiment.id);
  }

  private disposeView(): void {
    for (const s of this.viewSubs.splice(0)) s.dispose();
    this.view = undefined;
    this.page = undefined;
    this.coalescer.reset();
  }

  dispose(): void {
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.disposeView();
    this.coalescer.dispose();
    for (const s of this.subs.splice(0)) s.dispose();
  }
}
