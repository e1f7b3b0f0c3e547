/** The shapes training deals in: its configuration, its events and the run folder's run.json. */
import type { BackendInfo } from '../backend';
import type { Activation, LossName } from '../model/spec';
import type { OptimizerName, OptimizerOptions } from '../optim';
import type { HvpUsed } from '../analysis/hessian';
import type { OptimizerStabilityVerdict } from '../trainingStability';
import type { CheckpointInfo, RunStatus } from '../../results/trainingRun';
import type { ChannelNormalization, ImageShape } from '../data/types';

export interface TrainConfig {
  /** Built-in dataset name (digits, spirals, fashion-mnist, …), or a CSV, .npz or image-folder path. */
  dataset: string;
  /** Layer widths, e.g. "64-32-32-10". */
  model: string;
  activation?: Activation;
  bias?: boolean;
  /** Default: cross-entropy for classification, mse for regression. */
  loss?: LossName;
  optimizer: OptimizerName;
  lr?: number;
  momentum?: number;
  l2?: number;
  epochs: number;
  /** Mini-batch size for the SGD family (full-batch optimizers ignore it). */
  batch?: number;
  seed?: number;
  /** Seed of the dataset and its train/test split; defaults to `seed`. */
  dataSeed?: number;
  /** Write checkpoints/epoch-NNNN every this many epochs (0: only best and final). */
  checkpointEvery?: number;
  testFraction?: number;
  /** CSV options. */
  labelColumn?: string | number;
  task?: 'classification' | 'regression' | 'auto';
  /** Synthetic dataset size and noise. */
  n?: number;
  noise?: number;
  /** Keep this many rows of the data in all (seeded by dataSeed, stratified by class). */
  subset?: number;
  backend?: string;
  /** Run folder. */
  out: string;
  /** Extra optimizer options (history, rho, …). */
  optimizerOptions?: OptimizerOptions;
  /** Continue the run in `out` from its last checkpoint (same configuration required). */
  resume?: boolean;
  /** Replace a run already in `out` instead of refusing. */
  overwrite?: boolean;
  /**
   * Every this many epochs (the initial point included), estimate λmax of the
   * training loss by a few Lanczos steps and yield a 'stability' event (also
   * a line of metrics.jsonl). 0 or absent: off.
   */
  stabilityEvery?: number;
}

export interface ResolvedTrainConfig extends Required<Omit<TrainConfig, 'labelColumn' | 'task' | 'n' | 'noise' | 'subset' | 'backend' | 'optimizerOptions' | 'lr' | 'momentum' | 'resume' | 'overwrite' | 'stabilityEvery'>> {
  /** Present only when on, so run.json of runs without it is unchanged. */
  stabilityEvery?: number;
  labelColumn?: string | number;
  task?: 'classification' | 'regression' | 'auto';
  n?: number;
  noise?: number;
  subset?: number;
  backend?: string;
  lr?: number;
  momentum?: number;
  optimizerOptions: OptimizerOptions;
}

export interface EpochEvent {
  type: 'epoch';
  epoch: number;
  step: number;
  trainLoss: number;
  testLoss: number;
  /** Train accuracy (classification only). */
  accuracy?: number;
  testAccuracy?: number;
  /** Norm of the full-batch training gradient at the end of the epoch. */
  gradNorm: number;
  lr: number;
  /** Seconds since the run started. */
  time: number;
}

/**
 * Sharpness during training (TrainConfig.stabilityEvery): λmax of the
 * objective the optimizer descends (the full-batch training loss, plus the
 * L2 penalty's l2 when there is one) against the learning rate's bound.
 */
export interface StabilityEvent {
  type: 'stability';
  epoch: number;
  step: number;
  lambdaMax: number;
  /** Lanczos error estimate of lambdaMax (it excludes the products' own float32 error). */
  errorEstimate: number;
  /** The largest stable λmax at this rate, limit/η: 2/η for SGD, 2(1 + β)/η with momentum; absent without a rate. */
  threshold?: number;
  /** The rate of the last step (L-BFGS: its line-search step); absent before L-BFGS' first step. */
  lr?: number;
  /** Heavy-ball or Nesterov momentum the bound accounts for. */
  momentum?: number;
  /** L2 weight decay included in lambdaMax. */
  l2?: number;
  /** 'not-applicable' for adaptive optimizers, L-BFGS and the rolling ball (see trainingStability.ts). */
  verdict: OptimizerStabilityVerdict;
  message: string;
  hvp: HvpUsed;
  iterations: number;
  /** Seed of the Lanczos start vector. */
  seed: number;
  time: number;
}

export type TrainEvent =
  | {
      type: 'start';
      runDir: string;
      backend: BackendInfo;
      config: ResolvedTrainConfig;
      model: string;
      paramCount: number;
      trainSize: number;
      testSize: number;
      epochs: number;
    }
  | EpochEvent
  | StabilityEvent
  | ({ type: 'checkpoint'; path: string } & CheckpointInfo)
  | { type: 'done'; status: RunStatus; runDir: string; epochs: number; finalPath?: string; bestPath?: string; best?: CheckpointInfo; message?: string };

// A run's status and checkpoint records are declared once, with the training-run result kind.
export type { CheckpointInfo, RunStatus } from '../../results/trainingRun';

export interface RunJson {
  formatVersion: 1;
  status: RunStatus;
  config: ResolvedTrainConfig;
  seed: number;
  backend: string;
  versions: { landscape: string; tfjs: string; node: string };
  model: { spec: string; activation: Activation; bias: boolean; loss: LossName; paramCount: number };
  dataset: {
    id: string;
    task: string;
    trainSize: number;
    testSize: number;
    features: number;
    outputs: number;
    /** Image data: the shape of one image and the per-channel normalisation applied. */
    image?: ImageShape;
    normalization?: ChannelNormalization;
  };
  started: string;
  finished?: string;
  epochsCompleted: number;
  checkpoints: CheckpointInfo[];
  best?: CheckpointInfo;
  error?: string;
  /** Epochs at which the run was resumed after an interruption. */
  resumedAt?: number[];
}
