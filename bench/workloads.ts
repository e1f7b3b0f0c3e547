/**
 * The workloads W1–W6 on our engine, each driven through the same public
 * functions the CLI and VS Code use, and their FLOP counts.
 *
 * FLOP counting (a multiply-add is 2 FLOPs; S = Σ in·out over the layers,
 * 3392 for 64-32-32-10; N = rows; P = parameters):
 *   forward F = 2·N·S per parameter vector (activations and the loss are O(N·Σ out), left out);
 *   forward + backward = 3·F (the backward pass is two products per layer);
 *   W1  3·F over the whole epoch (every row once);
 *   W2  3·F for the gradient + e·F for the e line-search evaluations of that step;
 *   W3  M·3·F + 4·M·N_F·P (forming the M points from the coefficients, and the coefficient gradient);
 *   W4  (41² + 1)·F (grid + the centre marker);
 *   W5  20 Hessian-vector products at 2 gradients each (Pearlmutter's rule of thumb) = 20·6·F, + F;
 *   W6  3·P per pair for the squared distances (n(n+1)/2 pairs) + 10·n³ for the eigendecomposition.
 * These are the workload's nominal counts, the same for both implementations:
 * GFLOP/s says how much of the machine a run uses, not how it got there.
 */
import { tf } from '../src/engine/backend';
import { miniBatchObjective, networkObjective, toDevice, type DeviceData } from '../src/engine/model/network';
import { createOptimizer } from '../src/engine/optim';
import type { Lbfgs } from '../src/engine/optim/lbfgs';
import { runFourier } from '../src/engine/path/fourier';
import { PATH_DEFAULTS } from '../src/engine/path/find';
import { slice2DRandom } from '../src/engine/analysis/slices';
import { hessianTopEigenvalues } from '../src/engine/analysis/hessian';
import { kernelPCA } from '../src/engine/analysis/kpca';
import { Rng } from '../src/engine/rng';
import { type Fixture, macsPerRow } from './fixture';

export const SETTINGS = {
  batch: 64,
  sgdLr: 0.1,
  lbfgsWarmup: 10,
  points: 50,
  modes: 10,
  lambda: PATH_DEFAULTS.lambda,
  slicePoints: 41,
  lanczosSteps: 20,
};

/** W1–W6: the dense digits network (this file); W7–W10: convolutional networks (cnnWorkloads.ts). */
export const DENSE_IDS = ['W1', 'W2', 'W3', 'W4', 'W5', 'W6'] as const;
export const CNN_IDS = ['W7', 'W8', 'W9', 'W10'] as const;
export const WORKLOAD_IDS = [...DENSE_IDS, ...CNN_IDS] as const;
export type DenseWorkloadId = (typeof DENSE_IDS)[number];
export type CnnWorkloadId = (typeof CNN_IDS)[number];
export type WorkloadId = (typeof WORKLOAD_IDS)[number];

export function isCnnWorkload(id: string): id is CnnWorkloadId {
  return (CNN_IDS as readonly string[]).includes(id);
}

export const TITLES: Record<WorkloadId, string> = {
  W1: 'SGD epoch, batch 64',
  W2: 'L-BFGS-GSS iteration',
  W3: 'FourierPathFinder iteration, M = 50',
  W4: '2D slice 41×41',
  W5: 'top Hessian eigenvalue, 20 Lanczos steps',
  W6: 'kernel PCA of 96 checkpoints',
  W7: 'LeNet SGD epoch, 10k images, batch 64',
  W8: 'LeNet FourierPathFinder iteration, M = 20',
  W9: 'ResNet-20 loss + gradient, batch 128',
  W10: 'LeNet top Hessian eigenvalue, 20 Lanczos',
};

export interface RunInfo {
  [k: string]: number | string | boolean | undefined;
}

export interface MeasureOptions {
  warmup: number;
  repeats: number;
  /** Stop timing after this much (at least 2 timed runs). */
  budgetMs: number;
  /** Called between runs, so the memory sampler sees the workload's state. */
  sample: () => void;
  /** W3 only: path points M (default SETTINGS.points), for the scaling curve. */
  points?: number;
}

export interface Measured {
  timesMs: number[];
  info: RunInfo;
}

/** Nominal FLOPs of one run of a workload (see the header comment). */
export function workloadFlops(id: DenseWorkloadId, fx: Fixture, info: RunInfo = {}, points = SETTINGS.points): number {
  const F = 2 * fx.data.n * macsPerRow(fx.spec);
  const P = fx.dim;
  switch (id) {
    case 'W1':
      return 3 * F;
    case 'W2':
      return 3 * F + Number(info.evaluations ?? 0) * F;
    case 'W3':
      return points * 3 * F + 4 * points * SETTINGS.modes * P;
    case 'W4':
      return (SETTINGS.slicePoints ** 2 + 1) * F;
    case 'W5':
      return SETTINGS.lanczosSteps * 6 * F + F;
    case 'W6': {
      const n = fx.checkpoints.length;
      return ((3 * P * n * (n + 1)) / 2) + 10 * n ** 3;
    }
  }
}

const now = () => performance.now();

/** Warm-up runs, then timed runs until `repeats`, or past the budget once `minRuns` are in. */
export async function timeRuns(o: MeasureOptions, run: () => Promise<RunInfo> | RunInfo, minRuns = 2): Promise<Measured> {
  for (let i = 0; i < o.warmup; i++) await run();
  o.sample();
  const timesMs: number[] = [];
  let info: RunInfo = {};
  const start = now();
  while (timesMs.length < o.repeats) {
    const t0 = now();
    info = await run();
    timesMs.push(now() - t0);
    o.sample();
    if (timesMs.length >= minRuns && now() - start > o.budgetMs) break;
  }
  return { timesMs, info };
}

/** One epoch of mini-batch SGD as `landscape train` runs it (src/engine/train.ts). */
async function w1(fx: Fixture, o: MeasureOptions): Promise<Measured> {
  const dev: DeviceData = toDevice(fx.data);
  const opt = createOptimizer('sgd', { lr: SETTINGS.sgdLr });
  const rng = new Rng(0);
  let theta = tf.tensor1d(fx.a);
  try {
    return await timeRuns(o, () => {
      const perm = rng.permutation(dev.n);
      let steps = 0;
      for (let start = 0; start < perm.length; start += SETTINGS.batch) {
        const idx = perm.subarray(start, Math.min(start + SETTINGS.batch, perm.length));
        const batch = miniBatchObjective(fx.spec, fx.data, dev, idx);
        const r = opt.step(theta, batch.objective);
        batch.dispose();
        theta.dispose();
        theta = r.theta;
        steps++;
      }
      return { steps };
    });
  } finally {
    theta.dispose();
    opt.dispose();
    dev.dispose();
  }
}

async function w2(fx: Fixture, o: MeasureOptions): Promise<Measured> {
  const dev = toDevice(fx.data);
  const f = networkObjective(fx.spec, dev);
  const opt = createOptimizer('lbfgs', {}) as Lbfgs;
  let theta = tf.tensor1d(fx.a);
  const step = (): RunInfo => {
    const r = opt.step(theta, f);
    theta.dispose();
    theta = r.theta;
    return { evaluations: r.evaluations, loss: r.loss };
  };
  try {
    for (let i = 0; i < SETTINGS.lbfgsWarmup; i++) step();
    return await timeRuns(o, step);
  } finally {
    theta.dispose();
    opt.dispose();
    dev.dispose();
  }
}

/** Iterations of runFourier (the engine of findPath), timed between its progress callbacks. */
async function w3(fx: Fixture, o: MeasureOptions): Promise<Measured> {
  const dev = toDevice(fx.data);
  const f = networkObjective(fx.spec, dev);
  const ab = tf.tensor2d([...fx.a, ...fx.b], [2, fx.dim]);
  const stamps: number[] = [];
  const start = now();
  try {
    const steps = o.warmup + o.repeats + 1;
    // Past the budget, stop early: the search is cancelled, which is what a user's Ctrl-C does.
    const stop = (n: number) => n > o.warmup + 2 && now() - start > o.budgetMs + 2000;
    await fourierStamps(f, ab, { modes: SETTINGS.modes, points: o.points ?? SETTINGS.points, lambda: SETTINGS.lambda, steps }, o, stamps, stop);
    const timesMs: number[] = [];
    for (let k = o.warmup + 1; k < stamps.length; k++) timesMs.push(stamps[k] - stamps[k - 1]);
    return { timesMs, info: { iterations: stamps.length } };
  } finally {
    ab.dispose();
    dev.dispose();
  }
}

class StopEarly extends Error {
  constructor(readonly iteration: number) {
    super('stop');
  }
}

/**
 * Runs runFourier (the engine of findPath) from A to B, minimax, with findPath's
 * defaults, pushing a time stamp into `stamps` at each iteration's callback;
 * when `stop(stamps.length)` says so, the search is cancelled there.
 */
export async function fourierStamps(
  f: Parameters<typeof runFourier>[0],
  ab: tf.Tensor2D,
  p: { modes: number; points: number; lambda: number; steps: number },
  o: MeasureOptions,
  stamps: number[],
  stop: (stamps: number) => boolean,
): Promise<void> {
  const run = await runFourier(f, ab, {
    objective: 'minimax',
    ...p,
    lr: PATH_DEFAULTS.lr,
    noise: 0,
    seed: 0,
    tauStart: PATH_DEFAULTS.tauStart,
    tauEnd: PATH_DEFAULTS.tauEnd,
    onIteration: (it) => {
      stamps.push(now());
      o.sample();
      if (stop(stamps.length)) throw new StopEarly(it.iteration);
    },
  }).catch((e: unknown) => {
    if (e instanceof StopEarly) return undefined;
    throw e;
  });
  run?.coefficients.dispose();
}

async function w4(fx: Fixture, o: MeasureOptions): Promise<Measured> {
  const dev = toDevice(fx.data);
  const f = networkObjective(fx.spec, dev);
  try {
    return await timeRuns(o, async () => {
      const s = await slice2DRandom(f, fx.a, { points: SETTINGS.slicePoints, seeds: [1, 2], spec: fx.spec });
      return { min: s.meta.min.loss, batch: s.meta.batchSize };
    });
  } finally {
    dev.dispose();
  }
}

async function w5(fx: Fixture, o: MeasureOptions): Promise<Measured> {
  const dev = toDevice(fx.data);
  const f = networkObjective(fx.spec, dev);
  try {
    return await timeRuns(o, async () => {
      const r = await hessianTopEigenvalues(f, fx.a, { k: 1, iterations: SETTINGS.lanczosSteps, tol: 0 });
      return { eigenvalue: r.eigenvalues[0], hvp: r.hvp, iterations: r.iterations };
    });
  } finally {
    dev.dispose();
  }
}

async function w6(fx: Fixture, o: MeasureOptions): Promise<Measured> {
  return timeRuns(o, async () => {
    const r = await kernelPCA(fx.checkpoints, { kernel: 'rbf', components: 2 });
    return { top: r.eigenvalues[0] };
  });
}

export const MEASURE: Record<DenseWorkloadId, (fx: Fixture, o: MeasureOptions) => Promise<Measured>> = { W1: w1, W2: w2, W3: w3, W4: w4, W5: w5, W6: w6 };

/** Only W3, for the scaling curve and the memory check (any network size, any N). */
export { w3 as measureFourierIteration };
