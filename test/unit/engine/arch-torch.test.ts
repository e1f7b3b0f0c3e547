/**
 * Architectures from the spec grammar against PyTorch: the loss and its
 * gradient with respect to the flat parameter vector, from our tfjs forward
 * pass (float32, CPU backend) and from torch.nn.functional in float64
 * (test/support/torch_arch.py, written independently), on the same
 * parameters and rows. Covers conv with stride and padding, both pools,
 * global average pooling, BatchNorm in both modes, residual blocks with and
 * without the 1×1 shortcut, flatten's channel-first order, every activation
 * and both losses. Skipped, with the reason, where python3-torch is missing.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { initBackend, tf } from '../../../src/engine/backend';
import { archLayout, archObjective, inferShapes, initArchBuffers, initArchParams, parseArchitecture, type ArchNetwork, type BatchNormMode } from '../../../src/engine/model/arch';
import { Rng } from '../../../src/engine/rng';
import { findTorch } from '../../../bench/torch';
import { maxRelError } from '../../support/compare';

const torch = findTorch();
const skip = torch ? false : 'python3 with torch is not installed (apt-get install python3-torch)';
const SCRIPT = path.join(__dirname, '../../support/torch_arch.py');

function network(spec: string, loss: ArchNetwork['loss'] = 'cross-entropy'): ArchNetwork {
  const a = parseArchitecture(spec);
  const shapes = inferShapes(a);
  const first = a.nodes[0];
  return { shapes, layout: archLayout(shapes), inputShape: first.op === 'input' ? first.shape : [], loss };
}

function rows(n: number, features: number, outputs: number, seed: number) {
  const rng = new Rng(seed);
  const x = Float32Array.from({ length: n * features }, () => rng.normal());
  const labels = Array.from({ length: n }, () => rng.int(outputs));
  const targets = Float32Array.from({ length: n * outputs }, () => rng.normal());
  return { x, labels, targets };
}

function ours(net: ArchNetwork, theta: Float32Array, v: Float32Array, d: ReturnType<typeof rows>, outputs: number, bn: BatchNormMode) {
  const n = d.labels.length;
  const y = net.loss === 'cross-entropy' ? tf.oneHot(tf.tensor1d(d.labels, 'int32'), outputs).toFloat() : tf.tensor2d(d.targets, [n, outputs]);
  const f = archObjective(net, { x: tf.tensor2d(d.x, [n, d.x.length / n]), y: y as tf.Tensor2D }, bn);
  const loss = (t: tf.Tensor) => tf.reshape(f.evaluate(tf.reshape(t, [1, f.dim]) as tf.Tensor2D), []) as tf.Scalar;
  const { value, grad } = tf.valueAndGrad(loss)(tf.tensor1d(theta));
  // H·v by double backward: conv and pooling go through src/engine/model/arch/anyOrder.ts.
  const vt = tf.tensor1d(v);
  const hv = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.grad(loss)(t), vt)) as tf.Scalar)(tf.tensor1d(theta));
  return { loss: value.dataSync()[0], grad: Float64Array.from(grad.dataSync()), hv: Float64Array.from(hv.dataSync()) };
}

function reference(net: ArchNetwork, spec: string, theta: Float32Array, v: Float32Array, buffers: Float32Array, d: ReturnType<typeof rows>, bn: BatchNormMode) {
  const strip = (t: { name: string; offset: number; size: number; shape: number[] }) => ({ name: t.name, offset: t.offset, size: t.size, shape: t.shape });
  const input = JSON.stringify({
    nodes: parseArchitecture(spec).nodes,
    layout: net.layout.params.map(strip),
    bufferLayout: net.layout.buffers.map(strip),
    buffers: Array.from(buffers),
    theta: Array.from(theta),
    v: Array.from(v),
    inputShape: net.inputShape,
    x: Array.from(d.x),
    labels: d.labels,
    targets: Array.from(d.targets),
    loss: net.loss,
    bn: bn.mode,
  });
  const r = spawnSync(torch!.python, [SCRIPT], { input, encoding: 'utf8', maxBuffer: 256 * 2 ** 20 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { loss: number; grad: number[]; hv: number[] };
}


const CASES: { name: string; spec: string; outputs: number; n: number; loss?: ArchNetwork['loss']; bn?: 'running' }[] = [
  { name: 'lenet (conv with padding, max pooling, flatten, dense)', spec: 'lenet', outputs: 10, n: 6 },
  { name: 'stride, numeric padding, avg pooling, gap, elu, softplus, no bias', spec: 'input(2,9,9) conv(4,3,stride=2,pad=1,bias=false) elu avgpool(2,stride=1) conv(3,2) softplus gap dense(3,bias=false)', outputs: 3, n: 5 },
  { name: 'BatchNorm with batch statistics, residual blocks with identity and 1×1 shortcuts', spec: 'input(2,8,8) conv(4,3,pad=same) bn relu res(conv(4,3,pad=1) bn relu conv(4,3,pad=1) bn) relu res(conv(6,3,stride=2,pad=1,bias=false) bn tanh) sigmoid flatten bn dense(4)', outputs: 4, n: 7 },
  { name: 'BatchNorm with running statistics (eval mode)', spec: 'input(3,6,6) conv(4,3) bn relu res(conv(4,3,pad=1) bn) maxpool(2) flatten dense(5) bn dense(2)', outputs: 2, n: 4, bn: 'running' },
  { name: 'zeropad with four different sides, and inside a residual block', spec: 'input(2,5,6) zeropad(0,1,2,3) conv(3,3,stride=2) tanh res(zeropad(1,0,0,1) conv(3,2)) flatten dense(3)', outputs: 3, n: 5 },
  { name: 'mean squared error on a flat input with BatchNorm over features', spec: 'input(5) dense(8) bn tanh res(dense(8) relu) dense(2)', outputs: 2, n: 9, loss: 'mse' },
];

describe('architectures against PyTorch (loss, gradient and Hessian-vector product)', { skip }, () => {
  before(async () => {
    await initBackend('cpu', { force: true });
  });
  for (const c of CASES) {
    it(c.name, () => {
      const net = network(c.spec, c.loss);
      const theta = initArchParams(net.layout, new Rng(3));
      // Running statistics away from their initial 0 and 1, so eval mode is really tested.
      const buffers = initArchBuffers(net.layout).map((v, i) => v + 0.3 * Math.sin(i + 1));
      const bn: BatchNormMode = c.bn === 'running' ? { mode: 'running', buffers } : { mode: 'batch' };
      const d = rows(c.n, net.inputShape.reduce((a, b) => a * b, 1), c.outputs, 11);
      const vRng = new Rng(5);
      const v = Float32Array.from({ length: theta.length }, () => vRng.normal());
      const mine = ours(net, theta, v, d, c.outputs, bn);
      const ref = reference(net, c.spec, theta, v, buffers, d, bn);
      assert.ok(Math.abs(mine.loss - ref.loss) <= 2e-5 * Math.max(1, Math.abs(ref.loss)), `loss ${mine.loss} vs PyTorch ${ref.loss}`);
      assert.equal(mine.grad.length, ref.grad.length);
      const err = maxRelError(mine.grad, ref.grad);
      assert.ok(err <= 1e-4, `gradient differs from PyTorch's by ${err.toExponential(2)} (relative to its largest entry)`);
      const hvErr = maxRelError(mine.hv, ref.hv);
      assert.ok(hvErr <= 1e-4, `H·v differs from PyTorch's double backward by ${hvErr.toExponential(2)} (relative to its largest entry)`);
    });
  }
});
