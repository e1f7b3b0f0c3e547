/**
 * The engine's central abstraction (DESIGN.md): an objective maps a batch of
 * parameter vectors to their losses, [M, dim] -> [M], with tfjs ops so it is
 * differentiable. Networks on data and analytic 2-D landscapes are both
 * objectives; training, path search, slices and curvature take one.
 */
import { tf } from './backend';
import { usableFast } from './fast';

export interface Objective {
  readonly dim: number;
  /** thetas: [M, dim]; returns [M] losses built from tfjs ops (differentiable). */
  evaluate(thetas: tf.Tensor2D): tf.Tensor1D;
  /**
   * Losses [M] and per-row gradients [M, dim], when the objective computes
   * them better than one tape over `evaluate` (e.g. in chunks of data rows,
   * to bound memory). The caller disposes both.
   */
  lossAndGrads?(thetas: tf.Tensor2D): { losses: tf.Tensor1D; grads: tf.Tensor2D };
  /**
   * Why the fast kernels do not compute this objective although they exist
   * for its kind of model (a layer they lack, such as zeropad): tools that
   * would have used the kernels' exact products say so.
   */
  readonly kernelsDeclined?: string;
}

/** Loss and gradient at one point. The caller owns (and disposes) `grad`. */
export function lossAndGrad(f: Objective, theta: tf.Tensor1D): { loss: number; grad: tf.Tensor1D } {
  if (usableFast(f)) {
    const r = f.fast.run(theta.dataSync() as Float32Array, 1, true);
    return { loss: r.losses[0], grad: tf.tensor1d(r.grads!) };
  }
  if (f.lossAndGrads) {
    const r = f.lossAndGrads(tf.reshape(theta, [1, f.dim]) as tf.Tensor2D);
    const loss = r.losses.dataSync()[0];
    const grad = tf.reshape(r.grads, [f.dim]) as tf.Tensor1D;
    tf.dispose([r.losses, r.grads]);
    return { loss, grad };
  }
  const { value, grad } = tf.tidy(() => {
    const g = tf.valueAndGrad((t: tf.Tensor) => tf.reshape(f.evaluate(tf.reshape(t, [1, f.dim]) as tf.Tensor2D), []) as tf.Scalar);
    const r = g(theta);
    return { value: r.value, grad: r.grad as tf.Tensor1D };
  });
  const loss = value.dataSync()[0];
  value.dispose();
  return { loss, grad };
}

/**
 * Losses and per-row gradients of M points in one pass. Rows are
 * independent, so the gradient of sum(losses) with respect to thetas holds
 * each row's own gradient.
 */
export function batchLossAndGrad(f: Objective, thetas: tf.Tensor2D): { losses: tf.Tensor1D; grads: tf.Tensor2D } {
  if (usableFast(f)) {
    const m = thetas.shape[0];
    const r = f.fast.run(thetas.dataSync() as Float32Array, m, true);
    // Kept like the tfjs path's losses, so both outlive a caller's tidy alike.
    return { losses: tf.keep(tf.tensor1d(Float32Array.from(r.losses))), grads: tf.tensor2d(r.grads!, [m, f.dim]) };
  }
  if (f.lossAndGrads) {
    const r = f.lossAndGrads(thetas);
    return { losses: tf.keep(r.losses), grads: r.grads };
  }
  let losses: tf.Tensor1D | undefined;
  // keep() lets the per-row losses outlive the gradient's internal tidy, so
  // the forward pass is not run twice. The caller disposes both results.
  const grads = tf.grad((t: tf.Tensor) => {
    losses = tf.keep(f.evaluate(t as tf.Tensor2D));
    return tf.sum(losses);
  })(thetas) as tf.Tensor2D;
  return { losses: losses!, grads };
}

/** Loss values of plain arrays, in one batched pass. */
export function evaluateValues(f: Objective, thetas: ArrayLike<number>[]): Float64Array {
  if (thetas.length === 0) return new Float64Array(0);
  const flat = new Float32Array(thetas.length * f.dim);
  thetas.forEach((t, i) => flat.set(t as ArrayLike<number>, i * f.dim));
  const out = tf.tidy(() => f.evaluate(tf.tensor2d(flat, [thetas.length, f.dim])));
  const v = Float64Array.from(out.dataSync());
  out.dispose();
  return v;
}

/** An objective from a closure over one point, for analytic test landscapes. */
export function objectiveFrom(dim: number, evaluate: (thetas: tf.Tensor2D) => tf.Tensor1D): Objective {
  return { dim, evaluate };
}
