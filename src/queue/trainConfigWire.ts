/**
 * A training run's configuration as queue data: the TrainConfig without its
 * folder (the worker trains into a temp folder of its own), with the dataset
 * named as pairProblem.ts names it (a built-in or Debian set by name, a user
 * file or folder uploaded by content hash). The worker checks every field
 * against a schema that admits only what a local `landscape train` accepts,
 * within bounds, before anything is loaded.
 */
import type IORedis from 'ioredis';
import { S, type Infer, type Schema } from '../schema';
import { inputError } from '../engine/errors';
import { ACTIVATIONS, LOSSES } from '../engine/model/spec';
import { OPTIMIZER_NAMES } from '../engine/optim/types';
import type { TrainConfig } from '../engine/train/types';
import { putJsonBlob, type BlobCache } from './blobs';
import { DatasetRefSchema, datasetRef, materialiseDataset, type DatasetRef } from './datasetRef';

/** A finite number in [min, max]. */
function range(min: number, max: number): Schema<number> {
  return { check: (v, at) => (typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? null : `${at}: expected a number in ${min}..${max}`) };
}

const count = (min: number, max: number) => S.optional(S.int(min, max));
const labelColumn: Schema<string | number> = {
  check: (v, at) => (typeof v === 'string' ? (v.length <= 200 ? null : `${at}: column name longer than 200`) : S.int(-100_000, 100_000).check(v, at)),
};

/** The options of `landscape train` (src/cli/commands/train.ts), each bounded. */
export const TrainConfigWireSchema = S.object({
  dataset: DatasetRefSchema,
  model: S.string(20_000),
  activation: S.optional(S.oneOf(ACTIVATIONS)),
  bias: S.optional(S.boolean()),
  loss: S.optional(S.oneOf(LOSSES)),
  optimizer: S.oneOf(OPTIMIZER_NAMES as readonly TrainConfig['optimizer'][]),
  lr: S.optional(range(0, 1e6)),
  momentum: S.optional(range(0, 1)),
  l2: S.optional(range(0, 1e6)),
  epochs: S.int(1, 1_000_000),
  batch: count(1, 1 << 24),
  seed: count(0, Number.MAX_SAFE_INTEGER),
  dataSeed: count(0, Number.MAX_SAFE_INTEGER),
  checkpointEvery: count(0, 1_000_000),
  stabilityEvery: count(0, 1_000_000),
  testFraction: S.optional(range(0, 1)),
  labelColumn: S.optional(labelColumn),
  task: S.optional(S.oneOf(['classification', 'regression', 'auto'] as const)),
  n: count(1, 10_000_000),
  noise: S.optional(range(0, 1e6)),
  subset: count(2, 1 << 30),
  /** As the client's config gave it (run.json records it); the job's `backend` is what the worker trains on. */
  backend: S.optional(S.oneOf(['auto', 'tensorflow', 'wasm', 'cpu'] as const)),
});
export type TrainConfigWire = Infer<typeof TrainConfigWireSchema>;

/** Fields of a TrainConfig that never go to a worker: the folder is the worker's own, and a fresh folder has nothing to resume or replace. */
const LOCAL_ONLY = new Set(['out', 'resume', 'overwrite']);

/** The wire form of `config` with its dataset as `ref` (undefined fields left out, so the blob's hash names the run). */
export function trainConfigWire(config: TrainConfig, ref: DatasetRef): TrainConfigWire {
  if (config.optimizerOptions && Object.keys(config.optimizerOptions).length) throw inputError('a run with extra optimizer options (history, rho, …) cannot go to the queue: `landscape train` has no flags for them');
  const wire: Record<string, unknown> = { dataset: ref };
  for (const key of Object.keys(TrainConfigWireSchema.shape)) {
    const v = (config as unknown as Record<string, unknown>)[key];
    if (key !== 'dataset' && !LOCAL_ONLY.has(key) && v !== undefined) wire[key] = v;
  }
  const err = TrainConfigWireSchema.check(wire, 'run');
  if (err) throw inputError(`this run cannot go to the queue: ${err}`);
  return wire as TrainConfigWire;
}

/** The client's side: uploads the run's configuration (its dataset first, when it is a file) and returns the blob's hash. */
export async function putTrainConfig(redis: IORedis, config: TrainConfig, refs = new Map<string, DatasetRef>()): Promise<string> {
  let ref = refs.get(config.dataset);
  if (!ref) refs.set(config.dataset, (ref = await datasetRef(redis, config.dataset)));
  return putJsonBlob(redis, trainConfigWire(config, ref));
}

/** Checks a configuration blob's JSON; throws an input error naming the first bad field. */
export function checkTrainConfigWire(value: unknown): TrainConfigWire {
  const err = TrainConfigWireSchema.check(value, 'run');
  if (err) throw inputError(`the job's run configuration is malformed: ${err}`);
  return value as TrainConfigWire;
}

/**
 * The worker's side: the run's TrainConfig (folder still to set), its dataset
 * fetched and unpacked when uploaded; `shown` is how the client named an
 * uploaded dataset (its file or folder name), for messages.
 */
export async function trainConfigFromQueue(hash: string, blobs: BlobCache): Promise<{ config: Omit<TrainConfig, 'out'>; shown?: string }> {
  let parsed: unknown;
  try {
    parsed = JSON.parse((await blobs.get(hash)).toString('utf8'));
  } catch (e) {
    if (e instanceof SyntaxError) throw inputError('the job\'s run configuration is not JSON');
    throw e;
  }
  const wire = checkTrainConfigWire(parsed);
  const config = { ...wire, dataset: await materialiseDataset(wire.dataset, blobs) };
  return { config, shown: wire.dataset.file ?? wire.dataset.folder };
}
