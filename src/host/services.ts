/** Everything a command handler may use, created once in activate(). */
import type * as vscode from 'vscode';
import type { AnalysisJobs } from './analysis';
import type { BackendStatus } from './backendStatus';
import type { BarrierJobs } from './barriers';
import type { CheckpointViewers } from './checkpointViewer';
import type { JobRunner } from './jobs';
import type { KpcaSet } from './kpcaSet';
import type { Log } from './log';
import type { MinimumA } from './minimumA';
import type { ReportPanels } from './reportPanel';
import type { ResultPanels } from './results';
import type { RunStore } from './runStore';
import type { SideViewProvider } from './sideView';
import type { StudyController } from './study';
import type { TrainingController } from './training';
import type { WorkspaceRuns } from './workspaceRuns';

export interface Services {
  context: vscode.ExtensionContext;
  log: Log;
  jobs: JobRunner;
  store: RunStore;
  runs: WorkspaceRuns;
  backend: BackendStatus;
  training: TrainingController;
  side: SideViewProvider;
  checkpoints: CheckpointViewers;
  results: ResultPanels;
  minimumA: MinimumA;
  barriers: BarrierJobs;
  study: StudyController;
  reports: ReportPanels;
  analysis: AnalysisJobs;
  kpcaSet: KpcaSet;
}

/** A command handler: VS Code passes (uri, selectedUris) from the explorer context menu. */
export type CommandHandler = (s: Services, ...args: unknown[]) => unknown;
