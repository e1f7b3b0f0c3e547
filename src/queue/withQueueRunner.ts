/**
 * Opening the queue for the length of one command: the client, its pair
 * runner and run runner and how many workers are listening, closed whatever happens. The
 * CLI's --queue and the extension's barriers job (landscape.queue) both go
 * through it; without an address `fn` gets nothing and computes locally.
 */
import { QueueClient } from './client';
import { queuePairRunner, type PairRunner } from './pairRunner';
import { queueRunRunner } from './trainRunner';
import type { RunRunner } from '../engine/study/runRunner';
import { describeQueue, parseQueueUrl } from './redisUrl';

export interface QueueSession {
  client: QueueClient;
  /** Path pairs on the queue's workers. */
  runner: PairRunner;
  /** Training runs on the queue's workers (the study's). */
  runRunner: RunRunner;
  /** "redis://host:port", for messages (never the password). */
  address: string;
  /** "queue redis://host:port". */
  where: string;
  /** Workers connected when the session opened. */
  workers: number;
}

export async function withQueueSession<T>(url: string | undefined, warn: ((line: string) => void) | undefined, fn: (q: QueueSession | undefined) => Promise<T>): Promise<T> {
  if (!url) return fn(undefined);
  const address = parseQueueUrl(url);
  const client = await QueueClient.open(address);
  if (warn) client.warn = warn;
  try {
    const workers = await client.workerCount();
    const shown = describeQueue(address);
    return await fn({ client, runner: queuePairRunner(client), runRunner: queueRunRunner(client), address: shown, where: `queue ${shown}`, workers });
  } finally {
    await client.close();
  }
}

/** The extension's barriers job: the pair runner of landscape.queue's queue, with a line in the log. */
export async function withQueueRunner<T>(url: string | undefined, log: ((line: string) => void) | undefined, fn: (runner: PairRunner | undefined) => Promise<T>): Promise<T> {
  return withQueueSession(url, log, (q) => {
    if (q) log?.(`barriers: pairs go to the ${q.where} (${q.workers} worker${q.workers === 1 ? '' : 's'} connected)`);
    return fn(q?.runner);
  });
}
