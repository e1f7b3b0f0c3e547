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
import type { Optimizer, OptimizerName, ResolvedOptions, StepResult } from './types';

export class MomentumSgd implements Optimizer {
  readonly fullBatch = false;
  private v: tf.Tensor1D | null = null;

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
    const { grad, loss, gradNorm } = gradStats(f, theta, this.l2);
    let next: tf.Tensor1D;
    if (this.name === 'sgd' || this.mu === 0) {
      next = tf.tidy(() => tf.sub(theta, tf.mul(grad, this.lr)) as tf.Tensor1D);
    } else {
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

  dispose(): void {
    this.v?.dispose();
    this.v = null;
  }
}
