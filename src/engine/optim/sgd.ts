/**
 * Plain SGD, heavy-ball momentum and Nesterov momentum, with the update rules
 * of PyTorch's torch.optim.SGD (no dampening), so runs compare with the
 * paper's PyTorch setups:
 *   v ← μ·v + g            (v starts at 0, so the first v is g)
 *   momentum:  θ ← θ − lr·v
 *   nesterov:  θ ← θ − lr·(g + μ·v)   (the look-ahead written at the current point)
 */
import { tf } from '../backend';
import type { Objective } from '../objective';
import { checkTheta, gradStats } from './common';
import { usableFast, type FastObjective } from '../fast';
import type { Optimizer, OptimizerName, ResolvedOptions, StepResult } from './types';

export class MomentumSgd implements Optimizer {
  readonly fullBatch = false;
  private v: tf.Tensor1D | null = null;
  /** The velocity while steps run on the host (see hostStep). */
  private hostV: Float32Array | null = null;

  constructor(
    readonly name: Extract<OptimizerName, 'sgd' | 'momentum' | 'nesterov'>,
    private readonly lr: number,
    private readonly mu: number,
    private readonly l2: number,
  ) {}

  get options(): ResolvedOptions {
    return this.name === 'sgd' ? { lr: this.lr, l2: this.l2 } : { lr: this.lr, momentum: this.mu, l2: this.l2 };
  }

  step(theta: tf.Tensor1D, f: Objective): { theta: tf.Tensor1D } & StepResult {
    checkTheta(theta, f, this.name);
    if (usableFast(f)) return this.hostStep(theta, f);
    const { grad, loss, gradNorm } = gradStats(f, theta, this.l2);
    let next: tf.Tensor1D;
    if (this.name === 'sgd' || this.mu === 0) {
      next = tf.tidy(() => tf.sub(theta, tf.mul(grad, this.lr)) as tf.Tensor1D);
    } else {
      if (this.hostV) {
        this.v = tf.tensor1d(this.hostV);
        this.hostV = null;
      }
      const old = this.v;
      const v = tf.tidy(() => (old ? tf.add(tf.mul(old, this.mu), grad) : tf.clone(grad)) as tf.Tensor1D);
      next = tf.tidy(() => {
        const d = this.name === 'nesterov' ? tf.add(grad, tf.mul(v, this.mu)) : v;
        return tf.sub(theta, tf.mul(d, this.lr)) as tf.Tensor1D;
      });
      old?.dispose();
      this.v = v;
    }
    grad.dispose();
    return { theta: next, loss, gradNorm, lr: this.lr, evaluations: 1 };
  }

  /**
   * The same update on the host, for dense networks on the fast kernels:
   * per mini-batch step this saves the device round trips of the gradient
   * and the update, which cost more than the small batch's arithmetic.
   */
  private hostStep(theta: tf.Tensor1D, f: FastObjective): { theta: tf.Tensor1D } & StepResult {
    const th = theta.dataSync() as Float32Array;
    const r = f.fast.run(th, 1, true);
    const g = r.grads!;
    const n = g.length;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      if (this.l2 > 0) g[i] += this.l2 * th[i];
      sq += g[i] * g[i];
    }
    const next = new Float32Array(n);
    if (this.name === 'sgd' || this.mu === 0) {
      for (let i = 0; i < n; i++) next[i] = th[i] - this.lr * g[i];
    } else {
      // The velocity may have been kept as a tensor by an earlier tfjs step.
      let v = this.hostV;
      if (!v) {
        v = this.v ? Float32Array.from(this.v.dataSync()) : null;
        this.v?.dispose();
        this.v = null;
      }
      if (!v) v = Float32Array.from(g);
      else for (let i = 0; i < n; i++) v[i] = this.mu * v[i] + g[i];
      this.hostV = v;
      const nesterov = this.name === 'nesterov';
      for (let i = 0; i < n; i++) next[i] = th[i] - this.lr * (nesterov ? g[i] + this.mu * v[i] : v[i]);
    }
    return { theta: tf.tensor1d(next), loss: r.losses[0], gradNorm: Math.sqrt(sq), lr: this.lr, evaluations: 1 };
  }

  dispose(): void {
    this.v?.dispose();
    this.v = null;
    this.hostV = null;
  }
}
