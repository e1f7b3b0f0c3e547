/**
 * An architecture's loss on fixed data as an objective over flat parameter
 * vectors ([M, P] → [M]), on the tfjs path: each of the M points is its own
 * forward pass, with BatchNorm statistics of the data at that point.
 */
import { tf } from '../../backend';
import type { Objective } from '../../objective';
import type { LossName } from '../spec';
import { forwardArch, type BatchNormMode } from './forward';
import { logSumExpAnyOrder } from './anyOrderActivations';
import type { ArchLayout } from './layout';
import type { ArchitectureShapes } from './shapes';

export interface ArchNetwork {
  shapes: ArchitectureShapes;
  layout: ArchLayout;
  inputShape: readonly number[];
  loss: LossName;
}

/** Mean loss over the rows for outputs [N, out] and targets [N, out] (one-hot for cross-entropy). */
export function archLoss(loss: LossName, out: tf.Tensor2D, y: tf.Tensor2D): tf.Scalar {
  if (loss === 'cross-entropy') return tf.mean(tf.sub(logSumExpAnyOrder(out, 1), tf.sum(tf.mul(out, y), 1)));
  return tf.mean(tf.squaredDifference(out, y));
}

export function archObjective(net: ArchNetwork, data: { x: tf.Tensor2D; y: tf.Tensor2D }, bn: BatchNormMode = { mode: 'batch' }): Objective {
  const dim = net.layout.paramCount;
  return {
    dim,
    evaluate: (thetas: tf.Tensor2D) =>
      tf.tidy(() => {
        // Rows by slice, not tf.unstack: tfjs' gradient of a one-output unstack fails (its dy is not an array).
        const losses = Array.from({ length: thetas.shape[0] }, (_, i) => {
          const theta = tf.reshape(tf.slice(thetas, [i, 0], [1, dim]), [dim]) as tf.Tensor1D;
          return archLoss(net.loss, forwardArch(net.layout, net.shapes.nodes, net.inputShape, theta, data.x, bn), data.y);
        });
        return tf.stack(losses) as tf.Tensor1D;
      }),
  };
}
