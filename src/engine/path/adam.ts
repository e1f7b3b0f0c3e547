/**
 * A minimal Adam (Kingma & Ba 2015) on one tensor. The path finders own
 * their parameters as plain tensors rather than tf.Variables, so that the
 * best iterate can be snapshot by reference and nothing is registered
 * globally that could leak when a search is cancelled.
 */
import { tf } from '../backend';

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

export class TensorAdam {
  private m: tf.Tensor | undefined;
  private v: tf.Tensor | undefined;
  private t = 0;
  private readonly lr: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;

  constructor(opts: AdamOptions) {
    this.lr = opts.lr;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
  }

  /**
   * Returns the updated parameter as a new tensor. Neither `param` nor `grad`
   * is disposed: the caller may still hold the old parameter as its best
   * iterate.
   */
  step<T extends tf.Tensor>(param: T, grad: tf.Tensor): T {
    this.t += 1;
    const b1 = this.beta1;
    const b2 = this.beta2;
    const oldM = this.m;
    const oldV = this.v;
    // The bias corrections are folded into one host-side step size, so no
    // extra full-size tensors are made for them.
    const stepSize = (this.lr * Math.sqrt(1 - Math.pow(b2, this.t))) / (1 - Math.pow(b1, this.t));
    const epsHat = this.eps * Math.sqrt(1 - Math.pow(b2, this.t));
    const out = tf.tidy(() => {
      const m = oldM ? tf.add(tf.mul(oldM, b1), tf.mul(grad, 1 - b1)) : tf.mul(grad, 1 - b1);
      const v = oldV ? tf.add(tf.mul(oldV, b2), tf.mul(tf.square(grad), 1 - b2)) : tf.mul(tf.square(grad), 1 - b2);
      const next = tf.sub(param, tf.mul(tf.div(m, tf.add(tf.sqrt(v), epsHat)), stepSize));
      return { m, v, next };
    });
    oldM?.dispose();
    oldV?.dispose();
    this.m = out.m;
    this.v = out.v;
    return out.next as T;
  }

  dispose(): void {
    this.m?.dispose();
    this.v?.dispose();
    this.m = undefined;
    this.v = undefined;
  }
}
