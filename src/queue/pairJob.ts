/**
 * Runs one path-pair job on a worker: the pair is computed on a worker
 * thread (the same one `landscape barriers` uses), so this process's event
 * loop stays free to renew BullMQ's lock while the path is optimised; a job
 * whose lock lapses would be handed to a second worker.
 */
import { tf, initBackend } from '../engine/backend';
import { runPathPairs } from '../engine/pool/pathPool';
import type { PathResult } from '../engine/path/types';
import type { JobContext, JobReturn, PairJob } from './jobKinds';
import { pairProblemFromQueue } from './pairProblem';

/**
 * Kernel threads for the pair's thread. A local run computes each pair on a
 * pool thread with one kernel thread; dense kernels' last bits depend on the
 * thread count, so dense pairs get one here too and match it exactly. The
 * layer-grammar (CNN) kernels give the same numbers on any number of threads
 * (tested), so a CNN pair gets the worker's share of the cores.
 */
function kernelThreadsFor(problem: { spec: { arch?: unknown }; specText?: string }, share: number): number {
  return problem.spec.arch || problem.specText !== undefined ? share : 1;
}

/** Runs `start` with LANDSCAPE_THREADS set (a worker thread copies the environment when it is created, which `start` does at once). */
function withKernelThreads<T>(threads: number, start: () => Promise<T>): Promise<T> {
  if (process.env.LANDSCAPE_THREADS) return start();
  process.env.LANDSCAPE_THREADS = String(threads);
  try {
    return start();
  } finally {
    delete process.env.LANDSCAPE_THREADS;
  }
}

/** The result without its path points: the heights, profiles and certificate a matrix needs, ~50× fewer bytes. */
function withoutPoints(r: PathResult): PathResult {
  const { images: _i, bend: _b, ...rest } = r;
  return { ...rest, coefficients: [] };
}

export async function runPairJob(job: PairJob, ctx: JobContext): Promise<JobReturn> {
  const problem = await pairProblemFromQueue(job.problem, [job.a, job.b], ctx.blobs);
  // The pair's thread computes on the client's backend, and the pool insists this thread does too.
  if (tf.getBackend() !== problem.backend) await initBackend(problem.backend, { force: true });
  const [outcome] = await withKernelThreads(kernelThreadsFor(problem, ctx.threads), () =>
    runPathPairs(problem, [[0, 1]], {
      jobs: 1,
      inProcess: false,
      onProgress: (p) => ctx.progress({ iteration: p.iteration, height: p.height, bestHeight: p.bestHeight }),
    }),
  );
  if (outcome.error) return { error: outcome.error };
  return { result: await ctx.putResult(job.points ? outcome.result : withoutPoints(outcome.result!)) };
}
