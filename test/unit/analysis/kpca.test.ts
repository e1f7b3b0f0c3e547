import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kernelPCA, KERNELS } from '../../../src/engine/analysis/kpca';
import { jacobiEigen, fixSign } from '../../../src/engine/analysis/linalg';
import { Rng } from '../../../src/engine/rng';
import { LandscapeError, CancelledError } from '../../../src/engine/errors';

function randomVectors(n: number, p: number, seed: number, spread = 1): Float32Array[] {
  const rng = new Rng(seed);
  // Anisotropic, so the principal axes are well separated.
  return Array.from({ length: n }, () => Float32Array.from({ length: p }, (_, j) => (spread * rng.normal()) / (1 + j) + 0.3 * j));
}

function close(a: number, b: number, tol: number, what: string): void {
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b)), `${what}: ${a} vs ${b}`);
}

test('linear-kernel kernel PCA equals PCA of the centred vectors', async () => {
  const n = 15;
  const p = 6;
  const X = randomVectors(n, p, 1);
  // Independent PCA: Jacobi eigendecomposition of the P×P scatter matrix of the centred data.
  const mean = new Float64Array(p);
  for (const x of X) for (let j = 0; j < p; j++) mean[j] += x[j] / n;
  const Xc = X.map((x) => Float64Array.from(x, (v, j) => v - mean[j]));
  const C = new Float64Array(p * p);
  for (const x of Xc) for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) C[i * p + j] += x[i] * x[j];
  const pca = jacobiEigen(C, p);
  const total = pca.values.reduce((s, v) => s + v, 0);

  const k = 3;
  const r = await kernelPCA(X, { kernel: 'linear', components: k });
  assert.equal(r.projections.length, n);
  for (let c = 0; c < k; c++) {
    // PCA scores along axis c, with kernel PCA's sign convention (largest-magnitude score positive).
    const scores = fixSign(Float64Array.from(Xc, (x) => x.reduce((s, v, j) => s + v * pca.vectors[c][j], 0)));
    for (let i = 0; i < n; i++) close(r.projections[i][c], scores[i], 1e-9, `score ${i} of component ${c}`);
    close(r.eigenvalues[c], pca.values[c], 1e-9, `eigenvalue ${c}`);
    close(r.explainedVariance[c], pca.values[c] / total, 1e-9, `explained variance ${c}`);
  }
  // A new vector lands at its centred coordinates along the principal axes (training mean).
  const x = Float32Array.from({ length: p }, (_, j) => Math.sin(j + 1));
  const [t] = r.transform([x]);
  for (let c = 0; c < k; c++) {
    const sign = Math.sign(r.projections[0][c] / Xc[0].reduce((s, v, j) => s + v * pca.vectors[c][j], 0));
    const expected = sign * Array.from(x).reduce((s, v, j) => s + (v - mean[j]) * pca.vectors[c][j], 0);
    close(t[c], expected, 1e-9, `new vector, component ${c}`);
  }
});

test('RBF kernel PCA separates two well-separated clusters along component 1', async () => {
  const p = 50;
  const rng = new Rng(7);
  const cluster = (shift: number) =>
    Array.from({ length: 10 }, () => Float32Array.from({ length: p }, (_, j) => (j === 0 ? shift : 0) + 0.3 * rng.normal()));
  const a = cluster(3);
  const b = cluster(-3);
  const r = await kernelPCA([...a, ...b]);
  assert.equal(r.kernel.kernel, 'rbf');
  assert.equal(r.kernel.gamma, 1 / p);
  const pa = r.projections.slice(0, 10).map((q) => q[0]);
  const pb = r.projections.slice(10).map((q) => q[0]);
  const [hiSide, loSide] = Math.min(...pa) > 0 ? [pa, pb] : [pb, pa];
  assert.ok(Math.min(...hiSide) > 0 && Math.max(...loSide) < 0, 'component 1 has the clusters on opposite sides');
  const gap = Math.min(...hiSide) - Math.max(...loSide);
  const spread = Math.max(Math.max(...hiSide) - Math.min(...hiSide), Math.max(...loSide) - Math.min(...loSide));
  assert.ok(gap > 3 * spread, `gap ${gap} vs within-cluster spread ${spread}`);
  assert.ok(r.explainedVariance[0] > 0.5 && r.explainedVariance[0] > 3 * r.explainedVariance[1]);
});

test('transforming the fitted vectors gives the projections back, for every kernel', async () => {
  const X = randomVectors(12, 20, 3, 2);
  for (const kernel of KERNELS) {
    const r = await kernelPCA(X, { kernel, components: 3 });
    const t = r.transform(X);
    for (let i = 0; i < X.length; i++) for (let c = 0; c < 3; c++) close(t[i][c], r.projections[i][c], 1e-8, `${kernel} vector ${i} component ${c}`);
    // Deterministic signs: the largest-magnitude loading of each component is positive.
    for (let c = 0; c < 3; c++) {
      const col = r.projections.map((q) => q[c]);
      const big = col.reduce((bi, v, i) => (Math.abs(v) > Math.abs(col[bi]) ? i : bi), 0);
      assert.ok(col[big] > 0, `${kernel} component ${c} sign`);
    }
    // Explained variance ratios are of the centred kernel's positive spectrum.
    const positive = r.spectrum.filter((v) => v > 0).reduce((s, v) => s + v, 0);
    for (let c = 0; c < 3; c++) close(r.explainedVariance[c], r.eigenvalues[c] / positive, 1e-9, `${kernel} ratio ${c}`);
    assert.ok(r.explainedVariance.every((v, c) => c === 0 || v <= r.explainedVariance[c - 1] + 1e-12));
    // number[][] input gives the same map.
    const r2 = await kernelPCA(X.map((x) => Array.from(x)), { kernel, components: 3 });
    assert.deepEqual(r2.projections, r.projections);
  }
});

test('kernel parameters: defaults are recorded, explicit ones are used', async () => {
  const X = randomVectors(8, 10, 5);
  const poly = await kernelPCA(X, { kernel: 'polynomial' });
  assert.deepEqual(poly.kernel, { kernel: 'polynomial', gamma: 0.1, degree: 3, coef0: 1 });
  const sig = await kernelPCA(X, { kernel: 'sigmoid', gamma: 0.01, coef0: 0 });
  assert.deepEqual(sig.kernel, { kernel: 'sigmoid', gamma: 0.01, coef0: 0 });
  const wide = await kernelPCA(X, { gamma: 1e-3 });
  const narrow = await kernelPCA(X, { gamma: 10 });
  assert.notDeepEqual(wide.explainedVariance, narrow.explainedVariance);
  await assert.rejects(kernelPCA(X, { kernel: 'rbf', gamma: -1 }), /gamma must be a positive number/);
  await assert.rejects(kernelPCA(X, { kernel: 'polynomial', degree: 2.5 }), /degree must be a whole number/);
  await assert.rejects(kernelPCA(X, { kernel: 'laplacian' as never }), /unknown kernel "laplacian"; choose one of rbf, polynomial, sigmoid, cosine, linear/);
});

test('too few vectors, ragged vectors and non-finite values are clear errors naming the file', async () => {
  const X = randomVectors(4, 6, 2);
  await assert.rejects(kernelPCA(X.slice(0, 2), { components: 3 }), (e: unknown) => e instanceof LandscapeError && e.kind === 'input' && /with 3 components needs at least 3 vectors, got 2/.test(e.message));
  await assert.rejects(kernelPCA(X.slice(0, 1)), /at least 2 vectors, got 1/);
  const ragged = [X[0], X[1], X[2].subarray(0, 5)];
  const names = ['a.safetensors', 'b.safetensors', 'c.safetensors'];
  await assert.rejects(kernelPCA(ragged, { names }), (e: unknown) => {
    assert.ok(e instanceof LandscapeError && e.kind === 'input');
    assert.equal(e.file, 'c.safetensors');
    assert.match(e.message, /^c\.safetensors: has 5 values but "a\.safetensors" has 6/);
    return true;
  });
  await assert.rejects(kernelPCA(ragged), /^LandscapeError: vector 2: has 5 values but vector 0 has 6|vector 2: has 5 values/);
  const bad = X.map((x) => Float32Array.from(x));
  bad[1][3] = NaN;
  await assert.rejects(kernelPCA(bad, { names: names.concat('d.safetensors') }), /b\.safetensors: value 3 is not finite/);
  const r = await kernelPCA(X);
  assert.throws(() => r.transform([X[0].subarray(1)], ['path.json']), /path\.json: has 5 values but the fitted vectors have 6/);
});

test('a non-finite kernel value is an error, never a NaN in the map', async () => {
  const X = [1, 2, 3].map((s) => Float32Array.from({ length: 4 }, (_, j) => s * 1e20 * (j + 1)));
  await assert.rejects(kernelPCA(X, { kernel: 'polynomial', degree: 12 }), (e: unknown) => e instanceof LandscapeError && e.kind === 'compute' && /kernel value between vector \d and vector \d is not finite \(Infinity\)/.test(e.message));
  const zero = [new Float32Array(3), Float32Array.from([1, 2, 3]), Float32Array.from([3, 1, 2])];
  await assert.rejects(kernelPCA(zero, { kernel: 'cosine', names: ['z.bin', 'y.bin', 'x.bin'] }), /z\.bin: the cosine kernel is undefined for an all-zero vector/);
});

test('components without variance are zero and reported, not NaN', async () => {
  // Three points on a line span one direction: the second component has no variance.
  const X = [0, 1, 3].map((s) => Float32Array.from([s, 2 * s, -s]));
  const r = await kernelPCA(X, { kernel: 'linear', components: 2 });
  assert.equal(r.explainedVariance[1], 0);
  assert.ok(r.projections.every((q) => q[1] === 0 && Number.isFinite(q[0])));
  assert.match(r.warnings.join('\n'), /component 2 has no variance/);
  close(r.explainedVariance[0], 1, 1e-12, 'all variance on component 1');
  assert.ok(r.transform([Float32Array.from([5, 1, 1])]).every((q) => q.every(Number.isFinite)));
  // JSON-able apart from transform.
  const { transform: _t, ...plain } = r;
  assert.deepEqual(JSON.parse(JSON.stringify(plain)), plain);
});

test('a cancelled request stops', async () => {
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(kernelPCA(randomVectors(5, 4, 1), { signal: ac.signal }), CancelledError);
});
