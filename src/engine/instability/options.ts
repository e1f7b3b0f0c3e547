/**
 * What an instability analysis (Frankle et al. 2020, "Linear Mode
 * Connectivity and the Lottery Ticket Hypothesis") is asked to do, checked
 * and completed with its defaults: the parent's training options, the spawn
 * epochs, the number of children, the straight line's grid and the
 * threshold. The plan (everything that decides a number) is what an
 * interrupted analysis must share with its re-run.
 */
import { inputError } from '../errors';
import { resolveTrainConfig, type TrainConfig } from '../train';
import { PATH_DEFAULTS } from '../path/find';
import { modelSpecFromText } from '../model/archModel';

/** Training options of the parent; the analysis decides the run folders and the checkpoints. */
export type ParentTrainOptions = Omit<TrainConfig, 'out' | 'resume' | 'overwrite' | 'checkpointEvery' | 'stabilityEvery'>;

export interface InstabilityOptions {
  train: ParentTrainOptions;
  /** Epochs k at which children are spawned from the parent's weights: whole numbers, increasing, 0 ≤ k ≤ epochs. */
  spawnEpochs: readonly number[];
  /** Copies trained from each spawn point, each with its own mini-batch order. Default 2. */
  children?: number;
  /** A spawn epoch is stable when every pair's barrier is at most threshold × the mean of its two endpoint losses. Default 0.02. */
  threshold?: number;
  /** Also measure the FourierPathFinder barrier (default path options) between the children. */
  optimized?: boolean;
  /** M of the path finder: the straight line is measured on 10·(M − 1) + 1 evenly spaced t. Default 50. */
  points?: number;
  /** The analysis folder: parent/, k-NNNN/child-C/, plan and result. */
  out: string;
  signal?: AbortSignal;
}

export const DEFAULT_CHILDREN = 2;
export const MAX_CHILDREN = 16;
export const DEFAULT_THRESHOLD = 0.02;

/** Everything that decides the analysis' numbers; a re-run in the same folder must match it. */
export interface InstabilityPlan {
  /** The parent's training options as given (no folder; the backend is not part of the plan). */
  train: Omit<ParentTrainOptions, 'backend'>;
  epochs: number;
  /** The parent's seed (initial weights and its own batch order). */
  seed: number;
  /** The split every run trains and is measured on. */
  dataSeed: number;
  spawnEpochs: number[];
  children: number;
  /** Batch-order seed of child c (1-based): seed + c. */
  childSeeds: number[];
  points: number;
  optimized: boolean;
}

/** "0,1,2,5,10" into numbers; the order and range are checked by resolvePlan. */
export function parseSpawnEpochs(text: string): number[] {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.some((p) => !/^-?\d+$/.test(p))) {
    throw inputError(`--spawn-epochs needs whole numbers separated by commas, e.g. --spawn-epochs 0,1,2,5,10; got "${text}"`);
  }
  return parts.map(Number);
}

function checkSpawnEpochs(spawn: readonly number[], epochs: number): number[] {
  if (spawn.length === 0) throw inputError('--spawn-epochs is empty; give at least one epoch, e.g. --spawn-epochs 0,1,2,5,10');
  spawn.forEach((k, i) => {
    if (!Number.isInteger(k) || k < 0) throw inputError(`spawn epoch ${k} is not a whole number ≥ 0; list epochs from 0 (the initial weights) to --epochs`);
    if (k > epochs) throw inputError(`spawn epoch ${k} is after the last epoch (--epochs ${epochs}); use epochs from 0 to ${epochs}, or train longer`);
    if (i > 0 && k <= spawn[i - 1]) {
      throw inputError(k === spawn[i - 1] ? `spawn epoch ${k} is listed twice in --spawn-epochs; list each epoch once` : `--spawn-epochs must be increasing, but ${k} comes after ${spawn[i - 1]}; sort them`);
    }
  });
  return [...spawn];
}

function checkedInt(v: number | undefined, def: number, flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const x = v ?? def;
  if (!Number.isInteger(x) || x < min || x > max) throw inputError(`--${flag} must be a whole number from ${min} to ${max}, got ${x}`);
  return x;
}

/** Checks every option (the training options as `landscape train` would) before anything is trained. */
export function resolvePlan(o: InstabilityOptions): InstabilityPlan {
  const resolved = resolveTrainConfig({ ...o.train, out: o.out });
  // Parsed now, so a spec that does not parse is refused before the folder is touched.
  modelSpecFromText(resolved.model, { activation: resolved.activation, bias: resolved.bias });
  const children = checkedInt(o.children, DEFAULT_CHILDREN, 'children', 2, MAX_CHILDREN);
  resolveThreshold(o.threshold);
  const { backend: _backend, ...train } = o.train;
  return {
    train,
    epochs: resolved.epochs,
    seed: resolved.seed,
    dataSeed: resolved.dataSeed,
    spawnEpochs: checkSpawnEpochs(o.spawnEpochs, resolved.epochs),
    children,
    childSeeds: Array.from({ length: children }, (_, c) => resolved.seed + c + 1),
    points: checkedInt(o.points, PATH_DEFAULTS.points, 'points', 2, 10_000),
    optimized: Boolean(o.optimized),
  };
}

export function resolveThreshold(t: number | undefined): number {
  const x = t ?? DEFAULT_THRESHOLD;
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) throw inputError(`--threshold must be a number ≥ 0 (a fraction of the endpoints' mean loss, e.g. 0.02), got ${x}`);
  return x;
}

/** Largest d dividing every positive spawn epoch: the parent's checkpoint cadence, so every spawn point is on disk. */
export function checkpointCadence(spawnEpochs: readonly number[]): number {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  return spawnEpochs.filter((k) => k > 0).reduce((g, k) => gcd(g, k), 0);
}
