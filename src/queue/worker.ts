/**
 * `landscape worker`: takes jobs from the queue and runs them with the
 * engine until stopped. Each payload is checked against its kind's schema
 * before anything runs; a result goes into Redis by content hash and the
 * job returns the hash. A worker killed mid-job leaves its job locked until
 * the lock lapses; then another worker's stalled-job check hands it out
 * again, so nothing is lost and, since results are stored by hash and the
 * job id is the hash of its inputs, nothing is duplicated.
 */
import * as os from 'os';
import { Worker, type Job } from 'bullmq';
import { bullConnection, checkQueue, closeConnection, commandConnection, KEY_PREFIX, QUEUE_NAME } from './connection';
import { BlobCache, putBlob } from './blobs';
import { encodeResult } from './resultCodec';
import { checkJobPayload, type JobContext, type JobReturn } from './jobKinds';
import { runJobOfKind } from './jobRunners';
import { describeQueue, type QueueAddress } from './redisUrl';
import { inputError } from '../engine/errors';

export interface QueueWorkerOptions {
  address: QueueAddress;
  concurrency: number;
  signal: AbortSignal;
  log: (line: string) => void;
}

const PROGRESS_INTERVAL_MS = 500;
export const LOCK_ENV = 'LANDSCAPE_QUEUE_LOCK_MS';

/**
 * How long a job's lock lasts without renewal, which is how long a killed
 * worker's job waits before another worker takes it (BullMQ's default, 30 s;
 * tests shorten it).
 */
export function lockDurationMs(): number {
  const raw = process.env[LOCK_ENV];
  if (raw === undefined || raw === '') return 30_000;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 500) throw inputError(`${LOCK_ENV}="${raw.slice(0, 20)}" must be a whole number of milliseconds ≥ 500`);
  return v;
}

function jobContext(job: Job, blobs: BlobCache, store: (bytes: Buffer) => Promise<string>, threads: number): JobContext {
  let last = 0;
  return {
    blobs,
    threads,
    putResult: (value) => store(Buffer.from(encodeResult(value), 'utf8')),
    putBytes: (bytes) => store(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)),
    progress: (p) => {
      const now = Date.now();
      if (now - last < PROGRESS_INTERVAL_MS) return;
      last = now;
      job.updateProgress(p).catch(() => undefined);
    },
  };
}

/** This worker's share of the cores for each of its `concurrency` jobs. */
function coreShare(concurrency: number): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.floor(cores / concurrency));
}

export async function runQueueWorker(opts: QueueWorkerOptions): Promise<void> {
  const { address, log } = opts;
  await checkQueue(address);
  const threads = coreShare(opts.concurrency);
  const redis = commandConnection(address);
  redis.on('error', () => undefined);
  const blobs = new BlobCache(redis);
  const lock = lockDurationMs();
  const processor = async (job: Job): Promise<JobReturn> => {
    const { kind, payload } = checkJobPayload(job.data);
    log(`job ${job.id} (${kind}) started`);
    const ctx = jobContext(job, blobs, (b) => putBlob(redis, b), threads);
    return runJobOfKind(kind, payload, ctx);
  };
  const worker = new Worker(QUEUE_NAME, processor, {
    connection: bullConnection(address),
    prefix: KEY_PREFIX,
    concurrency: opts.concurrency,
    lockDuration: lock,
    stalledInterval: lock,
    maxStalledCount: 3,
  });
  worker.on('completed', (job) => log(`job ${job.id} done`));
  worker.on('failed', (job, err) => log(`job ${job?.id ?? '?'} failed: ${err.message}`));
  worker.on('error', (err) => log(`queue: ${err.message}`));
  log(`landscape worker: waiting for jobs at ${describeQueue(address)} (concurrency ${opts.concurrency})`);
  await new Promise<void>((resolve) => (opts.signal.aborted ? resolve() : opts.signal.addEventListener('abort', () => resolve(), { once: true })));
  // Forced: a job in flight is left locked and goes to another worker when the lock lapses.
  await worker.close(true);
  await closeConnection(redis);
}
