/**
 * For callers that take the queue's address from a setting (the extension's
 * barriers job): opens the queue when an address is given, hands its pair
 * runner to `fn`, and closes it afterwards; without an address `fn` gets none
 * and computes locally.
 */
import { QueueClient } from './client';
import { queuePairRunner, type PairRunner } from './pairRunner';
import { describeQueue, parseQueueUrl } from './redisUrl';

export async function withQueueRunner<T>(url: string | undefined, log: ((line: string) => void) | undefined, fn: (runner: PairRunner | undefined) => Promise<T>): Promise<T> {
  if (!url) return fn(undefined);
  const address = parseQueueUrl(url);
  const client = await QueueClient.open(address);
  if (log) client.warn = log;
  try {
    const workers = await client.workerCount();
    log?.(`barriers: pairs go to the queue at ${describeQueue(address)} (${workers} worker${workers === 1 ? '' : 's'} connected)`);
    return await fn(queuePairRunner(client));
  } finally {
    await client.close();
  }
}
