/**
 * A path pair as queue data. The client stores the problem (network, data
 * recipe, path options) and each minimum once, by content hash; a job names
 * the problem and its two minima. The worker rebuilds the PathProblem from
 * them after checking every field, so a job can only ever ask for what a
 * local `landscape barriers` run could.
 */
import type IORedis from 'ioredis';
import { S, type Infer, type Schema } from '../schema';
import { inputError } from '../engine/errors';
import type { BackendName } from '../engine/backend';
import { ACTIVATIONS, LOSSES } from '../engine/model/spec';
import { modelSpecFromText } from '../engine/model/archModel';
import { BAND_OPTIMIZERS, PATH_METHODS, PATH_OBJECTIVES, PATH_REFINES } from '../engine/path/types';
import { portableProblem, type PathProblem, type PathTaskOptions } from '../engine/pool/pathTask';
import type { DataRecipe } from '../engine/checkpointObjective';
import { maxParams } from '../engine/limits';
import { putBlob, putJsonBlob, type BlobCache } from './blobs';
import { DatasetRefSchema, datasetRef, materialiseDataset } from './datasetRef';

const num = S.number();
const optNum = S.optional(num);
const stringOrIndex: Schema<string | number> = {
  check: (v, at) => (typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v) && v >= 0) ? null : `${at}: expected a column name or index`),
};

const PathOptionsWire = S.object({
  method: S.optional(S.oneOf(PATH_METHODS)),
  objective: S.optional(S.oneOf(PATH_OBJECTIVES)),
  refine: S.optional(S.oneOf(PATH_REFINES)),
  bandOptimizer: S.optional(S.oneOf(BAND_OPTIMIZERS)),
  modes: optNum,
  points: optNum,
  lambda: optNum,
  steps: optNum,
  lr: optNum,
  noise: optNum,
  seed: optNum,
  tauStart: optNum,
  tauEnd: optNum,
  denseSelect: S.optional(S.boolean()),
  spring: optNum,
  climbFrom: optNum,
  refineSteps: optNum,
});

export const PairProblemSchema = S.object({
  backend: S.oneOf(['tensorflow', 'wasm', 'cpu'] as const),
  spec: S.object({
    layers: S.array(S.int(1, 1 << 20), 64),
    activation: S.oneOf(ACTIVATIONS),
    bias: S.boolean(),
    loss: S.oneOf(LOSSES),
  }),
  specText: S.optional(S.string(20_000)),
  recipe: S.object({
    dataset: DatasetRefSchema,
    seed: S.int(0),
    testFraction: num,
    options: S.object({
      n: optNum,
      noise: optNum,
      labelColumn: S.optional(stringOrIndex),
      task: S.optional(S.oneOf(['classification', 'regression', 'auto'] as const)),
      subset: optNum,
      normalization: S.optional(S.object({ mean: S.array(num, 64), std: S.array(num, 64) })),
    }),
  }),
  path: PathOptionsWire,
  batch: S.optional(S.int(1)),
});
export type PairProblemWire = Infer<typeof PairProblemSchema>;

/** Uploads the problem (without its minima) and returns its hash. */
export async function putPairProblem(redis: IORedis, problem: PathProblem): Promise<string> {
  const p = portableProblem(problem);
  const wire: PairProblemWire = {
    backend: p.backend,
    spec: { layers: p.spec.layers, activation: p.spec.activation, bias: p.spec.bias, loss: p.spec.loss },
    ...(p.specText !== undefined ? { specText: p.specText } : {}),
    recipe: { ...p.recipe, dataset: await datasetRef(redis, p.recipe.dataset) },
    path: p.path as PairProblemWire['path'],
    ...(p.batch !== undefined ? { batch: p.batch } : {}),
  };
  return putJsonBlob(redis, wire);
}

/** A minimum's parameters as raw float32 bytes (little-endian, as in memory on every platform Node runs on). */
export async function putTheta(redis: IORedis, theta: Float32Array): Promise<string> {
  return putBlob(redis, new Uint8Array(theta.buffer, theta.byteOffset, theta.byteLength));
}

export function thetaFromBytes(bytes: Buffer, what: string): Float32Array {
  if (bytes.byteLength % 4 !== 0 || bytes.byteLength === 0 || bytes.byteLength / 4 > maxParams()) throw inputError(`${what} is not a float32 parameter vector (${bytes.byteLength} bytes)`);
  const copy = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(copy.buffer).set(bytes);
  return copy;
}

/** The worker's side: the problem's network, data and options, checked field by field (its minima come separately). */
export async function problemFromQueue(problemHash: string, blobs: BlobCache): Promise<Omit<PathProblem, 'thetas'>> {
  const parsed: unknown = JSON.parse((await blobs.get(problemHash)).toString('utf8'));
  const err = PairProblemSchema.check(parsed, 'problem');
  if (err) throw inputError(`the job's problem is malformed: ${err}`);
  const wire = parsed as PairProblemWire;
  const spec = wire.specText !== undefined ? modelSpecFromText(wire.specText, { loss: wire.spec.loss }) : wire.spec;
  const dataset = await materialiseDataset(wire.recipe.dataset, blobs);
  const recipe: DataRecipe = { ...wire.recipe, dataset };
  return { backend: wire.backend as BackendName, spec, ...(wire.specText !== undefined ? { specText: wire.specText } : {}), recipe, path: wire.path as PathTaskOptions, batch: wire.batch };
}

/** The worker's side of a pair: the problem with its two minima. */
export async function pairProblemFromQueue(problemHash: string, thetaHashes: [string, string], blobs: BlobCache): Promise<PathProblem> {
  const problem = await problemFromQueue(problemHash, blobs);
  const thetas = await Promise.all(thetaHashes.map(async (h, k) => thetaFromBytes(await blobs.get(h), `minimum ${k === 0 ? 'A' : 'B'}`)));
  if (thetas[0].length !== thetas[1].length) throw inputError(`the job's minima have ${thetas[0].length} and ${thetas[1].length} parameters`);
  return { ...problem, thetas };
}
