/** A TrainConfig checked and completed with its defaults: what run.json records as `config`. */
import * as path from 'path';
import { inputError } from '../errors';
import type { LossName } from '../model/spec';
import type { ResolvedTrainConfig, TrainConfig } from './types';

const FULL_BATCH_DEFAULT = 64;

export function resolveTrainConfig(c: TrainConfig): ResolvedTrainConfig {
  if (!c.out) throw inputError('no output folder given (--out <dir>)');
  if (!Number.isInteger(c.epochs) || c.epochs < 1) throw inputError(`epochs must be a whole number ≥ 1, got ${c.epochs}`);
  const batch = c.batch ?? FULL_BATCH_DEFAULT;
  if (!Number.isInteger(batch) || batch < 1) throw inputError(`batch must be a whole number ≥ 1, got ${c.batch}`);
  const every = c.checkpointEvery ?? 10;
  if (!Number.isInteger(every) || every < 0) throw inputError(`checkpoint-every must be a whole number ≥ 0, got ${c.checkpointEvery}`);
  const seed = c.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0) throw inputError(`seed must be a whole number ≥ 0, got ${c.seed}`);
  if (c.dataSeed !== undefined && (!Number.isInteger(c.dataSeed) || c.dataSeed < 0)) throw inputError(`data seed must be a whole number ≥ 0, got ${c.dataSeed}`);
  const testFraction = c.testFraction ?? 0.2;
  if (!(testFraction > 0 && testFraction < 1)) throw inputError(`test fraction must be between 0 and 1, got ${testFraction}`);
  if (c.lr !== undefined && !(c.lr > 0 && Number.isFinite(c.lr))) throw inputError(`learning rate must be a positive number, got ${c.lr}`);
  if (c.l2 !== undefined && !(c.l2 >= 0 && Number.isFinite(c.l2))) throw inputError(`l2 must be ≥ 0, got ${c.l2}`);
  if (c.subset !== undefined && !(Number.isInteger(c.subset) && c.subset >= 2)) throw inputError(`subset must be a whole number ≥ 2, got ${c.subset}`);
  const stabilityEvery = c.stabilityEvery ?? 0;
  if (!Number.isInteger(stabilityEvery) || stabilityEvery < 0) throw inputError(`stability-every must be a whole number ≥ 0, got ${c.stabilityEvery}`);
  return {
    dataset: c.dataset,
    model: c.model,
    activation: c.activation ?? 'relu',
    bias: c.bias ?? true,
    loss: c.loss ?? ('' as LossName),
    optimizer: c.optimizer,
    lr: c.lr,
    momentum: c.momentum,
    l2: c.l2 ?? 0,
    epochs: c.epochs,
    batch,
    seed,
    dataSeed: c.dataSeed ?? seed,
    checkpointEvery: every,
    testFraction,
    labelColumn: c.labelColumn,
    task: c.task,
    n: c.n,
    noise: c.noise,
    ...(c.subset !== undefined ? { subset: c.subset } : {}),
    backend: c.backend,
    out: path.resolve(c.out),
    optimizerOptions: c.optimizerOptions ?? {},
    ...(stabilityEvery > 0 ? { stabilityEvery } : {}),
  };
}
