/**
 * The authoritative series of the live training run. The worker's events
 * land here; webviews get a snapshot of it (when they load or become visible
 * again) and then the deltas. Keeping the whole history on the host is what
 * lets a panel that was hidden or reloaded mid-run show every point.
 *
 * Pure: no vscode, no worker. The events are the engine's TrainEvents after a
 * structured clone across the worker boundary.
 */
import * as path from 'path';
import type { TrainEvent } from '../engine/train';
import { checkpointLabel, toStabilityPoint } from '../engine/train/runFolderView';
import {
  formatNumber,
  formatPercent,
  type CheckpointRef,
  type EpochPoint,
  type HostMessage,
  type LiveRun,
  type RunState,
  type LiveRunStatus,
  type StabilityPoint,
} from '../protocol';

export { formatNumber, formatPercent };

export type RunDelta = Omit<Extract<HostMessage, { type: 'runDelta' }>, 'type'>;
export type StoreEvent = { kind: 'reset' } | { kind: 'delta'; delta: RunDelta };

/** The fields of an engine epoch event that the charts use (and nothing else: the protocol refuses extra keys). */
export function toPoint(ev: Extract<TrainEvent, { type: 'epoch' }>): EpochPoint {
  const p: EpochPoint = {
    epoch: ev.epoch,
    step: ev.step,
    trainLoss: ev.trainLoss,
    testLoss: ev.testLoss,
    gradNorm: ev.gradNorm,
    lr: ev.lr,
    time: ev.time,
  };
  if (typeof ev.accuracy === 'number' && Number.isFinite(ev.accuracy)) p.accuracy = ev.accuracy;
  if (typeof ev.testAccuracy === 'number' && Number.isFinite(ev.testAccuracy)) p.testAccuracy = ev.testAccuracy;
  return p;
}

/** Later entries with the same path replace earlier ones (best.safetensors is rewritten in place). */
export function upsertCheckpoints(into: readonly CheckpointRef[], add: readonly CheckpointRef[]): CheckpointRef[] {
  const out = [...into];
  for (const c of add) {
    const i = out.findIndex((x) => x.path === c.path);
    if (i >= 0) out[i] = c;
    else out.push(c);
  }
  return out;
}

/** Coalescer merge: later deltas extend earlier ones of the same run. */
export function mergeDeltas(a: RunDelta, b: RunDelta): RunDelta {
  // Not contiguous: keep the newer one; the webview sees the gap in `from` and asks for a snapshot.
  if (a.runId !== b.runId || a.from + a.points.length !== b.from) return b;
  let stability = a.stability ?? b.stability;
  if (a.stability && b.stability) {
    if (a.stability.from + a.stability.points.length !== b.stability.from) return b;
    stability = { from: a.stability.from, points: a.stability.points.concat(b.stability.points) };
  }
  const m: RunDelta = {
    runId: a.runId,
    from: a.from,
    points: a.points.concat(b.points),
    checkpoints: upsertCheckpoints(a.checkpoints, b.checkpoints),
    status: b.status ?? a.status,
  };
  if (stability) m.stability = stability;
  return m;
}

export class RunStore {
  private live: LiveRun | undefined;
  /** Put before every status line of the live run (e.g. "study · sgd-s1 (1/4) · "). */
  private tag = '';
  private readonly listeners = new Set<(e: StoreEvent) => void>();

  onEvent(fn: (e: StoreEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  get current(): Readonly<LiveRun> | undefined {
    return this.live;
  }

  get isActive(): boolean {
    return this.live !== undefined && (this.live.status.state === 'starting' || this.live.status.state === 'running');
  }

  /** A copy that later events cannot change (it is posted asynchronously). */
  snapshot(): LiveRun | null {
    if (!this.live) return null;
    return {
      ...this.live,
      points: this.live.points.slice(),
      checkpoints: this.live.checkpoints.slice(),
      status: { ...this.live.status },
      stability: (this.live.stability ?? []).slice(),
    };
  }

  /**
   * Show a run that is not live (the last run on disk, after a window reload).
   * Refused (false) when the store already holds a run: a run that started
   * while the files were being read wins.
   */
  restore(run: LiveRun): boolean {
    if (this.live) return false;
    if (run.status.state === 'starting' || run.status.state === 'running') return false;
    this.tag = '';
    this.live = {
      ...run,
      points: run.points.slice(),
      checkpoints: run.checkpoints.slice(),
      status: { ...run.status },
      stability: (run.stability ?? []).slice(),
    };
    this.emit({ kind: 'reset' });
    return true;
  }

  begin(runId: string, runDir: string, label: string, epochs: number, tag = ''): void {
    this.tag = tag;
    this.live = {
      runId,
      runDir,
      label,
      points: [],
      checkpoints: [],
      status: { state: 'starting', text: `${tag}starting ${label}…`, epoch: 0, epochs },
      stability: [],
    };
    this.emit({ kind: 'reset' });
  }

  /** A status line of its own (a study between runs: path search, kernel PCA, report). */
  setStatus(state: RunState, text: string): void {
    const live = this.live;
    if (!live) return;
    live.status = { state, text, epoch: live.status.epoch, epochs: live.status.epochs };
    this.delta([], [], live.status);
  }

  apply(ev: TrainEvent): void {
    const live = this.live;
    if (!live) return;
    switch (ev.type) {
      case 'start': {
        live.status = {
          state: 'running',
          text: `${this.tag}training ${ev.config.dataset} · ${ev.model} · ${ev.config.optimizer} on ${ev.backend.name} · epoch 0/${ev.epochs}`,
          epoch: 0,
          epochs: ev.epochs,
        };
        this.delta([], [], live.status);
        break;
      }
      case 'epoch': {
        const p = toPoint(ev);
        live.status = {
          state: 'running',
          text: `${this.tag}training · epoch ${ev.epoch}/${live.status.epochs} · train loss ${formatNumber(ev.trainLoss)} · test loss ${formatNumber(ev.testLoss)}`,
          epoch: ev.epoch,
          epochs: live.status.epochs,
        };
        this.delta([p], [], live.status);
        break;
      }
      case 'checkpoint': {
        const ref: CheckpointRef = { path: ev.path, label: checkpointLabel(ev.file, ev.kind, ev.epoch), detail: `test loss ${formatNumber(ev.testLoss)}` };
        this.delta([], [ref]);
        break;
      }
      case 'stability': {
        const p = toStabilityPoint(ev);
        if (p) this.delta([], [], undefined, [p]);
        break;
      }
      case 'done':
        // The final status comes from finish(), which knows how the job ended.
        break;
    }
  }

  finish(state: Extract<RunState, 'completed' | 'failed' | 'cancelled'>, detail?: string): LiveRunStatus | undefined {
    const live = this.live;
    if (!live) return undefined;
    const last = live.points[live.points.length - 1];
    const where = path.basename(live.runDir);
    let text: string;
    if (state === 'completed') {
      const acc = last?.testAccuracy !== undefined ? ` · test accuracy ${formatPercent(last.testAccuracy)}` : '';
      text = `done · ${live.status.epochs} epochs · test loss ${formatNumber(last?.testLoss)}${acc} · ${where}`;
    } else if (state === 'cancelled') {
      text = `stopped after epoch ${last?.epoch ?? 0} · ${where}`;
    } else {
      text = `failed: ${detail ?? 'unknown error'}`;
    }
    live.status = { state, text, epoch: last?.epoch ?? 0, epochs: live.status.epochs };
    this.delta([], [], live.status);
    return live.status;
  }

  private delta(points: EpochPoint[], checkpoints: CheckpointRef[], status?: LiveRunStatus, stability?: StabilityPoint[]): void {
    const live = this.live!;
    const from = live.points.length;
    live.points.push(...points);
    live.checkpoints = upsertCheckpoints(live.checkpoints, checkpoints);
    const d: RunDelta = { runId: live.runId, from, points, checkpoints };
    if (status) d.status = { ...status };
    if (stability?.length) {
      const list = (live.stability ??= []);
      d.stability = { from: list.length, points: stability };
      list.push(...stability);
    }
    this.emit({ kind: 'delta', delta: d });
  }

  private emit(e: StoreEvent): void {
    for (const fn of this.listeners) fn(e);
  }
}
