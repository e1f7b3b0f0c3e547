/**
 * `landscape slice --plane trajectory <run folder>`: a run folder's epoch
 * checkpoints (checkpoints/epoch-NNNN.safetensors) and final weights
 * (final.safetensors) read back, checked to live on one loss surface, and
 * the loss on their trajectory plane (analysis/trajectoryPlane.ts) as a
 * slice result with the trajectory beside it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { inputError } from './errors';
import { loadAnyCheckpoint, type OpenedCheckpoint } from './evaluate';
import { checkSameSurface, type CheckpointObjective } from './checkpointObjective';
import { checkpointsInFolder, metaNumber, sliceResultCommon } from './checkpointAnalysis';
import { sliceTrajectoryPlane, type TrajectoryCheckpoint } from './analysis/trajectoryPlane';
import { sliceSettings, type SliceData } from '../results/slice';

/** A run's trajectory: its final weights and the epoch checkpoints before them, in epoch order. */
export interface RunTrajectory {
  runDir: string;
  final: OpenedCheckpoint;
  earlier: OpenedCheckpoint[];
}

export interface ReadRunTrajectoryOptions {
  /** The model spec for checkpoints without one. */
  model?: string;
  tensorMap?: Record<string, string>;
  /** The data is overridden (--dataset): the checkpoints need only share the model. */
  datasetOverride?: boolean;
}

/** The trajectory plane needs the final weights and two earlier checkpoints. */
export const MIN_TRAJECTORY_CHECKPOINTS = 3;

/**
 * Reads a run folder's trajectory. An epoch checkpoint equal to the final
 * weights (saved at the last epoch) is the final point itself and counted once.
 */
export async function readRunTrajectory(dir: string, opts: ReadRunTrajectoryOptions = {}): Promise<RunTrajectory> {
  const finalFile = checkRunFolder(dir);
  const sub = path.join(dir, 'checkpoints');
  const files = fs.existsSync(sub) ? checkpointsInFolder(sub) : [];
  const load = (file: string) => loadAnyCheckpoint(file, opts.model, { tensorMap: opts.tensorMap });
  const final = await load(finalFile);
  const earlier: OpenedCheckpoint[] = [];
  for (const file of files) {
    const ck = await load(file);
    checkSameSurface(final, ck, { datasetOverride: opts.datasetOverride });
    if (!sameWeights(ck.theta, final.theta)) earlier.push(ck);
  }
  earlier.sort((a, b) => epochOf(a) - epochOf(b));
  const count = earlier.length + 1;
  if (count < MIN_TRAJECTORY_CHECKPOINTS) {
    const have = ['final.safetensors', ...earlier.map((c) => path.relative(dir, c.file))].join(', ');
    throw inputError(
      `has ${count} checkpoint${count === 1 ? '' : 's'} on its trajectory (${have}); the trajectory plane needs at least ${MIN_TRAJECTORY_CHECKPOINTS}: ` +
        'the final weights and two earlier epoch checkpoints (train with --checkpoint-every k, k smaller than the epochs)',
      dir,
    );
  }
  return { runDir: dir, final, earlier };
}

/** A run folder with run.json and final.safetensors, or an error naming the folder; returns the final checkpoint's path. */
function checkRunFolder(dir: string): string {
  if (!fs.existsSync(dir)) throw inputError('run folder not found; check the path', dir);
  if (!fs.statSync(dir).isDirectory()) throw inputError('is a file; --plane trajectory takes a run folder (the --out folder of landscape train)', dir);
  if (!fs.existsSync(path.join(dir, 'run.json'))) {
    throw inputError('is not a Landscape run folder (it has no run.json); --plane trajectory takes the --out folder of landscape train', dir);
  }
  const finalFile = path.join(dir, 'final.safetensors');
  if (!fs.existsSync(finalFile)) {
    throw inputError('has no final.safetensors (the run did not complete); the trajectory plane is measured from the final weights', dir);
  }
  return finalFile;
}

function sameWeights(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The epoch a checkpoint recorded, or the NNNN of its epoch-NNNN name. */
function epochOf(ck: OpenedCheckpoint): number {
  const recorded = metaNumber(ck.meta, 'epoch');
  if (recorded !== undefined && Number.isInteger(recorded) && recorded >= 0) return recorded;
  const m = /epoch-(\d+)/.exec(path.basename(ck.file));
  if (m) return Number(m[1]);
  throw inputError('records no epoch (metadata "epoch") and its name has no epoch-NNNN; the trajectory needs the epoch of every checkpoint', ck.file);
}

export interface TrajectoryPlaneAnalysisOptions {
  points?: number;
  range?: [number, number];
  yRange?: [number, number];
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Extra entries for meta.source. */
  source?: Record<string, string>;
}

/** The loss on a run's trajectory plane as the slice result (request kind "trajectory", its files the final checkpoint). */
export async function trajectoryPlaneAnalysis(run: RunTrajectory, obj: CheckpointObjective, opts: TrajectoryPlaneAnalysisOptions = {}): Promise<SliceData> {
  const t0 = Date.now();
  const all = [...run.earlier, run.final];
  const point = (ck: OpenedCheckpoint): TrajectoryCheckpoint => ({ theta: ck.theta, label: path.basename(ck.file, '.safetensors'), epoch: epochOf(ck) });
  const source = { dataset: obj.dataset, split: obj.split, run: run.runDir, checkpoint: run.final.file, ...(opts.source ?? {}) };
  const { slice, trajectory } = await sliceTrajectoryPlane(obj.objective, point(run.final), run.earlier.map(point), {
    points: opts.points,
    xRange: opts.range,
    yRange: opts.yRange ?? opts.range,
    signal: opts.signal,
    onProgress: opts.onProgress,
    source,
  });
  const result = {
    ...sliceResultCommon([run.final], obj, slice, (Date.now() - t0) / 1000),
    request: { kind: 'trajectory' as const, files: [run.final.file], points: [slice.axes.x.points, slice.axes.y.points] as [number, number] },
    dims: '2d' as const,
    axes: slice.axes,
    values: slice.values,
    trajectory: { ...trajectory, run: run.runDir, points: trajectory.points.map((p, i) => ({ ...p, file: all[i].file })) },
  };
  return { ...result, settings: sliceSettings(result) };
}
