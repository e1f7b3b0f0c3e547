/** Pieces the optimizers share: the gradient with L2 and one host read for the scalars. */
import { tf } from '../backend';
import type { Objective } from '../objective';
import { inputError } from '../errors';
import { usableFast } from '../fast';

export interface GradStats {
  /** Gradient with the L2 term λ·θ added; the caller owns it. */
  grad: tf.Tensor1D;
  /** Data loss (without the L2 penalty). */
  loss: number;
  /** ‖grad‖ of the returned gradient. */
  gradNorm: number;
}

export function checkTheta(theta: tf.Tensor1D, f: Objective, who: string): void {
  if (theta.rank !== 1 || theta.shape[0] !== f.dim) {
    throw inputError(`${who}: parameter vector has shape [${theta.shape.join(', ')}] but the objective has ${f.dim} parameters`);
  }
}

/**
 * Loss, gradient (+ λ·θ) and gradient norm at theta. Loss and norm come back
 * in a single dataSync, the one host round-trip of a first-order step.
 */
export function gradStats(f: Objective, theta: tf.Tensor1D, l2: number): GradStats {
  if (usableFast(f)) {
    // Dense networks: loss and gradient from the fused kernels, the L2 term and norm on the host.
    const th = theta.dataSync() as Float32Array;
    const r = f.fast.run(th, 1, true);
    const g = r.grads!;
    let sq = 0;
    for (let i = 0; i < g.length; i++) {
      if (l2 > 0) g[i] += l2 * th[i];
      sq += g[i] * g[i];
    }
    return { grad: tf.tensor1d(g), loss: r.losses[0], gradNorm: Math.sqrt(sq) };
  }
  const out = tf.tidy(() => {
    const vg = tf.valueAndGrad((t: tf.Tensor) => tf.reshape(f.evaluate(tf.reshape(t, [1, f.dim]) as tf.Tensor2D), []) as tf.Scalar);
    const { value, grad } = vg(theta);
    const g = (l2 > 0 ? tf.add(grad, tf.mul(theta, l2)) : grad) as tf.Tensor1D;
    return { g, stats: tf.stack([value, tf.norm(g)]) };
  });
  const s = out.stats.dataSync();
  out.stats.dispose();
  return { grad: out.g, loss: s[0], gradNorm: s[1] };
}

/** Host copy of a tensor in float64, for reductions that need the precision. */
export function toHost64(t: tf.Tensor): Float64Array {
  return Float64Array.from(t.dataSync());
}

export function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
