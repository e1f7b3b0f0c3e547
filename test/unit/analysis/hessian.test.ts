import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../../../src/engine/backend';
import type { Objective } from '../../../src/engine/objective';
import { hessianTopEigenvalues, hessianTrace, hessianVectorProduct, finiteDifferenceStep, FLOAT32_EPS } from '../../../src/engine/analysis/hessian';
import { stabilityVerdict } from '../../../src/engine/analysis/stability';
import { randomOrthogonal, dot, norm } from '../../../src/engine/analysis/linalg';
import { makeSpec, initParams } from '../../../src/engine/model/spec';
import { networkObjective } from '../../../src/engine/model/network';
import { isFastObjective, setFastEnabled, setFastThreads } from '../../../src/engine/fast';
import { defaultThreads } from '../../../src/engine/fast/kernels';
import { Rng } from '../../../src/engine/rng';
import { CancelledError, LandscapeError } from '../../../src/engine/errors';

before(async () => {
  await initBackend('cpu', { force: true });
});

interface Quadratic {
  fn: Objective;
  Q: Float64Array[];
  lambda: number[];
  A: Float64Array;
}

/** f(θ) = ½(θ − c)ᵀA(θ − c) with A = QᵀΛQ: Hessian A everywhere, eigenpairs (λ_k, Q[k]). */
function quadratic(lambda: number[], seed: number, centre = 0): Quadratic {
  const n = lambda.length;
  const Q = randomOrthogonal(n, new Rng(seed));
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += Q[k][i] * lambda[k] * Q[k][j];
      A[i * n + j] = A[j * n + i] = s;
    }
  }
  const At = tf.keep(tf.tensor2d(Float32Array.from(A), [n, n]));
  const ct = tf.keep(tf.fill([1, n], centre));
  const fn: Objective = {
    dim: n,
    evaluate: (thetas) =>
      tf.tidy(() => {
        const d = tf.sub(thetas, ct);
        return tf.mul(0.5, tf.sum(tf.mul(tf.matMul(d, At), d), 1)) as tf.Tensor1D;
      }),
  };
  return { fn, Q, lambda, A };
}

const spectrum = (n: number) => Array.from({ length: n }, (_, i) => (i === 0 ? 40 : i === 1 ? 25 : i === 2 ? 16 : 8 * Math.exp(-i / 6) - 1));

for (const hvp of ['autodiff', 'finite-difference'] as const) {
  test(`Lanczos finds the top eigenpairs of a quadratic with a known spectrum (${hvp})`, async () => {
    const q = quadratic(spectrum(60), 1);
    const theta = Float32Array.from({ length: 60 }, (_, i) => Math.cos(i));
    const r = await hessianTopEigenvalues(q.fn, theta, { k: 3, hvp, seed: 3, iterations: 40, vectors: true });
    assert.equal(r.hvp, hvp);
    assert.deepEqual(r.eigenvalues.map((v) => Math.round(v * 1000) / 1000), [40, 25, 16]);
    for (let i = 0; i < 3; i++) {
      // float32 products: relative accuracy ~1e-6 (autodiff) to ~1e-5 (differences of gradients of a quadratic are exact up to rounding).
      assert.ok(Math.abs(r.eigenvalues[i] - q.lambda[i]) < 2e-4 * q.lambda[i], `λ${i} = ${r.eigenvalues[i]}`);
      assert.ok(Math.abs(Math.abs(dot(r.eigenvectors![i], q.Q[i])) - 1) < 1e-4, `eigenvector ${i}`);
      assert.ok(Math.abs(norm(r.eigenvectors![i]) - 1) < 1e-12);
      assert.ok(r.errorEstimates[i] <= r.residuals[i] + 1e-15);
    }
    assert.ok(r.converged, 'converged within 40 steps');
    assert.ok(r.iterations <= 40);
    if (hvp === 'finite-difference') assert.equal(r.fdStep, finiteDifferenceStep(norm(theta), 1));
    // The same seed gives the same answer.
    const again = await hessianTopEigenvalues(q.fn, theta, { k: 3, hvp, seed: 3, iterations: 40 });
    assert.deepEqual(again.eigenvalues, r.eigenvalues);
  });
}

test('the reported residual bounds the eigenvalue error when Lanczos is stopped early', async () => {
  // Closely spaced top eigenvalues converge slowly: few steps leave visible error, which the residual must cover.
  const lambda = Array.from({ length: 200 }, (_, i) => 10 - 0.02 * i);
  const q = quadratic(lambda, 5);
  const r = await hessianTopEigenvalues(q.fn, new Float32Array(200), { k: 1, iterations: 8, seed: 1 });
  assert.equal(r.iterations, 8);
  assert.equal(r.converged, false);
  const err = Math.abs(r.eigenvalues[0] - 10);
  assert.ok(err > 1e-4, `the test needs an unconverged estimate (error ${err})`);
  assert.ok(err <= r.residuals[0] * 1.01, `error ${err} exceeds the residual ${r.residuals[0]}`);
});

test("which: 'magnitude' finds a large negative eigenvalue; 'largest' the algebraic top", async () => {
  const lambda = [5, -30, 2, 1, 0.5, -0.5, 0.1, 3];
  const q = quadratic(lambda, 2);
  const theta = new Float32Array(8);
  const mag = await hessianTopEigenvalues(q.fn, theta, { k: 2, which: 'magnitude', hvp: 'autodiff' });
  assert.deepEqual(mag.eigenvalues.map((v) => Math.round(v * 1e3) / 1e3), [-30, 5]);
  const top = await hessianTopEigenvalues(q.fn, theta, { k: 2, hvp: 'autodiff' });
  assert.deepEqual(top.eigenvalues.map((v) => Math.round(v * 1e3) / 1e3), [5, 3]);
  // Eight steps exhaust an 8-dimensional space.
  assert.equal(top.iterations, 8);
});

test('repeated eigenvalues are found by restarting an exhausted Krylov space', async () => {
  const q = quadratic([7, 7, 7, 1, 1, 0.5], 4);
  const r = await hessianTopEigenvalues(q.fn, new Float32Array(6), { k: 3, hvp: 'autodiff', iterations: 6 });
  assert.deepEqual(r.eigenvalues.map((v) => Math.round(v * 1e3) / 1e3), [7, 7, 7]);
  assert.ok(r.restarts >= 1);
});

for (const hvp of ['autodiff', 'finite-difference'] as const) {
  test(`Hutchinson's trace is within a few standard errors of the known trace (${hvp})`, async () => {
    const lambda = spectrum(40);
    const q = quadratic(lambda, 6);
    const trace = lambda.reduce((s, v) => s + v, 0);
    const r = await hessianTrace(q.fn, Float32Array.from({ length: 40 }, (_, i) => i / 40), { samples: 200, seed: 2, hvp, batch: 16 });
    assert.equal(r.samples, 200);
    assert.equal(r.hvp, hvp);
    // Rademacher variance is 2·Σ_{i≠j} A_ij²: check the reported standard error against it.
    let off = 0;
    for (let i = 0; i < 40; i++) for (let j = 0; j < 40; j++) if (i !== j) off += q.A[i * 40 + j] ** 2;
    const se = Math.sqrt((2 * off) / 200);
    assert.ok(r.standardError > 0.5 * se && r.standardError < 2 * se, `standard error ${r.standardError} vs theory ${se}`);
    assert.ok(Math.abs(r.trace - trace) < 4 * r.standardError, `trace ${r.trace} vs ${trace} ± ${r.standardError}`);
  });
}

test('diagonal Hessian: Hutchinson with Rademacher probes is exact', async () => {
  const lambda = [3, 1, 4, 1, 5, 9, 2, 6];
  const diag = tf.keep(tf.tensor2d([lambda]));
  const fn: Objective = { dim: 8, evaluate: (t) => tf.mul(0.5, tf.sum(tf.mul(diag, tf.square(t)), 1)) as tf.Tensor1D };
  const r = await hessianTrace(fn, new Float32Array(8), { samples: 5, hvp: 'autodiff' });
  assert.ok(Math.abs(r.trace - 31) < 1e-4);
  assert.ok(r.standardError < 1e-4);
});

test('auto mode: autodiff where tfjs differentiates twice, differences where it throws or is silently wrong', async () => {
  const q = quadratic(spectrum(10), 7);
  const quad = await hessianTopEigenvalues(q.fn, new Float32Array(10), { hvp: 'auto' });
  assert.equal(quad.hvp, 'autodiff');
  assert.equal(quad.hvpFallbackReason, undefined);
  assert.ok(quad.hvpCheck!.autodiffVsFiniteDifference! < 1e-3);

  const rng = new Rng(8);
  const n = 24;
  const x = tf.keep(tf.tensor2d(Float32Array.from({ length: n * 3 }, () => rng.normal()), [n, 3]));
  const yTanh = tf.keep(tf.tensor2d(Float32Array.from({ length: n * 2 }, () => rng.normal()), [n, 2]));
  // tanh + mse: tfjs returns a second derivative without error, but drops the term through tanh's saved output (tfjs#3252).
  const tanhSpec = makeSpec('3-6-2', { activation: 'tanh', loss: 'mse' });
  const theta = initParams(tanhSpec, rng);
  // With the fast kernels, auto mode takes their exact products, which agree with the checked differences.
  const exact = await hessianTopEigenvalues(networkObjective(tanhSpec, { x, y: yTanh }), theta, { hvp: 'auto', k: 2 });
  assert.equal(exact.hvp, 'exact');
  // Without them (any objective but a dense network), the tfjs rules below apply.
  setFastEnabled(false);
  const tanhFn = networkObjective(tanhSpec, { x, y: yTanh });
  const ceSpec = makeSpec('3-6-2', { activation: 'softplus', loss: 'cross-entropy' });
  const onehot = tf.keep(tf.oneHot(tf.tensor1d(Array.from({ length: n }, (_, i) => i % 2), 'int32'), 2).asType('float32') as tf.Tensor2D);
  const ceFn = networkObjective(ceSpec, { x, y: onehot });
  setFastEnabled(true);
  assert.ok(!isFastObjective(tanhFn) && !isFastObjective(ceFn));
  const auto = await hessianTopEigenvalues(tanhFn, theta, { hvp: 'auto', k: 2 });
  assert.equal(auto.hvp, 'finite-difference');
  for (let i = 0; i < 2; i++) assert.ok(Math.abs(exact.eigenvalues[i] - auto.eigenvalues[i]) < 1e-3 * Math.abs(auto.eigenvalues[0]), `λ${i + 1}: exact ${exact.eigenvalues[i]} vs differences ${auto.eigenvalues[i]}`);
  assert.match(auto.hvpFallbackReason!, /autodiff disagreed with central differences .*tfjs#3252/);
  const fd = await hessianTopEigenvalues(tanhFn, theta, { hvp: 'finite-difference', k: 2 });
  assert.deepEqual(auto.eigenvalues, fd.eigenvalues);
  const wrong = await hessianTopEigenvalues(tanhFn, theta, { hvp: 'autodiff', k: 2 });
  assert.ok(Math.abs(wrong.eigenvalues[0] - fd.eigenvalues[0]) > 1e-3 * fd.eigenvalues[0], 'forced autodiff shows the tfjs error the check caught');

  // Cross-entropy: tfjs throws (no gradient for the Equal inside logSumExp's gradient).
  const ceTheta = initParams(ceSpec, rng);
  const before = tf.memory().numTensors;
  const ce = await hessianTopEigenvalues(ceFn, ceTheta, { hvp: 'auto' });
  assert.equal(ce.hvp, 'finite-difference');
  assert.match(ce.hvpFallbackReason!, /could not differentiate twice/);
  assert.ok(ce.hvpCheck!.finiteDifferenceStepDependence! < 1e-2);
  assert.equal(tf.memory().numTensors, before, 'the failed autodiff attempt leaks no tensors');
  await assert.rejects(hessianTopEigenvalues(ceFn, ceTheta, { hvp: 'autodiff' }), (e: unknown) => e instanceof LandscapeError && /autodiff Hessian-vector product failed/.test(e.message));
  assert.equal(tf.memory().numTensors, before);
});

test('finite-difference products match autodiff on a smooth network, with the float32-aware step', async () => {
  const rng = new Rng(9);
  const n = 32;
  const spec = makeSpec('4-8-3', { activation: 'softplus', loss: 'mse' });
  const fn = networkObjective(spec, {
    x: tf.keep(tf.tensor2d(Float32Array.from({ length: n * 4 }, () => rng.normal()), [n, 4])),
    y: tf.keep(tf.tensor2d(Float32Array.from({ length: n * 3 }, () => rng.normal()), [n, 3])),
  });
  const theta = initParams(spec, rng);
  const v = Float64Array.from({ length: fn.dim }, () => rng.normal());
  const ad = hessianVectorProduct(fn, theta, { hvp: 'autodiff' });
  const fd = hessianVectorProduct(fn, theta, { hvp: 'finite-difference' });
  const [a] = ad.apply([v]);
  const [b] = fd.apply([v]);
  ad.dispose();
  fd.dispose();
  const diff = norm(a.map((x, i) => x - b[i]));
  assert.ok(diff < 1e-3 * norm(a), `relative difference ${diff / norm(a)}`);
  // The step: δ = ∛(ε(1 + ‖θ‖)) along the vector.
  assert.ok(Math.abs(finiteDifferenceStep(4, 2) * 2 - Math.cbrt(FLOAT32_EPS * 5)) < 1e-15);
});

test('long Lanczos runs do not grow the tensor count; cancel and bad input are errors', async () => {
  const q = quadratic(spectrum(50), 10);
  const theta = new Float32Array(50);
  await hessianTopEigenvalues(q.fn, theta, { iterations: 3 });
  const before = tf.memory().numTensors;
  await hessianTopEigenvalues(q.fn, theta, { iterations: 30, tol: 0, hvp: 'auto' });
  await hessianTrace(q.fn, theta, { samples: 20, hvp: 'finite-difference' });
  assert.equal(tf.memory().numTensors, before);

  const ac = new AbortController();
  const seen: number[] = [];
  await assert.rejects(
    hessianTopEigenvalues(q.fn, theta, {
      iterations: 30,
      tol: 0,
      signal: ac.signal,
      onIteration: ({ iteration }) => {
        seen.push(iteration);
        if (iteration === 3) ac.abort();
      },
    }),
    CancelledError,
  );
  assert.deepEqual(seen, [1, 2, 3]);
  assert.equal(tf.memory().numTensors, before);
  await assert.rejects(hessianTopEigenvalues(q.fn, theta, { k: 51 }), /asked for 51 eigenvalues but the Hessian is only 50×50/);
  await assert.rejects(hessianTopEigenvalues(q.fn, new Float32Array(3)), /parameter vector has 3 values but the objective takes 50/);
  const nanFn: Objective = { dim: 2, evaluate: (t) => tf.div(tf.sum(t, 1), 0) as tf.Tensor1D };
  await assert.rejects(hessianTopEigenvalues(nanFn, new Float32Array(2)), (e: unknown) => e instanceof LandscapeError && e.kind === 'compute' && /loss at the given parameters is not finite/.test(e.message));
});

test('the stability verdict follows gradient descent on the quadratic', async () => {
  const q = quadratic([10, 3, 1, 0.2], 11);
  const r = await hessianTopEigenvalues(q.fn, new Float32Array(4), { hvp: 'autodiff' });
  const lambdaMax = r.eigenvalues[0];
  // Run GD for each learning rate and compare growth along the top eigenvector with the verdict.
  for (const [lr, expected] of [
    [0.15, 'stable'],
    [0.2, 'edge'],
    [0.25, 'unstable'],
  ] as const) {
    const v = stabilityVerdict(lambdaMax, lr);
    assert.equal(v.verdict, expected, v.message);
    let theta = Float64Array.from(q.Q[0]);
    for (let step = 0; step < 50; step++) {
      const g = new Float64Array(4);
      for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) g[i] += q.A[i * 4 + j] * theta[j];
      theta = theta.map((t, i) => t - lr * g[i]);
    }
    const grew = norm(theta) > 1;
    assert.equal(grew, expected === 'unstable' || (expected === 'edge' && lr * lambdaMax > 2), `lr ${lr}: |θ| = ${norm(theta)}`);
  }
});

test('dense networks: the kernels\' central-difference pass matches two gradient calls, and autodiff more closely than they do', async () => {
  const rng = new Rng(21);
  const n = 512; // enough rows that one product is split across threads
  // Mean squared error: tfjs differentiates it twice, so autodiff is a reference below.
  const spec = makeSpec('16-32-32-4', { activation: 'softplus', loss: 'mse' });
  const x = tf.keep(tf.tensor2d(Float32Array.from({ length: n * 16 }, () => rng.normal()), [n, 16]));
  const y = tf.keep(tf.tensor2d(Float32Array.from({ length: n * 4 }, () => rng.normal()), [n, 4]));
  const fn = networkObjective(spec, { x, y });
  assert.ok(isFastObjective(fn), 'the fast path is available');
  const theta = initParams(spec, rng);
  const vs = [0, 1, 2].map(() => Float64Array.from({ length: fn.dim }, () => rng.normal()));
  const before = tf.memory().numTensors;
  const op = hessianVectorProduct(fn, theta, { hvp: 'finite-difference' });
  const fast = op.apply([vs[0]])[0];
  // The same difference from two ordinary gradient calls at θ ± h·v.
  const h = op.fdStep(norm(vs[0]));
  const side = (sign: number) => fn.fast.run(Float32Array.from(theta, (t, i) => t + sign * h * vs[0][i]), 1, true).grads!;
  const gp = side(1);
  const gm = side(-1);
  const twoCalls = Float64Array.from(gp, (g, i) => (g - gm[i]) / (2 * h));
  const ad = hessianVectorProduct(fn, theta, { hvp: 'autodiff' });
  const exact = ad.apply([vs[0]])[0];
  ad.dispose();
  const rel = (a: Float64Array, b: Float64Array) => norm(a.map((v, i) => v - b[i])) / norm(b);
  assert.ok(rel(fast, twoCalls) < 1e-3, `kernel pass vs two gradient calls: ${rel(fast, twoCalls)}`);
  // Layer 0 sees ±h·v exactly instead of θ ± h·v rounded to float32: no worse than the two calls.
  assert.ok(rel(fast, exact) < 1e-3, `relative difference to autodiff ${rel(fast, exact)}`);
  assert.ok(rel(fast, exact) <= 1.5 * rel(twoCalls, exact), `kernel pass ${rel(fast, exact)} vs two calls ${rel(twoCalls, exact)} (against autodiff)`);
  // Batches go through the same pass one vector at a time: the same numbers to the bit,
  // also after other kernel calls have overwritten the cached layer-0 product of θ.
  const many = op.apply(vs);
  fn.fast.run(Float32Array.from(vs[1]), 1, true);
  fn.fast.runCombination(Float32Array.from([...theta, ...vs[2].map(Math.fround)]), Float32Array.from([1, 0.5, 1, -0.5]), 2, true);
  for (let r = 0; r < vs.length; r++) assert.deepEqual(op.apply([vs[r]])[0], many[r], `vector ${r}`);
  op.dispose();
  assert.equal(tf.memory().numTensors, before, 'the fast path makes no tensors per product');
  x.dispose();
  y.dispose();
});

test('dense networks: the kernels\' central differences agree with tfjs gradients for every layer shape, activation and loss, and do not depend on the thread count', async () => {
  const rng = new Rng(5);
  const n = 700; // several row chunks, the last one partial
  // Each large enough (n × multiply-adds per row × 5 ≥ 2e6) that two threads really split the work.
  const cases = [
    makeSpec('40-17', { loss: 'cross-entropy' }), // one layer: layer 0 is also the output
    makeSpec('9-40-6', { activation: 'tanh', loss: 'cross-entropy' }),
    makeSpec('9-32-23-5', { activation: 'relu', loss: 'mse', bias: false }),
    makeSpec('9-24-24-24-3', { activation: 'elu', loss: 'cross-entropy' }),
  ];
  try {
    for (const spec of cases) {
      const w = spec.layers;
      const out = w[w.length - 1];
      const x = tf.keep(tf.tensor2d(Float32Array.from({ length: n * w[0] }, () => rng.normal()), [n, w[0]]));
      const labels = Float32Array.from({ length: n * out }, (_, i) => (i % out === (Math.floor(i / out) * 7) % out ? 1 : 0));
      const y = tf.keep(tf.tensor2d(spec.loss === 'mse' ? Float32Array.from(labels, () => rng.normal()) : labels, [n, out]));
      const fn = networkObjective(spec, { x, y });
      assert.ok(isFastObjective(fn));
      const theta = initParams(spec, rng);
      const v = Float64Array.from({ length: fn.dim }, () => rng.normal());
      const product = (threads: number) => {
        setFastThreads(threads);
        const op = hessianVectorProduct(fn, theta, { hvp: 'finite-difference' });
        const hv = op.apply([v])[0];
        const h = op.fdStep(norm(v));
        op.dispose();
        return { hv, h };
      };
      const { hv: kernel, h } = product(2);
      assert.deepEqual(product(1).hv, kernel, `${w.join('-')}: one thread and two give different numbers`);
      // The reference: tfjs's own gradients (no kernels) at θ ± h·v.
      setFastEnabled(false);
      const grad = (sign: number) =>
        tf.tidy(() => {
          const t = tf.tensor2d(Float32Array.from(theta, (th, i) => th + sign * h * v[i]), [1, fn.dim]);
          return tf.grad((u: tf.Tensor) => tf.sum(fn.evaluate(u as tf.Tensor2D)))(t).dataSync() as Float32Array;
        });
      const gp = grad(1);
      const gm = grad(-1);
      setFastEnabled(true);
      const ref = Float64Array.from(gp, (g, i) => (g - gm[i]) / (2 * h));
      const d = norm(kernel.map((k, i) => k - ref[i])) / norm(ref);
      assert.ok(d < 2e-3, `${w.join('-')} ${spec.activation} ${spec.loss} bias ${spec.bias}: relative difference ${d}`);
      x.dispose();
      y.dispose();
    }
  } finally {
    setFastEnabled(true);
    setFastThreads(defaultThreads());
  }
});
