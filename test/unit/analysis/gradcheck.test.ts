import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../../../src/engine/backend';
import type { Objective } from '../../../src/engine/objective';
import { gradientCheck, reluKinkDetector } from '../../../src/engine/analysis/gradcheck';
import { makeSpec, initParams, paramLayout, ModelSpec } from '../../../src/engine/model/spec';
import { networkObjective } from '../../../src/engine/model/network';
import { Rng } from '../../../src/engine/rng';
import { LandscapeError } from '../../../src/engine/errors';

before(async () => {
  await initBackend('cpu', { force: true });
});

function tinyNetwork(spec: ModelSpec, n: number, seed: number): { fn: Objective; theta: Float32Array; x: tf.Tensor2D } {
  const rng = new Rng(seed);
  const inW = spec.layers[0];
  const outW = spec.layers[spec.layers.length - 1];
  const x = tf.keep(tf.tensor2d(Float32Array.from({ length: n * inW }, () => rng.normal()), [n, inW]));
  const y =
    spec.loss === 'cross-entropy'
      ? tf.keep(tf.oneHot(tf.tensor1d(Array.from({ length: n }, (_, i) => i % outW), 'int32'), outW).asType('float32') as tf.Tensor2D)
      : tf.keep(tf.tensor2d(Float32Array.from({ length: n * outW }, () => rng.normal()), [n, outW]));
  const theta = initParams(spec, rng);
  // Non-zero biases, so every parameter matters.
  for (let i = 0; i < theta.length; i++) theta[i] += 0.1 * rng.normal();
  return { fn: networkObjective(spec, { x, y }), theta, x };
}

/** f plus a term whose value is 0 but whose (custom) gradient is w: autodiff reports ∇f + w. */
function withWrongGradient(fn: Objective, w: Float32Array): Objective {
  const wt = tf.keep(tf.tensor2d(w, [1, w.length]));
  const bogus = tf.customGrad((...inputs) => ({
    value: tf.zeros([(inputs[0] as tf.Tensor).shape[0]!]),
    gradFunc: (dy: tf.Tensor) => tf.mul(tf.reshape(dy, [-1, 1]), wt),
  }));
  return { dim: fn.dim, evaluate: (t) => tf.add(fn.evaluate(t), bogus(t) as tf.Tensor) as tf.Tensor1D };
}

test('correct gradients pass: smooth networks, coordinates, directions and the gradient itself', async () => {
  for (const spec of [makeSpec('3-8-4', { activation: 'tanh' }), makeSpec('3-6-5-2', { activation: 'softplus', loss: 'mse' })]) {
    const { fn, theta } = tinyNetwork(spec, 16, 1);
    const r = await gradientCheck(fn, theta, { coordinates: 20, directions: 10, seed: 4 });
    assert.equal(r.probes.length, 31);
    assert.equal(r.probes.filter((p) => p.kind === 'coordinate').length, 20);
    assert.equal(r.probes.filter((p) => p.kind === 'direction').length, 10);
    assert.ok(r.passed, `failures: ${JSON.stringify(r.probes.filter((p) => p.status !== 'ok'))}`);
    assert.equal(r.failures, 0);
    assert.equal(r.kinks, 0, 'smooth activations have no kinks');
    assert.ok(r.maxRelError < 1e-2, `max relative error ${r.maxRelError}`);
    assert.ok(r.maxScaledError <= 1);
    const g = r.probes.find((p) => p.kind === 'gradient')!;
    assert.ok(g.relError < 1e-3, `along the gradient: ${g.relError}`);
    assert.ok(Math.abs(g.analytic - r.gradNorm) < 1e-3 * r.gradNorm, 'the derivative along the unit gradient is ‖∇f‖');
    // h = ε^(1/3)·max(1, |θ_i|) for coordinate probes.
    for (const p of r.probes.filter((q) => q.kind === 'coordinate')) {
      assert.equal(p.h, Math.cbrt(2 ** -23) * Math.max(1, Math.abs(theta[p.index!])));
    }
    assert.equal(r.evaluations, 1 + 4 * (31 + 16), 'θ, 4 points per probe, 16 noise probes');
  }
});

test('a wrong gradient is caught', async () => {
  const spec = makeSpec('3-8-4', { activation: 'tanh' });
  const { fn, theta } = tinyNetwork(spec, 16, 2);
  const rng = new Rng(5);
  // An error of the size of the gradient's typical entries, everywhere.
  const w = Float32Array.from({ length: fn.dim }, () => 0.05 * rng.normal());
  const r = await gradientCheck(withWrongGradient(fn, w), theta, { seed: 1 });
  assert.equal(r.passed, false);
  assert.ok(r.failures >= 10, `${r.failures} failures`);
  assert.equal(r.probes.find((p) => p.kind === 'gradient')!.status, 'fail');
  assert.ok(r.maxRelError > 0.1);

  // A wrong entry in one coordinate fails exactly that probe.
  const one = new Float32Array(fn.dim);
  one[7] = 0.05;
  const r1 = await gradientCheck(withWrongGradient(fn, one), theta, { indices: [3, 7, 12], directions: 0, gradientProbe: false });
  assert.deepEqual(r1.probes.map((p) => [p.index, p.status]), [[3, 'ok'], [7, 'fail'], [12, 'ok']]);
  assert.ok(Math.abs(r1.probes[1].analytic - r1.probes[1].numeric - 0.05) < 1e-3);
});

test('a ReLU network near a kink is flagged, not failed', async () => {
  const spec = makeSpec('2-3-1', { activation: 'relu', loss: 'mse' });
  // Two samples, so the one at the kink carries half the loss.
  const { fn, theta, x } = tinyNetwork(spec, 2, 3);
  // Put hidden unit 0's pre-activation for sample 0 just above zero: 1e-3, well inside the step (h ≈ 4.9e-3).
  const layout = paramLayout(spec);
  const W = layout.find((e) => e.name === 'layers.0.weight')!;
  const b = layout.find((e) => e.name === 'layers.0.bias')!;
  const x0 = x.arraySync()[0];
  const z = x0[0] * theta[W.offset + 0] + x0[1] * theta[W.offset + 3];
  theta[b.offset] = 1e-3 - z;
  // Make sure unit 0 feeds the output, so the kink matters.
  const out = layout.find((e) => e.name === 'layers.1.weight')!;
  theta[out.offset] = 2;
  const biasIndex = b.offset;
  const r = await gradientCheck(fn, theta, { indices: [biasIndex], directions: 0, gradientProbe: false });
  const p = r.probes[0];
  assert.ok(p.absError > r.tolerance * Math.abs(p.analytic), 'the central difference straddles the kink');
  assert.equal(p.kink, true);
  assert.equal(p.status, 'kink');
  assert.equal(r.passed, true, 'kinks are reported, not failures');
  assert.equal(r.kinks, 1);
  assert.equal(r.kinkMethod, 'step-dependence');

  // The exact detector counts the crossing; a probe far from every kink has none.
  const exact = await gradientCheck(fn, theta, { indices: [biasIndex, biasIndex + 1], directions: 0, gradientProbe: false, kinkDetector: reluKinkDetector(spec, x) });
  assert.equal(exact.kinkMethod, 'detector');
  assert.ok(exact.probes[0].crossings! >= 1);
  assert.equal(exact.probes[0].status, 'kink');

  // Moving the unit well away from zero removes the flag.
  theta[b.offset] = 0.5 - z;
  const far = await gradientCheck(fn, theta, { indices: [biasIndex], directions: 0, gradientProbe: false, kinkDetector: reluKinkDetector(spec, x) });
  assert.equal(far.probes[0].status, 'ok');
  assert.equal(far.probes[0].crossings, 0);
});

test('an analytic kink: relu(θ₀) just right of 0 is a kink, a smooth bump is not', async () => {
  const relu: Objective = { dim: 2, evaluate: (t) => tf.add(tf.mul(10, tf.relu(tf.slice(t, [0, 0], [-1, 1]))), tf.square(tf.slice(t, [0, 1], [-1, 1]))).reshape([-1]) as tf.Tensor1D };
  const r = await gradientCheck(relu, [1e-3, 0.5], { indices: [0, 1], directions: 0, gradientProbe: false });
  assert.deepEqual(r.probes.map((p) => p.status), ['kink', 'ok']);
  assert.ok(r.probes[0].stepDependence > 1);
  assert.ok(r.probes[1].stepDependence < 1e-2);
});

test('probes are reproducible from the seed; bad input and non-finite losses are errors', async () => {
  const spec = makeSpec('3-4-2', { activation: 'tanh' });
  const { fn, theta } = tinyNetwork(spec, 8, 6);
  const a = await gradientCheck(fn, theta, { coordinates: 5, directions: 2, seed: 9 });
  const b = await gradientCheck(fn, theta, { coordinates: 5, directions: 2, seed: 9 });
  const c = await gradientCheck(fn, theta, { coordinates: 5, directions: 2, seed: 10 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.probes.map((p) => p.index), c.probes.map((p) => p.index));
  assert.deepEqual(JSON.parse(JSON.stringify(a)), a);

  await assert.rejects(gradientCheck(fn, theta.subarray(1)), (e: unknown) => e instanceof LandscapeError && e.kind === 'input' && /has \d+ values but the objective takes/.test(e.message));
  await assert.rejects(gradientCheck(fn, theta, { coordinates: 0, directions: 0, gradientProbe: false }), /nothing to check/);
  await assert.rejects(gradientCheck(fn, theta, { indices: [fn.dim] }), /coordinate \d+ is out of range/);
  const logFn: Objective = { dim: 1, evaluate: (t) => tf.reshape(tf.log(t), [-1]) as tf.Tensor1D };
  // log(θ) at θ = 1e-3: θ − h is negative, the loss there is NaN.
  await assert.rejects(gradientCheck(logFn, [1e-3], { directions: 0 }), (e: unknown) => e instanceof LandscapeError && e.kind === 'compute' && /loss is not finite \(NaN\) near the given parameters \(probe along coordinate 0\)/.test(e.message));
  const before = tf.memory().numTensors;
  await gradientCheck(fn, theta, { coordinates: 10, directions: 3, batchSize: 7 });
  assert.equal(tf.memory().numTensors, before);
});
