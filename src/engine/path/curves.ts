/**
 * Mode-connecting curves with one trained bend (Garipov et al. 2018, "Loss
 * Surfaces, Mode Connectivity, and Fast Ensembling of DNNs"): the quadratic
 * Bezier curve φ(t) = (1 − t)²A + 2t(1 − t)θ + t²B, and the polygonal chain
 * A → θ → B with its bend at t = ½. The ends stay fixed and only θ trains,
 * on the loss averaged over t ~ U(0, 1): each step draws one t (seeded),
 * takes that step's mini-batch and follows the chain rule,
 * ∂L(φ(t))/∂θ = c(t)·∇L(φ(t)), c(t) being θ's weight in φ(t). θ starts at
 * the midpoint (A + B)/2, where both curves are the straight line.
 *
 * The steps are Adam's, as FourierPathFinder's, rather than plain SGD's, so
 * that one default learning rate serves losses whose gradients differ by
 * orders of magnitude (the toy landscape's are near 1, Müller–Brown's near
 * 10³). The rate follows Garipov et al.'s schedule, so the last iterate
 * (the one kept) settles instead of jittering at the full rate.
 */
import { tf } from '../backend';
import type { Objective } from '../objective';
import { batchLossAndGrad } from '../objective';
import { throwIfAborted } from '../errors';
import { Rng } from '../rng';
import { BasisPath, checkFinite, evaluateAlong, evenGrid } from './heights';
import { CURVE_METHODS, type CurveMethod, type PathIteration } from './types';

export function isCurveMethod(method: string): method is CurveMethod {
  return (CURVE_METHODS as readonly string[]).includes(method);
}

/**
 * Writes the weights of A, B and θ in φ(t) into row[0..2]. Both ends come
 * out exactly (1, 0, 0) and (0, 1, 0), so the curve starts and ends on the
 * minima bit for bit; the chain's t = ½ gives θ itself.
 */
export function curveWeights(method: CurveMethod, t: number, row: Float32Array | Float64Array): void {
  if (method === 'bezier') {
    row[0] = (1 - t) * (1 - t);
    row[1] = t * t;
    row[2] = 2 * t * (1 - t);
  } else if (t <= 0.5) {
    row[0] = 1 - 2 * t;
    row[1] = 0;
    row[2] = 2 * t;
  } else {
    row[0] = 0;
    row[1] = 2 * t - 1;
    row[2] = 2 - 2 * t;
  }
}

/** The curve through the rows of `ab` [2, dim] with bend θ, as a basis path over [A; B; θ]. */
export function curvePath(method: CurveMethod, ab: tf.Tensor2D, bend: ArrayLike<number>): { path: BasisPath; dispose(): void } {
  const basis = tf.tidy(() => tf.concat([ab, tf.tensor2d(Float32Array.from(bend), [1, ab.shape[1]])], 0)) as tf.Tensor2D;
  return {
    path: { basis, label: `the ${method} curve`, weights: (t, row) => curveWeights(method, t, row) },
    dispose: () => basis.dispose(),
  };
}

/**
 * Garipov et al.'s learning-rate schedule at step k of `steps`: the full
 * rate for the first half, then down linearly to 1 % at 90 % of the steps,
 * 1 % after that.
 */
export function curveLearningRate(lr: number, k: number, steps: number): number {
  const progress = steps > 0 ? k / steps : 0;
  if (progress <= 0.5) return lr;
  if (progress <= 0.9) return lr * (1 - (0.99 * (progress - 0.5)) / 0.4);
  return 0.01 * lr;
}

/** The endpoints as host vectors, and φ(t) from them. */
export interface CurveEnds {
  a: ArrayLike<number>;
  b: ArrayLike<number>;
}

/** φ(t) of the curve with bend θ, computed in float64 and rounded once. */
export function curvePoint(method: CurveMethod, ends: CurveEnds, bend: ArrayLike<number>, t: number): Float32Array {
  const w = new Float64Array(3);
  curveWeights(method, t, w);
  const out = new Float32Array(bend.length);
  for (let i = 0; i < out.length; i++) out[i] = w[0] * ends.a[i] + w[1] * ends.b[i] + w[2] * bend[i];
  return out;
}

/**
 * The loss at φ(t) and its gradient with respect to the bend θ,
 * c(t)·∇L(φ(t)). Throws a compute error when the loss there is not finite.
 */
export function bendLossAndGrad(fn: Objective, method: CurveMethod, ends: CurveEnds, bend: ArrayLike<number>, t: number): { loss: number; grad: Float64Array } {
  const w = new Float64Array(3);
  curveWeights(method, t, w);
  const pt = tf.tensor2d(curvePoint(method, ends, bend, t), [1, bend.length]);
  const { losses, grads } = batchLossAndGrad(fn, pt);
  const loss = losses.dataSync()[0];
  const g = grads.dataSync();
  tf.dispose([pt, losses, grads]);
  checkFinite([loss], [t], `the ${method} curve`);
  const grad = new Float64Array(g.length);
  for (let i = 0; i < g.length; i++) grad[i] = w[2] * g[i];
  return { loss, grad };
}

/**
 * Adam on a host vector with a learning rate per step (the path finders'
 * TensorAdam fixes its rate at construction). Moments in float64.
 */
function hostAdam(dim: number): (theta: Float64Array, grad: Float64Array, lr: number) => void {
  const m = new Float64Array(dim);
  const v = new Float64Array(dim);
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  let k = 0;
  return (theta, grad, lr) => {
    k++;
    const c1 = 1 - Math.pow(b1, k);
    const c2 = 1 - Math.pow(b2, k);
    for (let i = 0; i < dim; i++) {
      m[i] = b1 * m[i] + (1 - b1) * grad[i];
      v[i] = b2 * v[i] + (1 - b2) * grad[i] * grad[i];
      theta[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + eps);
    }
  };
}

/** Height (largest loss) and the trapezoid mean (the trained objective ∫L(φ(t))dt) over M even points. */
function curveMonitor(fn: Objective, method: CurveMethod, ab: tf.Tensor2D, bend: Float64Array, m: number): { height: number; mean: number } {
  const cp = curvePath(method, ab, bend);
  try {
    const loss = evaluateAlong(fn, cp.path, evenGrid(m), m);
    let height = -Infinity;
    let sum = 0;
    for (let i = 0; i < m; i++) {
      height = Math.max(height, loss[i]);
      sum += i === 0 || i === m - 1 ? loss[i] / 2 : loss[i];
    }
    return { height, mean: m > 1 ? sum / (m - 1) : loss[0] };
  } finally {
    cp.dispose();
  }
}

export interface CurveRunOptions {
  method: CurveMethod;
  /** M: points the per-step height and mean are measured on. */
  points: number;
  steps: number;
  lr: number;
  seed: number;
  signal?: AbortSignal;
  onIteration?: (it: PathIteration) => void | Promise<void>;
  batches?: (iteration: number) => Objective;
}

export interface CurveRun {
  /** The trained bend θ (the last iterate). */
  bend: Float32Array;
  iterations: number;
  /** Per iteration: the mean loss over the M points (the objective being trained), on that step's mini-batch. */
  objectiveHistory: number[];
  /** Per iteration: the largest loss over the M points, on that step's mini-batch. */
  heightHistory: number[];
}

/** Trains the bend between the rows A, B of `ab` [2, dim]. */
export async function runCurve(fn: Objective, ab: tf.Tensor2D, o: CurveRunOptions): Promise<CurveRun> {
  const dim = ab.shape[1];
  const flat = ab.dataSync();
  const ends: CurveEnds = { a: flat.subarray(0, dim), b: flat.subarray(dim, 2 * dim) };
  const bend = new Float64Array(dim);
  for (let i = 0; i < dim; i++) bend[i] = (ends.a[i] + ends.b[i]) / 2;
  const step = hostAdam(dim);
  const rng = new Rng(o.seed);
  const objectiveHistory: number[] = [];
  const heightHistory: number[] = [];
  for (let k = 0; k <= o.steps; k++) {
    throwIfAborted(o.signal);
    const obj = o.batches ? o.batches(k) : fn;
    const { height, mean } = curveMonitor(obj, o.method, ab, bend, o.points);
    objectiveHistory.push(mean);
    heightHistory.push(height);
    await o.onIteration?.({ iteration: k, height, bestHeight: height, objective: mean });
    if (k === o.steps) break;
    const { grad } = bendLossAndGrad(obj, o.method, ends, bend, rng.uniform());
    step(bend, grad, curveLearningRate(o.lr, k, o.steps));
    // Let timers, aborts and message handlers run between steps.
    await new Promise<void>((r) => setImmediate(r));
  }
  return { bend: Float32Array.from(bend), iterations: o.steps, objectiveHistory, heightHistory };
}
