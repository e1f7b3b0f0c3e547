/**
 * One measurement in a fresh process: one workload (or one scaling point),
 * so every run starts from the same state and its peak memory is its own.
 * Prints one JSON line, prefixed with RESULT_MARK, on stdout.
 */
import { tf, initBackend } from '../src/engine/backend';
import { makeFixture, type FixtureOptions } from './fixture';
import { MEASURE, measureFourierIteration, workloadFlops, type WorkloadId, type RunInfo } from './workloads';
import { fastInfo } from '../src/engine/fast';
import { ourHessianNumbers } from './agreement';

export const RESULT_MARK = '@@landscape-bench@@ ';

export interface ChildConfig {
  /**
   * A workload, or 'scale' (one W3 point of the scaling curve), 'memory' (W3 with peak tensor bytes)
   * or 'hessian-agreement' (λmax and exact trace for the comparison beside W5; untimed).
   */
  task: WorkloadId | 'scale' | 'memory' | 'hessian-agreement';
  backend: string;
  warmup: number;
  repeats: number;
  budgetMs: number;
  fixture: FixtureOptions;
  /** 'scale' only: path points M. */
  points?: number;
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

export async function runChild(cfg: ChildConfig): Promise<ChildResult> {
  const backend = await initBackend(cfg.backend, { force: true });
  const fx = await makeFixture(cfg.fixture);
  const base = process.memoryUsage();
  let abPeak = base.arrayBuffers;
  let tfPeak = tf.memory().numBytes;
  const sample = () => {
    const m = process.memoryUsage();
    abPeak = Math.max(abPeak, m.arrayBuffers);
    tfPeak = Math.max(tfPeak, tf.memory().numBytes);
  };
  const o = { warmup: cfg.warmup, repeats: cfg.repeats, budgetMs: cfg.budgetMs, sample, points: cfg.points };
  let timesMs: number[];
  let info: RunInfo;
  let profilePeak: number | undefined;
  if (cfg.task === 'hessian-agreement') {
    const t0 = performance.now();
    info = { ...(await ourHessianNumbers(fx)) };
    timesMs = [performance.now() - t0];
  } else if (cfg.task === 'scale') {
    ({ timesMs, info } = await measureFourierIteration(fx, o));
  } else if (cfg.task === 'memory') {
    let measured: { timesMs: number[]; info: RunInfo } | undefined;
    const prof = await tf.profile(async () => {
      measured = await measureFourierIteration(fx, { ...o, warmup: 0, repeats: 2 });
      return undefined as unknown as tf.Tensor;
    });
    ({ timesMs, info } = measured!);
    profilePeak = prof.peakBytes;
  } else {
    ({ timesMs, info } = await MEASURE[cfg.task](fx, o));
  }
  const fi = fastInfo();
  const flopsId: WorkloadId = cfg.task === 'scale' || cfg.task === 'memory' ? 'W3' : cfg.task === 'hessian-agreement' ? 'W5' : cfg.task;
  return {
    task: cfg.task,
    backend: backend.name,
    threads: fi.enabled ? fi.threads : 1,
    fast: fi.enabled,
    simd: fi.simd,
    timesMs,
    flops: workloadFlops(flopsId, fx, info, cfg.points),
    info,
    n: fx.data.n,
    dim: fx.dim,
    rssBaseMb: base.rss / MB,
    rssPeakMb: process.resourceUsage().maxRSS / 1024,
    arrayBuffersPeakMb: abPeak / MB,
    tfBytesPeakMb: tfPeak / MB,
    fastMemoryMb: fi.memoryBytes / MB,
    ...(profilePeak !== undefined ? { tfProfilePeakMb: profilePeak / MB } : {}),
  };
}
