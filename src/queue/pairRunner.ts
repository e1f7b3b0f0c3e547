/**
 * Path pairs computed by queue workers, behind the same signature as the
 * local thread pool (runPathPairs), so that `barriers`, `study` and the
 * extension hand their pairs to either without knowing which.
 */
import { computeError } from '../engine/errors';
import type { Pair } from '../engine/path/pairs';
import type { PathResult } from '../engine/path/types';
import type { RunPathPairsOptions } from '../engine/pool/pathPool';
import type { PairTaskOutcome, PathProblem } from '../engine/pool/pathTask';
import { fetchBlob } from './blobs';
import type { QueueClient } from './client';
import { QUEUE_FORMAT } from './connection';
import type { JobReturn, PairJob } from './jobKinds';
import { putPairProblem, putTheta } from './pairProblem';
import { decodeResult } from './resultCodec';
import { gatherJobs } from './gatherJobs';

export type PairRunner = (problem: PathProblem, pairs: readonly Pair[], opts: RunPathPairsOptions) => Promise<PairTaskOutcome[]>;

/** Uploads the problem and the minima the pairs use (each once) and returns each pair's job payload. */
async function pairPayloads(client: QueueClient, problem: PathProblem, pairs: readonly Pair[], keepPoints: boolean): Promise<PairJob[]> {
  const problemHash = await putPairProblem(client.redis, problem);
  const thetaHash = new Map<number, string>();
  for (const k of new Set(pairs.flat())) thetaHash.set(k, await putTheta(client.redis, problem.thetas[k]));
  return pairs.map(([i, j]) => ({ format: QUEUE_FORMAT, kind: 'path-pair', problem: problemHash, a: thetaHash.get(i)!, b: thetaHash.get(j)!, ...(keepPoints ? { points: true } : {}) }));
}

function looksLikePathResult(v: unknown): v is PathResult {
  const r = v as PathResult | null;
  return typeof r === 'object' && r !== null && typeof r.height === 'number' && typeof r.lossA === 'number' && typeof r.linear?.height === 'number';
}

async function outcomeOf(client: QueueClient, [i, j]: Pair, ret: JobReturn): Promise<PairTaskOutcome> {
  if ('error' in ret) return { i, j, error: ret.error };
  const result = decodeResult((await fetchBlob(client.redis, ret.result)).toString('utf8'));
  if (!looksLikePathResult(result)) throw computeError(`the queue returned a malformed result for pair (${i}, ${j})`);
  return { i, j, result };
}

export function queuePairRunner(client: QueueClient): PairRunner {
  return async (problem, pairs, opts) => {
    const keepPoints = Boolean(opts.keepPoints);
    const payloads = await pairPayloads(client, problem, pairs, keepPoints);
    const ids = await Promise.all(payloads.map((p) => client.ensure(p)));
    // Redis lost the job (restarted without persistence): upload its inputs again and re-add it.
    const resubmit = async (k: number) => {
      const [again] = await pairPayloads(client, problem, [pairs[k]], keepPoints);
      await client.ensure(again);
    };
    return gather(client, pairs, ids, opts, resubmit);
  };
}

async function gather(client: QueueClient, pairs: readonly Pair[], ids: string[], opts: RunPathPairsOptions, resubmit: (k: number) => Promise<void>): Promise<PairTaskOutcome[]> {
  const out: PairTaskOutcome[] = new Array(pairs.length);
  let done = 0;
  await gatherJobs(client, ids, {
    signal: opts.signal,
    resubmit,
    onStarted: (k) => opts.onStart?.(pairs[k], k),
    onProgress: (k, progress) => {
      const p = progress as { iteration?: number; height?: number; bestHeight?: number };
      if (typeof p.iteration === 'number') opts.onProgress?.({ i: pairs[k][0], j: pairs[k][1], iteration: p.iteration, height: p.height ?? NaN, bestHeight: p.bestHeight ?? NaN });
    },
    onFinished: async (k, o) => {
      const [i, j] = pairs[k];
      out[k] = 'value' in o ? await outcomeOf(client, pairs[k], o.value) : { i, j, error: { kind: 'compute', message: `a queue worker could not run this pair: ${o.failedReason}` } };
      opts.onResult?.(out[k], ++done, pairs.length);
    },
  });
  return out;
}
