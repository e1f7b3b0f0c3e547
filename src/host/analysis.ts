/**
 * The analysis jobs as the user sees them: kernel PCA of checkpoints (and
 * overlays added from its panel), the Hessian spectrum and stability, the
 * gradient check, and slices. Each runs in a worker with a progress
 * notification (Cancel), saves its result beside the checkpoints, and opens
 * the result panel; a result computed before offers Open Saved or Recompute.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { WebviewMessage } from '../protocol';
import { readSafetensorsHeader } from '../engine/checkpoint/safetensors';
import { needsLearningRate } from '../engine/hyperparameters';
import {
  checkpointLabel,
  gradcheckResultFile,
  hessianResultFile,
  kpcaResultFile,
  readAnalysisResult,
  saveAnalysisResult,
  sliceResultFile,
  vscodeWording,
  checkLearningRateInput,
  SLICE_CHOICES,
  ANALYSIS_SUFFIXES,
  type AnalysisKind,
} from './analysisFiles';

export { SLICE_CHOICES } from './analysisFiles';
import { notificationText } from './guards';
import { isCancelled, type JobProgress, type JobRunner } from './jobs';
import { errorMessage, reportError, type Log } from './log';
import type { ResultPanels } from './results';
import { resultFileDate } from '../results/resultFiles';
import { hessianSettings, kpcaSettings, runsFolder, slicePointsSetting } from './settings';
import { ensureTrusted, primaryFolder, workspaceRoots } from './workspace';
import type { AnalysisJobEvent, JobRequest, SliceKindName } from '../worker/protocol';

/** More checkpoints than this in one map is a mistake (each is read whole into memory). */
export const MAX_KPCA_CHECKPOINTS = 2000;

type AnalysisRequest = Extract<JobRequest, { kind: 'kpca' | 'kpcaOverlay' | 'hessian' | 'gradcheck' | 'slice' | 'trajectorySlice' | 'instability' }>;

export class AnalysisJobs {
  constructor(
    private readonly jobs: JobRunner,
    private readonly results: ResultPanels,
    private readonly log: Log,
  ) {}

  /** Kernel PCA of checkpoints; `folder` names the result after a folder the user chose. */
  async kernelPca(files: string[], folder?: string): Promise<void> {
    if (!(await ensureTrusted('Kernel PCA'))) return;
    if (files.length < 2) {
      void vscode.window.showErrorMessage(
        notificationText(`Landscape: kernel PCA needs at least two checkpoints, ${folder ? `but ${folder} holds ${files.length}` : `got ${files.length}`}; choose a folder of runs, or add checkpoints to the kernel PCA set (right-click > Add to Kernel PCA Set).`),
      );
      return;
    }
    if (files.length > MAX_KPCA_CHECKPOINTS) {
      void vscode.window.showErrorMessage(`Landscape: ${files.length} checkpoints is more than ${MAX_KPCA_CHECKPOINTS} for one map; choose fewer (e.g. the final checkpoint of each run).`);
      return;
    }
    const out = kpcaResultFile(files, folder);
    const title = `Kernel PCA of ${files.length} checkpoints${folder ? ` in ${path.basename(folder)}` : ''}`;
    if (await this.reuse('kpca', out, title, (saved) => savedSet(saved, files))) return;
    await this.run({ kind: 'kpca', files, out, settings: kpcaSettings() }, 'kpca', title);
  }

  async hessian(file: string): Promise<void> {
    if (!(await ensureTrusted('Computing the Hessian spectrum'))) return;
    const out = hessianResultFile(file);
    const title = `Hessian spectrum of ${checkpointLabel(file)}`;
    if (await this.reuse('hessian', out, title)) return;
    let lr: number | undefined;
    if (await this.needsLr(file)) {
      const typed = await vscode.window.showInputBox({
        title: `Landscape: ${title}`,
        prompt: `${path.basename(file)} records no learning rate. The stability verdict compares λmax with 2/η: give η, or leave it empty for the spectrum alone.`,
        placeHolder: 'learning rate η, e.g. 0.1',
        validateInput: checkLearningRateInput,
      });
      if (typed === undefined) return;
      if (typed.trim() !== '') lr = Number(typed.trim());
    }
    const { k, traceSamples, density, perLayer } = hessianSettings();
    await this.run({ kind: 'hessian', file, out, k, traceSamples, density, perLayer, ...(lr !== undefined ? { lr } : {}) }, 'hessian', title);
  }

  async gradcheck(file: string): Promise<void> {
    if (!(await ensureTrusted('The gradient check'))) return;
    const out = gradcheckResultFile(file);
    const title = `Gradient check of ${checkpointLabel(file)}`;
    if (await this.reuse('gradcheck', out, title)) return;
    await this.run({ kind: 'gradcheck', file, out }, 'gradcheck', title);
  }

  async slice(kind: SliceKindName, files: string[]): Promise<void> {
    if (!(await ensureTrusted('Plotting a slice'))) return;
    const choice = SLICE_CHOICES.find((c) => c.kind === kind)!;
    if (files.length !== choice.checkpoints) {
      void vscode.window.showErrorMessage(`Landscape: a ${choice.label.toLowerCase()} slice takes ${choice.checkpoints} checkpoint${choice.checkpoints === 1 ? '' : 's'}, got ${files.length}.`);
      return;
    }
    const out = sliceResultFile(kind, files);
    const title = `${choice.label} slice around ${checkpointLabel(files[0])}`;
    if (await this.reuse('slice', out, title)) return;
    await this.run({ kind: 'slice', slice: kind, files, out, points: slicePointsSetting(choice.twoD) }, 'slice', title);
  }

  /** An instability analysis of the experiment `train` in the new folder `out`; its panel opens when it is done. */
  async instability(train: Record<string, unknown>, spawnEpochs: number[], out: string): Promise<void> {
    await this.run({ kind: 'instability', train, spawnEpochs, children: 2, out }, 'instability', `Instability analysis in ${path.basename(out)}`);
  }

  /** The trajectory plane of the run a checkpoint belongs to (its folder, or the run folder above checkpoints/). */
  async trajectorySlice(file: string): Promise<void> {
    if (!(await ensureTrusted('Plotting a slice'))) return;
    const dir = path.dirname(file);
    const run = path.basename(dir) === 'checkpoints' ? path.dirname(dir) : dir;
    const out = path.join(run, `${path.basename(run)}.trajectory${ANALYSIS_SUFFIXES.slice}`);
    const title = `Trajectory plane of ${path.basename(run)}`;
    if (await this.reuse('slice', out, title)) return;
    await this.run({ kind: 'trajectorySlice', run, out, points: slicePointsSetting(true) }, 'slice', title);
  }

  /** A kernel PCA panel's overlay button (or its remove button): the panel's file only, never a path from the page. */
  async onPanelRequest(file: string, m: Extract<WebviewMessage, { type: 'kpcaOverlay' | 'removeOverlay' }>): Promise<void> {
    if (!(await ensureTrusted('Changing a kernel PCA map'))) return;
    try {
      // The CLI's maps and ours have one shape: either takes overlays, once it reads as a map.
      readAnalysisResult(file, 'kpca', workspaceRoots());
    } catch (e) {
      this.results.setStatus(file, `cannot change the map: ${errorMessage(e)}`, false);
      reportError(this.log, 'cannot change the map', e);
      return;
    }
    if (m.type === 'removeOverlay') {
      try {
        const r = readAnalysisResult(file, 'kpca', workspaceRoots());
        const removed = r.data.overlays[m.index];
        if (!removed) return;
        r.data.overlays.splice(m.index, 1);
        saveAnalysisResult(file, r.data);
        this.results.setStatus(file, `removed ${removed.label}`, false);
        this.results.open('kpca', file);
      } catch (e) {
        reportError(this.log, 'removing the overlay failed', e);
      }
      return;
    }
    const input = await this.pickOverlayInput(file, m.source);
    if (!input) return;
    this.results.setStatus(file, `projecting ${path.basename(input)} into the map…`, true);
    const ok = await this.run({ kind: 'kpcaOverlay', file, source: m.source, input, roots: workspaceRoots() }, 'kpca', `Overlay of ${path.basename(input)}`, (text) =>
      this.results.setStatus(file, text, false),
    );
    if (!ok) this.results.setStatus(file, 'no overlay added', false);
  }

  private async pickOverlayInput(file: string, source: 'trajectory' | 'path'): Promise<string | undefined> {
    const root = primaryFolder()?.uri.fsPath;
    const picked = await vscode.window.showOpenDialog(
      source === 'trajectory'
        ? {
            canSelectFiles: false,
            canSelectFolders: true,
            canSelectMany: false,
            openLabel: 'Project Its Trajectory',
            title: 'Landscape: a run folder (its periodic checkpoints are projected into the map)',
            defaultUri: vscode.Uri.file(root ? runsFolder(root) : path.dirname(file)),
          }
        : {
            canSelectFiles: true,
            canSelectFolders: false,
            canSelectMany: false,
            openLabel: 'Project Its Points',
            title: 'Landscape: a path between minima (a .path.json, or the JSON of landscape path --out)',
            defaultUri: vscode.Uri.file(path.dirname(file)),
            filters: { 'Path results': ['json'] },
          },
    );
    const p = picked?.[0];
    if (!p) return undefined;
    if (p.scheme !== 'file') {
      void vscode.window.showErrorMessage('Landscape: overlays are read from files on disk.');
      return undefined;
    }
    return p.fsPath;
  }

  private async needsLr(file: string): Promise<boolean> {
    if (!/\.safetensors$/i.test(file)) return true;
    try {
      const h = await readSafetensorsHeader(file);
      return needsLearningRate(h.metadata, file);
    } catch {
      // The job reads the file again and reports what is wrong with it.
      return false;
    }
  }

  /** When a result exists: Open Saved (true: done), Recompute (false), or nothing (true). */
  private async reuse(kind: AnalysisKind, out: string, title: string, describe?: (saved: unknown) => string | undefined): Promise<boolean> {
    if (!fs.existsSync(out)) return false;
    const when = resultFileDate(out);
    let extra: string | undefined;
    if (describe) {
      try {
        extra = describe(readAnalysisResult(out, kind).data);
      } catch {
        extra = undefined;
      }
    }
    const pick = await vscode.window.showInformationMessage(
      notificationText(`Landscape: ${title} was computed ${when ? `on ${when}` : 'before'} (${path.basename(out)})${extra ? `; ${extra}` : ''}.`),
      'Open Saved',
      'Recompute',
    );
    if (pick === 'Open Saved') {
      this.results.open(kind, out);
      return true;
    }
    return pick !== 'Recompute';
  }

  private async run(request: AnalysisRequest, kind: AnalysisKind | 'instability', title: string, onDone?: (summary: string) => void): Promise<boolean> {
    let last = 0;
    const onEvent = (e: AnalysisJobEvent, progress: JobProgress) => {
      if (e.type === 'setup') {
        progress.report({ message: e.text });
        return;
      }
      const frac = e.total > 0 ? Math.min(1, e.done / e.total) : 0;
      const increment = Math.max(0, (frac - last) * 100);
      last = Math.max(last, frac);
      progress.report({ message: e.text, increment });
    };
    this.log.info(`${title}: ${JSON.stringify(request)}`);
    const job = this.jobs.start(request, { title: `Landscape: ${title}`, onEvent });
    try {
      const r = await job.result;
      this.log.info(`${title}: ${r.summary}. Saved ${r.file} (${r.seconds.toFixed(1)} s).`);
      this.results.open(kind, r.file);
      onDone?.(r.summary);
      void vscode.window.showInformationMessage(notificationText(`Landscape: ${title}: ${r.summary}.`));
      return true;
    } catch (e) {
      if (isCancelled(e)) {
        void vscode.window.showInformationMessage(notificationText(`Landscape: ${title} cancelled; nothing was saved.`));
      } else {
        reportError(this.log, `${title} failed`, new Error(vscodeWording(errorMessage(e))));
      }
      return false;
    }
  }
}

/** How a saved map's checkpoints differ from the ones asked for, if they do. */
function savedSet(saved: unknown, files: readonly string[]): string | undefined {
  const d = saved as { kind?: string; points?: { file: string }[] };
  if (d.kind !== 'kpca' || !d.points) return undefined;
  const had = new Set(d.points.map((p) => p.file));
  const same = had.size === files.length && files.every((f) => had.has(f));
  return same ? undefined : `it maps ${had.size} checkpoints, the selection has ${files.length}`;
}
