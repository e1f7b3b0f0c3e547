/**
 * Refinement of an optimised path onto the saddle: a climbing-image nudged
 * elastic band started from the path. FourierPathFinder's few sine modes and
 * M points cannot put the path's highest point exactly on the saddle, and a
 * path can slip across a narrow ridge between its points; the climbing image
 * converges onto the saddle itself (its force along the band reversed), so
 * the refined height is the saddle's energy, certified by a small gradient
 * and one negative Hessian eigenvalue there.
 *
 * The band starts from M points spaced evenly by arc length along the path
 * (measured on the dense grid), not at the path's own t: Fourier points
 * bunch where the path is slow and leave gaps a ridge can hide in.
 */
import { tf } from '../backend';
import type { Objective } from '../objective';
import { batchLossAndGrad } from '../objective';
import { finiteDifferenceStep } from '../analysis/hessian';
import { hessianVectorProduct } from '../analysis/hvp';
import { hasKernelHvp } from '../fast';
import { BasisPath, evenGrid, pathPoints } from './heights';
import { lowestEigenvalues, type HessianProduct } from './lowestEigen';
import { runNeb, type NebRun } from './neb';
import type { BandOptimizer, PathIteration, SaddleCertificate } from './types';

/** t values of m points evenly spaced by arc length along `path`, measured on the grid `dense` in chunks. */
export function arcLengthTimes(path: BasisPath, dense: Float64Array, m: number, chunk: number): Float64Array {
  const cum = new Float64Array(dense.length);
  let prev: Float32Array | undefined;
  const dim = path.basis.shape[1];
  const step = Math.max(2, Math.floor(chunk));
  for (let start = 0; start < dense.length; start += step) {
    const n = Math.min(step, dense.length - start);
    const pts = pathPoints(path, dense.subarray(start, start + n));
    const flat = pts.dataSync() as Float32Array;
    pts.dispose();
    for (let i = 0; i < n; i++) {
      const row = flat.subarray(i * dim, (i + 1) * dim);
      let ss = 0;
      if (prev) for (let d = 0; d < dim; d++) ss += (row[d] - prev[d]) ** 2;
      cum[start + i] = (start + i === 0 ? 0 : cum[start + i - 1]) + Math.sqrt(ss);
      prev = row;
    }
    prev = Float32Array.from(prev!);
  }
  const total = cum[cum.length - 1];
  const t = evenGrid(m);
  if (!(total > 0)) return t;
  let k = 0;
  for (let i = 1; i + 1 < m; i++) {
    const target = (total * i) / (m - 1);
    while (k + 1 < cum.length - 1 && cum[k + 1] < target) k++;
    const span = cum[k + 1] - cum[k];
    t[i] = dense[k] + (span > 0 ? (target - cum[k]) / span : 0) * (dense[k + 1] - dense[k]);
  }
  return t;
}

export interface ClimbOptions {
  points: number;
  steps: number;
  signal?: AbortSignal;
  onIteration?: (it: PathIteration) => void | Promise<void>;
  batches?: (iteration: number) => Objective;
  stopAt?: { top: number; band: number };
  optimizer: BandOptimizer;
}

/**
 * Climbing-image NEB from `path`'s arc-length points, the climbing image on
 * from the first step (the path already runs near the pass). The caller
 * disposes the returned images.
 */
export async function climbFromPath(fn: Objective, ab: tf.Tensor2D, path: BasisPath, denseT: Float64Array, o: ClimbOptions): Promise<NebRun> {
  const start = pathPoints(path, arcLengthTimes(path, denseT, o.points, o.points));
  try {
    return await runNeb(fn, ab, { ...o, initial: start, climbFrom: 0,  ...(o.stopAt ? { stopAt: o.stopAt } : {}) });
  } finally {
    start.dispose();
  }
}

/** H·v by the central difference (∇f(θ + hv) − ∇f(θ − hv)) / 2h, both gradients in one batched call. */
export function centralDifferenceHvp(fn: Objective, theta: Float32Array): HessianProduct {
  let thetaNorm = 0;
  for (const x of theta) thetaNorm += x * x;
  thetaNorm = Math.sqrt(thetaNorm);
  const dim = theta.length;
  return (v) => {
    let vn = 0;
    for (const x of v) vn += x * x;
    const h = finiteDifferenceStep(thetaNorm, Math.sqrt(vn));
    const out = new Float64Array(dim);
    if (h === 0) return out;
    const rows = new Float32Array(2 * dim);
    for (let i = 0; i < dim; i++) {
      rows[i] = theta[i] + h * v[i];
      rows[dim + i] = theta[i] - h * v[i];
    }
    const pts = tf.tensor2d(rows, [2, dim]);
    const { losses, grads } = batchLossAndGrad(fn, pts);
    const g = grads.dataSync();
    tf.dispose([pts, losses, grads]);
    for (let i = 0; i < dim; i++) out[i] = (g[i] - g[dim + i]) / (2 * h);
    return out;
  };
}

/**
 * The certificate of the band's highest image: its loss and gradient norm,
 * and the two lowest Hessian eigenvalues from Lanczos on Hessian-vector
 * products: exact ones (forward-over-reverse in the fast kernels) where the
 * objective has them, else central differences of gradients. Across ReLU
 * kinks central differences are not a Hessian, so the kernels' products
 * decide the sign of the lowest eigenvalue wherever they can.
 */
export function saddleCertificate(fn: Objective, theta: Float32Array, t: number): SaddleCertificate {
  if (!hasKernelHvp(fn)) return certificateWith(fn, theta, t, centralDifferenceHvp(fn, theta), 'finite-difference');
  const op = hessianVectorProduct(fn, theta, { hvp: 'exact' });
  try {
    return certificateWith(fn, theta, t, (v) => op.apply([v])[0], 'exact');
  } finally {
    op.dispose();
  }
}

/** The certificate with the given products. */
export function certificateWith(fn: Objective, theta: Float32Array, t: number, hvp: HessianProduct, used: SaddleCertificate['hvp']): SaddleCertificate {
  const pt = tf.tensor2d(theta, [1, theta.length]);
  const { losses, grads } = batchLossAndGrad(fn, pt);
  const loss = losses.dataSync()[0];
  const g = grads.dataSync();
  tf.dispose([pt, losses, grads]);
  let ss = 0;
  for (const x of g) ss += x * x;
  const eig = lowestEigenvalues(hvp, theta.length, { steps: 30 });
  return {
    height: loss,
    t,
    gradNorm: Math.sqrt(ss),
    lowestEigenvalue: eig.values[0],
    ...(eig.values.length > 1 ? { secondEigenvalue: eig.values[1] } : {}),
    negativeEigenvalues: eig.negative,
    lanczosSteps: eig.steps,
    hvp: used,
  };
}
