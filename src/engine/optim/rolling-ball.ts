/**
 * The rolling-ball optimizer (Belgoumri et al. 2025, arXiv 2505.19527): a
 * ball of radius ρ rests on the graph of f in R^(P+1) and rolls downhill.
 * With g = ∇f(θ) and n = √(1 + ‖g‖²):
 *
 *   centre   c = (θ, f(θ)) + ρ·(−g, 1)/n
 *   descent  c̃ = c − η·(g, ‖g‖²)        ((g, ‖g‖²) is tangent to the graph at θ)
 *   contact  θ' = projection of c̃ = (x̃, ỹ) onto the graph, by K gradient steps
 *            of size β on J(t) = ‖t − x̃‖² + (f(t) − ỹ)², from t = θ
 *            (∇J = 2(t − x̃) + 2(f(t) − ỹ)∇f(t), the factor 2 included)
 *
 * What it reduces to. Write u = t − θ and linearise f around θ (exact for an
 * affine f; first order in η otherwise). The ρ terms of x̃ and ỹ then cancel
 * in ∇J, for any ρ:
 *   ∇J = 2(I + g gᵀ)u + 2η(1 + ‖g‖²)g,
 * so J is minimised at u = −ηg (the ball's contact point slides exactly one
 * gradient-descent step), and K steps from u = 0 give, since g is an
 * eigenvector of I + g gᵀ with eigenvalue 1 + ‖g‖²,
 *   θ' = θ − η·(1 − q^K)·g,   q = 1 − 2β(1 + ‖g‖²).
 * Hence: as ρ → 0 one step is gradient descent with step η·(1 − q^K) up to
 * O(η²·curvature) terms, and with η itself once the projection converges
 * (K → ∞, which needs |q| < 1, i.e. β < 1/(1 + ‖g‖²)). ρ only acts through
 * the curvature of f: the ball cannot follow bends narrower than its radius.
 * The defaults (β = 0.01, K = 10) give 1 − q^K ≈ 0.18 for small ‖g‖; a steep
 * start (‖g‖² > 99) makes |q| > 1 and the projection diverge, so lower
 * `innerLr` there.
 *
 * L2 decay adds λ/2‖θ‖² to f everywhere above (value and gradient), so the
 * ball rolls on the regularised surface. The loss reported is the data loss.
 */
import { tf } from '../backend';
import type { Objective } from '../objective';
import { checkTheta, gradStats } from './common';
import type { Optimizer, ResolvedOptions, StepResult } from './types';

export class RollingBall implements Optimizer {
  readonly name = 'rolling-ball' as const;
  readonly fullBatch = true;

  constructor(
    private readonly eta: number,
    private readonly rho: number,
    private readonly innerSteps: number,
    private readonly innerLr: number,
    private readonly l2: number,
  ) {}

  get options(): ResolvedOptions {
    return { lr: this.eta, rho: this.rho, innerSteps: this.innerSteps, innerLr: this.innerLr, l2: this.l2 };
  }

  step(theta: tf.Tensor1D, f: Objective): { theta: tf.Tensor1D } & StepResult {
    checkTheta(theta, f, this.name);
    const { grad, loss, gradNorm } = gradStats(f, theta, this.l2);
    const gg = gradNorm * gradNorm;
    const n = Math.sqrt(1 + gg);
    const { eta, rho, l2 } = this;
    const halfL2 = l2 / 2;
    // Regularised objective value of M points, [M].
    const value = (t2: tf.Tensor2D): tf.Tensor1D =>
      halfL2 > 0 ? tf.add(f.evaluate(t2), tf.mul(tf.sum(tf.square(t2), 1), halfL2)) : f.evaluate(t2);
    const { xt, yt } = tf.tidy(() => {
      const x = tf.sub(theta, tf.mul(grad, rho / n + eta)) as tf.Tensor1D;
      // f(θ) on the device (with the penalty) rather than from the float32 loss read back:
      // the same value, and no extra host round-trip.
      const fTheta = tf.reshape(value(tf.reshape(theta, [1, f.dim]) as tf.Tensor2D), []);
      const y = tf.add(fTheta, rho / n - eta * gg) as tf.Scalar;
      return { xt: x, yt: y };
    });
    grad.dispose();
    const dJ = tf.grad((t: tf.Tensor) => {
      const t1 = t as tf.Tensor1D;
      const ft = tf.reshape(value(tf.reshape(t1, [1, f.dim]) as tf.Tensor2D), []);
      return tf.add(tf.sum(tf.square(tf.sub(t1, xt))), tf.square(tf.sub(ft, yt))) as tf.Scalar;
    });
    let t: tf.Tensor1D = tf.clone(theta);
    for (let k = 0; k < this.innerSteps; k++) {
      const prev = t;
      t = tf.tidy(() => tf.sub(prev, tf.mul(dJ(prev), this.innerLr)) as tf.Tensor1D);
      prev.dispose();
    }
    xt.dispose();
    yt.dispose();
    return { theta: t, loss, gradNorm, lr: eta, evaluations: 1 + this.innerSteps };
  }

  dispose(): void {
    // Stateless between steps.
  }
}
