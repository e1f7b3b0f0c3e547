/**
 * Runs one train-run job on a worker: the run trains on a thread of its own
 * (dist/worker.js, the thread the extension trains on), so this process's
 * event loop stays free to renew BullMQ's lock for the whole run; a job whose
 * lock lapsed would be handed to a second worker. The run goes into a fresh
 * temp folder, which is packed into one zip blob and then removed. A run that
 * fails fails the job with the run's own message, which the client prints.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createRequire } from 'module';
import { Worker } from 'worker_threads';
import { computeError, LandscapeError } from '../engine/errors';
import { fastInfo } from '../engine/fast';
import type { EpochEvent, RunJson, TrainConfig, TrainEvent } from '../engine/train/types';
import type { WorkerInit, WorkerToHost } from '../worker/protocol';
import type { JobContext, JobReturn, KernelFlavour, TrainJob } from './jobKinds';
import { packFolder } from './folderZip';
import { trainConfigFromQueue } from './trainConfigWire';

/** dist/worker.js beside the bundle that is running, or its source through tsx's CommonJS hook (tests from source). */
function trainThreadEntry(): { file: string; execArgv?: string[] } {
  if (__filename.endsWith('.ts')) {
    // createRequire keeps the bundler from trying to resolve tsx, a dev-only dependency.
    return { file: path.join(__dirname, '..', 'worker', 'main.ts'), execArgv: ['--require', createRequire(__filename).resolve('tsx/cjs')] };
  }
  const file = path.join(__dirname, 'worker.js');
  if (!fs.existsSync(file)) throw computeError(`the compute worker ${file} is missing; rebuild with npm run build`);
  return { file };
}

/**
 * The environment the run's thread starts with (a thread reads it when its
 * kernels load). A run's numbers depend on how the kernels compute: dense
 * kernels split a batch's rows over their threads and add the partial sums,
 * so the losses and gradients differ in their last bits between thread
 * counts (a local `landscape train` with LANDSCAPE_THREADS=1 and =2 writes
 * different checkpoints), and relaxed SIMD (fused multiply-add) rounds
 * otherwise than plain SIMD. The job says how the client's own thread would
 * have computed, and the run does exactly that here, whatever this machine's
 * core count or settings, so its bytes are those of a local run.
 * SOURCE_DATE_EPOCH (the client's, or none) fixes run.json's and the
 * checkpoints' timestamps.
 */
function threadEnv(job: TrainJob): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LANDSCAPE_THREADS: String(job.threads) };
  delete env.LANDSCAPE_FAST;
  delete env.LANDSCAPE_RELAXED_SIMD;
  delete env.SOURCE_DATE_EPOCH;
  if (job.kernels === 'off') env.LANDSCAPE_FAST = '0';
  if (job.kernels === 'simd') env.LANDSCAPE_RELAXED_SIMD = '0';
  if (job.sourceDateEpoch !== undefined) env.SOURCE_DATE_EPOCH = String(job.sourceDateEpoch);
  return env;
}

/** Refuses a run whose kernels this worker does not have (relaxed SIMD needs a CPU and Node with it; LANDSCAPE_FAST=0 here turns them off). */
function checkKernels(want: KernelFlavour): void {
  if (want === 'off') return;
  const have = fastInfo();
  if (!have.enabled) throw computeError(`this worker cannot run the fast kernels the client trains with (${have.reason ?? 'they do not load'})`);
  if (want === 'relaxed-simd' && have.simd !== 'relaxed-simd') {
    throw computeError('this worker\'s kernels lack relaxed SIMD (fused multiply-add), which the client trains with; the run\'s numbers would differ');
  }
}

function threadError(m: Extract<WorkerToHost, { type: 'error' }>): Error {
  if (m.kind === 'input' || m.kind === 'compute') return new LandscapeError(m.kind, m.message);
  return new Error(m.kind === 'cancelled' ? 'the run was cancelled on the worker' : m.message);
}

/** Trains `config` on a new thread started with `env`; resolves with run.json, rejects with the run's error. */
function trainOnThread(config: TrainConfig, env: NodeJS.ProcessEnv, onEvent: (e: TrainEvent) => void): Promise<RunJson> {
  const entry = trainThreadEntry();
  const init: WorkerInit = { id: 'train-run', request: { kind: 'train', config }, backend: config.backend ?? 'auto', cancelFlag: new SharedArrayBuffer(4) };
  return new Promise<RunJson>((resolve, reject) => {
    const thread = new Worker(entry.file, { workerData: init, env, execArgv: entry.execArgv });
    let settled = false;
    const settle = (err: Error | undefined, run?: RunJson) => {
      if (settled) return;
      settled = true;
      void thread.terminate();
      if (err) reject(err);
      else resolve(run!);
    };
    thread.on('message', (m: WorkerToHost) => {
      if (m.type === 'event') onEvent(m.event as TrainEvent);
      else if (m.type === 'result') settle(undefined, m.result as RunJson);
      else settle(threadError(m));
    });
    thread.on('error', (e) => settle(new Error(`the training thread crashed: ${e.message.split('\n')[0]}`)));
    thread.on('exit', (code) => settle(new Error(`the training thread stopped unexpectedly (exit code ${code})`)));
  });
}

/** An epoch's numbers for the client's display (BullMQ keeps only the latest). */
function epochProgress(e: EpochEvent): Record<string, number> {
  const p: Record<string, number> = { epoch: e.epoch, step: e.step, trainLoss: e.trainLoss, testLoss: e.testLoss, gradNorm: e.gradNorm, lr: e.lr, time: e.time };
  if (e.accuracy !== undefined) p.accuracy = e.accuracy;
  if (e.testAccuracy !== undefined) p.testAccuracy = e.testAccuracy;
  return p;
}

/** The run's error in the client's words: an uploaded dataset by the name the client gave it, not this worker's copy. */
function inClientWords(e: unknown, datasetCopy: string, shown: string | undefined, home: string): unknown {
  if (!(e instanceof Error)) return e;
  let message = e.message.split(home).join('<the worker\'s run folder>');
  if (shown !== undefined) message = message.split(datasetCopy).join(shown);
  if (message === e.message) return e;
  return e instanceof LandscapeError ? new LandscapeError(e.kind, message) : new Error(message);
}

export async function runTrainJob(job: TrainJob, ctx: JobContext): Promise<JobReturn> {
  const { config, shown } = await trainConfigFromQueue(job.config, ctx.blobs);
  checkKernels(job.kernels);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'landscape-queue-run-'));
  try {
    const out = path.join(home, 'run');
    // The client's backend by name, never 'auto': a run meant for tfjs-node fails on a worker without it instead of
    // training on another backend. The client puts its own `backend` (and folder, and dataset) back into run.json.
    await trainOnThread({ ...config, backend: job.backend, out }, threadEnv(job), (e) => e.type === 'epoch' && ctx.progress(epochProgress(e))).catch((e: unknown) => {
      throw inClientWords(e, config.dataset, shown, home);
    });
    return { result: await ctx.putBytes(packFolder(out)) };
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}
