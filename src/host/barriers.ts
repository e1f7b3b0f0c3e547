/**
 * Barrier jobs as the user sees them: a path between two minima, or all
 * pairs of a set, run in a worker with a progress notification (Cancel), the
 * path height streamed to a live result panel as it falls, the result saved
 * beside the checkpoints and shown when done.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { formatNumber, type HeightNumbers } from '../protocol';
import { BARRIERS_FILE, commonFolder, minimumLabel, pathResultFile } from '../results/barrierFiles';
import { isCancelled, type JobProgress, type JobRunner } from './jobs';
import { notificationText } from './guards';
import { errorMessage, reportError, type Log } from './log';
import type { LiveResult, ResultPanels } from './results';
import { resultFileDate } from '../results/resultFiles';
import { pathSettings } from './settings';
import { ensureTrusted } from './workspace';
import { isTfjsModelJson } from './workspaceRuns';
import type { PathJobEvent } from '../worker/protocol';

/** More minima than this in one all-pairs job is a mistake (the matrices are n×n). */
export const MAX_BARRIER_MINIMA = 200;
/** Up to this many pairs run without asking; more offers a random selection. */
const ASK_ABOVE_PAIRS = 15;

function short(file: string): string {
  return minimumLabel(file, path.dirname(path.dirname(file)));
}

function heightLine(h: HeightNumbers): string {
  return `H ${formatNumber(h.height)} (barrier ${formatNumber(h.barrierFromMean)} above the mean end loss, at t = ${formatNumber(h.tAtMax, 3)})`;
}

export class BarrierJobs {
  constructor(
    private readonly jobs: JobRunner,
    private readonly results: ResultPanels,
    private readonly log: Log,
  ) {}

  /** Path A ↔ B: reuse the saved result if the user wants, else compute it with live progress. */
  async computePath(a: string, b: string): Promise<void> {
    if (!(await ensureTrusted('Computing a barrier'))) return;
    const settings = pathSettings();
    const out = pathResultFile(a, b, settings.method);
    if (fs.existsSync(out)) {
      const when = resultFileDate(out);
      const pick = await vscode.window.showInformationMessage(
        notificationText(`Landscape: the path ${short(a)} ↔ ${short(b)} was computed ${when ? `on ${when}` : 'before'} (${path.basename(out)}).`),
        'Open Saved',
        'Recompute',
      );
      if (pick === 'Open Saved') {
        this.results.open('barrierPath', out);
        return;
      }
      if (pick !== 'Recompute') return;
    }
    const title = `Barrier ${short(a)} ↔ ${short(b)}`;
    const live = this.results.openLive('barrierPath', out, title);
    live.setStatus(`starting: ${settings.points} path points, ${settings.steps} steps…`);
    this.log.info(`barrier ${a} ↔ ${b}: ${JSON.stringify(settings)} -> ${out}`);
    const plan = { steps: settings.steps, pairs: 1 };
    const job = this.jobs.start(
      { kind: 'path', a, b, out, settings },
      { title: `Landscape: ${title}`, onEvent: (e, progress) => this.onPathEvent(e, progress, live, plan) },
    );
    try {
      const r = await job.result;
      // Asked before complete(): a panel still showing the computation gets the result itself.
      const actions = live.shown ? [] : ['Open Result'];
      live.complete();
      const msg = `Landscape: ${title}: ${heightLine(r.optimized)}; straight line H ${formatNumber(r.straight.height)}.`;
      this.log.info(`${msg} Saved ${out}.`);
      void vscode.window.showInformationMessage(notificationText(msg), ...actions).then((pick) => pick && this.results.open('barrierPath', out));
    } catch (e) {
      this.ended(e, live, 'computing the barrier failed');
    }
  }

  /** All pairs (or a random selection) of `files`, saved as barriers.json in `folder`. */
  async computeAll(files: string[], folder: string): Promise<void> {
    if (!(await ensureTrusted('Computing barriers'))) return;
    if (files.length < 2) {
      void vscode.window.showErrorMessage(notificationText(`Landscape: barriers need at least two checkpoints; ${folder} has ${files.length}.`));
      return;
    }
    if (files.length > MAX_BARRIER_MINIMA) {
      void vscode.window.showErrorMessage(`Landscape: ${files.length} checkpoints is more than ${MAX_BARRIER_MINIMA}; select fewer (e.g. the final checkpoints of each run).`);
      return;
    }
    const selection = await pickSelection(files.length);
    if (!selection) return;
    const settings = pathSettings();
    const out = path.join(folder, BARRIERS_FILE);
    const title = `Barriers in ${path.basename(folder)}`;
    const pairs = selection === 'all' ? (files.length * (files.length - 1)) / 2 : Number(selection.split(':')[1]);
    const live = this.results.openLive('barrierMatrix', out, title);
    live.setStatus(`starting: ${files.length} minima, ${pairs} pairs, ${settings.steps} steps each…`);
    this.log.info(`barriers in ${folder}: ${files.length} minima, pairs ${selection}, ${JSON.stringify(settings)} -> ${out}`);
    const plan = { steps: settings.steps, pairs };
    const job = this.jobs.start(
      { kind: 'barriers', files, folder, out, selection, settings },
      { title: `Landscape: ${title}`, onEvent: (e, progress) => this.onPathEvent(e, progress, live, plan) },
    );
    try {
      const r = await job.result;
      const actions = live.shown ? [] : ['Open Result'];
      live.complete();
      const range = r.minBarrier !== null && r.maxBarrier !== null ? `; barriers from ${formatNumber(r.minBarrier)} to ${formatNumber(r.maxBarrier)}` : '';
      const msg = `Landscape: ${title}: ${r.pairs} pairs of ${r.minima} minima${range}.`;
      this.log.info(`${msg} Saved ${out}.`);
      void vscode.window.showInformationMessage(notificationText(msg), ...actions).then((pick) => pick && this.results.open('barrierMatrix', out));
    } catch (e) {
      this.ended(e, live, 'computing the barriers failed');
    }
  }

  private ended(e: unknown, live: LiveResult, what: string): void {
    if (isCancelled(e)) {
      live.fail('Cancelled. Nothing was saved; run the command again to compute it.');
      return;
    }
    let err = e;
    if (/trained on different data/.test(errorMessage(e))) {
      // The engine's hint is for the terminal; in VS Code the split comes from landscape.json.
      err = new Error(`${errorMessage(e).replace(/;? ?pass --dataset.*$/, '')}. Train the runs you compare with the same "dataSeed" in landscape.json (it defaults to "seed").`);
    }
    live.fail(errorMessage(err));
    reportError(this.log, what, err);
  }

  /**
   * `plan.steps` is the last iteration number of a pair: the configured steps
   * until the worker's setup event says how many it runs (the refinement band's
   * iterations continue the count), then that.
   */
  private onPathEvent(e: PathJobEvent, progress: JobProgress, live: LiveResult, plan: { steps: number; pairs: number }): void {
    const { steps, pairs } = plan;
    // Progress moves once per iteration; every pair has steps + 1 evaluated iterates.
    const perIteration = 100 / (pairs * (steps + 1));
    const pairTag = (i: number, total: number) => (total > 1 ? `pair ${i + 1}/${total} · ` : '');
    switch (e.type) {
      case 'setup': {
        plan.steps = e.steps;
        plan.pairs = e.pairs;
        const text = `${e.backend} backend · ${e.dataset} · ${e.minima} minima · ${e.pairs} pair${e.pairs === 1 ? '' : 's'} · ${e.steps} steps`;
        progress.report({ message: text });
        live.setStatus(text);
        return;
      }
      case 'pair-start':
        live.startSeries(`${e.index}:${e.a}:${e.b}`, steps);
        live.setStatus(`${pairTag(e.index, e.total)}${short(e.a)} ↔ ${short(e.b)}: straight line…`);
        return;
      case 'iteration': {
        live.addPoint(e.height, e.bestHeight);
        const text = `${pairTag(e.index, pairs)}iteration ${e.iteration}/${steps} · path height ${formatNumber(e.height)} · best ${formatNumber(e.bestHeight)}`;
        live.setStatus(text);
        progress.report({ message: text, increment: perIteration });
        return;
      }
      case 'pair-done': {
        const text = `${pairTag(e.index, e.total)}${heightLine(e.optimized)}; straight line H ${formatNumber(e.straight.height)}`;
        live.setStatus(text);
        progress.report({ message: text });
        return;
      }
      case 'surface': {
        const text = `loss over the plane of the path (${e.points} points)…`;
        live.setStatus(text);
        progress.report({ message: text });
        return;
      }
    }
  }
}

async function pickSelection(n: number): Promise<string | undefined> {
  const total = (n * (n - 1)) / 2;
  if (total <= ASK_ABOVE_PAIRS) return 'all';
  const items: (vscode.QuickPickItem & { value: string })[] = [{ label: `All ${total} pairs`, description: `${n} minima`, value: 'all' }];
  for (const k of [5, 10, 25, 50, 100]) if (k < total) items.push({ label: `${k} random pairs`, description: 'seeded: the same pairs every time', value: `random:${k}` });
  const pick = await vscode.window.showQuickPick(items, { title: `Landscape: barriers between ${n} minima`, placeHolder: 'Which pairs? Each pair is one path optimization.' });
  return pick?.value;
}

/** Checkpoints under a folder (safetensors and tfjs model.json), skipping hidden folders and node_modules. */
export function checkpointsIn(folder: string, limit = 2000): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 8 || out.length >= limit) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((x, y) => x.name.localeCompare(y.name));
    for (const d of entries) {
      if (out.length >= limit) return;
      const p = path.join(dir, d.name);
      if (d.isDirectory()) {
        if (!d.name.startsWith('.') && d.name !== 'node_modules') walk(p, depth + 1);
      } else if (d.isFile()) {
        const lower = d.name.toLowerCase();
        if (lower.endsWith('.safetensors') || (lower === 'model.json' && isTfjsModelJson(p))) out.push(p);
      }
    }
  };
  walk(folder, 0);
  return out;
}

/** Where an all-pairs result of these files goes: the folder they share. */
export function barriersFolder(files: readonly string[]): string {
  return commonFolder(files);
}
