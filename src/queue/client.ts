/**
 * The client's side of the queue: adds jobs under ids derived from their
 * inputs (so a re-run finds finished work instead of queuing it again),
 * watches them until each has finished, and on cancel removes the jobs no
 * worker has started. Watching polls job states rather than listening to
 * events: a poll after a Redis restart sees the same truth as before it,
 * and a job Redis lost is simply added again.
 */
import IORedis from 'ioredis';
import { Job, Queue } from 'bullmq';
import { bullConnection, checkQueue, closeConnection, commandConnection, KEY_PREFIX, QUEUE_NAME } from './connection';
import { jobId, type AnyJob } from './jobKinds';
import type { QueueAddress } from './redisUrl';

/** Finished jobs (and their results) are kept this long for re-runs to reuse. */
const KEEP_FINISHED_S = 7 * 24 * 3600;

export class QueueClient {
  /** Where the client says things while it waits (e.g. that no worker is connected); the CLI's stderr. */
  warn: (line: string) => void = () => undefined;

  private constructor(
    readonly address: QueueAddress,
    readonly queue: Queue,
    readonly redis: IORedis,
  ) {}

  static async open(address: QueueAddress): Promise<QueueClient> {
    await checkQueue(address);
    const queue = new Queue(QUEUE_NAME, { connection: bullConnection(address), prefix: KEY_PREFIX });
    queue.on('error', () => undefined);
    const redis = commandConnection(address);
    redis.on('error', () => undefined);
    return new QueueClient(address, queue, redis);
  }

  /** Workers connected to this queue now. */
  async workerCount(): Promise<number> {
    return (await this.queue.getWorkers()).length;
  }

  /** Adds the job unless it exists; a job that failed before (a worker could not run it) is retried. */
  async ensure(payload: AnyJob): Promise<string> {
    const id = jobId(payload);
    const job = await this.queue.add(payload.kind, payload, {
      jobId: id,
      attempts: 1,
      removeOnComplete: { age: KEEP_FINISHED_S },
      removeOnFail: { age: KEEP_FINISHED_S },
    });
    if ((await job.getState()) === 'failed') await job.retry('failed');
    return id;
  }

  async job(id: string): Promise<Job | undefined> {
    return Job.fromId(this.queue, id);
  }

  /** Removes the jobs of `ids` that no worker has started; the others finish and stay for reuse. */
  async removeUnstarted(ids: readonly string[]): Promise<number> {
    let removed = 0;
    for (const id of ids) {
      const job = await this.job(id);
      const state = job && (await job.getState());
      if (!job || !(state === 'waiting' || state === 'delayed' || state === 'prioritized' || state === 'waiting-children')) continue;
      try {
        await job.remove();
        removed++;
      } catch {
        // It started between the check and the removal: let it finish.
      }
    }
    return removed;
  }

  async close(): Promise<void> {
    await this.queue.close();
    await closeConnection(this.redis);
  }
}
