/**
 * The forward pass of an architecture in tfjs, for one parameter vector on a
 * batch of rows: the general path (our kernels will take it over), and the
 * parity reference for them. Data arrive as PyTorch lays images out, rows of
 * C×H×W; tfjs convolves NHWC, so images are transposed once on the way in
 * and flatten transposes back, so dense weights after it see PyTorch's order.
 *
 * BatchNorm: 'batch' normalises with the statistics of the rows at hand
 * (PyTorch's train mode, and what landscape evaluations use: the statistics
 * are recomputed at every point, as mode-connectivity's update_bn does);
 * 'running' uses the stored running statistics (PyTorch's eval mode).
 */
import { tf } from '../../backend';
import type { ArchLayout } from './layout';
import { avgPoolAnyOrder, conv2dAnyOrder, maxPoolAnyOrder } from './anyOrder';
import { eluAnyOrder, sigmoidAnyOrder, tanhAnyOrder } from './anyOrderActivations';
import type { NodeShapes } from './shapes';
import { DEFAULT_BN_EPS } from './types';

/** PyTorch's default, for bn layers that name no eps. */
export const BN_EPSILON = DEFAULT_BN_EPS;

/**
 * 'batch' may `record` each BatchNorm layer's batch statistics (biased
 * variance, and how many values each channel averaged), to estimate running
 * statistics from (see runningStats.ts); recording reads them off the device.
 */
export type BatchNormMode =
  | { mode: 'batch'; record?: (owner: NodeShapes, mean: Float32Array, variance: Float32Array, count: number) => void }
  | { mode: 'running'; buffers: Float32Array };

interface Pass {
  theta: tf.Tensor1D;
  layout: ArchLayout;
  bn: BatchNormMode;
}

/** Network outputs [N, out] for one parameter vector θ [P] and rows x [N, C·H·W or D]. */
export function forwardArch(layout: ArchLayout, nodes: readonly NodeShapes[], inputShape: readonly number[], theta: tf.Tensor1D, x: tf.Tensor2D, bn: BatchNormMode): tf.Tensor2D {
  const n = x.shape[0];
  let h: tf.Tensor = inputShape.length === 3 ? tf.transpose(tf.reshape(x, [n, ...inputShape]), [0, 2, 3, 1]) : x;
  h = runNodes(h, nodes, { theta, layout, bn });
  return h as tf.Tensor2D;
}

function runNodes(h: tf.Tensor, nodes: readonly NodeShapes[], pass: Pass): tf.Tensor {
  for (const s of nodes) h = runNode(h, s, pass);
  return h;
}

function runNode(h: tf.Tensor, s: NodeShapes, pass: Pass): tf.Tensor {
  const node = s.node;
  switch (node.op) {
    case 'conv':
      return conv(h, s, pass);
    case 'maxpool':
      return maxPoolAnyOrder(h as tf.Tensor4D, node.kernel, node.stride);
    case 'avgpool':
      return avgPoolAnyOrder(h as tf.Tensor4D, node.kernel, node.stride);
    case 'gap':
      return tf.mean(h, [1, 2]);
    case 'zeropad':
      // NHWC: rows are axis 1, columns axis 2.
      return tf.pad(h, [[0, 0], [node.top, node.bottom], [node.left, node.right], [0, 0]]);
    case 'bn':
      return batchNorm(h, s, pass);
    case 'flatten':
      return h.rank === 4 ? tf.reshape(tf.transpose(h, [0, 3, 1, 2]), [h.shape[0], -1]) : h;
    case 'dense':
      return dense(h, s, pass);
    case 'activation':
      return activation(h, node.fn);
    case 'res':
      return tf.add(runNodes(h, s.body ?? [], pass), s.shortcut && s.shortcut.length ? runNodes(h, s.shortcut, pass) : h);
    default:
      return h;
  }
}

function tensorOf(pass: Pass, s: NodeShapes, role: string): tf.Tensor | undefined {
  const t = pass.layout.paramOf(s, role);
  return t ? tf.reshape(tf.slice(pass.theta, [t.offset], [t.size]), t.shape) : undefined;
}

function conv(h: tf.Tensor, s: NodeShapes, pass: Pass): tf.Tensor {
  const node = s.node;
  if (node.op !== 'conv') throw new Error('conv on a non-conv node');
  // PyTorch's [out, in, k, k] as tfjs' [k, k, in, out].
  const filter = tf.transpose(tensorOf(pass, s, 'weight')!, [2, 3, 1, 0]) as tf.Tensor4D;
  const p = node.pad === 'same' ? (node.kernel - 1) / 2 : node.pad === 'valid' ? 0 : node.pad;
  // Padding as its own op, so the convolution is always 'valid' (its written-out gradients need no padding cases).
  const padded = p === 0 ? h : tf.pad(h, [[0, 0], [p, p], [p, p], [0, 0]]);
  const out = conv2dAnyOrder(padded as tf.Tensor4D, filter, node.stride);
  const bias = tensorOf(pass, s, 'bias');
  return bias ? tf.add(out, bias) : out;
}

function dense(h: tf.Tensor, s: NodeShapes, pass: Pass): tf.Tensor {
  const out = tf.matMul(h as tf.Tensor2D, tensorOf(pass, s, 'weight') as tf.Tensor2D, false, true);
  const bias = tensorOf(pass, s, 'bias');
  return bias ? tf.add(out, bias) : out;
}

/** Over channels (the last axis in NHWC) or features; biased variance, as PyTorch normalises. */
function batchNorm(h: tf.Tensor, s: NodeShapes, pass: Pass): tf.Tensor {
  const axes = h.rank === 4 ? [0, 1, 2] : [0];
  let mean: tf.Tensor;
  let variance: tf.Tensor;
  if (pass.bn.mode === 'batch') {
    ({ mean, variance } = tf.moments(h, axes));
    const count = axes.reduce((a, ax) => a * h.shape[ax], 1);
    pass.bn.record?.(s, mean.dataSync() as Float32Array, variance.dataSync() as Float32Array, count);
  } else {
    const buffers = pass.layout.buffers.filter((b) => b.owner === s);
    const read = (role: string) => {
      const b = buffers.find((t) => t.role === role)!;
      return tf.tensor1d((pass.bn as { buffers: Float32Array }).buffers.subarray(b.offset, b.offset + b.size));
    };
    mean = read('running_mean');
    variance = read('running_var');
  }
  const eps = s.node.op === 'bn' ? s.node.eps ?? BN_EPSILON : BN_EPSILON;
  const normalised = tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(normalised, tensorOf(pass, s, 'weight')!), tensorOf(pass, s, 'bias')!);
}

/** Built so that double backward is right (see anyOrderActivations.ts); softplus and relu are already. */
function activation(h: tf.Tensor, fn: string): tf.Tensor {
  switch (fn) {
    case 'relu':
      return tf.relu(h);
    case 'tanh':
      return tanhAnyOrder(h);
    case 'sigmoid':
      return sigmoidAnyOrder(h);
    case 'softplus':
      return tf.softplus(h);
    case 'elu':
      return eluAnyOrder(h);
    default:
      throw new Error(`unknown activation ${fn}`);
  }
}
