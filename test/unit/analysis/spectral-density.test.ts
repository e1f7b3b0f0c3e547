/**
 * Stochastic Lanczos quadrature: the Lanczos core against plain symmetric
 * matrices with known eigenpairs (Gauss quadrature's exact moments, the
 * Chebyshev–Markov–Stieltjes bound on its distribution function), and the
 * Hessian's density on a small network against the full float64 Hessian's
 * eigendecomposition, with exact products from the kernels.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../../src/engine/backend';
import { initParams, makeSpec, paramCount, type ModelSpec } from '../../../src/engine/model/spec';
import { networkObjective, toDevice } from '../../../src/engine/model/network';
import { isFastObjective, setFastThreads } from '../../../src/engine/fast';
import { lanczosRitz } from '../../../src/engine/analysis/lanczosRitz';
import { binnedMass, broadenedDensity, defaultSigma, hessianSpectralDensity, massBelow, quadratureMean, slqQuadratures } from '../../../src/engine/analysis/spectralDensity';
import { randomNormal, randomOrthogonal, symmetricEigen, type EigenResult } from '../../../src/engine/analysis/linalg';
import { Rng } from '../../../src/engine/rng';
import { makeData } from '../../support/randomData';
import { Float64Network } from '../../support/float64Network';

before(async () => {
  await initBackend('cpu', { force: true });
  setFastThreads(1);
});
after(() => setFastThreads(1));

/** A = Σₖ λₖ uₖuₖᵀ with random orthonormal uₖ, as a float64 operator. */
function knownMatrix(lambda: number[], seed: number) {
  const n = lambda.length;
  const U = randomOrthogonal(n, new Rng(seed));
  const apply = (v: Float64Array) => {
    const out = new Float64Array(n);
    U.forEach((u, k) => {
      let c = 0;
      for (let i = 0; i < n; i++) c += u[i] * v[i];
      for (let i = 0; i < n; i++) out[i] += lambda[k] * c * u[i];
    });
    return out;
  };
  return { n, U, lambda, apply };
}

const unit = (v: Float64Array) => {
  const s = Math.hypot(...v);
  return v.map((x) => x / s);
};
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, x, i) => s + x * b[i], 0);

/** A spectrum with a bulk near 0, a few negative values and outliers, like a network's Hessian. */
const SPECTRUM = Array.from({ length: 40 }, (_, i) => (i < 3 ? 30 - 8 * i : i < 8 ? -0.5 * (i - 2) : 0.2 * Math.sin(i)));

test('Lanczos quadrature: Σ τᵢ θᵢᵏ = qᵀAᵏq exactly for k < 2m, and the weights sum to 1', async () => {
  const A = knownMatrix(SPECTRUM, 1);
  const start = randomNormal(A.n, new Rng(2));
  const q = unit(start);
  for (const m of [3, 5, 8]) {
    const r = await lanczosRitz(A.apply, start, { steps: m });
    assert.equal(r.steps, m);
    assert.ok(Math.abs(r.weights.reduce((s, w) => s + w, 0) - 1) < 1e-12);
    let Akq = Float64Array.from(q);
    for (let k = 0; k < 2 * m; k++) {
      // qᵀAᵏq by repeated products, independent of the tridiagonal matrix.
      const exact = dot(q, Akq);
      const quad = r.values.reduce((s, v, i) => s + r.weights[i] * v ** k, 0);
      assert.ok(Math.abs(quad - exact) <= 1e-9 * Math.max(1, 30 ** k), `m = ${m}, k = ${k}: ${quad} vs ${exact}`);
      Akq = A.apply(Akq);
    }
  }
});

test('with as many steps as the dimension, the Ritz values are the eigenvalues and the weights (q·uⱼ)²', async () => {
  const A = knownMatrix(SPECTRUM, 3);
  const start = randomNormal(A.n, new Rng(4));
  const q = unit(start);
  const r = await lanczosRitz(A.apply, start, { steps: A.n });
  const order = A.lambda.map((l, k) => [l, k] as const).sort((a, b) => b[0] - a[0]);
  assert.equal(r.values.length, A.n);
  order.forEach(([l, k], i) => {
    assert.ok(Math.abs(r.values[i] - l) < 1e-10, `θ${i} = ${r.values[i]} vs λ = ${l}`);
    assert.ok(Math.abs(r.weights[i] - dot(q, A.U[k]) ** 2) < 1e-10, `weight ${i}`);
  });
});

test('a start vector in an invariant subspace stops early and the quadrature is exact', async () => {
  const A = knownMatrix(SPECTRUM, 5);
  const start = Float64Array.from(A.U[0], (x, i) => 0.6 * x + 0.8 * A.U[4][i]);
  const r = await lanczosRitz(A.apply, start, { steps: 20 });
  assert.equal(r.invariant, true);
  assert.equal(r.steps, 2);
  const want = [A.lambda[0], A.lambda[4]].sort((a, b) => b - a);
  assert.ok(Math.abs(r.values[0] - want[0]) < 1e-10 && Math.abs(r.values[1] - want[1]) < 1e-10);
  assert.ok(Math.abs(r.weights[A.lambda[0] > A.lambda[4] ? 0 : 1] - 0.36) < 1e-10);
});

test('Chebyshev–Markov–Stieltjes: the quadrature CDF is within the bracketing weights of the start vector\'s spectral CDF', async () => {
  const A = knownMatrix(SPECTRUM, 6);
  const start = randomNormal(A.n, new Rng(7));
  const q = unit(start);
  const r = await lanczosRitz(A.apply, start, { steps: 6 });
  const asc = r.values.map((v, i) => [v, r.weights[i]] as const).sort((a, b) => a[0] - b[0]);
  let tight = 0;
  for (let x = -3; x <= 31; x += 0.37) {
    const exact = A.lambda.reduce((s, l, k) => s + (l <= x ? dot(q, A.U[k]) ** 2 : 0), 0);
    const quad = asc.filter(([v]) => v <= x).reduce((s, [, w]) => s + w, 0);
    const m = massBelow([r], x);
    assert.ok(Math.abs(m.estimate - quad) < 1e-12);
    assert.ok(m.lower - 1e-12 <= exact && exact <= m.upper + 1e-12, `x = ${x}: ${exact} outside [${m.lower}, ${m.upper}]`);
    if (m.upper - m.lower < 0.5) tight++;
  }
  assert.ok(tight > 20, 'the bounds are not trivially [0, 1]');
});

test('SLQ on a matrix: the density integrates to 1, its mean is trace/n within the standard error, and its CDF matches', async () => {
  const A = knownMatrix(SPECTRUM, 8);
  const runs = await slqQuadratures(A.apply, A.n, { runs: 40, steps: A.n, seed: 9 });
  const sigma = defaultSigma(runs);
  const lo = Math.min(...SPECTRUM);
  const hi = Math.max(...SPECTRUM);
  assert.ok(Math.abs(sigma - 0.01 * (hi - lo)) < 1e-9, `σ = ${sigma}`);
  const { x, density } = broadenedDensity(runs, sigma);
  let mass = 0;
  let first = 0;
  for (let k = 1; k < x.length; k++) {
    mass += 0.5 * (density[k] + density[k - 1]) * (x[k] - x[k - 1]);
    first += 0.5 * (x[k] * density[k] + x[k - 1] * density[k - 1]) * (x[k] - x[k - 1]);
  }
  assert.ok(Math.abs(mass - 1) < 1e-6, `∫ density = ${mass}`);
  const mean = quadratureMean(runs);
  // Broadening by a centred Gaussian keeps the mean.
  assert.ok(Math.abs(first - mean.mean) < 1e-5, `∫ x density = ${first} vs ${mean.mean}`);
  const trace = SPECTRUM.reduce((s, l) => s + l, 0);
  assert.ok(Math.abs(mean.mean - trace / A.n) <= 4 * mean.standardError, `${mean.mean} ± ${mean.standardError} vs ${trace / A.n}`);
  // Mass per interval: each run's mass is exact for its q, and their mean estimates the fraction of eigenvalues.
  const edges = [-3, -1.2, -0.3, 0.1, 5, 31];
  const perRun = runs.map((r) => binnedMass([r], edges));
  const pooled = binnedMass(runs, edges);
  edges.slice(1).forEach((_, b) => {
    const exact = SPECTRUM.filter((l) => l >= edges[b] && l < edges[b + 1]).length / A.n;
    const values = perRun.map((m) => m[b]);
    const se = Math.sqrt(values.reduce((s, v) => s + (v - pooled[b]) ** 2, 0) / (values.length - 1) / values.length);
    assert.ok(Math.abs(pooled[b] - exact) <= 4 * se + 1e-9, `bin ${b}: ${pooled[b]} ± ${se} vs ${exact}`);
  });
  assert.ok(Math.abs(pooled.reduce((s, m) => s + m, 0) - 1) < 1e-9);
});

test('SLQ and broadening refuse bad input', async () => {
  const A = knownMatrix([1, 2, 3], 1);
  await assert.rejects(slqQuadratures(A.apply, 3, { runs: 0 }), /runs must be a whole number ≥ 1/);
  await assert.rejects(slqQuadratures(A.apply, 3, { steps: 1.5 }), /steps must be a whole number ≥ 1/);
  assert.throws(() => broadenedDensity([{ values: [1], weights: [1] }], 0), /sigma must be a positive number/);
  await assert.rejects(lanczosRitz(A.apply, new Float64Array(3), { steps: 2 }), /start vector must be finite and not zero/);
});

// ---------------------------------------------------------------------------
// On a network's Hessian

function pointFor(spec: ModelSpec, seed: number): Float32Array {
  const rng = new Rng(seed);
  return initParams(spec, rng).map((t) => t + 0.05 * rng.normal());
}

/** A 6-8-4-3 tanh network with biases (107 parameters) on random data, its exact float64 spectrum, and its objective on the kernels. */
function smallNetwork() {
  const data = makeData(150, 6, 3, 4);
  const spec = makeSpec([6, 8, 4, 3], { activation: 'tanh', bias: true });
  const theta = pointFor(spec, 8);
  const H = new Float64Network(spec, data, theta).hessian(theta);
  const exact: EigenResult = symmetricEigen(H);
  const dev = toDevice(data);
  const fn = networkObjective(spec, dev);
  assert.ok(isFastObjective(fn));
  return { spec, theta, H, exact, fn, dev, P: paramCount(spec) };
}

/** Each run's mass below x, averaged, with its standard error over runs. */
function cdfEstimate(runs: { values: number[]; weights: number[] }[], x: number) {
  const per = runs.map((r) => r.values.reduce((s, v, i) => s + (v <= x ? r.weights[i] : 0), 0));
  const mean = per.reduce((s, v) => s + v, 0) / per.length;
  const se = Math.sqrt(per.reduce((s, v) => s + (v - mean) ** 2, 0) / (per.length - 1) / per.length);
  return { mean, se };
}

/** Points in wide gaps of the spectrum near the given quantiles (ascending eigenvalues), so float32 rounding cannot move a Ritz value across them. */
function gapPoints(ascending: number[], quantiles: number[], minGap: number): number[] {
  return quantiles.map((qt) => {
    const k0 = Math.round(qt * (ascending.length - 1));
    for (let d = 0; d < ascending.length; d++) {
      for (const k of [k0 + d, k0 - d]) {
        if (k >= 0 && k + 1 < ascending.length && ascending[k + 1] - ascending[k] > minGap) return 0.5 * (ascending[k] + ascending[k + 1]);
      }
    }
    throw new Error('no gap');
  });
}

test('network: with steps ≥ P the SLQ density is the exact spectrum (Ritz values, CDF, mean = trace/P)', async () => {
  const net = smallNetwork();
  try {
    const lambda = Array.from(net.exact.values);
    const normH = Math.max(...lambda.map(Math.abs));
    const d = await hessianSpectralDensity(net.fn, net.theta, { runs: 24, steps: net.P, seed: 1 });
    assert.equal(d.hvp, 'exact');
    assert.equal(d.steps, net.P);
    for (const r of d.quadratures) {
      r.values.forEach((v, i) => {
        if (r.weights[i] < 1e-8) return; // a node without weight does not enter the density
        const nearest = Math.min(...lambda.map((l) => Math.abs(l - v)));
        assert.ok(nearest < 1e-4 * normH, `Ritz value ${v} is ${nearest} from the nearest eigenvalue`);
      });
    }
    const ascending = [...lambda].sort((a, b) => a - b);
    for (const x of gapPoints(ascending, [0.05, 0.25, 0.5, 0.75, 0.95], 1e-3 * normH)) {
      const exact = ascending.filter((l) => l <= x).length / net.P;
      const est = cdfEstimate(d.quadratures, x);
      assert.ok(Math.abs(est.mean - exact) <= 4 * est.se + 1e-6, `CDF(${x}) = ${est.mean} ± ${est.se} vs ${exact}`);
    }
    const trace = lambda.reduce((s, l) => s + l, 0);
    assert.ok(Math.abs(d.mean - trace / net.P) <= 4 * d.meanStandardError, `mean ${d.mean} ± ${d.meanStandardError} vs trace/P ${trace / net.P}`);
    assert.ok(d.meanStandardError > 0);
  } finally {
    net.dev.dispose();
  }
});

test('network: the default 60 steps (< P) keep the first two moments and bound the CDF by the bracketing weights', async () => {
  const net = smallNetwork();
  try {
    const lambda = Array.from(net.exact.values);
    const d = await hessianSpectralDensity(net.fn, net.theta, { seed: 2 });
    assert.equal(d.runs, 8);
    assert.equal(d.steps, 60);
    assert.equal(d.sigmaSource, 'default');
    const P = net.P;
    // Second moment: Σ τθ² = ‖Hq‖² per run, an unbiased estimate of tr(H²)/P.
    const second = d.quadratures.map((r) => r.values.reduce((s, v, i) => s + r.weights[i] * v * v, 0));
    const m2 = second.reduce((s, v) => s + v, 0) / second.length;
    const se2 = Math.sqrt(second.reduce((s, v) => s + (v - m2) ** 2, 0) / (second.length - 1) / second.length);
    const trH2 = lambda.reduce((s, l) => s + l * l, 0);
    assert.ok(Math.abs(m2 - trH2 / P) <= 4 * se2, `second moment ${m2} ± ${se2} vs ${trH2 / P}`);
    const trace = lambda.reduce((s, l) => s + l, 0);
    assert.ok(Math.abs(d.mean - trace / P) <= 4 * d.meanStandardError, `mean ${d.mean} ± ${d.meanStandardError} vs ${trace / P}`);
    const ascending = [...lambda].sort((a, b) => a - b);
    const normH = Math.max(...lambda.map(Math.abs));
    for (const x of gapPoints(ascending, [0.1, 0.5, 0.9], 1e-3 * normH)) {
      const exact = ascending.filter((l) => l <= x).length / P;
      const est = cdfEstimate(d.quadratures, x);
      // Per run the quadrature CDF is within the weights of the nodes bracketing x (Chebyshev–Markov–Stieltjes).
      const bracket = d.quadratures.reduce((s, r) => {
        const asc = r.values.map((v, i) => [v, r.weights[i]] as const).sort((a, b) => a[0] - b[0]);
        const k = asc.filter(([v]) => v <= x).length;
        return s + ((asc[k - 1]?.[1] ?? 0) + (asc[k]?.[1] ?? 0)) / d.quadratures.length;
      }, 0);
      assert.ok(Math.abs(est.mean - exact) <= 4 * est.se + bracket, `CDF(${x}) = ${est.mean} ± ${est.se} (bracket ${bracket}) vs ${exact}`);
    }
    // The same seed gives the same density.
    const again = await hessianSpectralDensity(net.fn, net.theta, { seed: 2 });
    assert.deepEqual(again.density, d.density);
  } finally {
    net.dev.dispose();
  }
});
