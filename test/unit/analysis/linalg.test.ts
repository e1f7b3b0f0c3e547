import { test } from 'node:test';
import assert from 'node:assert/strict';
import { symmetricEigen, jacobiEigen, tridiagonalEigen, randomOrthogonal, fixSign, dot, norm, orthogonalise, randomNormal } from '../../../src/engine/analysis/linalg';
import { Rng } from '../../../src/engine/rng';
import { LandscapeError } from '../../../src/engine/errors';

/** A = QᵀΛQ with Q's rows orthonormal: eigenpairs (λ_k, Q[k]). */
function withSpectrum(lambda: number[], seed: number): { A: Float64Array; Q: Float64Array[] } {
  const n = lambda.length;
  const Q = randomOrthogonal(n, new Rng(seed));
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += Q[k][i] * lambda[k] * Q[k][j];
      A[i * n + j] = s;
    }
  }
  return { A, Q };
}

function maxResidual(A: Float64Array, n: number, values: Float64Array, vectors: Float64Array[]): number {
  let worst = 0;
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += A[i * n + j] * vectors[k][j];
      worst = Math.max(worst, Math.abs(s - values[k] * vectors[k][i]));
    }
  }
  return worst;
}

test('randomOrthogonal gives orthonormal rows', () => {
  const Q = randomOrthogonal(12, new Rng(4));
  for (let i = 0; i < 12; i++) for (let j = 0; j < 12; j++) assert.ok(Math.abs(dot(Q[i], Q[j]) - (i === j ? 1 : 0)) < 1e-12);
});

for (const [name, solver] of [
  ['Householder + QL', symmetricEigen],
  ['Jacobi', jacobiEigen],
] as const) {
  test(`${name} recovers known spectra (mixed signs, sizes 1..80)`, () => {
    for (const n of [1, 2, 3, 7, 30, 80]) {
      const lambda = Array.from({ length: n }, (_, i) => (i % 3 === 1 ? -1 : 1) * (0.5 + 1.7 * i));
      const { A, Q } = withSpectrum(lambda, n);
      const r = solver(A, n);
      const sorted = [...lambda].sort((a, b) => b - a);
      for (let k = 0; k < n; k++) assert.ok(Math.abs(r.values[k] - sorted[k]) < 1e-10 * (1 + Math.abs(sorted[k])), `n=${n} λ${k}: ${r.values[k]} vs ${sorted[k]}`);
      assert.ok(maxResidual(A, n, r.values, r.vectors) < 1e-9);
      // Eigenvectors are the rows of Q up to sign (the spectrum is simple).
      for (let k = 0; k < n; k++) {
        const idx = lambda.indexOf(sorted[k]);
        assert.ok(Math.abs(Math.abs(dot(r.vectors[k], Q[idx])) - 1) < 1e-9, `n=${n} vector ${k}`);
        assert.ok(Math.abs(norm(r.vectors[k]) - 1) < 1e-12);
      }
    }
  });

  test(`${name} handles repeated and zero eigenvalues`, () => {
    const lambda = [3, 3, 3, 0, 0, -2];
    const { A } = withSpectrum(lambda, 9);
    const r = solver(A, 6);
    assert.deepEqual(Array.from(r.values, (v) => Math.round(v * 1e9) / 1e9 + 0), [3, 3, 3, 0, 0, -2]);
    assert.ok(maxResidual(A, 6, r.values, r.vectors) < 1e-9);
    for (let i = 0; i < 6; i++) for (let j = 0; j < i; j++) assert.ok(Math.abs(dot(r.vectors[i], r.vectors[j])) < 1e-9);
    assert.deepEqual(Array.from(solver([[0, 0], [0, 0]]).values), [0, 0]);
  });
}

test('both solvers agree on a random symmetric matrix', () => {
  const rng = new Rng(11);
  const n = 25;
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) A[i * n + j] = A[j * n + i] = rng.normal();
  const a = symmetricEigen(A, n);
  const b = jacobiEigen(A, n);
  for (let k = 0; k < n; k++) assert.ok(Math.abs(a.values[k] - b.values[k]) < 1e-10);
});

test('tridiagonal solver: the 1-D Laplacian has eigenvalues 2 − 2cos(kπ/(n+1))', () => {
  const n = 40;
  const r = tridiagonalEigen(new Array(n).fill(2), new Array(n - 1).fill(-1));
  const expected = Array.from({ length: n }, (_, k) => 2 - 2 * Math.cos(((k + 1) * Math.PI) / (n + 1))).sort((a, b) => b - a);
  for (let k = 0; k < n; k++) assert.ok(Math.abs(r.values[k] - expected[k]) < 1e-12);
  // Eigenvector k is sin(j·kπ/(n+1)) up to scale and sign.
  const v = r.vectors[n - 1];
  const s = Array.from({ length: n }, (_, j) => Math.sin(((j + 1) * Math.PI) / (n + 1)));
  assert.ok(Math.abs(Math.abs(dot(v, s)) / norm(s) - 1) < 1e-10);
  // A zero off-diagonal splits the matrix: eigenvalues are those of the blocks.
  assert.deepEqual(Array.from(tridiagonalEigen([1, 5, 2], [0, 0]).values), [5, 2, 1]);
});

test('bad matrices are rejected with the fault named', () => {
  assert.throws(() => symmetricEigen([[1, NaN], [NaN, 1]]), (e: unknown) => e instanceof LandscapeError && /not finite/.test(e.message));
  assert.throws(() => symmetricEigen([[1, 2], [3, 1]]), /not symmetric at \(0, 1\)/);
  assert.throws(() => symmetricEigen([[1, 2], [2, 1, 0]]), /row 1 has 3 entries, expected 2/);
});

test('fixSign makes the largest-magnitude entry positive; orthogonalise removes a span', () => {
  assert.deepEqual(Array.from(fixSign(Float64Array.from([0.1, -0.9, 0.5]))), [-0.1, 0.9, -0.5]);
  assert.deepEqual(Array.from(fixSign(Float64Array.from([0.1, 0.9, -0.5]))), [0.1, 0.9, -0.5]);
  const rng = new Rng(2);
  const Q = randomOrthogonal(10, rng).slice(0, 4);
  const v = orthogonalise(randomNormal(10, rng), Q);
  for (const q of Q) assert.ok(Math.abs(dot(q, v)) < 1e-14);
});
