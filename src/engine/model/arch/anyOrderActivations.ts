/**
 * Activations and the softmax cross-entropy that tfjs differentiates
 * correctly to any order. tfjs' gradients of exp, sigmoid and tanh are
 * written with their saved outputs, and differentiating them again treats
 * those outputs as constants: measured against central differences of the
 * gradient, the double-backward H·v is off by 50 % (exp), 63 % (sigmoid) and
 * 83 % (tanh), silently. logSumExp's gradient goes through a max whose
 * gradient needs an Equal that tfjs cannot differentiate, and EluGrad has no
 * gradient at all. Here exp's gradient is exp of the input again (so it
 * differentiates again), and the others are built from it, relu, log and
 * arithmetic, whose gradients are correct to any order (tested against
 * PyTorch's double backward in test/unit/engine/arch-torch.test.ts).
 */
import { tf } from '../../backend';

const expOfInput: (x: tf.Tensor) => tf.Tensor = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  save([x]);
  return { value: tf.exp(x), gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) => tf.mul(dy, expOfInput(saved)) };
});

const maxByAxis = new Map<number, (x: tf.Tensor) => tf.Tensor>();

/**
 * The maximum over `axis` (kept), with no gradient: the shift of a
 * log-sum-exp, which its value does not depend on. Inside a custom gradient,
 * so the max itself is never on the tape (its gradient needs Equal).
 */
function shiftOf(x: tf.Tensor, axis: number): tf.Tensor {
  let f = maxByAxis.get(axis);
  if (!f) {
    f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [t] = args as [tf.Tensor];
      return { value: tf.max(t, axis, true), gradFunc: (dy: tf.Tensor) => tf.zerosLike(t) };
    });
    maxByAxis.set(axis, f);
  }
  return f(x);
}

export function expAnyOrder(x: tf.Tensor): tf.Tensor {
  return expOfInput(x);
}

export function sigmoidAnyOrder(x: tf.Tensor): tf.Tensor {
  return tf.div(1, tf.add(1, expOfInput(tf.neg(x))));
}

/** tanh(x) = 2σ(2x) − 1. */
export function tanhAnyOrder(x: tf.Tensor): tf.Tensor {
  return tf.sub(tf.mul(sigmoidAnyOrder(tf.mul(x, 2)), 2), 1);
}

/** elu(x) = relu(x) + exp(min(x, 0)) − 1. */
export function eluAnyOrder(x: tf.Tensor): tf.Tensor {
  return tf.sub(tf.add(tf.relu(x), expOfInput(tf.neg(tf.relu(tf.neg(x))))), 1);
}

/** log Σ exp over `axis`, shifted by the (gradient-free) maximum for range. */
export function logSumExpAnyOrder(x: tf.Tensor, axis: number): tf.Tensor {
  const shift = shiftOf(x, axis);
  return tf.add(tf.squeeze(shift, [axis]), tf.log(tf.sum(expOfInput(tf.sub(x, shift)), axis)));
}
