/**
 * Runs one path-pair job on a worker: the pair is computed on a worker
 * thread (the same one `landscape barriers` uses), so this process's event
 * loop stays free to renew BullMQ's lock while the path is optimised; a job
 * whose lock lapses would be handed to a second worker.
 */
import { tf, initBackend } from '../engine/backend';
import { runPathPairs } from '../engine/pool/pathPool';
import type { JobContext, JobReturn, PairJob } from './jobKinds';
import { pairProblemFromQueue } from './pairProblem';

export async function runPairJob(job: PairJob, ctx: JobContext): Promise<JobReturn> {
  const problem = await pairProblemFromQueue(job.problem, [job.a, job.b], ctx.blobs);
  // The pair's thread computes on the client's backend, and the pool insists this thread does too.
  if (tf.getBackend() !== problem.backend) await initBackend(problem.backend, { force: true });
  const [outcome] = await runPathPairs(problem, [[0, 1]], {
    jobs: 1,
    inProcess: false,
    onProgress: (p) => ctx.progress({ iteration: p.iteration, height: p.height, bestHeight: p.bestHeight }),
  });
  if (outcome.error) return { error: outcome.error };
  return { result: await ctx.putResult(outcome.result) };
}
