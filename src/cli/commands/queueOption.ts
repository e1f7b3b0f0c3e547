/**
 * `--queue redis://…` on the commands whose independent jobs can go to
 * `landscape worker` processes: opens the queue (one clear line and exit 2
 * when it cannot), says how many workers are listening, and closes it
 * whatever happens.
 */
import type { FlagSpec } from '../args';
import type { Io } from '../output';
import { QueueClient } from '../../queue/client';
import { queuePairRunner, type PairRunner } from '../../queue/pairRunner';
import { describeQueue, parseQueueUrl } from '../../queue/redisUrl';

export const QUEUE_FLAG: FlagSpec = {
  name: 'queue',
  type: 'string',
  description: 'send the pairs as jobs to a BullMQ queue in Redis, where `landscape worker --queue` processes take them (also LANDSCAPE_QUEUE)',
  metavar: 'redis://host:port[/db]',
};

export const QUEUE_ENV = 'LANDSCAPE_QUEUE';

export interface QueueRun {
  runner: PairRunner;
  where: string;
  client: QueueClient;
}

/** Runs `fn` with the queue's pair runner when --queue (or LANDSCAPE_QUEUE) names one, else with none. */
export async function withQueue<T>(f: Record<string, unknown>, io: Io, quiet: boolean, fn: (q: QueueRun | undefined) => Promise<T>): Promise<T> {
  const url = (f.queue as string | undefined) ?? (process.env[QUEUE_ENV] || undefined);
  if (url === undefined) return fn(undefined);
  const address = parseQueueUrl(url);
  const client = await QueueClient.open(address);
  client.warn = (line) => io.err(line);
  try {
    const where = `queue ${describeQueue(address)}`;
    const workers = await client.workerCount();
    if (!quiet) io.err(`${where}: ${workers} worker${workers === 1 ? '' : 's'} connected${workers ? '' : '; the jobs wait until one starts (landscape worker --queue ' + describeQueue(address) + ')'}`);
    return await fn({ runner: queuePairRunner(client), where, client });
  } finally {
    await client.close();
  }
}
