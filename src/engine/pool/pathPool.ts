/**
 * Computes many path pairs on a pool of worker threads (one per core by
 * default), or on this thread. Every pair goes through PairSolver, so the
 * numbers do not depend on where or in what order a pair ran. A failed pair
 * is reported in its outcome and the run goes on; cancelling, or a worker
 * that cannot start, stops the run.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { createRequire } from 'module';
import { backendInfo, tf } from '../backend';
import { CancelledError, LandscapeError, computeError, throwIfAborted } from '../errors';
import type { Pair } from '../path/pairs';
import { PairSolver, portableProblem, toPairError } from './pathTask';
import type { FromPathWorker, PairError, PairProgress, PairTaskOutcome, PathProblem, ToPathWorker } from './pathTask';

export interface RunPathPairsOptions {
  /** Worker threads. Default os.availableParallelism(), at most one per pair. */
  jobs?: number;
  /** Compute on this thread instead of workers. Default: when only one thread would run (jobs or pairs 1). */
  inProcess?: boolean;
  signal?: AbortSignal;
  /** Each finished pair (with its result or its error) and how many are done. */
  onResult?: (outcome: PairTaskOutcome, done: number, total: number) => void;
  /** Iterations of the pairs in flight, for display (throttled in workers). */
  onProgress?: (p: PairProgress) => void;
  /** A pair is handed to a thread; `index` is its place in `pairs`. */
  onStart?: (pair: Pair, index: number) => void;
  /**
   * Whether the caller reads each result's path points (coefficients, NEB
   * images, a curve's bend). Local results always carry them; the job queue
   * leaves them out unless asked, since they are nearly all of a result's bytes.
   */
  keepPoints?: boolean;
}

/** How long cancelled workers get to stop on their own before they are terminated. */
const CANCEL_GRACE_MS = 2000;

export function defaultJobs(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : Math.max(1, os.cpus().length);
}

/**
 * The worker script and how to start it: dist/pathWorker.js beside the
 * bundle that is running, or, when running from the TypeScript sources (tsx,
 * in tests), pathWorker.ts through tsx's CommonJS hook; tsx's `--import`
 * loader does not reach worker threads on Node 20.
 */
export function pathWorkerEntry(): { file: string; execArgv?: string[] } {
  if (__filename.endsWith('.ts')) {
    const file = path.join(__dirname, 'pathWorker.ts');
    // createRequire keeps the bundler from trying to resolve tsx, a dev-only dependency.
    return { file, execArgv: ['--require', createRequire(__filename).resolve('tsx/cjs')] };
  }
  const file = path.join(__dirname, 'pathWorker.js');
  if (!fs.existsSync(file)) throw computeError(`the path worker ${file} is missing; rebuild with npm run build`);
  return { file };
}

/** A pair's error as the error to throw: input and compute errors keep their kind. */
export function pairErrorToThrow(e: PairError, prefix = ''): LandscapeError | Error {
  const msg = `${prefix}${e.message}`;
  if (e.kind === 'input' || e.kind === 'compute') return new LandscapeError(e.kind, msg);
  if (e.kind === 'cancelled') return new CancelledError();
  return new Error(msg);
}

/** Compute `pairs` of `problem`; outcomes come back in the order of `pairs`. */
export async function runPathPairs(problem: PathProblem, pairs: readonly Pair[], opts: RunPathPairsOptions = {}): Promise<PairTaskOutcome[]> {
  const jobs = opts.jobs ?? defaultJobs();
  if (!Number.isInteger(jobs) || jobs < 1) throw new LandscapeError('input', `--jobs must be a whole number ≥ 1, got ${jobs}`);
  throwIfAborted(opts.signal);
  if (pairs.length === 0) return [];
  const threads = Math.min(jobs, pairs.length);
  // One thread's worth of work is not worth starting a thread (and loading tfjs again) for.
  if (opts.inProcess ?? threads === 1) return runInProcess(problem, pairs, opts);
  return runOnWorkers(problem, pairs, threads, opts);
}

async function runInProcess(problem: PathProblem, pairs: readonly Pair[], opts: RunPathPairsOptions): Promise<PairTaskOutcome[]> {
  const solver = await PairSolver.create(problem);
  const out: PairTaskOutcome[] = [];
  try {
    for (const [k, [i, j]] of pairs.entries()) {
      throwIfAborted(opts.signal);
      opts.onStart?.(pairs[k], k);
      let outcome: PairTaskOutcome;
      try {
        const result = await solver.solve(i, j, {
          signal: opts.signal,
          onIteration: (it) => opts.onProgress?.({ i, j, iteration: it.iteration, height: it.height, bestHeight: it.bestHeight }),
        });
        outcome = { i, j, result };
      } catch (e) {
        if (e instanceof CancelledError || opts.signal?.aborted) throw e instanceof CancelledError ? e : new CancelledError();
        outcome = { i, j, error: toPairError(e) };
      }
      out.push(outcome);
      opts.onResult?.(outcome, out.length, pairs.length);
    }
  } finally {
    solver.dispose();
  }
  return out;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  /** Index into `pairs` of the pair in flight. */
  busy?: number;
  dead: boolean;
}

function runOnWorkers(problem: PathProblem, pairs: readonly Pair[], jobs: number, opts: RunPathPairsOptions): Promise<PairTaskOutcome[]> {
  const entry = pathWorkerEntry();
  // The workers compute on the parent's backend so that their numbers match a run on this thread.
  const data: PathProblem = { ...portableProblem(problem), backend: (tf.getBackend() as PathProblem['backend']) ?? problem.backend, tfjsNodePath: backendInfo()?.tfjsNode?.folder };
  if (data.backend !== problem.backend) {
    throw computeError(`path pairs were set up for the ${problem.backend} backend but this thread computes on ${data.backend}`);
  }
  return new Promise<PairTaskOutcome[]>((resolve, reject) => {
    new WorkerRun(entry, data, pairs, opts, (err, out) => (err !== undefined ? reject(err) : resolve(out))).start(jobs);
  });
}

/** One run of `pairs` over worker threads: hands out pairs, collects outcomes, replaces lost workers, cancels. */
class WorkerRun {
  private readonly out: (PairTaskOutcome | undefined)[];
  private readonly slots = new Set<Slot>();
  private readonly debug = Boolean(process.env.LANDSCAPE_DEBUG);
  private next = 0;
  private done = 0;
  private finished = false;
  private readonly onAbort = () => this.cancel();

  constructor(
    private readonly entry: { file: string; execArgv?: string[] },
    private readonly data: PathProblem,
    private readonly pairs: readonly Pair[],
    private readonly opts: RunPathPairsOptions,
    private readonly settle: (err: unknown, out: PairTaskOutcome[]) => void,
  ) {
    this.out = new Array(pairs.length);
  }

  start(jobs: number): void {
    this.opts.signal?.addEventListener('abort', this.onAbort, { once: true });
    for (let w = 0; w < jobs; w++) this.spawn();
  }

  private stopAll(): void {
    for (const s of this.slots) {
      s.dead = true;
      void s.worker.terminate();
    }
    this.slots.clear();
  }

  private finish(err?: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.opts.signal?.removeEventListener('abort', this.onAbort);
    this.stopAll();
    this.settle(err, this.out as PairTaskOutcome[]);
  }

  private record(k: number, outcome: PairTaskOutcome): void {
    if (this.out[k]) return;
    this.out[k] = outcome;
    this.done++;
    this.opts.onResult?.(outcome, this.done, this.pairs.length);
    if (this.done === this.pairs.length) this.finish();
  }

  private feed(s: Slot): void {
    if (this.finished || s.dead || !s.ready || s.busy !== undefined) return;
    if (this.next >= this.pairs.length) {
      // Nothing left for this worker: let it go now rather than idle until the last pair.
      s.dead = true;
      this.slots.delete(s);
      void s.worker.terminate();
      return;
    }
    const k = this.next++;
    s.busy = k;
    const [i, j] = this.pairs[k];
    this.opts.onStart?.(this.pairs[k], k);
    s.worker.postMessage({ type: 'pair', k, i, j } satisfies ToPathWorker);
  }

  private spawn(): void {
    if (this.finished) return;
    let worker: Worker;
    try {
      worker = new Worker(this.entry.file, { workerData: this.data, execArgv: this.entry.execArgv, stdout: true, stderr: true });
    } catch (e) {
      this.finish(computeError(`could not start a path worker thread (${path.basename(this.entry.file)}): ${(e as Error).message}`));
      return;
    }
    // WASM aborts dump pages of minified code on the worker's stderr; the error event says what matters.
    worker.stdout.on('data', (d: Buffer) => this.debug && process.stderr.write(d));
    worker.stderr.on('data', (d: Buffer) => this.debug && process.stderr.write(d));
    const s: Slot = { worker, ready: false, dead: false };
    this.slots.add(s);
    worker.on('message', (m: FromPathWorker) => this.onMessage(s, m));
    worker.on('error', (e) => this.lost(s, e instanceof Error ? e.message.split('\n')[0] : String(e)));
    worker.on('exit', (code) => this.lost(s, `exit code ${code}`));
  }

  private lost(s: Slot, why: string): void {
    if (s.dead || this.finished) return;
    s.dead = true;
    this.slots.delete(s);
    if (!s.ready) {
      this.finish(computeError(`a path worker thread stopped before it was ready: ${why}`));
      return;
    }
    if (s.busy !== undefined) {
      const k = s.busy;
      const [i, j] = this.pairs[k];
      this.record(k, { i, j, error: { kind: 'internal', message: `the worker thread computing this pair stopped: ${why}` } });
    }
    // Keep the pool at strength for the pairs still waiting.
    if (!this.finished && this.next < this.pairs.length) this.spawn();
  }

  private onMessage(s: Slot, m: FromPathWorker): void {
    if (this.finished || s.dead) return;
    switch (m.type) {
      case 'ready':
        s.ready = true;
        this.feed(s);
        break;
      case 'init-error':
        this.finish(pairErrorToThrow(m.error, 'a path worker thread could not start: '));
        break;
      case 'progress': {
        const [i, j] = this.pairs[m.k];
        this.opts.onProgress?.({ i, j, iteration: m.iteration, height: m.height, bestHeight: m.bestHeight });
        break;
      }
      case 'done':
      case 'failed': {
        s.busy = undefined;
        const [i, j] = this.pairs[m.k];
        if (m.type === 'failed' && m.error.kind === 'cancelled') {
          this.finish(new CancelledError());
          return;
        }
        this.record(m.k, m.type === 'done' ? { i, j, result: m.result } : { i, j, error: m.error });
        this.feed(s);
        break;
      }
    }
  }

  private cancel(): void {
    if (this.finished) return;
    // Ask the busy workers to stop at their next iteration, then terminate whatever is left.
    const busy = [...this.slots].filter((s) => s.busy !== undefined);
    for (const s of busy) s.worker.postMessage({ type: 'cancel' } satisfies ToPathWorker);
    const timer = setTimeout(() => this.finish(new CancelledError()), busy.length ? CANCEL_GRACE_MS : 0);
    const check = setInterval(() => {
      if (this.finished || [...this.slots].every((s) => s.busy === undefined)) {
        clearInterval(check);
        clearTimeout(timer);
        this.finish(new CancelledError());
      }
    }, 20);
  }
}
