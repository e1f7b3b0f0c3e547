import { FlagSpec, parseArgs } from '../args';
import type { Io } from '../output';
import { inputError } from '../../engine/errors';
import { initBackend, describeBackend, BACKEND_CHOICES } from '../../engine/backend';
import { runQueueWorker } from '../../queue/worker';
import { parseQueueUrl } from '../../queue/redisUrl';
import { QUEUE_ENV } from './queueOption';
import { positiveInt } from './common-analysis';
import type { CommandDef } from './types';

const flags: FlagSpec[] = [
  { name: 'queue', type: 'string', description: 'the Redis of the queue (also LANDSCAPE_QUEUE); rediss:// for TLS, redis://:password@host for a password', metavar: 'redis://host:port[/db]' },
  { name: 'concurrency', type: 'int', description: 'jobs run at once (each on its own thread; one already uses every core for a CNN)', defaultText: '1' },
  { name: 'backend', type: 'string', description: 'tfjs backend this process starts on (each job computes on the backend its client used)', choices: BACKEND_CHOICES, defaultText: 'auto' },
];

export const workerCommand: CommandDef = {
  name: 'worker',
  usage: '--queue redis://HOST:PORT[/db] [--concurrency n]',
  summary: 'Take jobs from a Redis-backed BullMQ queue (path pairs of barriers, path --pairs and study; blocks of slice; training runs of study) and run them, until Ctrl-C or SIGTERM.',
  flags,
  // It reads no files: its inputs arrive in the jobs (test/unit/queue/queue.test.ts covers bad ones).
  fileArgs: { slots: [] },
  async run(argv: string[], io: Io, signal: AbortSignal): Promise<number> {
    const { flags: f, positionals } = parseArgs(argv, flags, 'worker');
    if (positionals.length) throw inputError(`"landscape worker" takes no file arguments, got ${positionals.join(' ')}`);
    const url = (f.queue as string | undefined) ?? (process.env[QUEUE_ENV] || undefined);
    if (!url) throw inputError('"landscape worker" needs --queue redis://host:port (or LANDSCAPE_QUEUE)');
    const address = parseQueueUrl(url);
    const concurrency = positiveInt(f.concurrency, 'concurrency') ?? 1;
    const backend = await initBackend(f.backend as string | undefined);
    io.err(`landscape worker: ${describeBackend(backend)}`);
    // A service manager stops workers with SIGTERM: treat it as Ctrl-C.
    const stop = new AbortController();
    const onTerm = () => stop.abort();
    process.on('SIGTERM', onTerm);
    signal.addEventListener('abort', onTerm, { once: true });
    try {
      await runQueueWorker({ address, concurrency, signal: stop.signal, log: (line) => io.err(line) });
    } finally {
      process.off('SIGTERM', onTerm);
    }
    return 0;
  },
};
