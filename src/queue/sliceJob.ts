/**
 * A block of a slice's grid as a queue job: the objective (network and data,
 * stored as a problem blob like a path pair's), the centre and directions,
 * and the block's coefficients. The worker evaluates the block in the very
 * batches a local slice would, so the values are the same, and returns them
 * as float64 bytes. Objectives are kept for the next block of the same slice.
 */
import { tf, initBackend } from '../engine/backend';
import { inputError } from '../engine/errors';
import { evaluateGridBlock } from '../engine/analysis/slices';
import { objectiveFromRecipe, type CheckpointObjective } from '../engine/checkpointObjective';
import type { BlobCache } from './blobs';
import { problemFromQueue, thetaFromBytes } from './pairProblem';
import type { JobContext, JobReturn, SliceJob } from './jobKinds';

const MAX_KEPT = 2;
const kept = new Map<string, { objective: Promise<CheckpointObjective>; backend: string }>();

export function float64FromBytes(bytes: Buffer, what: string): Float64Array {
  if (bytes.byteLength % 8 !== 0) throw inputError(`${what} is not a float64 array (${bytes.byteLength} bytes)`);
  const copy = new Float64Array(bytes.byteLength / 8);
  new Uint8Array(copy.buffer).set(bytes);
  return copy;
}

/** The slice's objective, built once per problem and backend. */
async function objectiveFor(hash: string, blobs: BlobCache): Promise<CheckpointObjective> {
  const problem = await problemFromQueue(hash, blobs);
  if (tf.getBackend() !== problem.backend) {
    // Tensors of another backend are of no use now.
    for (const [h, k] of kept) (kept.delete(h), void k.objective.then((o) => o.dispose(), () => undefined));
    await initBackend(problem.backend, { force: true });
  }
  let entry = kept.get(hash);
  if (!entry) {
    entry = { objective: objectiveFromRecipe(problem.spec, problem.recipe), backend: problem.backend };
    kept.set(hash, entry);
    if (kept.size > MAX_KEPT) {
      const [oldest, old] = kept.entries().next().value as [string, { objective: Promise<CheckpointObjective> }];
      kept.delete(oldest);
      void old.objective.then((o) => o.dispose(), () => undefined);
    }
  }
  return entry.objective;
}

export async function runSliceJob(job: SliceJob, ctx: JobContext): Promise<JobReturn> {
  const obj = await objectiveFor(job.problem, ctx.blobs);
  const centre = thetaFromBytes(await ctx.blobs.get(job.centre), 'the slice centre');
  const dirs = await Promise.all(job.dirs.map(async (h, k) => float64FromBytes(await ctx.blobs.get(h), `direction ${k + 1}`)));
  const flat = float64FromBytes(await ctx.blobs.get(job.coeffs), 'the grid coefficients');
  const k = dirs.length;
  if (flat.length !== job.rows * k) throw inputError(`the grid block has ${flat.length} coefficients, not ${job.rows} rows of ${k}`);
  if (centre.length !== obj.objective.dim || dirs.some((d) => d.length !== centre.length)) throw inputError(`the slice's vectors do not fit the network's ${obj.objective.dim} parameters`);
  const coeffs = Array.from({ length: job.rows }, (_, r) => Array.from(flat.subarray(r * k, (r + 1) * k)));
  try {
    const values = await evaluateGridBlock(obj.objective, { centre, dirs, coeffs, batchSize: job.batchSize }, job.firstRow);
    return { result: await ctx.putBytes(new Uint8Array(values.buffer)) };
  } catch (e) {
    if (e instanceof Error && e.name === 'LandscapeError' && (e as { kind?: string }).kind === 'compute') return { error: { kind: 'compute', message: e.message } };
    throw e;
  }
}
