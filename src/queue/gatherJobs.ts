/**
 * Waits for a set of queued jobs by polling their states: each finished
 * job's return value goes to `onFinished` (in the order they finish), a job
 * Redis lost is submitted again, and a cancel removes the jobs no worker has
 * started. Polling rather than listening to events means a poll after a
 * Redis restart sees the same truth as before it.
 */
import { CancelledError } from '../engine/errors';
import type { QueueClient } from './client';
import type { JobReturn } from './jobKinds';

const POLL_MS = 300;

export interface GatherHooks {
  signal?: AbortSignal;
  /** Job k was taken by a worker (reported once). */
  onStarted?(k: number): void;
  /** Job k's latest progress, as its worker reported it. */
  onProgress?(k: number, progress: unknown): void;
  /** Job k finished: its return value, or why no worker could run it. */
  onFinished(k: number, outcome: { value: JobReturn } | { failedReason: string }): Promise<void>;
  /** Job k is not in Redis any more: upload its inputs and add it again. */
  resubmit(k: number): Promise<void>;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const onAbort = () => (clearTimeout(t), resolve());
    const t = setTimeout(() => (signal?.removeEventListener('abort', onAbort), resolve()), ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** One poll of job k: true when it is finished. */
async function pollOne(client: QueueClient, id: string, k: number, started: Set<number>, hooks: GatherHooks): Promise<boolean> {
  const job = await client.job(id);
  if (!job) {
    await hooks.resubmit(k);
    return false;
  }
  if (job.processedOn && !started.has(k)) {
    started.add(k);
    hooks.onStarted?.(k);
  }
  if (job.finishedOn && job.returnvalue) await hooks.onFinished(k, { value: job.returnvalue as JobReturn });
  else if (job.finishedOn && job.failedReason) await hooks.onFinished(k, { failedReason: job.failedReason });
  else {
    if (job.progress && typeof job.progress === 'object') hooks.onProgress?.(k, job.progress);
    return false;
  }
  return true;
}

export async function gatherJobs(client: QueueClient, ids: readonly string[], hooks: GatherHooks): Promise<void> {
  const started = new Set<number>();
  let remaining = ids.map((_, k) => k);
  while (remaining.length) {
    if (hooks.signal?.aborted) {
      await client.removeUnstarted(remaining.map((k) => ids[k]));
      throw new CancelledError();
    }
    const still: number[] = [];
    for (const k of remaining) if (!(await pollOne(client, ids[k], k, started, hooks))) still.push(k);
    remaining = still;
    if (remaining.length) await sleep(POLL_MS, hooks.signal);
  }
}
