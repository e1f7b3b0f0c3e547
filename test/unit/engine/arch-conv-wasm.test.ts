/**
 * Never silently wrong on WASM: the loss, gradient and Hessian-vector product
 * (double backward) of layer-grammar models on tfjs' WASM backend, which has
 * no Conv2DBackpropFilter kernel (convolutions take the written-out gradients
 * of src/engine/model/arch/anyOrder.ts), against the CPU backend on the same
 * parameters and rows (the CPU backend is checked against PyTorch in
 * arch-torch.test.ts). Strides 1 and 2, padding, both pools, BatchNorm and a
 * residual block with its 1×1 shortcut.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../../../src/engine/backend';
import { modelSpecFromText } from '../../../src/engine/model/archModel';
import { initParams } from '../../../src/engine/model/spec';
import { networkObjective } from '../../../src/engine/model/network';
import { Rng } from '../../../src/engine/rng';
import { makeData } from '../../support/randomData';

const SPECS = [
  'lenet',
  'input(3,9,9) conv(4,3,stride=2,pad=1) bn relu avgpool(2) flatten dense(5)',
  'input(2,8,8) conv(4,3,pad=same,bias=false) bn relu res(conv(6,3,stride=2,pad=1,bias=false) bn relu conv(6,3,pad=1,bias=false) bn) relu gap dense(3)',
];

async function lossAndGrad(backend: 'cpu' | 'wasm', spec: string) {
  await initBackend(backend, { force: true });
  const model = modelSpecFromText(spec);
  const theta = initParams(model, new Rng(7));
  const d = makeData(12, model.layers[0], model.layers[1], 3);
  const x = tf.tensor2d(d.x, [d.n, d.features]);
  const y = tf.tensor2d(d.y, [d.n, d.outputs]);
  const f = networkObjective(model, { x, y });
  const t = tf.tensor1d(theta);
  const loss = (v: tf.Tensor) => tf.reshape(f.evaluate(tf.reshape(v, [1, f.dim]) as tf.Tensor2D), []) as tf.Scalar;
  const { value, grad } = tf.valueAndGrad(loss)(t);
  const vRng = new Rng(5);
  const dir = tf.tensor1d(Float32Array.from(theta, () => vRng.normal()));
  const hv = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.grad(loss)(v), dir)) as tf.Scalar)(t);
  const out = { loss: value.dataSync()[0], grad: Float64Array.from(grad.dataSync()), hv: Float64Array.from(hv.dataSync()) };
  tf.dispose([x, y, t, value, grad, dir, hv]);
  return out;
}

for (const spec of SPECS) {
  test(`WASM matches CPU, loss, gradient and H·v: ${spec}`, async () => {
    const cpu = await lossAndGrad('cpu', spec);
    const wasm = await lossAndGrad('wasm', spec);
    assert.ok(Math.abs(wasm.loss - cpu.loss) <= 1e-5 * Math.abs(cpu.loss), `loss ${wasm.loss} vs ${cpu.loss}`);
    for (const key of ['grad', 'hv'] as const) {
      let diff = 0;
      let norm = 0;
      for (let i = 0; i < cpu[key].length; i++) {
        diff = Math.max(diff, Math.abs(wasm[key][i] - cpu[key][i]));
        norm = Math.max(norm, Math.abs(cpu[key][i]));
      }
      assert.ok(norm > 0, `${key}: all zeros tests nothing`);
      assert.ok(diff <= 1e-4 * norm, `${key}: largest difference ${diff} (largest entry ${norm})`);
    }
  });
}
