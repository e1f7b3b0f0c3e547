/**
 * Exact Hessian-vector products (forward-over-reverse in the fast kernels)
 * against a float64 reference that shares no code with them, and the
 * eigenvalues and trace built on them against a full eigendecomposition.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../../src/engine/backend';
import { ACTIVATIONS, LOSSES, initParams, makeSpec, paramCount, type ModelSpec } from '../../../src/engine/model/spec';
import { networkObjective, toDevice } from '../../../src/engine/model/network';
import { fastKernels, isFastObjective, setFastThreads } from '../../../src/engine/fast';
import { hessianTopEigenvalues, hessianTrace, hessianVectorProduct } from '../../../src/engine/analysis/hessian';
import { gradientCheck } from '../../../src/engine/analysis/gradcheck';
import { symmetricEigen } from '../../../src/engine/analysis/linalg';
import { Rng } from '../../../src/engine/rng';
import { makeData, type RandomData as Data } from '../../support/randomData';
import { Float64Network } from '../../support/float64Network';
import { maxRelError } from '../../support/compare';



function pointFor(spec: ModelSpec, seed: number): Float32Array {
  const rng = new Rng(seed);
  return initParams(spec, rng).map((t) => t + 0.05 * rng.normal());
}


before(async () => {
  await initBackend('cpu', { force: true });
  setFastThreads(1);
});

after(() => setFastThreads(1));

for (const loss of LOSSES) {
  for (const bias of [false, true]) {
    test(`exact products equal the float64 reference for every activation (${loss}, ${bias ? 'with' : 'without'} bias)`, () => {
      // Widths 5, 7, 6, 3 (none a multiple of 4) and 300 rows (more than one tile).
      const data = makeData(300, 5, 3, 7);
      const kernels = fastKernels();
      assert.ok(kernels, 'the fast kernels load');
      const rng = new Rng(3);
      for (const activation of ACTIVATIONS) {
        const spec = makeSpec([5, 7, 6, 3], { activation, bias, loss });
        const theta = pointFor(spec, 11);
        const v = Float64Array.from({ length: paramCount(spec) }, () => rng.normal());
        const got = kernels.hvpSession(spec, data, theta).product(v);
        const reference = new Float64Network(spec, data, theta);
        const err = maxRelError(got.hv, reference.hvp(theta, v));
        assert.ok(err < 5e-6, `${activation}: relative error ${err.toExponential(2)}`);
        assert.ok(Math.abs(got.loss - reference.loss(theta)) < 1e-6 * Math.abs(reference.loss(theta)), `${activation}: loss`);
      }
    });
  }
}

test('exact products do not depend on the thread count (bit for bit)', () => {
  const data = makeData(400, 64, 10, 5);
  const spec = makeSpec('64-32-32-10', { bias: false });
  const theta = pointFor(spec, 2);
  const rng = new Rng(9);
  const v = Float64Array.from({ length: paramCount(spec) }, () => rng.normal());
  const kernels = fastKernels()!;
  try {
    setFastThreads(1);
    const one = kernels.hvpSession(spec, data, theta).product(v).hv;
    setFastThreads(2);
    const two = kernels.hvpSession(spec, data, theta).product(v).hv;
    assert.deepEqual(Array.from(two), Array.from(one));
  } finally {
    setFastThreads(1);
  }
});

for (const activation of ['relu', 'tanh'] as const) {
  test(`λmax and the trace from exact products match the full float64 Hessian (${activation}, no bias)`, async () => {
    const data = makeData(200, 6, 3, 4);
    const spec = makeSpec([6, 5, 4, 3], { activation, bias: false });
    const theta = pointFor(spec, 8);
    const exact = symmetricEigen(new Float64Network(spec, data, theta).hessian(theta));
    const lambdaMax = Math.max(...exact.values);
    const trace = exact.values.reduce((s, x) => s + x, 0);
    const dev = toDevice(data);
    try {
      const fn = networkObjective(spec, dev);
      assert.ok(isFastObjective(fn));
      const eig = await hessianTopEigenvalues(fn, theta, { k: 1, iterations: paramCount(spec), seed: 1 });
      assert.equal(eig.hvp, 'exact', 'auto picks the exact products where the kernels run');
      assert.ok(Math.abs(eig.eigenvalues[0] - lambdaMax) <= 1e-5 * Math.abs(lambdaMax), `λmax ${eig.eigenvalues[0]} vs ${lambdaMax}`);
      const tr = await hessianTrace(fn, theta, { samples: 400, seed: 2 });
      assert.equal(tr.hvp, 'exact');
      assert.ok(Math.abs(tr.trace - trace) <= 4 * tr.standardError, `trace ${tr.trace} ± ${tr.standardError} vs ${trace}`);
    } finally {
      dev.dispose();
    }
  });
}

test('--hvp exact on an objective without kernels is a clear input error', () => {
  const fn = { dim: 2, evaluate: () => { throw new Error('not called'); } } as unknown as Parameters<typeof hessianVectorProduct>[0];
  assert.throws(() => hessianVectorProduct(fn, [0, 0], { hvp: 'exact' }), /fast kernels.*--hvp autodiff or finite-difference/);
});

test('the gradient check compares the exact products with differences of the gradient, and catches wrong ones', async () => {
  const data = makeData(120, 5, 3, 6);
  const spec = makeSpec([5, 8, 3], { activation: 'softplus', bias: true });
  const theta = pointFor(spec, 4);
  const dev = toDevice(data);
  try {
    const fn = networkObjective(spec, dev);
    assert.ok(isFastObjective(fn));
    const good = await gradientCheck(fn, theta, { coordinates: 2, directions: 1 });
    assert.equal(good.passed, true);
    assert.equal(good.hessian?.method, 'exact');
    assert.equal(good.hessian!.failures, 0);
    assert.ok(good.hessian!.maxRelErrorSmooth < 1e-3, `smooth network: ${good.hessian!.maxRelErrorSmooth}`);
    // The same objective whose exact products are 5 % too large.
    const hvp = fn.fast.hvp!.bind(fn.fast);
    const skewed = { ...fn, fast: { ...fn.fast, hvp: (t: ArrayLike<number>) => {
      const s = hvp(t);
      return { ...s, product: (v: ArrayLike<number>) => { const p = s.product(v); return { ...p, hv: p.hv.map((x) => 1.05 * x) }; } };
    } } };
    const bad = await gradientCheck(skewed, theta, { coordinates: 2, directions: 1 });
    assert.equal(bad.failures, 0, 'the gradient itself is right');
    assert.equal(bad.hessian!.failures, 3);
    assert.equal(bad.passed, false);
  } finally {
    dev.dispose();
  }
});
