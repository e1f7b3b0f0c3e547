import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../../../src/engine/backend';
import { makeSpec, initParams, paramCount, paramLayout, pack, unpack, parseLayers } from '../../../src/engine/model/spec';
import { networkObjective, forwardBatched } from '../../../src/engine/model/network';
import { lossAndGrad, batchLossAndGrad, evaluateValues } from '../../../src/engine/objective';
import { Rng } from '../../../src/engine/rng';

function randomData(rng: Rng, n: number, features: number, classes: number) {
  const x = new Float32Array(n * features).map(() => rng.normal());
  const y = new Float32Array(n * classes);
  for (let i = 0; i < n; i++) y[i * classes + rng.int(classes)] = 1;
  return { x: tf.tensor2d(x, [n, features]), y: tf.tensor2d(y, [n, classes]) };
}

before(async () => {
  await initBackend('cpu', { force: true });
});

test('parseLayers accepts widths and rejects nonsense', () => {
  assert.deepEqual(parseLayers('64-32-32-10'), [64, 32, 32, 10]);
  assert.throws(() => parseLayers('64'), /at least an input and an output/);
  assert.throws(() => parseLayers('64-a-10'), /"a" is not a positive whole number/);
  assert.throws(() => parseLayers('64-0-10'), /out of range/);
});

test('parameter layout: weights [in,out] then bias, count matches', () => {
  const spec = makeSpec('3-4-2', { bias: true });
  const layout = paramLayout(spec);
  assert.deepEqual(layout.map((e) => [e.name, e.shape, e.offset]), [
    ['layers.0.weight', [3, 4], 0],
    ['layers.0.bias', [4], 12],
    ['layers.1.weight', [4, 2], 16],
    ['layers.1.bias', [2], 24],
  ]);
  assert.equal(paramCount(spec), 26);
  assert.equal(paramCount(makeSpec('64-32-32-10', { bias: false })), 64 * 32 + 32 * 32 + 32 * 10);
});

test('pack(unpack(theta)) is the identity and pack names a missing tensor', () => {
  const spec = makeSpec('5-3-2');
  const theta = initParams(spec, new Rng(3));
  assert.deepEqual(pack(spec, unpack(spec, theta)), theta);
  const m = unpack(spec, theta);
  m.delete('layers.1.bias');
  assert.throws(() => pack(spec, m, 'x.safetensors'), /x\.safetensors: missing tensor "layers\.1\.bias"/);
});

test('forward pass matches a hand computation', () => {
  const spec = makeSpec('2-2-1', { activation: 'relu', bias: true, loss: 'mse' });
  // W0 = [[1, -1], [2, 0.5]], b0 = [0.5, -1], W1 = [[1], [-2]], b1 = [0.25]
  const theta = new Float32Array([1, -1, 2, 0.5, 0.5, -1, 1, -2, 0.25]);
  const x = tf.tensor2d([[1, 1], [-1, 2]]);
  const out = forwardBatched(spec, tf.tensor2d(theta, [1, 9]), x).arraySync()[0];
  // row 1: h = relu([1+2+0.5, -1+0.5-1]) = [3.5, 0] -> 3.5 + 0.25 = 3.75
  // row 2: h = relu([-1+4+0.5, 1+1-1]) = [3.5, 1] -> 3.5 - 2 + 0.25 = 1.75
  assert.ok(Math.abs(out[0][0] - 3.75) < 1e-6);
  assert.ok(Math.abs(out[1][0] - 1.75) < 1e-6);
});

test('batched objective equals one-by-one evaluation', () => {
  const rng = new Rng(5);
  for (const bias of [true, false]) {
    const spec = makeSpec('6-5-4-3', { activation: 'tanh', bias });
    const f = networkObjective(spec, randomData(rng, 40, 6, 3));
    const thetas = [0, 1, 2, 3].map(() => initParams(spec, rng));
    const batched = evaluateValues(f, thetas);
    thetas.forEach((t, i) => {
      const single = evaluateValues(f, [t])[0];
      assert.ok(Math.abs(single - batched[i]) < 1e-5, `row ${i}: ${single} vs ${batched[i]}`);
    });
  }
});

test('network gradient agrees with central differences (float64 reference)', () => {
  const rng = new Rng(11);
  for (const [activation, loss] of [['tanh', 'cross-entropy'], ['softplus', 'mse'], ['sigmoid', 'cross-entropy']] as const) {
    const spec = makeSpec('4-6-3', { activation, bias: true, loss });
    const data = randomData(rng, 25, 4, 3);
    const f = networkObjective(spec, data);
    const theta = initParams(spec, rng);
    const { grad } = lossAndGrad(f, tf.tensor1d(theta));
    const g = grad.dataSync();
    // Central differences of the float32 objective: h = 1e-2 keeps both the
    // truncation error (h²) and the float32 rounding error (ε/h) near 1e-4.
    const h = 1e-2;
    let worst = 0;
    for (let i = 0; i < theta.length; i++) {
      const p = Float32Array.from(theta);
      const m = Float32Array.from(theta);
      p[i] += h;
      m[i] -= h;
      const [fp, fm] = evaluateValues(f, [p, m]);
      const fd = (fp - fm) / (2 * h);
      const err = Math.abs(fd - g[i]) / Math.max(1e-2, Math.abs(fd) + Math.abs(g[i]));
      worst = Math.max(worst, err);
    }
    assert.ok(worst < 2e-2, `${activation}/${loss}: worst relative error ${worst}`);
    grad.dispose();
  }
});

test('batchLossAndGrad gives each row its own gradient', () => {
  const rng = new Rng(2);
  const spec = makeSpec('3-4-2', { activation: 'elu' });
  const f = networkObjective(spec, randomData(rng, 10, 3, 2));
  const thetas = [initParams(spec, rng), initParams(spec, rng)];
  const { losses, grads } = batchLossAndGrad(f, tf.tensor2d([...thetas[0], ...thetas[1]], [2, f.dim]));
  const G = grads.arraySync();
  thetas.forEach((t, i) => {
    const { loss, grad } = lossAndGrad(f, tf.tensor1d(t));
    assert.ok(Math.abs(loss - losses.dataSync()[i]) < 1e-6);
    const gi = grad.dataSync();
    for (let k = 0; k < gi.length; k++) assert.ok(Math.abs(gi[k] - G[i][k]) < 1e-5);
    grad.dispose();
  });
  losses.dispose();
  grads.dispose();
});

test('initParams is deterministic per seed', () => {
  const spec = makeSpec('64-32-10');
  assert.deepEqual(initParams(spec, new Rng(7)), initParams(spec, new Rng(7)));
  assert.notDeepEqual(initParams(spec, new Rng(7)), initParams(spec, new Rng(8)));
});
