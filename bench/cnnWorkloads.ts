/**
 * The convolutional workloads W7–W10 on our engine, driven through the same
 * public functions the CLI uses (so they speed up with the engine), their
 * nominal FLOP counts, and the numbers of the agreement check.
 *
 * FLOP counting (F₁ = one row's forward pass, cnnFlopsPerRow: for LeNet
 * 833,040, the conv forward being 2·out·in·k²·OH·OW per image and a dense
 * layer 2·in·out; forward + backward = 3 forwards, as for W1–W6):
 *   W7   3·F₁·10,000 (every training image once);
 *   W8   M·3·F₁·2,000 + 4·M·N_F·P (M = 20 points, N_F = 10; as W3);
 *   W9   3·F₁·128 for ResNet-20 (whose F₁ is 81.1 MFLOP);
 *   W10  20 Hessian-vector products at 2 gradients each + one loss = (20·6 + 1)·F₁·2,000 (as W5).
 *
 * Warm-ups are cheap versions of a run that go through the same code and
 * shapes (W7: the first eight and the last mini-batch of an epoch; W8: the
 * first iteration, whose interval also holds the setup; W10: a one-step
 * Lanczos run), and one timed run is enough once a run exceeds the budget:
 * on a slow engine a whole extra epoch or eigenvalue run would double the
 * workload's time for nothing.
 */
import * as fs from 'fs';
import { tf } from '../src/engine/backend';
import { miniBatchObjective, networkObjective, toDevice } from '../src/engine/model/network';
import { batchLossAndGrad, lossAndGrad, type Objective } from '../src/engine/objective';
import { isFastObjective } from '../src/engine/fast';
import { createOptimizer } from '../src/engine/optim';
import { hessianTopEigenvalues } from '../src/engine/analysis/hessian';
import type { HvpMode } from '../src/engine/analysis/hvp';
import { Rng } from '../src/engine/rng';
import type { ModelSpec } from '../src/engine/model/spec';
import type { Dataset } from '../src/engine/data';
import { CNN_SETTINGS, cnnModel, makeLenetFixture, makeResnetFixture, type LenetFixture, type ResnetFixture } from './cnnFixture';
import { fourierStamps, timeRuns, type CnnWorkloadId, type MeasureOptions, type Measured, type RunInfo } from './workloads';

const S = CNN_SETTINGS;
const now = () => performance.now();

/** Nominal FLOPs of one run (see the header comment). */
export function cnnWorkloadFlops(id: CnnWorkloadId): number {
  if (id === 'W9') return 3 * S.resnetBatch * cnnModel('resnet20').flopsPerRow;
  const lenet = cnnModel('lenet');
  const f = (rows: number) => rows * lenet.flopsPerRow;
  switch (id) {
    case 'W7':
      return 3 * f(S.trainRows);
    case 'W8':
      return S.points * 3 * f(S.pathRows) + 4 * S.points * S.modes * lenet.dim;
    case 'W10':
      return S.lanczosSteps * 6 * f(S.pathRows) + f(S.pathRows);
  }
}

/** Rows and parameters of a workload, for the report. */
export function cnnShape(id: CnnWorkloadId): { n: number; dim: number } {
  if (id === 'W9') return { n: S.resnetBatch, dim: cnnModel('resnet20').dim };
  return { n: id === 'W7' ? S.trainRows : S.pathRows, dim: cnnModel('lenet').dim };
}

/** One epoch of mini-batch SGD on LeNet, as `landscape train` runs it (src/engine/train/loop.ts). */
async function w7(fx: LenetFixture, o: MeasureOptions): Promise<Measured> {
  const dev = toDevice(fx.train);
  const opt = createOptimizer('sgd', { lr: S.sgdLr });
  const rng = new Rng(0);
  let theta = tf.tensor1d(fx.a);
  const steps = (perm: Int32Array, starts: number[]) => {
    for (const start of starts) {
      const batch = miniBatchObjective(fx.model.spec, fx.train, dev, perm.subarray(start, Math.min(start + S.batch, perm.length)));
      const r = opt.step(theta, batch.objective);
      batch.dispose();
      theta.dispose();
      theta = r.theta;
    }
    return starts.length;
  };
  const starts = Array.from({ length: Math.ceil(dev.n / S.batch) }, (_, i) => i * S.batch);
  try {
    for (let i = 0; i < o.warmup; i++) steps(rng.permutation(dev.n), [...starts.slice(0, 8), starts[starts.length - 1]]);
    return await timeRuns({ ...o, warmup: 0 }, () => ({ steps: steps(rng.permutation(dev.n), starts) }), 1);
  } finally {
    theta.dispose();
    opt.dispose();
    dev.dispose();
  }
}

/**
 * Without fast kernels (LANDSCAPE_FAST=0, --compare-tfjs) the tfjs graph of
 * a layer-grammar model holds every point's activations at once, which runs
 * the WebAssembly heap out of bounds for 20 LeNet points on 2,000 rows; there
 * the points go through the engine one per call. With the kernels the
 * engine's objective is used as it is, all M points in one call.
 */
function pointsPerCallFor(f: Objective): { objective: Objective; pointsPerCall: string } {
  if (isFastObjective(f)) return { objective: f, pointsPerCall: 'all' };
  const rows = (thetas: tf.Tensor2D) => Array.from({ length: thetas.shape[0] }, (_, i) => tf.slice(thetas, [i, 0], [1, f.dim]) as tf.Tensor2D);
  const objective: Objective = {
    dim: f.dim,
    evaluate: (thetas) => tf.tidy(() => tf.concat(rows(thetas).map((t) => f.evaluate(t))) as tf.Tensor1D),
    lossAndGrads(thetas) {
      const parts = rows(thetas).map((t) => {
        const r = batchLossAndGrad(f, t);
        t.dispose();
        return r;
      });
      const out = { losses: tf.concat(parts.map((p) => p.losses)) as tf.Tensor1D, grads: tf.concat(parts.map((p) => p.grads)) as tf.Tensor2D };
      tf.dispose(parts.flatMap((p) => [p.losses, p.grads]));
      return out;
    },
  };
  return { objective, pointsPerCall: '1' };
}

/** Iterations of runFourier (the engine of findPath) on LeNet, timed between its progress callbacks, as W3. */
export async function w8(fx: LenetFixture, o: MeasureOptions): Promise<Measured> {
  const dev = toDevice(fx.rows);
  const { objective, pointsPerCall } = pointsPerCallFor(networkObjective(fx.model.spec, dev));
  const ab = tf.tensor2d([...fx.a, ...fx.b], [2, fx.model.dim]);
  const stamps: number[] = [];
  const start = now();
  try {
    // Interval k (k ≥ 1) is Adam's step k − 1 and the batched loss and gradient of iteration k. Iteration 0's
    // interval holds the setup and is the warm-up; the last iteration (k = steps) only evaluates and is not timed.
    const steps = o.repeats + 1;
    const stop = (n: number) => n >= 2 && now() - start > o.budgetMs;
    await fourierStamps(objective, ab, { modes: S.modes, points: S.points, lambda: S.lambda, steps }, o, stamps, stop);
    const timesMs: number[] = [];
    for (let k = 1; k < Math.min(stamps.length, steps); k++) timesMs.push(stamps[k] - stamps[k - 1]);
    return { timesMs, info: { iterations: stamps.length, pointsPerCall } };
  } finally {
    ab.dispose();
    dev.dispose();
  }
}

/** ResNet-20's loss and gradient on one batch, BatchNorm with the batch's statistics (PyTorch's train mode). */
async function w9(fx: ResnetFixture, o: MeasureOptions): Promise<Measured> {
  const dev = toDevice(fx.data);
  const f = networkObjective(fx.model.spec, dev);
  const theta = tf.tensor1d(fx.theta);
  try {
    return await timeRuns(o, () => {
      const r = lossAndGrad(f, theta);
      r.grad.dispose();
      return { loss: r.loss };
    }, 1);
  } finally {
    theta.dispose();
    dev.dispose();
  }
}

/**
 * The engine's default products ('auto') where its kernels make them; else
 * central differences of the engine's gradients: 'auto' would pick tfjs
 * autodiff, whose double backward over all 2,000 rows at once runs the
 * WebAssembly heap out of bounds (as `landscape hessian` would on this model).
 */
function hvpModeFor(f: Objective): HvpMode {
  return isFastObjective(f) && typeof (f.fast as { hvp?: unknown }).hvp === 'function' ? 'auto' : 'finite-difference';
}

/** The top Hessian eigenvalue of LeNet by 20 Lanczos steps, as W5 runs it. */
async function w10(fx: LenetFixture, o: MeasureOptions): Promise<Measured> {
  const dev = toDevice(fx.rows);
  const f = networkObjective(fx.model.spec, dev);
  const hvp = hvpModeFor(f);
  const lanczos = (iterations: number) => hessianTopEigenvalues(f, fx.a, { k: 1, iterations, tol: 0, hvp });
  try {
    for (let i = 0; i < o.warmup; i++) await lanczos(1);
    return await timeRuns({ ...o, warmup: 0 }, async () => {
      const r = await lanczos(S.lanczosSteps);
      return { eigenvalue: r.eigenvalues[0], hvp: r.hvp, iterations: r.iterations };
    }, 1);
  } finally {
    dev.dispose();
  }
}

/** Builds the fixture a CNN workload needs (only that one), then returns its measurement. */
export async function prepareCnn(id: CnnWorkloadId): Promise<(o: MeasureOptions) => Promise<Measured>> {
  if (id === 'W9') {
    const fx = makeResnetFixture();
    return (o) => w9(fx, o);
  }
  const fx = await makeLenetFixture();
  const run = { W7: w7, W8: w8, W10: w10 }[id];
  return (o) => run(fx, o);
}

/** Loss and gradient at the initial weights, and the gradient's relative distance to PyTorch's. */
export interface LossNumbers {
  loss: number;
  gradNorm: number;
  /** ‖g − g_torch‖ / ‖g_torch‖, when the reference's gradient was there to read. */
  gradRelDiff?: number;
  rows: number;
}

/** The file in which reference_cnn.py's CNNcheck leaves its gradient of `model` (raw float32). */
export function referenceGradFile(cnnFile: string, model: string): string {
  return `${cnnFile}.${model}.grad`;
}

function readFloats(file: string | undefined, length: number): Float32Array | undefined {
  if (!file || !fs.existsSync(file)) return undefined;
  const buf = fs.readFileSync(file);
  return buf.byteLength === 4 * length ? new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)) : undefined;
}

function lossNumbers(spec: ModelSpec, data: Dataset, theta: Float32Array, reference: string | undefined): LossNumbers {
  const dev = toDevice(data);
  const t = tf.tensor1d(theta);
  try {
    const r = lossAndGrad(networkObjective(spec, dev), t);
    const g = r.grad.dataSync();
    r.grad.dispose();
    const ref = readFloats(reference, g.length);
    let gg = 0;
    let dd = 0;
    let rr = 0;
    for (let i = 0; i < g.length; i++) {
      gg += g[i] * g[i];
      if (ref) {
        dd += (g[i] - ref[i]) ** 2;
        rr += ref[i] * ref[i];
      }
    }
    return { loss: r.loss, gradNorm: Math.sqrt(gg), ...(ref ? { gradRelDiff: Math.sqrt(dd / rr) } : {}), rows: data.n };
  } finally {
    t.dispose();
    dev.dispose();
  }
}

/** Untimed: LeNet on the 2,000 rows at A (W8, W10; W7's network), ResNet-20 on its batch at its θ. */
export async function ourCnnNumbers(cnnFile?: string): Promise<RunInfo> {
  const r = makeResnetFixture();
  const info: RunInfo = {};
  const put = (prefix: string, n: LossNumbers) => Object.entries(n).forEach(([k, v]) => (info[`${prefix}.${k}`] = v));
  put('resnet20', lossNumbers(r.model.spec, r.data, r.theta, cnnFile && referenceGradFile(cnnFile, 'resnet20')));
  try {
    const l = await makeLenetFixture();
    put('lenet', lossNumbers(l.model.spec, l.rows, l.a, cnnFile && referenceGradFile(cnnFile, 'lenet')));
  } catch (e) {
    info['lenet.error'] = e instanceof Error ? e.message : String(e);
  }
  return info;
}
