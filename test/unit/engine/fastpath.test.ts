/**
 * The fast dense-network kernels (src/engine/fast) against the tfjs path,
 * which stays the reference: losses and gradients agree to float32 tolerance
 * for every activation and loss, with and without biases, for one and many
 * parameter vectors, on data that spans several tiles and widths that are
 * not multiples of the SIMD width; on one thread and on two.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { initBackend, tf } from '../../../src/engine/backend';
import { ACTIVATIONS, LOSSES, makeSpec, initParams, paramCount, paramLayout, type ModelSpec } from '../../../src/engine/model/spec';
import { networkObjective, miniBatchObjective, toDevice } from '../../../src/engine/model/network';
import { batchLossAndGrad, lossAndGrad, type Objective } from '../../../src/engine/objective';
import { fastInfo, isFastObjective, setFastEnabled, setFastThreads } from '../../../src/engine/fast';
import { gradStats } from '../../../src/engine/optim/common';
import { createOptimizer } from '../../../src/engine/optim';
import { slice2DAlongDirections } from '../../../src/engine/analysis/slices';
import { Rng } from '../../../src/engine/rng';
import { makeData, type RandomData as Data } from '../../support/randomData';



function thetasFor(spec: ModelSpec, m: number, seed: number): Float32Array {
  const P = paramCount(spec);
  const rng = new Rng(seed);
  const out = new Float32Array(m * P);
  for (let k = 0; k < m; k++) {
    out.set(initParams(spec, rng.fork()), k * P);
  }
  // Non-zero biases, so their gradients and forward terms are exercised.
  for (let i = 0; i < out.length; i++) out[i] += 0.05 * rng.normal();
  return out;
}

/** Losses and gradients of both paths for the same inputs. */
function bothPaths(spec: ModelSpec, data: Data, thetas: Float32Array, m: number) {
  const dev = toDevice(data);
  try {
    const T = tf.tensor2d(thetas, [m, paramCount(spec)]);
    setFastEnabled(false);
    const slow = networkObjective(spec, dev);
    setFastEnabled(true);
    const fast = networkObjective(spec, dev);
    assert.ok(isFastObjective(fast), `fast path unavailable: ${fastInfo().reason}`);
    assert.ok(!isFastObjective(slow));
    const a = batchLossAndGrad(slow, T);
    const b = batchLossAndGrad(fast, T);
    const out = {
      ref: { losses: Float64Array.from(a.losses.dataSync()), grads: Float64Array.from(a.grads.dataSync()) },
      got: { losses: Float64Array.from(b.losses.dataSync()), grads: Float64Array.from(b.grads.dataSync()) },
      fwd: Float64Array.from(tf.tidy(() => fast.evaluate(T)).dataSync()),
    };
    for (const t of [T, a.losses, a.grads, b.losses, b.grads]) t.dispose();
    return out;
  } finally {
    setFastEnabled(true);
    dev.dispose();
  }
}

function assertClose(got: ArrayLike<number>, ref: ArrayLike<number>, what: string, rel = 2e-4, abs = 1e-6): void {
  assert.equal(got.length, ref.length, `${what}: length`);
  let scale = 0;
  for (let i = 0; i < ref.length; i++) scale = Math.max(scale, Math.abs(ref[i]));
  for (let i = 0; i < ref.length; i++) {
    assert.ok(Number.isFinite(got[i]), `${what}[${i}] is ${got[i]}`);
    const tol = abs + rel * Math.max(scale, 1e-3);
    assert.ok(Math.abs(got[i] - ref[i]) <= tol, `${what}[${i}]: fast ${got[i]} vs tfjs ${ref[i]} (tolerance ${tol.toExponential(2)})`);
  }
}

before(async () => {
  await initBackend('cpu', { force: true });
  setFastThreads(1);
});

after(() => {
  setFastThreads(1);
});

test('the fast kernels load and the built-in network objective uses them', () => {
  const info = fastInfo();
  assert.ok(info.enabled, `fast path off: ${info.reason}`);
  const data = makeData(10, 3, 2, 1);
  const dev = toDevice(data);
  assert.ok(isFastObjective(networkObjective(makeSpec('3-4-2'), dev)));
  dev.dispose();
});

for (const loss of LOSSES) {
  for (const bias of [false, true]) {
    test(`fast = tfjs for every activation: ${loss}, ${bias ? 'with' : 'without'} bias, M = 1 and M = 3`, () => {
      // 5 inputs and widths 7, 6, 3: none a multiple of 4. 300 rows: more than one tile.
      const data = makeData(300, 5, 3, 7);
      for (const activation of ACTIVATIONS) {
        const spec = makeSpec([5, 7, 6, 3], { activation, bias, loss });
        for (const m of [1, 3]) {
          const thetas = thetasFor(spec, m, 11 + m);
          const r = bothPaths(spec, data, thetas, m);
          const what = `${activation} ${loss} bias=${bias} M=${m}`;
          assertClose(r.got.losses, r.ref.losses, `${what} losses`, 1e-5);
          assertClose(r.fwd, r.ref.losses, `${what} evaluate`, 1e-5);
          assertClose(r.got.grads, r.ref.grads, `${what} gradients`);
        }
      }
    });
  }
}

test('fast = tfjs on the digits shape (64-32-32-10, no bias) and one hidden layer of odd width', () => {
  const data = makeData(150, 64, 10, 3);
  const r = bothPaths(makeSpec('64-32-32-10', { bias: false }), data, thetasFor(makeSpec('64-32-32-10', { bias: false }), 4, 5), 4);
  assertClose(r.got.losses, r.ref.losses, 'digits losses', 1e-5);
  assertClose(r.got.grads, r.ref.grads, 'digits gradients');
  const spec = makeSpec('64-13-10', { activation: 'tanh' });
  const r2 = bothPaths(spec, data, thetasFor(spec, 2, 6), 2);
  assertClose(r2.got.grads, r2.ref.grads, '64-13-10 gradients');
});

test('two threads give the same losses and gradients as one (rows split for one vector, vectors split for many)', () => {
  const spec = makeSpec('16-32-32-4', { activation: 'relu' });
  const data = makeData(2000, 16, 4, 9);
  const dev = toDevice(data);
  const f = networkObjective(spec, dev);
  assert.ok(isFastObjective(f));
  try {
    for (const m of [1, 8]) {
      const thetas = thetasFor(spec, m, 2);
      setFastThreads(1);
      const one = f.fast.run(thetas, m, true);
      setFastThreads(2);
      const two = f.fast.run(thetas, m, true);
      assert.equal(fastInfo().threads, 2);
      assertClose(two.losses, one.losses, `M = ${m} losses`, 1e-6);
      assertClose(two.grads!, one.grads!, `M = ${m} gradients`, 1e-5);
      if (m > 1) assert.deepEqual(Array.from(two.grads!), Array.from(one.grads!), 'whole vectors per thread: identical numbers');
      // and again, so the workers serve more than their first job
      const again = f.fast.run(thetas, m, false);
      assertClose(again.losses, one.losses, `M = ${m} losses (next job)`, 1e-6);
    }
  } finally {
    setFastThreads(1);
    dev.dispose();
  }
});

test('under a gradient tape, evaluate is the differentiable tfjs graph: tf.grad through it equals the fast gradient', () => {
  const spec = makeSpec('5-8-3', { activation: 'linear', loss: 'mse' });
  const data = makeData(40, 5, 3, 4);
  const dev = toDevice(data);
  const f = networkObjective(spec, dev);
  const thetas = thetasFor(spec, 2, 8);
  const T = tf.tensor2d(thetas, [2, paramCount(spec)]);
  const viaTape = tf.grad((t: tf.Tensor) => tf.sum(f.evaluate(t as tf.Tensor2D)))(T);
  const fast = (f as Objective & { fast: { run: (t: Float32Array, m: number, g: boolean) => { grads?: Float32Array } } }).fast.run(thetas, 2, true);
  assertClose(fast.grads!, viaTape.dataSync(), 'gradient');
  // Second derivatives still come from tfjs: a Hessian-vector product through evaluate is non-zero.
  const hv = tf.grad((t: tf.Tensor) => {
    const g = tf.grad((u: tf.Tensor) => tf.sum(f.evaluate(u as tf.Tensor2D)))(t);
    return tf.sum(tf.mul(g, tf.onesLike(g)));
  })(T);
  assert.ok(Array.from(hv.dataSync()).some((v) => Math.abs(v) > 1e-8));
  for (const t of [T, viaTape, hv]) t.dispose();
  dev.dispose();
});

test('lossAndGrad, gradStats (with L2) and the host SGD/momentum/Nesterov steps match the tfjs path', () => {
  const spec = makeSpec('5-7-3', { activation: 'tanh' });
  const data = makeData(64, 5, 3, 12);
  const dev = toDevice(data);
  setFastEnabled(false);
  const slow = networkObjective(spec, dev);
  setFastEnabled(true);
  const fast = networkObjective(spec, dev);
  const theta0 = thetasFor(spec, 1, 3);
  const th = tf.tensor1d(theta0);
  const a = lossAndGrad(slow, th);
  const b = lossAndGrad(fast, th);
  assert.ok(Math.abs(a.loss - b.loss) <= 1e-5 * Math.max(1, Math.abs(a.loss)));
  assertClose(b.grad.dataSync(), a.grad.dataSync(), 'lossAndGrad gradient');
  const sa = gradStats(slow, th, 0.01);
  const sb = gradStats(fast, th, 0.01);
  assert.ok(Math.abs(sa.gradNorm - sb.gradNorm) <= 1e-4 * sa.gradNorm, `gradNorm ${sa.gradNorm} vs ${sb.gradNorm}`);
  assertClose(sb.grad.dataSync(), sa.grad.dataSync(), 'gradStats gradient');
  for (const t of [a.grad, b.grad, sa.grad, sb.grad]) t.dispose();
  for (const name of ['sgd', 'momentum', 'nesterov'] as const) {
    const oa = createOptimizer(name, { lr: 0.05, l2: 0.001 });
    const ob = createOptimizer(name, { lr: 0.05, l2: 0.001 });
    let ta = tf.tensor1d(theta0);
    let tb = tf.tensor1d(theta0);
    for (let k = 0; k < 5; k++) {
      const ra = oa.step(ta, slow);
      const rb = ob.step(tb, fast);
      assert.ok(Math.abs(ra.loss - rb.loss) <= 1e-5 * Math.max(1, ra.loss), `${name} step ${k} loss ${ra.loss} vs ${rb.loss}`);
      ta.dispose();
      tb.dispose();
      ta = ra.theta;
      tb = rb.theta;
    }
    assertClose(tb.dataSync(), ta.dataSync(), `${name} parameters after 5 steps`, 1e-4);
    ta.dispose();
    tb.dispose();
    oa.dispose();
    ob.dispose();
  }
  th.dispose();
  dev.dispose();
});

test('mini-batch objectives: rows gathered on the host equal rows gathered on the device', () => {
  const spec = makeSpec('5-6-3', { bias: true });
  const data = makeData(50, 5, 3, 21);
  const dev = toDevice(data);
  const rows = Int32Array.from([7, 3, 49, 0, 22, 22, 13]);
  setFastEnabled(false);
  const slow = miniBatchObjective(spec, data, dev, rows);
  setFastEnabled(true);
  const fast = miniBatchObjective(spec, data, dev, rows);
  assert.ok(isFastObjective(fast.objective) && !isFastObjective(slow.objective));
  const T = tf.tensor2d(thetasFor(spec, 2, 1), [2, paramCount(spec)]);
  const a = batchLossAndGrad(slow.objective, T);
  const b = batchLossAndGrad(fast.objective, T);
  assertClose(b.losses.dataSync(), a.losses.dataSync(), 'losses', 1e-5);
  assertClose(b.grads.dataSync(), a.grads.dataSync(), 'gradients');
  // Under a tape the host-gathered objective is still differentiable.
  const g = tf.grad((t: tf.Tensor) => tf.sum(fast.objective.evaluate(t as tf.Tensor2D)))(T);
  assertClose(g.dataSync(), a.grads.dataSync(), 'taped gradient');
  for (const t of [T, a.losses, a.grads, b.losses, b.grads, g]) t.dispose();
  slow.dispose();
  fast.dispose();
  dev.dispose();
});

test('combinations of a basis (the first layer once per basis vector) equal the same points given whole', () => {
  const data = makeData(260, 6, 3, 17);
  for (const bias of [false, true]) {
    const spec = makeSpec('6-9-5-3', { activation: 'tanh', bias });
    const dev = toDevice(data);
    const f = networkObjective(spec, dev);
    assert.ok(isFastObjective(f));
    const P = paramCount(spec);
    const basis = thetasFor(spec, 3, 40);
    const m = 7;
    const rng = new Rng(3);
    const coeffs = new Float32Array(m * 3);
    for (let i = 0; i < coeffs.length; i++) coeffs[i] = rng.normal();
    const thetas = new Float32Array(m * P);
    for (let r = 0; r < m; r++) for (let i = 0; i < P; i++) {
      let v = 0;
      for (let k = 0; k < 3; k++) v += coeffs[r * 3 + k] * basis[k * P + i];
      thetas[r * P + i] = v;
    }
    const whole = f.fast.run(thetas, m, true);
    const comb = f.fast.runCombination(basis, coeffs, m, true);
    assertClose(comb.losses, whole.losses, `bias=${bias} losses`, 1e-5);
    assertClose(comb.grads!, whole.grads!, `bias=${bias} gradients`);
    dev.dispose();
  }
});

test('a 2D slice of a network is the same on the fast path and on tfjs', async () => {
  const spec = makeSpec('5-8-3', { bias: true });
  const data = makeData(120, 5, 3, 8);
  const dev = toDevice(data);
  const theta = thetasFor(spec, 1, 9);
  const d1 = thetasFor(spec, 1, 10);
  const d2 = thetasFor(spec, 1, 11);
  setFastEnabled(false);
  const slow = await slice2DAlongDirections(networkObjective(spec, dev), theta, d1, d2, { points: 7, batchSize: 10 });
  setFastEnabled(true);
  const fast = await slice2DAlongDirections(networkObjective(spec, dev), theta, d1, d2, { points: 7, batchSize: 10 });
  assertClose(fast.values.flat(), slow.values.flat(), 'slice values', 1e-5);
  dev.dispose();
});

test('repeated fast calls leak neither tensors nor kernel memory', () => {
  const spec = makeSpec('8-16-4');
  const data = makeData(500, 8, 4, 5);
  const dev = toDevice(data);
  const f = networkObjective(spec, dev);
  const T = tf.tensor2d(thetasFor(spec, 6, 4), [6, paramCount(spec)]);
  const once = () => {
    const r = batchLossAndGrad(f, T);
    r.losses.dispose();
    r.grads.dispose();
    f.evaluate(T).dispose();
  };
  once();
  const tensors = tf.memory().numTensors;
  const bytes = fastInfo().memoryBytes;
  for (let i = 0; i < 50; i++) once();
  assert.equal(tf.memory().numTensors, tensors);
  assert.equal(fastInfo().memoryBytes, bytes);
  T.dispose();
  dev.dispose();
});

test('the fast path also runs under the WASM backend, with the same numbers', async () => {
  const spec = makeSpec('5-7-3', { activation: 'elu', bias: true });
  const data = makeData(90, 5, 3, 31);
  const thetas = thetasFor(spec, 3, 2);
  const cpu = bothPaths(spec, data, thetas, 3);
  await initBackend('wasm', { force: true });
  try {
    const w = bothPaths(spec, data, thetas, 3);
    assertClose(w.got.losses, w.ref.losses, 'wasm losses', 1e-5);
    assertClose(w.got.grads, w.ref.grads, 'wasm gradients');
    assert.deepEqual(Array.from(w.got.losses), Array.from(cpu.got.losses));
  } finally {
    await initBackend('cpu', { force: true });
  }
});

test('the committed WebAssembly binary is compiled from the committed kernels.as', () => {
  const script = path.join(__dirname, '..', '..', '..', 'src', 'engine', 'fast', 'build-wasm.mjs');
  const r = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `${r.stderr}${r.stdout}`);
});

/**
 * Loss and gradient in float64 of a 2-layer relu network with bias (F-H-C),
 * straight from the definitions, log-sum-exp as max + log1p(Σ_{j≠argmax} e^{z_j−max}).
 */
function hostTwoLayer(spec: ModelSpec, theta: Float32Array, data: Data): { loss: number; grad: Float64Array; maxLogit: number } {
  const [F, H, C] = spec.layers;
  const at = (layer: number, kind: 'weight' | 'bias') => paramLayout(spec).find((e) => e.layer === layer && e.kind === kind)!.offset;
  const w1 = at(0, 'weight'), b1 = at(0, 'bias'), w2 = at(1, 'weight'), b2 = at(1, 'bias');
  const grad = new Float64Array(theta.length);
  let loss = 0;
  let maxLogit = 0;
  for (let r = 0; r < data.n; r++) {
    const x = Array.from({ length: F }, (_, i) => data.x[r * F + i]);
    const y = Array.from({ length: C }, (_, j) => data.y[r * C + j]);
    const h = new Float64Array(H);
    for (let k = 0; k < H; k++) {
      let v = theta[b1 + k];
      for (let i = 0; i < F; i++) v += x[i] * theta[w1 + i * H + k];
      h[k] = Math.max(v, 0);
    }
    const z = new Float64Array(C);
    for (let j = 0; j < C; j++) {
      let v = theta[b2 + j];
      for (let k = 0; k < H; k++) v += h[k] * theta[w2 + k * C + j];
      z[j] = v;
      maxLogit = Math.max(maxLogit, Math.abs(v));
    }
    const am = z.indexOf(Math.max(...z));
    const mx = z[am];
    // Even float64 rounds 1 + 1e-16 to 1, so the argmax's 1 is kept out of the sum here as well.
    let rest = 0;
    for (let j = 0; j < C; j++) if (j !== am) rest += Math.exp(z[j] - mx);
    let yz = 0;
    for (let j = 0; j < C; j++) yz += y[j] * z[j];
    loss += (mx - yz + Math.log1p(rest)) / data.n;
    const dz = Array.from(z, (v, j) => (j === am ? 1 - y[j] - rest / (1 + rest) : Math.exp(v - mx) / (1 + rest) - y[j]) / data.n);
    for (let j = 0; j < C; j++) {
      grad[b2 + j] += dz[j];
      for (let k = 0; k < H; k++) grad[w2 + k * C + j] += h[k] * dz[j];
    }
    for (let k = 0; k < H; k++) {
      if (h[k] <= 0) continue;
      let dh = 0;
      for (let j = 0; j < C; j++) dh += dz[j] * theta[w2 + k * C + j];
      grad[b1 + k] += dh;
      for (let i = 0; i < F; i++) grad[w1 + i * H + k] += x[i] * dh;
    }
  }
  return { loss, grad, maxLogit };
}

test('cross-entropy stays > 0 and accurate when every row has a huge margin (no log(1 + tiny) = 0)', () => {
  // 3 features, 5 hidden units, 3 classes: the row of label c is ≈ e_c, and the
  // network passes it through scaled by `scale`, so every row is classified
  // right with a margin of about 0.9–1.1 × scale. Per-row losses then are
  // about e^{−margin}: 1e-2 (scale 5), 1e-5 (12), 1e-16 (40) and 1e-40 (100,
  // beyond float32's normal range, where the kernel's SIMD exp clamps).
  const spec = makeSpec('3-5-3', { activation: 'relu', bias: true });
  const F = 3, H = 5, C = 3, n = 8;
  const rng = new Rng(77);
  const data: Data = { x: new Float32Array(n * F), y: new Float32Array(n * C), n, features: F, outputs: C };
  for (let r = 0; r < n; r++) {
    const label = r % C;
    for (let i = 0; i < F; i++) data.x[r * F + i] = (i === label ? 1 : 0) + 0.1 * rng.uniform();
    data.y[r * C + label] = 1;
  }
  const layout = paramLayout(spec);
  const at = (layer: number, kind: 'weight' | 'bias') => layout.find((e) => e.layer === layer && e.kind === kind)!.offset;
  const P = paramCount(spec);
  const scales = [5, 12, 40, 100];
  const thetas = new Float32Array(scales.length * P);
  scales.forEach((scale, m) => {
    const t = thetas.subarray(m * P, (m + 1) * P);
    for (let i = 0; i < F; i++) t[at(0, 'weight') + i * H + i] = 1;
    // The two extra hidden units carry small weights, so the padded widths and every gradient term are exercised.
    for (let i = 0; i < F; i++) for (let k = F; k < H; k++) t[at(0, 'weight') + i * H + k] = 0.05 * rng.uniform();
    for (let k = 0; k < H; k++) for (let j = 0; j < C; j++) t[at(1, 'weight') + k * C + j] = k === j ? scale : k >= F ? 0.01 * rng.normal() : 0;
    for (let j = 0; j < C; j++) t[at(1, 'bias') + j] = 0.01 * rng.normal();
  });
  const r = bothPaths(spec, data, thetas, scales.length);
  let tfjsCompared = 0;
  scales.forEach((scale, m) => {
    const host = hostTwoLayer(spec, thetas.subarray(m * P, (m + 1) * P), data);
    assert.ok(host.loss > 0 && host.loss < 0.1, `scale ${scale}: host loss ${host.loss} out of the intended range`);
    for (const [what, v] of [['fast loss', r.got.losses[m]], ['fast evaluate', r.fwd[m]]] as const) {
      assert.ok(Number.isFinite(v) && v > 0, `scale ${scale}: ${what} is ${v}`);
      assert.ok(Math.abs(v - host.loss) <= 1e-3 * host.loss, `scale ${scale}: ${what} ${v} vs float64 ${host.loss}`);
    }
    // tfjs forms max + log Σ in float32, so it carries a few ulps of the largest logit (or is 0).
    const tfjsLoss = r.ref.losses[m];
    if (tfjsLoss !== 0) {
      const tol = 1e-3 * host.loss + 8 * 2 ** -23 * host.maxLogit;
      assert.ok(Math.abs(tfjsLoss - host.loss) <= tol, `scale ${scale}: tfjs ${tfjsLoss} vs float64 ${host.loss}`);
      tfjsCompared++;
    }
    // The gradient must shrink with the loss: softmax − y at the label is −Σ others, not a rounded 0.
    const g = r.got.grads.subarray(m * P, (m + 1) * P);
    let big = 0;
    for (const v of host.grad) big = Math.max(big, Math.abs(v));
    assert.ok(big > 0);
    // Below 2^-126 float32 is subnormal and keeps only absolute precision (scale 100 lives there).
    const gtol = 1e-3 * Math.max(big, 2 ** -126);
    for (let i = 0; i < P; i++) {
      assert.ok(Math.abs(g[i] - host.grad[i]) <= gtol, `scale ${scale}: gradient[${i}] fast ${g[i]} vs float64 ${host.grad[i]} (largest ${big})`);
    }
  });
  assert.ok(tfjsCompared >= 1, 'tfjs gave 0 for every scale: the comparison with it never ran');
});
