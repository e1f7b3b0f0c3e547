/**
 * "Landscape: Compare Optimizers": the optimizer study (engine runStudy) in a
 * worker, with progress and Cancel. Each run's training streams into the run
 * store, so the side view's live charts show it (the status line names the
 * run); the path search, kernel PCA and report phases show as status lines.
 * When it finishes, report.html opens in a panel.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { formatNumber } from '../protocol';
import { isCancelled, type JobProgress, type JobRunner } from './jobs';
import { ForegroundJob } from './foregroundJob';
import { reportError, type Log } from './log';
import type { ReportPanels } from './reportPanel';
import type { RunStore } from './runStore';
import { runsFolder } from './settings';
import type { TrainingController } from './training';
import { ensureTrusted, primaryFolder } from './workspace';
import type { WorkspaceRuns } from './workspaceRuns';
import type { StudyJobEvent } from '../worker/protocol';

export type StudyPresetName = 'quick' | 'default';

/** Where a preset's study goes: <runs folder>/study, or study-quick, so the two never overwrite each other. */
export function studyFolder(runsRoot: string, preset: StudyPresetName): string {
  return path.join(runsRoot, preset === 'default' ? 'study' : `study-${preset}`);
}

const PRESETS: { label: string; description: string; detail: string; value: StudyPresetName }[] = [
  {
    label: 'Quick',
    description: 'about 2 minutes',
    detail: '2 seeds per optimizer, 15 epochs, 1 pair per group, short path search: checks that everything works',
    value: 'quick',
  },
  {
    label: 'Default',
    description: 'under 10 minutes',
    detail: "4 seeds per optimizer, 40 epochs, 3 pairs per group: the paper's experiment at laptop scale",
    value: 'default',
  },
];

export class StudyController extends ForegroundJob<'study'> {
  constructor(
    private readonly jobs: JobRunner,
    private readonly store: RunStore,
    runs: WorkspaceRuns,
    private readonly training: TrainingController,
    private readonly reports: ReportPanels,
    private readonly log: Log,
  ) {
    super(runs);
  }

  async start(presetArg?: StudyPresetName): Promise<void> {
    if (!(await ensureTrusted('The optimizer study'))) return;
    if (this.job) {
      void vscode.window.showWarningMessage('Landscape: the optimizer study is already running; see its progress notification.');
      return;
    }
    if (this.training.running) {
      void vscode.window.showWarningMessage('Landscape: a training run is in progress; stop it or let it finish before the study.');
      return;
    }
    const folder = primaryFolder();
    if (!folder) {
      void vscode.window.showErrorMessage('Landscape: open a folder first; the study writes its runs and report into the workspace.');
      return;
    }
    let preset = presetArg;
    if (!preset) {
      const pick = await vscode.window.showQuickPick(PRESETS, {
        title: 'Landscape: Compare Optimizers (SGD against L-BFGS)',
        placeHolder: 'Which preset? Finished runs and paths of an earlier study are reused.',
        matchOnDetail: true,
      });
      if (!pick) return;
      preset = pick.value;
    }
    const out = studyFolder(runsFolder(folder.uri.fsPath), preset);
    this.log.info(`optimizer study (${preset}) into ${out}`);
    this.store.begin('study', out, `optimizer study (${preset})`, 0, 'study · ');
    this.store.setStatus('running', `study · ${preset} preset · starting…`);
    const job = this.jobs.start({ kind: 'study', out, preset }, { title: `Landscape: optimizer study (${preset})`, onEvent: (e, p) => this.onEvent(e, p, preset, out) });
    this.claimed(job);
    try {
      const r = await job.result;
      const reproduced = r.verdicts.filter((v) => v.reproduced).length;
      const text = `study done · ${reproduced} of ${r.verdicts.length} findings reproduced · ${path.relative(folder.uri.fsPath, out) || out}`;
      this.store.setStatus('completed', text);
      for (const line of r.summary) this.log.info(`study: ${line}`);
      this.reports.open(r.reportHtml);
      void vscode.window
        .showInformationMessage(`Landscape: optimizer study done: ${reproduced} of ${r.verdicts.length} of the paper's findings reproduced here.`, 'Open in Browser', 'Show Summary')
        .then((pick) => {
          if (pick === 'Open in Browser') void vscode.env.openExternal(vscode.Uri.file(r.reportHtml));
          else if (pick === 'Show Summary') this.log.show(true);
        });
    } catch (e) {
      if (isCancelled(e)) {
        this.store.setStatus('cancelled', `study stopped · finished runs and paths are kept in ${path.basename(out)} and reused next time`);
        void vscode.window.showInformationMessage('Landscape: study stopped. Run Compare Optimizers again to continue: finished runs and paths are reused.');
      } else {
        this.store.setStatus('failed', `study failed: ${e instanceof Error ? e.message : String(e)}`);
        reportError(this.log, 'the optimizer study failed', e);
      }
    } finally {
      this.released();
    }
  }


  private onEvent(e: StudyJobEvent, progress: JobProgress, preset: StudyPresetName, out: string): void {
    const say = (text: string, increment?: number) => {
      progress.report({ message: text, ...(increment ? { increment } : {}) });
    };
    switch (e.type) {
      case 'phase': {
        const text = `study · ${e.phase} · ${e.message}`;
        this.store.setStatus('running', text);
        say(e.message);
        return;
      }
      case 'run-start': {
        const tag = `study · ${e.run} (${e.index + 1}/${e.total}) · `;
        // Each run of the study gets the side view's live charts in turn.
        this.store.begin(`study:${preset}:${e.run}`, path.join(out, 'runs', e.run), `study · ${e.run}`, 0, tag);
        if (e.reused) this.store.setStatus('running', `${tag}reused the finished run`);
        say(`training ${e.run} (${e.index + 1}/${e.total})${e.reused ? ': reused' : ''}`, 40 / e.total);
        return;
      }
      case 'train':
        this.store.apply(e.event);
        if (e.event.type === 'epoch' && e.event.epoch > 0) say(`training ${e.run} · epoch ${e.event.epoch} · train loss ${formatNumber(e.event.trainLoss)}`);
        return;
      case 'path-start': {
        const text = `study · barriers · pair ${e.index + 1}/${e.total} · ${e.pair}${e.reused ? ' · reused' : ''}`;
        this.store.setStatus('running', text);
        say(text.slice('study · '.length), 50 / e.total);
        return;
      }
      case 'path-iteration': {
        const text = `study · barriers · ${e.pair} · iteration ${e.iteration}/${e.steps} · path height ${formatNumber(e.height)} · best ${formatNumber(e.bestHeight)}`;
        this.store.setStatus('running', text);
        say(text.slice('study · '.length));
        return;
      }
      case 'path-done': {
        const b = e.barrier;
        const text = `study · barriers · ${e.pair}: H ${formatNumber(b.optimized.height)} (straight ${formatNumber(b.straight.height)})`;
        this.store.setStatus('running', text);
        say(text.slice('study · '.length));
        return;
      }
    }
  }

}
