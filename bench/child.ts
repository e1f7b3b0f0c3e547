/**
 * One measurement in a fresh process: one workload (or one scaling point),
 * so every run starts from the same state and its peak memory is its own.
 * Prints one JSON line, prefixed with RESULT_MARK, on stdout.
 */
import { tf, initBackend } from '../src/engine/backend';
import { makeFixture, type FixtureOptions } from './fixture';
import { MEASURE, isCnnWorkload, measureFourierIteration, workloadFlops, type DenseWorkloadId, type WorkloadId, type RunInfo, type MeasureOptions } from './workloads';
import { fastInfo } from '../src/engine/fast';
import { ourHessianNumbers } from './agreement';
import { cnnShape, cnnWorkloadFlops, ourCnnNumbers, prepareCnn } from './cnnWorkloads';
import { cnnScalePoint } from './cnnScaling';

export const RESULT_MARK = '@@landscape-bench@@ ';

export interface ChildConfig {
  /**
   * A workload, or 'scale' (one W3 point of the scaling curve), 'memory' (W3 with peak tensor bytes)
   * or 'hessian-agreement' (λmax and exact trace for the comparison beside W5; untimed),
   * or 'cnn-agreement' (loss and gradient of LeNet and ResNet-20 at their initial weights, beside W7–W10; untimed).
   */
  task: WorkloadId | 'scale' | 'cnn-scale' | 'memory' | 'hessian-agreement' | 'cnn-agreement';
  backend: string;
  warmup: number;
  repeats: number;
  budgetMs: number;
  fixture: FixtureOptions;
  /** 'scale' only: path points M. */
  points?: number;
  /** 'cnn-agreement' only: the reference's input, beside which it left its gradients. */
  cnnFile?: string;
  /** 'cnn-scale' only: LeNet's width factor (see cnnScaling.ts). */
  width?: number;
}

export interface ChildResult {
  task: string;
  backend: string;
  threads: number;
  fast: boolean;
  /** 'relaxed-simd' (fused multiply-add) or 'simd', when the fast kernels ran. */
  simd?: string;
  timesMs: number[];
  flops: number;
  info: RunInfo;
  n: number;
  dim: number;
  rssBaseMb: number;
  rssPeakMb: number;
  arrayBuffersPeakMb: number;
  tfBytesPeakMb: number;
  /** Bytes of our own WebAssembly memory (fast kernels), if in use. */
  fastMemoryMb: number;
  /** W3 'memory' task: the largest tensor footprint during an iteration, from tf.profile. */
  tfProfilePeakMb?: number;
}

const MB = 2 ** 20;

interface Measurement {
  timesMs: number[];
  info: RunInfo;
  flops: number;
  n: number;
  dim: number;
  profilePeak?: number;
}

type Prepared = (o: MeasureOptions) => Promise<Measurement>;

/** The convolutional workloads (their fixture only: no digits in the process) and their untimed agreement check. */
async function prepareConvolutional(cfg: ChildConfig): Promise<Prepared | undefined> {
  if (cfg.task === 'cnn-agreement') {
    return async () => {
      const t0 = performance.now();
      const info = await ourCnnNumbers(cfg.cnnFile);
      return { timesMs: [performance.now() - t0], info, flops: NaN, n: 0, dim: 0 };
    };
  }
  if (cfg.task === 'cnn-scale') return (o) => cnnScalePoint(cfg.width ?? 1, o);
  const id = cfg.task;
  if (!isCnnWorkload(id)) return undefined;
  const measure = await prepareCnn(id);
  return async (o) => ({ ...(await measure(o)), flops: cnnWorkloadFlops(id), ...cnnShape(id) });
}

async function prepareDense(cfg: ChildConfig): Promise<Prepared> {
  const fx = await makeFixture(cfg.fixture);
  const flopsId: DenseWorkloadId = cfg.task === 'scale' || cfg.task === 'memory' ? 'W3' : cfg.task === 'hessian-agreement' ? 'W5' : (cfg.task as DenseWorkloadId);
  const done = (m: { timesMs: number[]; info: RunInfo }, profilePeak?: number): Measurement => ({ ...m, flops: workloadFlops(flopsId, fx, m.info, cfg.points), n: fx.data.n, dim: fx.dim, profilePeak });
  return async (o) => {
    if (cfg.task === 'hessian-agreement') {
      const t0 = performance.now();
      const info = { ...(await ourHessianNumbers(fx)) };
      return done({ timesMs: [performance.now() - t0], info });
    }
    if (cfg.task === 'scale') return done(await measureFourierIteration(fx, o));
    if (cfg.task === 'memory') {
      let measured: { timesMs: number[]; info: RunInfo } | undefined;
      const prof = await tf.profile(async () => {
        measured = await measureFourierIteration(fx, { ...o, warmup: 0, repeats: 2 });
        return undefined as unknown as tf.Tensor;
      });
      return done(measured!, prof.peakBytes);
    }
    return done(await MEASURE[flopsId](fx, o));
  };
}

export async function runChild(cfg: ChildConfig): Promise<ChildResult> {
  const backend = await initBackend(cfg.backend, { force: true });
  const measure = (await prepareConvolutional(cfg)) ?? (await prepareDense(cfg));
  // The baseline is the process after setup (its fixture made), as before the CNN workloads.
  const base = process.memoryUsage();
  let abPeak = base.arrayBuffers;
  let tfPeak = tf.memory().numBytes;
  const sample = () => {
    const m = process.memoryUsage();
    abPeak = Math.max(abPeak, m.arrayBuffers);
    tfPeak = Math.max(tfPeak, tf.memory().numBytes);
  };
  const m = await measure({ warmup: cfg.warmup, repeats: cfg.repeats, budgetMs: cfg.budgetMs, sample, points: cfg.points });
  const fi = fastInfo();
  return {
    task: cfg.task,
    backend: backend.name,
    threads: fi.enabled ? fi.threads : 1,
    fast: fi.enabled,
    simd: fi.simd,
    timesMs: m.timesMs,
    flops: m.flops,
    info: m.info,
    n: m.n,
    dim: m.dim,
    rssBaseMb: base.rss / MB,
    rssPeakMb: process.resourceUsage().maxRSS / 1024,
    arrayBuffersPeakMb: abPeak / MB,
    tfBytesPeakMb: tfPeak / MB,
    fastMemoryMb: fi.memoryBytes / MB,
    ...(m.profilePeak !== undefined ? { tfProfilePeakMb: m.profilePeak / MB } : {}),
  };
}
