/**
 * Entry of dist/pathWorker.js (and of pathWorker.ts under tsx in tests): one
 * thread of the all-pairs pool. It initialises the parent's backend, builds
 * the objective once from the problem in workerData, then computes the pairs
 * it is sent, one at a time, until the parent terminates it.
 */
import { parentPort, workerData, MessagePort } from 'worker_threads';
import { initBackend } from '../backend';
import { CancelledError } from '../errors';
import { PairSolver, toPairError } from './pathTask';
import type { FromPathWorker, PathProblem, ToPathWorker } from './pathTask';

if (!parentPort) throw new Error('pathWorker must run as a worker thread');
const port: MessagePort = parentPort;
const post = (m: FromPathWorker) => port.postMessage(m);

// Progress is for display only; a message per iteration would flood the parent on small nets.
const PROGRESS_INTERVAL_MS = 100;

async function start(): Promise<void> {
  const problem = workerData as PathProblem;
  let solver: PairSolver;
  try {
    await initBackend(problem.backend, { force: true, tfjsNodePath: problem.tfjsNodePath });
    solver = await PairSolver.create(problem);
  } catch (e) {
    post({ type: 'init-error', error: toPairError(e) });
    return;
  }
  let current: AbortController | undefined;
  let queue = Promise.resolve();
  port.on('message', (m: ToPathWorker) => {
    if (m.type === 'cancel') {
      current?.abort();
      return;
    }
    // Pairs arrive one at a time, but chaining keeps them in order even if a parent sends ahead.
    queue = queue.then(async () => {
      const ac = new AbortController();
      current = ac;
      let last = 0;
      try {
        const result = await solver.solve(m.i, m.j, {
          signal: ac.signal,
          onIteration: (it) => {
            const now = Date.now();
            if (now - last < PROGRESS_INTERVAL_MS) return;
            last = now;
            post({ type: 'progress', k: m.k, iteration: it.iteration, height: it.height, bestHeight: it.bestHeight });
          },
        });
        post({ type: 'done', k: m.k, result });
      } catch (e) {
        post({ type: 'failed', k: m.k, error: toPairError(ac.signal.aborted && !(e instanceof CancelledError) ? new CancelledError() : e) });
      } finally {
        current = undefined;
      }
    });
  });
  post({ type: 'ready' });
}

void start();
