/**
 * The trajectory plane against known answers: trajectories built inside a
 * known plane, or with known variances along known orthogonal directions,
 * checked against the construction and against a full float64
 * eigendecomposition of Σ d_k d_kᵀ (P × P, not the engine's m × m Gram
 * matrix); the slice on a diagonal quadratic against its float64 values.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../../../src/engine/backend';
import type { Objective } from '../../../src/engine/objective';
import { gridRangeThroughZero, sliceTrajectoryPlane, trajectoryPCA } from '../../../src/engine/analysis/trajectoryPlane';
import { jacobiEigen, randomOrthogonal } from '../../../src/engine/analysis/linalg';
import { Rng } from '../../../src/engine/rng';
import { errorFrom, errorFromAsync, assertInputError } from '../../support/errors';

before(async () => {
  await initBackend('cpu', { force: true });
});

const dotP = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

/** reference + Σ_j c[j]·basis[j], in float64. */
function pointAt(reference: ArrayLike<number>, basis: readonly ArrayLike<number>[], c: readonly number[]): Float64Array {
  const p = Float64Array.from(reference);
  c.forEach((cj, j) => {
    for (let i = 0; i < p.length; i++) p[i] += cj * basis[j][i];
  });
  return p;
}

/** Cosines of the principal angles between two planes given by orthonormal pairs: the singular values of M = [⟨aᵢ, bⱼ⟩]. */
function principalCosines(a: readonly ArrayLike<number>[], b: readonly ArrayLike<number>[]): [number, number] {
  const m = [
    [dotP(a[0], b[0]), dotP(a[0], b[1])],
    [dotP(a[1], b[0]), dotP(a[1], b[1])],
  ];
  // σ₁² + σ₂² = ‖M‖_F² and σ₁σ₂ = |det M|.
  const fro = m[0][0] ** 2 + m[0][1] ** 2 + m[1][0] ** 2 + m[1][1] ** 2;
  const det = Math.abs(m[0][0] * m[1][1] - m[0][1] * m[1][0]);
  const disc = Math.sqrt(Math.max(0, fro * fro - 4 * det * det));
  return [Math.sqrt((fro + disc) / 2), Math.sqrt(Math.max(0, (fro - disc) / 2))];
}

test('a trajectory inside a known plane: the recovered directions span it, explained variance sums to 1, nothing is off the plane', () => {
  const n = 30;
  const rng = new Rng(7);
  const [u, w] = randomOrthogonal(n, rng);
  const reference = Float64Array.from({ length: n }, () => rng.normal());
  // A curved path (not a line) towards the reference, as training would take.
  const coeffs = Array.from({ length: 8 }, (_, k) => [3 * Math.exp(-0.4 * k), Math.sin(k + 0.5) * Math.exp(-0.3 * k)]);
  const points = coeffs.map((c) => pointAt(reference, [u, w], c));
  const pca = trajectoryPCA(points, reference);
  const [v1, v2] = pca.directions;
  assert.ok(Math.abs(dotP(v1, v1) - 1) < 1e-12 && Math.abs(dotP(v2, v2) - 1) < 1e-12, 'unit norm');
  assert.ok(Math.abs(dotP(v1, v2)) < 1e-12, 'orthogonal');
  const cosines = principalCosines([v1, v2], [u, w]);
  for (const c of cosines) assert.ok(Math.abs(c - 1) < 1e-10, `principal angle cosines ${cosines} ≈ 1`);
  assert.ok(Math.abs(pca.explainedVariance[0] + pca.explainedVariance[1] - 1) < 1e-12, `explained ${pca.explainedVariance}`);
  assert.ok(pca.explainedVariance[0] >= pca.explainedVariance[1]);
  for (const r of pca.offPlane) assert.ok(r < 1e-12, `off the plane by ${r}`);
  // The coordinates rebuild each point: θ_k = θ_final + x_k·v₁ + y_k·v₂.
  points.forEach((p, k) => {
    const back = pointAt(reference, [v1, v2], pca.coords[k]);
    for (let i = 0; i < n; i++) assert.ok(Math.abs(back[i] - p[i]) < 1e-12, `point ${k} entry ${i}`);
  });
  assert.ok(pca.coords[0][0] >= 0 && pca.coords[0][1] >= 0, 'oriented so the first point has non-negative coordinates');
});

test('known variances along known orthogonal directions: the explained variances, directions and coordinates are the known ones', () => {
  const n = 40;
  const m = 6;
  const rng = new Rng(11);
  const E = randomOrthogonal(n, rng).slice(0, 4);
  const Q = randomOrthogonal(m, rng).slice(0, 4);
  const s = [5, 3, 2, 1];
  // d_k = Σ_j s_j·Q_j[k]·E_j: the columns of the coefficient matrix are orthogonal, so Σ_k d_k d_kᵀ = Σ_j s_j² E_j E_jᵀ.
  const reference = Float64Array.from({ length: n }, (_, i) => Math.cos(i));
  const points = Array.from({ length: m }, (_, k) => pointAt(reference, E, s.map((sj, j) => sj * Q[j][k])));
  const pca = trajectoryPCA(points, reference);
  const total = s.reduce((a, b) => a + b * b, 0);
  assert.ok(Math.abs(pca.explainedVariance[0] - 25 / total) < 1e-12, `${pca.explainedVariance[0]} vs ${25 / total}`);
  assert.ok(Math.abs(pca.explainedVariance[1] - 9 / total) < 1e-12, `${pca.explainedVariance[1]} vs ${9 / total}`);
  assert.ok(Math.abs(pca.total - total) < 1e-10);
  assert.ok(Math.abs(Math.abs(dotP(pca.directions[0], E[0])) - 1) < 1e-12);
  assert.ok(Math.abs(Math.abs(dotP(pca.directions[1], E[1])) - 1) < 1e-12);
  for (let k = 0; k < m; k++) {
    assert.ok(Math.abs(Math.abs(pca.coords[k][0]) - s[0] * Math.abs(Q[0][k])) < 1e-12, `x of point ${k}`);
    assert.ok(Math.abs(Math.abs(pca.coords[k][1]) - s[1] * Math.abs(Q[1][k])) < 1e-12, `y of point ${k}`);
    assert.ok(Math.abs(pca.offPlane[k] - Math.hypot(s[2] * Q[2][k], s[3] * Q[3][k])) < 1e-12, `off-plane distance of point ${k}`);
  }
  // An independent route: the full P × P second-moment matrix, eigendecomposed by Jacobi.
  const M = Array.from({ length: n }, () => new Float64Array(n));
  for (const p of points) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) M[i][j] += (p[i] - reference[i]) * (p[j] - reference[j]);
  const full = jacobiEigen(M);
  const trace = M.reduce((a, row, i) => a + row[i], 0);
  assert.ok(Math.abs(full.values[0] / trace - pca.explainedVariance[0]) < 1e-12);
  assert.ok(Math.abs(full.values[1] / trace - pca.explainedVariance[1]) < 1e-12);
  const cosines = principalCosines(pca.directions, [full.vectors[0], full.vectors[1]]);
  for (const c of cosines) assert.ok(Math.abs(c - 1) < 1e-10, `against the full eigendecomposition: ${cosines}`);
});

test('the grid range covers the coordinates and 0 with the padding, and has 0 on a grid point', () => {
  for (const [coords, pad, points] of [
    [[2.5, 1.5, 0.9, 0.3], 0.6, 31],
    [[-0.2, 0.17, -0.09], 0.1, 11],
    [[-3, -1], 0.5, 4],
  ] as [number[], number, number][]) {
    const [lo, hi] = gridRangeThroughZero(coords, pad, points);
    assert.ok(lo <= Math.min(0, ...coords) - pad + 1e-12 && hi >= Math.max(0, ...coords) + pad - 1e-12, `[${lo}, ${hi}] covers ${coords} ± ${pad}`);
    const want = Math.max(0, ...coords) - Math.min(0, ...coords) + 2 * pad;
    assert.ok(hi - lo <= (want * (points - 1)) / (points - 2) + 1e-12, 'widened by one step at most');
    const step = (hi - lo) / (points - 1);
    const i0 = Math.round(-lo / step);
    assert.ok(Math.abs(lo + i0 * step) < 1e-12 * (hi - lo), `0 is grid point ${i0}`);
  }
});

/** f(θ) = ½ Σ λ_i (θ_i − c_i)², with its float64 twin. */
function diagonalQuadratic(lambda: number[], c: number[]) {
  const lt = tf.keep(tf.tensor2d([lambda], [1, lambda.length]));
  const ct = tf.keep(tf.tensor2d([c], [1, c.length]));
  const fn: Objective = { dim: lambda.length, evaluate: (t) => tf.tidy(() => tf.mul(0.5, tf.sum(tf.mul(lt, tf.square(tf.sub(t, ct))), 1)) as tf.Tensor1D) };
  const exact = (theta: ArrayLike<number>) => lambda.reduce((s, l, i) => s + 0.5 * l * (theta[i] - c[i]) ** 2, 0);
  return { fn, exact };
}

test('the slice on the trajectory plane of a quadratic: grid values, the final weights on the grid at (0, 0), the checkpoints\' own losses', async () => {
  const n = 12;
  const lambda = Array.from({ length: n }, (_, i) => 0.5 + i / 3);
  const centre = Array.from({ length: n }, (_, i) => Math.sin(i + 1));
  const { fn, exact } = diagonalQuadratic(lambda, centre);
  const final = centre.map((v, i) => v + 0.05 * Math.cos(3 * i));
  const rng = new Rng(3);
  const [u, w, z] = randomOrthogonal(n, rng);
  // Mostly in the (u, w) plane, a little along z, so the plane explains most but not all of the variance.
  const earlier = [0, 1, 2, 3, 4].map((k) => ({ theta: Float32Array.from(pointAt(final, [u, w, z], [2 * Math.exp(-0.6 * k), 0.8 * Math.sin(k + 1) * Math.exp(-0.4 * k), 0.05 * (k % 2)])), label: `epoch-${k + 1}`, epoch: k + 1 }));
  const finalCk = { theta: Float32Array.from(final), label: 'final', epoch: 6 };
  const { slice, trajectory } = await sliceTrajectoryPlane(fn, finalCk, earlier, { points: 9 });
  assert.equal(slice.meta.method, 'trajectory-plane');
  const { x, y } = slice.axes;
  const ix = x.values.indexOf(0);
  const iy = y.values.indexOf(0);
  assert.ok(ix >= 0 && iy >= 0, 'the final weights are a grid point');
  assert.ok(Math.abs(slice.values[iy][ix] - exact(finalCk.theta)) < 1e-5 * Math.max(1, exact(finalCk.theta)));
  const pca = trajectoryPCA(earlier.map((e) => e.theta), finalCk.theta);
  for (let j = 0; j < y.points; j++) {
    for (let i = 0; i < x.points; i++) {
      const want = exact(pointAt(finalCk.theta, pca.directions, [x.values[i], y.values[j]]));
      assert.ok(Math.abs(slice.values[j][i] - want) < 1e-5 * Math.max(1, want), `grid (${i}, ${j}): ${slice.values[j][i]} vs ${want}`);
    }
  }
  assert.equal(trajectory.points.length, 6);
  assert.deepEqual(trajectory.points.at(-1), { label: 'final', epoch: 6, x: 0, y: 0, offPlane: 0, loss: slice.meta.centre.loss });
  trajectory.points.slice(0, -1).forEach((p, k) => {
    assert.ok(p.x > x.range[0] && p.x < x.range[1] && p.y > y.range[0] && p.y < y.range[1], `${p.label} inside the grid`);
    assert.ok(Math.abs(p.loss - exact(earlier[k].theta)) < 1e-5 * Math.max(1, exact(earlier[k].theta)), `${p.label}'s own loss`);
  });
  const [e1, e2] = trajectory.explainedVariance;
  assert.ok(e1 + e2 < 1 && e1 + e2 > 0.99, `most but not all of the variance: ${e1 + e2}`);
});

test('bad input: too few checkpoints, a line, no movement, a wrong length, a non-finite weight', async () => {
  const reference = new Float64Array(5);
  const along = (t: number) => Float64Array.from([t, 2 * t, 0, 0, 0]);
  assertInputError(errorFrom(() => trajectoryPCA([along(1)], reference)), /needs two checkpoints besides the reference weights, got 1/);
  assertInputError(errorFrom(() => trajectoryPCA([along(1), along(2), along(-0.5)], reference)), /lie on one line through the reference weights/);
  assertInputError(errorFrom(() => trajectoryPCA([reference, reference], reference)), /every checkpoint equals the reference weights/);
  assertInputError(errorFrom(() => trajectoryPCA([along(1), new Float64Array(4)], reference, ['a', 'b'])), /^b: has 4 parameters but the reference weights have 5/);
  const bad = along(1);
  bad[3] = NaN;
  assertInputError(errorFrom(() => trajectoryPCA([along(2), bad], reference, ['a', 'b'])), /^b: parameter 3 is not finite/);
  const { fn } = diagonalQuadratic([1, 1, 1, 1, 1], [0, 0, 0, 0, 0]);
  const ck = (t: number, k: number) => ({ theta: Float64Array.from([t, 0, k, 0, 0]), label: `e${k}`, epoch: k });
  assertInputError(await errorFromAsync(() => sliceTrajectoryPlane(fn, ck(0, 0), [ck(1, 1)])), /needs two checkpoints/);
});
