/**
 * "Landscape: Train" and "Landscape: Stop": reads landscape.json (or the
 * defaults), starts the training job in a worker, feeds its events into the
 * run store that the side view streams from, and reports the outcome.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { TrainForm } from '../protocol';
import { labelFromInfo, type BackendStatus } from './backendStatus';
import { COMMANDS, INTERNAL_COMMANDS } from './commandTable';
import {
  DEFAULT_EXPERIMENT,
  EXPERIMENT_FILE,
  applyForm,
  experimentToTrainConfig,
  parseExperiment,
  readExperimentFile,
  runFolderName,
  type Experiment,
} from './experiment';
import { isCancelled, type JobRunner } from './jobs';
import { ForegroundJob } from './foregroundJob';
import { reportError, type Log } from './log';
import { formatNumber, formatPercent, type RunStore } from './runStore';
import { backendSetting, checkpointEverySetting, runsFolder } from './settings';
import { ensureTrusted, primaryFolder } from './workspace';
import type { WorkspaceRuns } from './workspaceRuns';

export interface LoadedExperiment {
  experiment: Experiment;
  /** Absolute path of landscape.json, or null when the defaults apply. */
  file: string | null;
  root: string;
}

/** landscape.json as the user sees it: the editor's text when it is open (even unsaved), else the file. */
export function loadExperiment(root: string): LoadedExperiment {
  const file = path.join(root, EXPERIMENT_FILE);
  const open = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && d.uri.fsPath === file);
  let text: string | undefined = open?.getText();
  if (text === undefined) {
    const onDisk = readExperimentFile(file);
    if (onDisk === null) return { experiment: { ...DEFAULT_EXPERIMENT }, file: null, root };
    text = onDisk;
  }
  return { experiment: parseExperiment(text, file), file, root };
}

export class TrainingController extends ForegroundJob<'train'> {
  constructor(
    private readonly jobs: JobRunner,
    private readonly store: RunStore,
    runs: WorkspaceRuns,
    private readonly backend: BackendStatus,
    private readonly log: Log,
  ) {
    super(runs);
  }

  /**
   * Train landscape.json's experiment (or the defaults), with the side view's
   * form fields on top when it came from there. Resolves when the run ends.
   */
  async start(form?: TrainForm): Promise<void> {
    if (!(await ensureTrusted('Training'))) return;
    if (this.job) {
      const pick = await vscode.window.showWarningMessage('Landscape: a training run is already in progress.', 'Stop It');
      if (pick) this.stop();
      return;
    }
    if (this.store.isActive) {
      // The optimizer study streams its runs through the same store (and side view charts).
      void vscode.window.showWarningMessage('Landscape: the optimizer study is running; stop it (Landscape: Stop) or let it finish before training.');
      return;
    }
    const folder = primaryFolder();
    if (!folder) {
      void vscode.window.showErrorMessage('Landscape: open a folder first; runs are written into the workspace.');
      return;
    }
    const root = folder.uri.fsPath;
    let exp: Experiment;
    let expFile: string | null;
    try {
      const loaded = loadExperiment(root);
      expFile = loaded.file;
      exp = form ? applyForm(loaded.experiment, form) : loaded.experiment;
    } catch (e) {
      reportError(this.log, 'cannot train', e);
      return;
    }
    const runsRoot = runsFolder(root);
    const name = runFolderName(exp, new Date(), (n) => fs.existsSync(path.join(runsRoot, n)));
    const out = path.join(runsRoot, name);
    const config = experimentToTrainConfig(exp, { root, out, backend: backendSetting(), checkpointEvery: checkpointEverySetting() });
    this.log.info(`training ${expFile ? `from ${expFile}` : 'the default experiment (no landscape.json)'}${form ? ' with the side view form' : ''}: ${JSON.stringify(config)}`);
    if (!expFile && !form) {
      void vscode.window
        .showInformationMessage(
          `Landscape: no ${EXPERIMENT_FILE} here, so training the default (${exp.dataset}, ${exp.model}, ${exp.optimizer}, ${exp.epochs} epochs).`,
          'New Experiment',
        )
        .then((pick) => pick && vscode.commands.executeCommand(COMMANDS.newExperiment.id));
    }

    const label = `${exp.dataset} · ${exp.model} · ${exp.optimizer}`;
    this.store.begin(name, out, label, exp.epochs);
    const job = this.jobs.start(
      { kind: 'train', config },
      {
        title: `Landscape: training ${label}`,
        onEvent: (ev, progress) => {
          this.store.apply(ev);
          if (ev.type === 'start') {
            this.backend.set(labelFromInfo(ev.backend));
            progress.report({ message: `${ev.backend.name} backend · ${ev.paramCount} parameters · ${ev.trainSize} training samples` });
          } else if (ev.type === 'epoch') {
            progress.report({
              message: `epoch ${ev.epoch}/${exp.epochs} · train loss ${formatNumber(ev.trainLoss)} · test loss ${formatNumber(ev.testLoss)}`,
              increment: ev.epoch > 0 ? 100 / exp.epochs : 0,
            });
          }
        },
      },
    );
    this.claimed(job);
    try {
      const run = await job.result;
      this.store.finish('completed');
      const best = run.best;
      const rel = path.relative(root, out) || out;
      const summary = best
        ? `best test loss ${formatNumber(best.testLoss)}${best.testAccuracy !== undefined ? ` (accuracy ${formatPercent(best.testAccuracy)})` : ''} at epoch ${best.epoch}`
        : `${run.epochsCompleted} epochs`;
      this.log.info(`run ${out} completed: ${summary}`);
      void vscode.window.showInformationMessage(`Landscape: training done, ${summary}. Checkpoints in ${rel}.`, 'Inspect Final Checkpoint', 'Open Run').then((pick) => {
        if (pick === 'Inspect Final Checkpoint') {
          void vscode.commands.executeCommand(COMMANDS.inspectCheckpoint.id, vscode.Uri.file(path.join(out, 'final.safetensors')));
        } else if (pick === 'Open Run') {
          void vscode.commands.executeCommand(INTERNAL_COMMANDS.openRun, vscode.Uri.file(path.join(out, 'run.json')));
        }
      });
    } catch (e) {
      if (isCancelled(e)) {
        this.store.finish('cancelled');
        void vscode.window.showInformationMessage(`Landscape: training stopped; finished epochs are saved in ${path.relative(root, out) || out}.`);
      } else {
        this.store.finish('failed', e instanceof Error ? e.message : String(e));
        reportError(this.log, 'training failed', e);
      }
    } finally {
      this.released();
    }
  }


}
