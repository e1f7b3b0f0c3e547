/**
 * The loss surface a checkpoint lives on: its network's full-batch training
 * loss on the dataset and split recorded in its metadata. Path finding,
 * barriers and anything else that compares checkpoints measures heights on
 * this surface, so it is rebuilt here exactly as re-evaluation rebuilds it
 * (dataset, datasetSeed, testFraction, datasetOptions).
 *
 * The recipe is plain data so that a worker thread can rebuild the same
 * objective from it without the checkpoint file.
 */
import type { tf } from './backend';
import { inputError } from './errors';
import { Rng } from './rng';
import { checkNormalization, loadDataset } from './data';
import type { ChannelNormalization, Split, Task } from './data/types';
import type { Objective } from './objective';
import type { OpenedCheckpoint } from './evaluate';
import { ModelSpec, modelText } from './model/spec';
import { networkObjective, toDevice, checkDataFitsModel, DeviceData } from './model/network';

/** Everything needed to rebuild a checkpoint's data split. */
export interface DataRecipe {
  /** Built-in name or CSV path, as recorded (or overridden). */
  dataset: string;
  /** Seed of the dataset and its split. */
  seed: number;
  testFraction: number;
  /**
   * Synthetic size/noise, CSV label column and task, the subset's size, and
   * the per-channel normalisation of image data.
   */
  options: {
    n?: number;
    noise?: number;
    labelColumn?: string | number;
    task?: 'classification' | 'regression' | 'auto';
    subset?: number;
    normalization?: ChannelNormalization;
  };
}

export interface CheckpointObjectiveOptions {
  /** Use this dataset instead of the recorded one (its recorded seed and test fraction still apply). */
  dataset?: string;
  /** Keep this many rows (seeded, stratified) instead of the recorded subset. */
  subset?: number;
  /** Mini-batch size for `batches`; absent or ≥ the training size means none. */
  batch?: number;
  /** Seed of the mini-batch order. Default 0. */
  seed?: number;
}

export interface CheckpointObjective {
  /** Full-batch training loss over flat parameter vectors. */
  objective: Objective;
  recipe: DataRecipe;
  /** Dataset id as used (a name or a CSV path). */
  dataset: string;
  /** The part of the data the loss is measured on. */
  split: 'train';
  spec: ModelSpec;
  task: Task;
  trainSize: number;
  testSize: number;
  /** Training inputs on the device (e.g. for ReLU kink detection); freed by dispose(). */
  x: tf.Tensor2D;
  /**
   * Mini-batch objectives, one per iteration, drawn as seeded epochs of
   * shuffled batches; present only when a batch smaller than the training
   * set was asked for. Each call releases the batch of the call before it,
   * so use one batch objective at a time.
   */
  batches?: (iteration: number) => Objective;
  /** Releases the data on the backend. */
  dispose(): void;
}

/**
 * The data recipe recorded in a checkpoint's metadata (or the override). An
 * image normalisation is part of the model's input, so it carries over to
 * an overriding dataset; the other recorded options describe the recorded
 * data only. `subset` replaces the recorded subset.
 */
export function dataRecipeForCheckpoint(ck: OpenedCheckpoint, opts: { dataset?: string; subset?: number } = {}): DataRecipe {
  const dataset = opts.dataset ?? ck.meta.dataset;
  if (!dataset) throw inputError('has no dataset in its metadata; pass one with --dataset', ck.file);
  const seed = ck.meta.datasetSeed !== undefined && ck.meta.datasetSeed !== '' ? Number(ck.meta.datasetSeed) : 0;
  const testFraction = ck.meta.testFraction ? Number(ck.meta.testFraction) : 0.2;
  if (!Number.isInteger(seed) || seed < 0) throw inputError(`has an unreadable datasetSeed "${ck.meta.datasetSeed}" in its metadata`, ck.file);
  if (!(testFraction > 0 && testFraction < 1)) throw inputError(`has an unreadable testFraction "${ck.meta.testFraction}" in its metadata`, ck.file);
  let options: DataRecipe['options'] = {};
  if (ck.meta.datasetOptions) {
    let recorded: unknown;
    try {
      recorded = JSON.parse(ck.meta.datasetOptions);
    } catch {
      throw inputError('has unreadable datasetOptions metadata (not JSON)', ck.file);
    }
    if (typeof recorded !== 'object' || recorded === null || Array.isArray(recorded)) throw inputError('has datasetOptions metadata that is not a JSON object', ck.file);
    const r = recorded as DataRecipe['options'];
    if (!opts.dataset) options = r;
    else if (r.normalization !== undefined) options = { normalization: r.normalization };
  }
  if (options.normalization !== undefined) {
    try {
      options.normalization = checkNormalization(options.normalization);
    } catch (e) {
      throw inputError(`has unusable datasetOptions metadata: ${(e as Error).message}`, ck.file);
    }
  }
  if (opts.subset !== undefined) options = { ...options, subset: opts.subset };
  return { dataset, seed, testFraction, options };
}

/** A recipe's data, split; refused (naming what differs) when the network does not fit its training part. */
export async function recipeSplit(spec: ModelSpec, recipe: DataRecipe): Promise<Split> {
  const split: Split = await loadDataset(recipe.dataset, { seed: recipe.seed, testFraction: recipe.testFraction, ...recipe.options });
  checkDataFitsModel(spec, split.train);
  return split;
}

/** Build the objective from a spec and a recipe (what a worker thread does). */
export async function objectiveFromRecipe(spec: ModelSpec, recipe: DataRecipe, opts: { batch?: number; seed?: number } = {}): Promise<CheckpointObjective> {
  const split = await recipeSplit(spec, recipe);
  const train = split.train;
  const dev = toDevice(train);
  const objective = networkObjective(spec, dev);
  let batches: CheckpointObjective['batches'];
  let current: DeviceData | undefined;
  if (opts.batch !== undefined) {
    if (!Number.isInteger(opts.batch) || opts.batch < 1) throw inputError(`mini-batch size must be a whole number ≥ 1, got ${opts.batch}`);
    if (opts.batch < train.n) {
      const size = opts.batch;
      const perEpoch = Math.ceil(train.n / size);
      const seed = opts.seed ?? 0;
      let rng = new Rng(seed);
      let epoch = -1;
      let order: Int32Array = new Int32Array(0);
      batches = (iteration: number) => {
        const e = Math.floor(iteration / perEpoch);
        // Iterations normally arrive in order; going back replays the stream from the seed.
        if (e < epoch) {
          rng = new Rng(seed);
          epoch = -1;
        }
        while (epoch < e) {
          order = rng.permutation(train.n);
          epoch++;
        }
        const start = (iteration % perEpoch) * size;
        const rows = order.subarray(start, Math.min(start + size, train.n));
        const x = new Float32Array(rows.length * train.features);
        const y = new Float32Array(rows.length * train.outputs);
        rows.forEach((r, k) => {
          x.set(train.x.subarray(r * train.features, (r + 1) * train.features), k * train.features);
          y.set(train.y.subarray(r * train.outputs, (r + 1) * train.outputs), k * train.outputs);
        });
        current?.dispose();
        current = toDevice({ x, y, n: rows.length, features: train.features, outputs: train.outputs });
        return networkObjective(spec, current);
      };
    }
  }
  return {
    objective,
    recipe,
    dataset: recipe.dataset,
    split: 'train',
    spec,
    x: dev.x,
    task: train.task,
    trainSize: train.n,
    testSize: split.test.n,
    batches,
    dispose: () => {
      current?.dispose();
      current = undefined;
      dev.dispose();
    },
  };
}

/** The network's full-batch training loss on the data recorded in the checkpoint (or `opts.dataset`). */
export async function objectiveForCheckpoint(ck: OpenedCheckpoint, opts: CheckpointObjectiveOptions = {}): Promise<CheckpointObjective> {
  return objectiveFromRecipe(ck.spec, dataRecipeForCheckpoint(ck, opts), opts);
}

function canonicalOptions(s: string | undefined): string {
  if (!s) return '{}';
  try {
    const o = JSON.parse(s) as Record<string, unknown>;
    return JSON.stringify(Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]])));
  } catch {
    return s;
  }
}

/**
 * Throws an input error naming both files when two checkpoints do not live on
 * the same loss surface: a different network, or (unless the data is
 * overridden for both) a different dataset or split.
 */
export function checkSameSurface(a: OpenedCheckpoint, b: OpenedCheckpoint, opts: { datasetOverride?: boolean } = {}): void {
  const model: string[] = [];
  const show = (v: unknown) => (v === undefined || v === '' ? '(none)' : String(v));
  if (modelText(a.spec) !== modelText(b.spec)) model.push(`layers ${modelText(a.spec)} vs ${modelText(b.spec)}`);
  if (a.spec.activation !== b.spec.activation) model.push(`activation ${a.spec.activation} vs ${b.spec.activation}`);
  if (a.spec.bias !== b.spec.bias) model.push(`bias ${a.spec.bias ? 'on' : 'off'} vs ${b.spec.bias ? 'on' : 'off'}`);
  if (a.spec.loss !== b.spec.loss) model.push(`loss ${a.spec.loss} vs ${b.spec.loss}`);
  if (model.length) throw inputError(`${a.file} and ${b.file} are from different models: ${model.join(', ')}`);
  if (opts.datasetOverride) return;
  const data: string[] = [];
  if ((a.meta.dataset ?? '') !== (b.meta.dataset ?? '')) data.push(`dataset ${show(a.meta.dataset)} vs ${show(b.meta.dataset)}`);
  const num = (v: string | undefined, def: number) => (v === undefined || v === '' ? def : Number(v));
  if (num(a.meta.datasetSeed, 0) !== num(b.meta.datasetSeed, 0)) data.push(`datasetSeed ${show(a.meta.datasetSeed)} vs ${show(b.meta.datasetSeed)}`);
  if (num(a.meta.testFraction, 0.2) !== num(b.meta.testFraction, 0.2)) data.push(`testFraction ${show(a.meta.testFraction)} vs ${show(b.meta.testFraction)}`);
  if (canonicalOptions(a.meta.datasetOptions) !== canonicalOptions(b.meta.datasetOptions)) {
    data.push(`datasetOptions ${show(a.meta.datasetOptions)} vs ${show(b.meta.datasetOptions)}`);
  }
  if (data.length) throw inputError(`${a.file} and ${b.file} were trained on different data (${data.join(', ')}), so their losses are not one surface; pass --dataset to compare them on one dataset`);
}
