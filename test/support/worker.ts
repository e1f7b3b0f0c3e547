/**
 * Runs one job in the real compute worker (src/worker/main.ts on a worker
 * thread, as the extension runs dist/worker.js) and collects what it posts:
 * its events, then its result or its typed error. `onEvent` gets a cancel
 * function that sets the shared flag the worker polls, as the host's Cancel does.
 * `settings` are the landscape.* settings the host passes (default: the CPU backend).
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { JobKind, JobRequest, JobResults, WorkerInit, WorkerToHost } from '../../src/worker/protocol';

const workerFile = path.join(__dirname, '../../src/worker/main.ts');
// Node will not start a worker from a .ts file even with tsx loaded, so a tiny CJS stub registers tsx first.
const bootstrap = `require(${JSON.stringify(require.resolve('tsx/cjs/api'))}).register(); require(${JSON.stringify(workerFile)});`;

export interface JobOutcome<R, E> {
  result?: R;
  error?: { kind: string; message: string };
  events: E[];
}

export function runWorkerJob<K extends JobKind, E = unknown>(
  request: Extract<JobRequest, { kind: K }>,
  onEvent?: (e: E, cancel: () => void) => void,
  settings: Pick<WorkerInit, 'backend' | 'tfjsNodePath' | 'queue'> = { backend: 'cpu' },
): Promise<JobOutcome<JobResults[K], E>> {
  return new Promise((resolve, reject) => {
    const cancelFlag = new SharedArrayBuffer(4);
    const events: E[] = [];
    const w = new Worker(bootstrap, { eval: true, workerData: { id: 't', request, ...settings, cancelFlag } satisfies WorkerInit, stdout: true, stderr: true });
    const cancel = () => Atomics.store(new Int32Array(cancelFlag), 0, 1);
    w.on('message', (m: WorkerToHost) => {
      if (m.type === 'event') {
        const ev = m.event as E;
        events.push(ev);
        onEvent?.(ev, cancel);
        return;
      }
      void w.terminate();
      if (m.type === 'result') resolve({ result: m.result as JobResults[K], events });
      else resolve({ error: { kind: m.kind, message: m.message }, events });
    });
    w.on('error', reject);
  });
}
