/**
 * Per-coordinate adaptive methods, with PyTorch's update rules (so the
 * defaults mean what they mean there):
 *   AdaGrad:  G ← G + g²;                 θ ← θ − lr·g / (√G + ε)
 *   RMSprop:  v ← α·v + (1−α)·g²;         θ ← θ − lr·g / (√v + ε)
 *   Adam:     m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;
 *             θ ← θ − lr·m̂ / (√v̂ + ε),  m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ)
 */
import { tf } from '../backend';
import type { Objective } from '../objective';
import { checkTheta, gradStats } from './common';
import type { Optimizer, ResolvedOptions, StepResult } from './types';

export class AdaGrad implements Optimizer {
  readonly name = 'adagrad' as const;
  readonly fullBatch = false;
  private sum: tf.Tensor1D | null = null;

  constructor(
    private readonly lr: number,
    private readonly eps: number,
    private readonly l2: number,
  ) {}

  get options(): ResolvedOptions {
    return { lr: this.lr, eps: this.eps, l2: this.l2 };
  }

  step(theta: tf.Tensor1D, f: Objective): { theta: tf.Tensor1D } & StepResult {
    checkTheta(theta, f, this.name);
    const { grad, loss, gradNorm } = gradStats(f, theta, this.l2);
    const old = this.sum;
    const sum = tf.tidy(() => (old ? tf.add(old, tf.square(grad)) : tf.square(grad)) as tf.Tensor1D);
    const next = tf.tidy(() => tf.sub(theta, tf.div(tf.mul(grad, this.lr), tf.add(tf.sqrt(sum), this.eps))) as tf.Tensor1D);
    old?.dispose();
    grad.dispose();
    this.sum = sum;
    return { theta: next, loss, gradNorm, lr: this.lr, evaluations: 1 };
  }

  dispose(): void {
    this.sum?.dispose();
    this.sum = null;
  }
}

export class RmsProp implements Optimizer {
  readonly name = 'rmsprop' as const;
  readonly fullBatch = false;
  private avg: tf.Tensor1D | null = null;

  constructor(
    private readonly lr: number,
    private readonly decay: number,
    private readonly eps: number,
    private readonly l2: number,
  ) {}

  get options(): ResolvedOptions {
    return { lr: this.lr, beta2: this.decay, eps: this.eps, l2: this.l2 };
  }

  step(theta: tf.Tensor1D, f: Objective): { theta: tf.Tensor1D } & StepResult {
    checkTheta(theta, f, this.name);
    const { grad, loss, gradNorm } = gradStats(f, theta, this.l2);
    const old = this.avg;
    const avg = tf.tidy(() => {
      const g2 = tf.mul(tf.square(grad), 1 - this.decay);
      return (old ? tf.add(tf.mul(old, this.decay), g2) : g2) as tf.Tensor1D;
    });
    const next = tf.tidy(() => tf.sub(theta, tf.div(tf.mul(grad, this.lr), tf.add(tf.sqrt(avg), this.eps))) as tf.Tensor1D);
    old?.dispose();
    grad.dispose();
    this.avg = avg;
    return { theta: next, loss, gradNorm, lr: this.lr, evaluations: 1 };
  }

  dispose(): void {
    this.avg?.dispose();
    this.avg = null;
  }
}

export class Adam implements Optimizer {
  readonly name = 'adam' as const;
  readonly fullBatch = false;
  private m: tf.Tensor1D | null = null;
  private v: tf.Tensor1D | null = null;
  private t = 0;

  constructor(
    private readonly lr: number,
    private readonly beta1: number,
    private readonly beta2: number,
    private readonly eps: number,
    private readonly l2: number,
  ) {}

  get options(): ResolvedOptions {
    return { lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, l2: this.l2 };
  }

  step(theta: tf.Tensor1D, f: Objective): { theta: tf.Tensor1D } & StepResult {
    checkTheta(theta, f, this.name);
    const { grad, loss, gradNorm } = gradStats(f, theta, this.l2);
    this.t += 1;
    const { m: oldM, v: oldV } = this;
    const m = tf.tidy(() => {
      const gm = tf.mul(grad, 1 - this.beta1);
      return (oldM ? tf.add(tf.mul(oldM, this.beta1), gm) : gm) as tf.Tensor1D;
    });
    const v = tf.tidy(() => {
      const gv = tf.mul(tf.square(grad), 1 - this.beta2);
      return (oldV ? tf.add(tf.mul(oldV, this.beta2), gv) : gv) as tf.Tensor1D;
    });
    // Bias corrections in float64 on the host; only the two factors reach the device.
    const c1 = 1 - Math.pow(this.beta1, this.t);
    const c2 = 1 - Math.pow(this.beta2, this.t);
    const next = tf.tidy(() => {
      const mHat = tf.div(m, c1);
      const vHat = tf.div(v, c2);
      return tf.sub(theta, tf.div(tf.mul(mHat, this.lr), tf.add(tf.sqrt(vHat), this.eps))) as tf.Tensor1D;
    });
    oldM?.dispose();
    oldV?.dispose();
    grad.dispose();
    this.m = m;
    this.v = v;
    return { theta: next, loss, gradNorm, lr: this.lr, evaluations: 1 };
  }

  dispose(): void {
    this.m?.dispose();
    this.v?.dispose();
    this.m = null;
    this.v = null;
  }
}
