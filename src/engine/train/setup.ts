/**
 * What a run needs before its folder is touched: the checked configuration,
 * the backend, the data, the model and the optimizer. Every refusal that does
 * not depend on the folder's contents (a model too large, data that does not
 * fit it, a run that would not fit in memory) happens here, so nothing is
 * written for a run that cannot start.
 */
import { initBackend, BackendInfo } from '../backend';
import { loadDataset } from '../data';
import type { Split, Task } from '../data/types';
import type { ModelSpec, LossName } from '../model/spec';
import { layeredSize, modelSpecFromText } from '../model/archModel';
import { checkModelSize, checkTrainingMemory } from '../limits';
import { checkDataFitsModel } from '../model/network';
import { createOptimizer, Optimizer } from '../optim';
import { resolveTrainConfig } from './config';
import { checkOutFolder } from './runFolder';
import type { ResolvedTrainConfig, TrainConfig } from './types';

export interface TrainingSetup {
  /** `cfg.loss` is filled in: the task's default when none was given. */
  cfg: ResolvedTrainConfig;
  backend: BackendInfo;
  split: Split;
  task: Task;
  spec: ModelSpec;
  optimizer: Optimizer;
}

export async function prepareTraining(config: TrainConfig): Promise<TrainingSetup> {
  const cfg = resolveTrainConfig(config);
  // A model too large, or an output path that cannot be a folder, is refused
  // before the backend starts or anything is allocated.
  // Parsed first: a spec that does not parse, or a model too large, is refused before anything starts.
  const parsed = modelSpecFromText(cfg.model, { activation: cfg.activation, bias: cfg.bias });
  checkModelSize(parsed.layers, parsed.bias, layeredSize(parsed));
  checkOutFolder(cfg.out);
  const backend = await initBackend(cfg.backend);
  const split: Split = await loadDataset(cfg.dataset, {
    seed: cfg.dataSeed,
    testFraction: cfg.testFraction,
    labelColumn: cfg.labelColumn,
    task: cfg.task,
    n: cfg.n,
    noise: cfg.noise,
    subset: cfg.subset,
  });
  const task = split.train.task;
  const loss: LossName = cfg.loss || (task === 'classification' ? 'cross-entropy' : 'mse');
  cfg.loss = loss;
  const spec: ModelSpec = { ...parsed, loss };
  checkDataFitsModel(spec, split.train);
  checkTrainingMemory({
    layers: spec.layers,
    bias: spec.bias,
    optimizer: cfg.optimizer,
    trainRows: split.train.n,
    testRows: split.test.n,
    features: split.train.features,
    outputs: split.train.outputs,
    history: cfg.optimizerOptions.history,
    layered: layeredSize(spec),
  });
  const optimizer = createOptimizer(cfg.optimizer, { ...cfg.optimizerOptions, lr: cfg.lr, momentum: cfg.momentum, l2: cfg.l2 });
  return { cfg, backend, split, task, spec, optimizer };
}
