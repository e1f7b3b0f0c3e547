/**
 * Initial parameters as PyTorch's layers start them: conv and dense weights
 * and biases uniform in ±1/√fan_in (kaiming_uniform with a = √5, the
 * default of nn.Conv2d and nn.Linear), BatchNorm weight 1 and bias 0; the
 * running statistics start at mean 0, variance 1. Seeded.
 */
import { Rng } from '../../rng';
import type { ArchLayout } from './layout';

export function initArchParams(layout: ArchLayout, rng: Rng): Float32Array {
  const theta = new Float32Array(layout.paramCount);
  for (const t of layout.params) {
    const op = t.owner.node.op;
    if (op === 'bn') {
      theta.fill(t.role === 'weight' ? 1 : 0, t.offset, t.offset + t.size);
      continue;
    }
    const fanIn = fanInOf(t.owner.params[0].shape);
    const bound = 1 / Math.sqrt(fanIn);
    for (let k = 0; k < t.size; k++) theta[t.offset + k] = (2 * rng.uniform() - 1) * bound;
  }
  return theta;
}

export function initArchBuffers(layout: ArchLayout): Float32Array {
  const b = new Float32Array(layout.bufferCount);
  for (const t of layout.buffers) if (t.role === 'running_var') b.fill(1, t.offset, t.offset + t.size);
  return b;
}

/** in·k·k for a conv weight [out, in, k, k], in for a dense weight [out, in]. */
function fanInOf(weightShape: readonly number[]): number {
  return weightShape.slice(1).reduce((a, b) => a * b, 1);
}
