/**
 * `--queue redis://…` on the commands whose independent jobs can go to
 * `landscape worker` processes: opens the queue (one clear line and exit 2
 * when it cannot), says how many workers are listening, and closes it
 * whatever happens.
 */
import type { FlagSpec } from '../args';
import type { Io } from '../output';
import { withQueueSession, type QueueSession } from '../../queue/withQueueRunner';

export const QUEUE_FLAG: FlagSpec = {
  name: 'queue',
  type: 'string',
  description: 'send the pairs as jobs to a BullMQ queue in Redis, where `landscape worker --queue` processes take them (also LANDSCAPE_QUEUE)',
  metavar: 'redis://host:port[/db]',
};

export const QUEUE_ENV = 'LANDSCAPE_QUEUE';

export type QueueRun = QueueSession;

/** Runs `fn` with the queue's pair runner when --queue (or LANDSCAPE_QUEUE) names one, else with none. */
export async function withQueue<T>(f: Record<string, unknown>, io: Io, quiet: boolean, fn: (q: QueueRun | undefined) => Promise<T>): Promise<T> {
  const url = (f.queue as string | undefined) ?? (process.env[QUEUE_ENV] || undefined);
  return withQueueSession(url, (line) => io.err(line), (q) => {
    if (q && !quiet) {
      io.err(`${q.where}: ${q.workers} worker${q.workers === 1 ? '' : 's'} connected${q.workers ? '' : `; the jobs wait until one starts (landscape worker --queue ${q.address})`}`);
    }
    return fn(q);
  });
}
