/**
 * Entry of dist/worker.js: one worker thread per job (train, inspect,
 * evaluate, probe, path, barriers, study, and the analysis jobs kpca,
 * kpcaOverlay, hessian, gradcheck, slice; see jobTable.ts). All tfjs work
 * happens here so the extension host never blocks; a job that crashes or
 * leaks takes only its own thread down.
 */
import { parentPort, workerData } from 'worker_threads';
import { LandscapeError, CancelledError } from '../engine/errors';
import { setTfjsNodeSetting } from '../engine/tfjsNodeLoader';
import { runJob } from './jobTable';
import type { ErrorKind, JobKind, WorkerInit, WorkerToHost } from './protocol';

const port = parentPort;
if (!port) throw new Error('dist/worker.js must run as a worker thread');
const init = workerData as WorkerInit;
const cancelFlag = new Int32Array(init.cancelFlag);
// Every initBackend of the job (and the path threads it starts) loads tfjs-node from here.
setTfjsNodeSetting(init.tfjsNodePath);

const controller = new AbortController();
const nativeAborted = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted')!.get!;
// The engine polls `signal.aborted` between steps. The shared flag makes that
// poll see a cancel at once; the 'cancel' message alone would only arrive when
// the loop next yields to this thread's event loop.
Object.defineProperty(controller.signal, 'aborted', {
  get(this: AbortSignal) {
    return Atomics.load(cancelFlag, 0) === 1 || nativeAborted.call(this);
  },
});
port.on('message', (m: unknown) => {
  if (typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'cancel') controller.abort();
});

const post = (m: WorkerToHost) => port.postMessage(m);

function errorKind(e: unknown): ErrorKind {
  if (e instanceof CancelledError) return 'cancelled';
  if (e instanceof LandscapeError) return e.kind;
  return 'internal';
}

runJob<JobKind>(init.request, {
  backend: init.backend,
  queue: init.queue,
  signal: controller.signal,
  emit: (event) => post({ type: 'event', event }),
  log: (line) => console.log(line),
}).then(
  (result) => post({ type: 'result', result }),
  (e: unknown) => {
    const message = e instanceof Error ? e.message : String(e);
    post({ type: 'error', kind: errorKind(e), message, stack: e instanceof Error ? e.stack : undefined });
  },
);
