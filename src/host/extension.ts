/**
 * Entry of dist/extension.js. The extension host only wires things together:
 * it never loads tfjs (a unit test checks the bundle's inputs); every
 * computation runs in dist/worker.js threads started by the JobRunner.
 */
import * as vscode from 'vscode';
import { AnalysisJobs } from './analysis';
import { BackendStatus } from './backendStatus';
import { BarrierJobs } from './barriers';
import { CheckpointViewers } from './checkpointViewer';
import { VIEW_IDS, WEBVIEW_TYPES } from './commandTable';
import { registerCommands } from './commands';
import { JobRunner } from './jobs';
import { KpcaSet } from './kpcaSet';
import { createLog } from './log';
import { MinimumA } from './minimumA';
import { ReportPanels } from './reportPanel';
import { ResultPanels } from './results';
import { analysisKind } from './results/analysis';
import { instabilityKind } from './results/instability';
import { barrierMatrixKind, barrierPathKind } from './results/barriers';
import { trainingRunKind } from './results/trainingRun';
import { RunStore } from './runStore';
import type { Services } from './services';
import { affects, backendSetting, maxStreamRateSetting, queueSetting, tfjsNodePathSetting } from './settings';
import { QueueStatus } from './queueStatus';
import { SideViewProvider } from './sideView';
import { StudyController } from './study';
import { TrainingController } from './training';
import { WorkspaceRuns } from './workspaceRuns';

declare const __LANDSCAPE_VERSION__: string | undefined;

export function activate(context: vscode.ExtensionContext): { services: Services } {
  const log = createLog();
  const version = typeof __LANDSCAPE_VERSION__ === 'string' ? __LANDSCAPE_VERSION__ : 'dev';
  log.info(`Landscape ${version} activated (VS Code ${vscode.version}, Node ${process.versions.node}, ${vscode.workspace.isTrusted ? 'trusted' : 'untrusted'} workspace)`);
  // Outgoing messages are schema-checked while developing and testing; bugs then show in the log.
  const checkOutgoing = context.extensionMode !== vscode.ExtensionMode.Production;

  const workerPath = vscode.Uri.joinPath(context.extensionUri, 'dist', 'worker.js').fsPath;
  const jobs = new JobRunner(workerPath, log, () => backendSetting(), () => tfjsNodePathSetting(), () => queueSetting());
  const store = new RunStore();
  const runs = new WorkspaceRuns(log);
  const backend = new BackendStatus(jobs, log);
  const training = new TrainingController(jobs, store, runs, backend, log);
  const reports = new ReportPanels(log);
  const study = new StudyController(jobs, store, runs, training, reports, log);
  const side = new SideViewProvider(context.extensionUri, store, runs, backend, training, study, log, checkOutgoing);
  const minimumA = new MinimumA(context.workspaceState);
  const checkpoints = new CheckpointViewers(context.extensionUri, jobs, minimumA, log, checkOutgoing);
  const results = new ResultPanels(context.extensionUri, log, checkOutgoing);
  results.register(trainingRunKind);
  results.register(barrierPathKind(jobs));
  results.register(barrierMatrixKind);
  results.register(instabilityKind);
  for (const kind of ['kpca', 'hessian', 'gradcheck', 'slice'] as const) results.register(analysisKind(kind));
  const barriers = new BarrierJobs(jobs, results, log);
  const analysis = new AnalysisJobs(jobs, results, log);
  results.onPanelRequest((file, m) => analysis.onPanelRequest(file, m));
  const kpcaSet = new KpcaSet(context.workspaceState);
  const queueStatus = new QueueStatus(log);

  const s: Services = { context, log, jobs, store, runs, backend, training, side, checkpoints, results, minimumA, barriers, study, reports, analysis, kpcaSet };

  context.subscriptions.push(
    log,
    jobs,
    runs,
    backend,
    training,
    study,
    reports,
    side,
    minimumA,
    checkpoints,
    results,
    kpcaSet,
    queueStatus,
    vscode.window.registerWebviewViewProvider(VIEW_IDS.side, side),
    vscode.window.registerCustomEditorProvider(WEBVIEW_TYPES.checkpointEditor, checkpoints, {
      supportsMultipleEditorsPerDocument: true,
      webviewOptions: { enableFindWidget: true },
    }),
    vscode.window.registerWebviewPanelSerializer(WEBVIEW_TYPES.checkpointPanel, checkpoints),
    vscode.window.registerWebviewPanelSerializer(WEBVIEW_TYPES.result, results),
    vscode.window.registerCustomEditorProvider(WEBVIEW_TYPES.resultEditor, results, {
      supportsMultipleEditorsPerDocument: true,
      webviewOptions: { enableFindWidget: true },
    }),
    vscode.window.registerWebviewPanelSerializer(WEBVIEW_TYPES.report, reports),
    ...registerCommands(s),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (affects(e, 'backend') || affects(e, 'tfjsNodePath')) backend.invalidate();
      if (affects(e, 'maxStreamRate')) side.setMaxRate(maxStreamRateSetting());
      if (affects(e, 'runsFolder')) runs.refresh();
      if (affects(e, 'queue')) queueStatus.refresh();
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => log.info('workspace trusted: training and New Experiment are available')),
  );
  void vscode.commands.executeCommand('setContext', 'landscape.training', false);
  runs.refresh();
  return { services: s };
}

export function deactivate(): void {
  // Nothing to do: VS Code disposes context.subscriptions, which cancels running jobs.
}
