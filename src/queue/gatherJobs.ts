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
import { describeQueue } from './redisUrl';

const POLL_MS = 300;
/** How often, while jobs wait, the client checks that some worker is connected. */
const WORKER_CHECK_MS = 10_000;

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

/** Says once, each time it happens, that no worker is connected while jobs wait: they would wait for ever. */
function workerWatch(client: QueueClient): () => Promise<void> {
  let lastCheck = Date.now();
  let warned = false;
  return async () => {
    if (Date.now() - lastCheck < WORKER_CHECK_MS) return;
    lastCheck = Date.now();
    const n = await client.workerCount().catch(() => -1);
    if (n === 0 && !warned) client.warn(`no worker is connected to ${describeQueue(client.address)}; the jobs wait until one starts (landscape worker --queue ${describeQueue(client.address)})`);
    warned = n === 0;
  };
}

export async function gatherJobs(client: QueueClient, ids: readonly string[], hooks: GatherHooks): Promise<void> {
  const started = new Set<number>();
  const watch = workerWatch(client);
  let remaining = ids.map((_, k) => k);
  while (remaining.length) {
    await watch();
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
