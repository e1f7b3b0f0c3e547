/**
 * Gradients and classic answers: the coefficient gradient of every path
 * objective against float64 finite differences of an independent host-side
 * implementation; the toy's and Müller–Brown's stationary points by float64
 * Newton solves; minimax and NEB on Müller–Brown against its saddle; a path
 * on a small network objective.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../../../src/engine/backend';
import { newton2, toy64 } from '../../support/landscapes64';
import { Rng } from '../../../src/engine/rng';
import { makeSpec, initParams, paramCount } from '../../../src/engine/model/spec';
import { networkObjective } from '../../../src/engine/model/network';
import {
  findPath,
  fourierObjectiveAndGrad,
  toyObjective,
  toyValue64,
  TOY_A,
  TOY_B,
  TOY_WELLS,
  TOY_BUMPS,
  mullerBrownObjective,
  mullerBrown64,
  improvedTangentWeights,
  fourierPath,
  pathPoints,
  evenGrid,
  PathObjective,
} from '../../../src/engine/path';

before(async () => {
  await initBackend('cpu', { force: true });
});

/** The path objective in float64, written from the definitions, not from the engine. */
function objective64(coef: number[][], opts: { objective: PathObjective; lambda: number; points: number; tau: number }): number {
  const m = opts.points;
  const pts: [number, number][] = [];
  for (let i = 0; i < m; i++) {
    const t = i / (m - 1);
    let x = (1 - t) * TOY_A[0] + t * TOY_B[0];
    let y = (1 - t) * TOY_A[1] + t * TOY_B[1];
    coef.forEach((b, n) => {
      const s = Math.sin((n + 1) * Math.PI * t);
      x += b[0] * s;
      y += b[1] * s;
    });
    pts.push([x, y]);
  }
  const loss = pts.map(([x, y]) => toyValue64(x, y));
  let data: number;
  if (opts.objective === 'sum') data = loss.reduce((s, l) => s + l, 0);
  else if (opts.objective === 'squared') data = loss.reduce((s, l) => s + l * l, 0) / m;
  else data = opts.tau * Math.log(loss.reduce((s, l) => s + Math.exp(l / opts.tau), 0));
  let smooth = 0;
  for (let i = 0; i + 1 < m; i++) smooth += (pts[i + 1][0] - pts[i][0]) ** 2 + (pts[i + 1][1] - pts[i][1]) ** 2;
  return data + opts.lambda * smooth;
}

test('coefficient gradient of sum, squared and minimax matches float64 central differences', () => {
  const rng = new Rng(7);
  const nF = 3;
  // float32-representable coefficients, so the engine and the reference see the same numbers.
  const coef = Array.from({ length: nF }, () => [Math.fround(0.15 * rng.normal()), Math.fround(0.15 * rng.normal())]);
  for (const objective of ['sum', 'squared', 'minimax'] as const) {
    for (const lambda of [0, 0.7]) {
      const opts = { objective, lambda, points: 7, tau: 0.05 };
      const eng = fourierObjectiveAndGrad(toyObjective(), [...TOY_A], [...TOY_B], coef, opts);
      const ref = objective64(coef, opts);
      assert.ok(Math.abs(eng.value - ref) <= 1e-5 * Math.max(1, Math.abs(ref)), `${objective} λ=${lambda}: value ${eng.value} vs ${ref}`);
      const h = 1e-6;
      let scale = 0;
      const fd: number[][] = coef.map((row, n) =>
        row.map((_, d) => {
          const up = coef.map((r) => [...r]);
          const dn = coef.map((r) => [...r]);
          up[n][d] += h;
          dn[n][d] -= h;
          const g = (objective64(up, opts) - objective64(dn, opts)) / (2 * h);
          scale = Math.max(scale, Math.abs(g));
          return g;
        }),
      );
      for (let n = 0; n < nF; n++) {
        for (let d = 0; d < 2; d++) {
          const err = Math.abs(eng.grad[n][d] - fd[n][d]);
          assert.ok(err <= 2e-4 * Math.max(scale, 1e-3), `${objective} λ=${lambda} b_${n + 1}[${d}]: ${eng.grad[n][d]} vs ${fd[n][d]}`);
        }
      }
    }
  }
});

test('analytic derivatives of the host landscapes agree with finite differences', () => {
  for (const f of [toy64, mullerBrown64]) {
    for (const [x, y] of [[-0.3, 0.2], [0.1, -0.4], [-0.8, 0.6]]) {
      const h = 1e-6;
      const r = f(x, y);
      const gx = (f(x + h, y).v - f(x - h, y).v) / (2 * h);
      const gy = (f(x, y + h).v - f(x, y - h).v) / (2 * h);
      const hxy = (f(x, y + h).g[0] - f(x, y - h).g[0]) / (2 * h);
      assert.ok(Math.abs(r.g[0] - gx) < 1e-5 * Math.max(1, Math.abs(gx)));
      assert.ok(Math.abs(r.g[1] - gy) < 1e-5 * Math.max(1, Math.abs(gy)));
      assert.ok(Math.abs(r.h[0][1] - hxy) < 1e-4 * Math.max(1, Math.abs(hxy)));
    }
  }
});

test('the toy landscape: its lowest saddle between the wells is at 0.62439 (float64 Newton)', () => {
  const s = newton2(toy64, -0.1, 0);
  assert.ok(s.gradNorm < 1e-12 && s.det < 0);
  assert.ok(Math.abs(s.v - 0.6243878175562961) < 1e-12);
  // The other saddle, below the lower bump, is higher: the upper one is the barrier.
  const s2 = newton2(toy64, 0, -0.6);
  assert.ok(s2.gradNorm < 1e-12 && s2.det < 0 && s2.v > s.v);
});

const MB = {
  A: newton2(mullerBrown64, -0.55, 1.44),
  B: newton2(mullerBrown64, 0.62, 0.03),
  C: newton2(mullerBrown64, -0.05, 0.47),
  S1: newton2(mullerBrown64, -0.82, 0.62),
  S2: newton2(mullerBrown64, 0.21, 0.29),
};

test('Müller–Brown stationary points (float64 Newton) match the literature', () => {
  for (const p of Object.values(MB)) assert.ok(p.gradNorm < 1e-9);
  for (const p of [MB.A, MB.B, MB.C]) assert.ok(p.det > 0 && p.trace > 0, 'minimum');
  for (const p of [MB.S1, MB.S2]) assert.ok(p.det < 0, 'saddle');
  const close = (v: number, ref: number) => assert.ok(Math.abs(v - ref) < 1e-3, `${v} vs ${ref}`);
  close(MB.A.v, -146.6995);
  close(MB.B.v, -108.1667);
  close(MB.C.v, -80.7678);
  close(MB.S1.v, -40.6648);
  close(MB.S2.v, -72.2489);
});

test('Müller–Brown, float32: NEB with climbing image finds the saddle energy of the A→B path within 0.01', async () => {
  const mb = mullerBrownObjective();
  const r = await findPath(mb, [MB.A.x, MB.A.y], [MB.B.x, MB.B.y], { method: 'neb' });
  // float32 resolves energies of ~150 to ~1e-5; the climbing image converges onto S1.
  assert.ok(Math.abs(r.height - MB.S1.v) < 0.01, `NEB ${r.height} vs saddle ${MB.S1.v}`);
  const rc = await findPath(mb, [MB.C.x, MB.C.y], [MB.B.x, MB.B.y], { method: 'neb' });
  assert.ok(Math.abs(rc.height - MB.S2.v) < 0.01, `NEB ${rc.height} vs saddle ${MB.S2.v}`);
});

test('Müller–Brown, float32: minimax (M = 100, λ = 100) crosses at the saddle energy within 0.5% of the barrier', async () => {
  const mb = mullerBrownObjective();
  for (const [a, b, s] of [[MB.A, MB.B, MB.S1], [MB.C, MB.B, MB.S2]]) {
    const r = await findPath(mb, [a.x, a.y], [b.x, b.y], { points: 100, lambda: 100, refine: 'none' });
    const barrier = s.v - a.v;
    // Any continuous path from one basin to the other rises at least to the saddle, so H can only
    // undershoot by what the dense grid misses on either side of the crossing.
    assert.ok(r.height >= s.v - 0.05, `H ${r.height} below saddle ${s.v}`);
    assert.ok(r.height <= s.v + 0.005 * barrier, `H ${r.height} vs saddle ${s.v} (barrier ${barrier})`);
    // (From C the straight line already passes within 0.002 of S2, so only A→B must improve on it.)
    if (a === MB.A) assert.ok(r.linear.height > r.height + 50);
  }
});

test('improved tangent weights follow Henkelman & Jónsson 2000', () => {
  assert.deepEqual(improvedTangentWeights(0, 1, 2), [1, 0]);
  assert.deepEqual(improvedTangentWeights(2, 1, 0), [0, 1]);
  // τ = τ+·ΔV_max + τ−·ΔV_min when V_{i+1} > V_{i−1}, else the other way round.
  assert.deepEqual(improvedTangentWeights(0, 3, 1), [3, 2]);
  assert.deepEqual(improvedTangentWeights(1, 3, 0), [2, 3]);
  assert.deepEqual(improvedTangentWeights(2, 0, 1), [1, 2]);
  assert.deepEqual(improvedTangentWeights(1, 0, 2), [2, 1]);
  assert.deepEqual(improvedTangentWeights(1, 1, 1), [1, 1]);
});

test('a path on a tiny 2-4-2 network objective runs and keeps its endpoints fixed', async () => {
  const spec = makeSpec('2-4-2', { activation: 'tanh' });
  const rng = new Rng(3);
  const n = 12;
  const xs = new Float32Array(n * 2);
  const ys = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    xs[2 * i] = rng.normal();
    xs[2 * i + 1] = rng.normal();
    ys[2 * i + (xs[2 * i] * xs[2 * i + 1] > 0 ? 1 : 0)] = 1;
  }
  const x = tf.tensor2d(xs, [n, 2]);
  const y = tf.tensor2d(ys, [n, 2]);
  const fn = networkObjective(spec, { x, y });
  const a = initParams(spec, new Rng(1));
  const b = initParams(spec, new Rng(2));
  const dim = paramCount(spec);
  for (const method of ['fourier', 'neb'] as const) {
    const r = await findPath(fn, a, b, { method, points: 8, modes: 3, steps: 25 });
    assert.ok(Number.isFinite(r.height) && r.height >= Math.max(r.lossA, r.lossB));
    const direct = tf.tidy(() => fn.evaluate(tf.tensor2d([...a, ...b], [2, dim])).dataSync());
    assert.equal(r.lossA, direct[0]);
    assert.equal(r.lossB, direct[1]);
    if (method === 'fourier') {
      assert.equal(r.coefficients.length, 3);
      assert.equal(r.coefficients[0].length, dim);
      const ab = tf.tensor2d([...a, ...b], [2, dim]);
      const coef = tf.tensor2d(r.coefficients.flat(), [3, dim]);
      const fp = fourierPath(ab, coef);
      const pts = pathPoints(fp.path, evenGrid(8));
      const rows = pts.arraySync();
      assert.deepEqual(rows[0], Array.from(a));
      assert.deepEqual(rows[7], Array.from(b));
      tf.dispose([pts, coef, ab]);
      fp.dispose();
    } else {
      assert.deepEqual(r.images![0], Array.from(a));
      assert.deepEqual(r.images![7], Array.from(b));
    }
  }
  tf.dispose([x, y]);
});
