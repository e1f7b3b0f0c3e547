/**
 * BatchNorm running statistics for networks Landscape trains: the training
 * data's statistics at the given weights, as torch.optim.swa_utils.update_bn
 * computes them with momentum=None — the average over batches (in row order,
 * of the training batch size) of each batch's mean and unbiased variance.
 * PyTorch's own running statistics are an exponential average taken during
 * training instead; these are what eval mode needs at a checkpoint's weights
 * without replaying its training.
 */
import { tf } from '../backend';
import { forwardArch } from './arch/forward';
import type { NodeShapes } from './arch';
import type { DeviceData } from './network';
import type { ModelSpec } from './spec';

interface Sums {
  mean: Float64Array;
  variance: Float64Array;
}

/** The running_mean and running_var buffers (the layout's buffer order) of `theta` on the rows of `data`. */
export function populationStatistics(spec: ModelSpec, theta: Float32Array | tf.Tensor1D, data: DeviceData, batch: number): Float32Array {
  const arch = spec.arch!;
  const sums = new Map<NodeShapes, Sums>();
  const record = (owner: NodeShapes, mean: Float32Array, variance: Float32Array, count: number) => {
    const s = sums.get(owner) ?? { mean: new Float64Array(mean.length), variance: new Float64Array(mean.length) };
    // PyTorch keeps the unbiased variance in running_var.
    const unbias = count > 1 ? count / (count - 1) : 1;
    for (let c = 0; c < mean.length; c++) {
      s.mean[c] += mean[c];
      s.variance[c] += variance[c] * unbias;
    }
    sums.set(owner, s);
  };
  const n = data.x.shape[0];
  const size = Math.max(1, Math.min(batch, n));
  let batches = 0;
  const t = theta instanceof Float32Array ? tf.tensor1d(theta) : theta;
  for (let start = 0; start < n; start += size, batches++) {
    const count = Math.min(size, n - start);
    tf.tidy(() => {
      forwardArch(arch.layout, arch.shapes.nodes, arch.inputShape, t, tf.slice(data.x, [start, 0], [count, -1]) as tf.Tensor2D, { mode: 'batch', record });
    });
  }
  if (t !== theta) t.dispose();
  const buffers = new Float32Array(arch.layout.bufferCount);
  for (const b of arch.layout.buffers) {
    const s = sums.get(b.owner);
    if (!s) continue;
    const source = b.role === 'running_mean' ? s.mean : s.variance;
    for (let c = 0; c < b.size; c++) buffers[b.offset + c] = source[c] / batches;
  }
  return buffers;
}
