import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../../../src/engine/backend';
import type { Objective } from '../../../src/engine/objective';
import { evaluateValues } from '../../../src/engine/objective';
import {
  sliceBetweenCheckpoints,
  sliceRandomDirection,
  sliceHessianDirection,
  sliceAlongDirection,
  slice2DRandom,
  slice2DCheckpoints,
  slice2DAlongDirections,
} from '../../../src/engine/analysis/slices';
import { randomDirection, checkpointPlane, vectorHash } from '../../../src/engine/analysis/directions';
import { randomOrthogonal, norm } from '../../../src/engine/analysis/linalg';
import { makeSpec, initParams, paramLayout } from '../../../src/engine/model/spec';
import { networkObjective } from '../../../src/engine/model/network';
import { Rng } from '../../../src/engine/rng';
import { CancelledError, LandscapeError } from '../../../src/engine/errors';

before(async () => {
  await initBackend('cpu', { force: true });
});

/** f(θ) = ½(θ − c)ᵀA(θ − c), A = QᵀΛQ, with a float64 twin for known answers. */
function quadratic(lambda: number[], seed: number) {
  const n = lambda.length;
  const Q = randomOrthogonal(n, new Rng(seed));
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += Q[k][i] * lambda[k] * Q[k][j];
    A[i * n + j] = A[j * n + i] = s;
  }
  const c = Float64Array.from({ length: n }, (_, i) => Math.sin(i + 1));
  const At = tf.keep(tf.tensor2d(Float32Array.from(A), [n, n]));
  const ct = tf.keep(tf.tensor2d(Float32Array.from(c), [1, n]));
  const fn: Objective = {
    dim: n,
    evaluate: (t) => tf.tidy(() => {
      const d = tf.sub(t, ct);
      return tf.mul(0.5, tf.sum(tf.mul(tf.matMul(d, At), d), 1)) as tf.Tensor1D;
    }),
  };
  const exact = (theta: ArrayLike<number>) => {
    let s = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s += (theta[i] - c[i]) * A[i * n + j] * (theta[j] - c[j]);
    return 0.5 * s;
  };
  return { fn, exact, c, Q, lambda };
}

/** Wraps an objective to record how many points each evaluate call gets. */
function counting(fn: Objective): { fn: Objective; calls: number[] } {
  const calls: number[] = [];
  return { fn: { dim: fn.dim, evaluate: (t) => { calls.push(t.shape[0]); return fn.evaluate(t); } }, calls };
}

const near = (a: number, b: number, tol: number) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

test('1D through two checkpoints: known values, exact grid ends, markers, batching, reproducibility record', async () => {
  const q = quadratic([5, 2, 1, 0.5, 0.1, 3], 1);
  const rng = new Rng(2);
  const A = Float32Array.from({ length: 6 }, () => rng.normal());
  const B = Float32Array.from({ length: 6 }, () => rng.normal());
  const { fn, calls } = counting(q.fn);
  const s = await sliceBetweenCheckpoints(fn, A, B, { names: ['a.safetensors', 'b.safetensors'], batchSize: 16 });
  assert.equal(s.kind, '1d');
  const x = s.axes.x;
  assert.equal(x.points, 41);
  assert.deepEqual(x.range, [-0.5, 1.5]);
  assert.equal(x.values[0], -0.5);
  assert.equal(x.values[10], 0);
  assert.equal(x.values[30], 1);
  assert.equal(x.values[40], 1.5);
  s.values.forEach((v, i) => {
    const t = x.values[i];
    const exact = q.exact(Array.from(A, (a, j) => a + t * (B[j] - a)));
    assert.ok(near(v, exact, 1e-5), `t = ${t}: ${v} vs ${exact}`);
  });
  assert.deepEqual(calls, [16, 16, 9, 2], 'three grid passes of at most 16 points, then the two checkpoints');
  assert.deepEqual(s.meta.markers.map((m) => [m.label, m.x]), [['a.safetensors', 0], ['b.safetensors', 1]]);
  assert.ok(near(s.meta.markers[1].loss, q.exact(B), 1e-5));
  assert.equal(s.values[30], s.meta.markers[1].loss, 'the grid point at t = 1 is B itself');
  assert.equal(s.meta.centre.hash, vectorHash(A));
  assert.equal(s.meta.method, 'checkpoints-line');
  assert.equal(x.direction.kind, 'checkpoints');
  assert.ok(near(x.direction.norm, norm(Array.from(A, (a, j) => B[j] - a)), 1e-12));
  assert.equal(s.meta.evaluations, 43);
  const min = Math.min(...s.values);
  assert.equal(s.meta.min.loss, min);
  assert.equal(s.meta.min.x, x.values[s.values.indexOf(min)]);
  // Plain JSON, nothing lost.
  assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
  await assert.rejects(sliceBetweenCheckpoints(q.fn, A, A), /are the same point/);
});

test('random filter-normalised direction (Li et al.): per-neuron norms match θ, biases zero, seeded', async () => {
  const spec = makeSpec('4-5-3');
  const rng = new Rng(3);
  const theta = initParams(spec, rng);
  for (let i = 0; i < theta.length; i++) theta[i] += 0.1 * rng.normal();
  const { vector: d, info } = randomDirection(theta, { seed: 7, spec });
  assert.deepEqual({ ...info, norm: 0 }, { kind: 'random', seed: 7, normalization: 'filter', bias: 'zero', model: '4-5-3 relu cross-entropy', norm: 0 });
  for (const e of paramLayout(spec)) {
    if (e.kind === 'bias') {
      assert.ok(Array.from(d.subarray(e.offset, e.offset + e.size)).every((v) => v === 0), `${e.name} is zero`);
      continue;
    }
    const [rows, cols] = e.shape;
    for (let j = 0; j < cols; j++) {
      let nd = 0;
      let nt = 0;
      for (let r = 0; r < rows; r++) {
        nd += d[e.offset + r * cols + j] ** 2;
        nt += theta[e.offset + r * cols + j] ** 2;
      }
      assert.ok(Math.abs(Math.sqrt(nd) - Math.sqrt(nt)) < 1e-12, `${e.name} neuron ${j}`);
    }
  }
  // bias: 'filter' gives each bias entry its own magnitude; the weight part is the same draw.
  const withBias = randomDirection(theta, { seed: 7, spec, bias: 'filter' }).vector;
  for (const e of paramLayout(spec)) {
    for (let k = e.offset; k < e.offset + e.size; k++) {
      if (e.kind === 'weight') assert.equal(withBias[k], d[k]);
      else assert.ok(Math.abs(Math.abs(withBias[k]) - Math.abs(theta[k])) < 1e-12);
    }
  }
  // Layer normalisation: each tensor's norm matches.
  const layer = randomDirection(theta, { seed: 7, spec, normalization: 'layer', bias: 'filter' }).vector;
  for (const e of paramLayout(spec)) {
    assert.ok(Math.abs(norm(layer.subarray(e.offset, e.offset + e.size)) - norm(theta.subarray(e.offset, e.offset + e.size))) < 1e-9);
  }
  assert.throws(() => randomDirection(theta, { seed: 1, normalization: 'filter' }), /filter normalisation needs the model spec/);
  assert.ok(Math.abs(norm(randomDirection(theta, { seed: 1 }).vector) - 1) < 1e-12, 'without a spec: unit norm');

  // The slice along it is f(θ + α·d), reproducible from the recorded seed.
  const n = 12;
  const fn = networkObjective(spec, {
    x: tf.keep(tf.tensor2d(Float32Array.from({ length: n * 4 }, () => rng.normal()), [n, 4])),
    y: tf.keep(tf.oneHot(tf.tensor1d(Array.from({ length: n }, (_, i) => i % 3), 'int32'), 3).asType('float32') as tf.Tensor2D),
  });
  const s = await sliceRandomDirection(fn, theta, { seed: 7, spec, points: 11 });
  const direct = evaluateValues(fn, s.axes.x.values.map((a) => Float32Array.from(theta, (t, i) => t + a * d[i])));
  s.values.forEach((v, i) => assert.ok(near(v, direct[i], 1e-5)));
  assert.equal(s.values[5], s.meta.centre.loss);
  assert.equal(s.axes.x.direction.seed, 7);
  assert.match(s.axes.x.label, /filter-normalised random direction, seed 7, bias zero/);
  assert.equal(s.meta.model, '4-5-3 relu cross-entropy');
  const again = await sliceRandomDirection(fn, theta, { seed: 7, spec, points: 11 });
  assert.deepEqual(again, s);
  const other = await sliceRandomDirection(fn, theta, { seed: 8, spec, points: 11 });
  assert.notDeepEqual(other.values, s.values);
});

test('1D along the top Hessian eigenvector of a quadratic is ½λmax·α² from the minimum', async () => {
  const q = quadratic([9, 4, 1, 0.25, 2, 0.5], 4);
  const s = await sliceHessianDirection(q.fn, q.c, { range: [-0.5, 0.5], points: 11, lanczos: { seed: 5, hvp: 'autodiff' } });
  const info = s.axes.x.direction;
  assert.equal(info.kind, 'hessian');
  assert.ok(Math.abs(info.eigenvalue! - 9) < 1e-4);
  assert.deepEqual({ seed: info.lanczos!.seed, hvp: info.lanczos!.hvp }, { seed: 5, hvp: 'autodiff' });
  s.values.forEach((v, i) => {
    const a = s.axes.x.values[i];
    assert.ok(Math.abs(v - 4.5 * a * a) < 1e-4, `α = ${a}: ${v} vs ${4.5 * a * a}`);
  });
  // A custom direction records what the caller says about it.
  const custom = await sliceAlongDirection(q.fn, q.c, q.Q[1], { points: 5, info: { description: 'second eigenvector' } });
  assert.equal(custom.axes.x.direction.kind, 'custom');
  assert.equal(custom.axes.x.direction.description, 'second eigenvector');
  assert.ok(Math.abs(custom.values[0] - 2) < 1e-4, '½·4·1²');
});

test('2D on two random directions: values[iy][ix] = f(θ + x·d₁ + y·d₂), cosine and seeds recorded', async () => {
  const q = quadratic(Array.from({ length: 40 }, (_, i) => 1 + (i % 7)), 6);
  const theta = Float32Array.from({ length: 40 }, (_, i) => Math.cos(i));
  const { fn, calls } = counting(q.fn);
  const s = await slice2DRandom(fn, theta, { seeds: [3, 4], xPoints: 5, yPoints: 3, xRange: [-2, 2], yRange: [0, 1], batchSize: 4 });
  assert.equal(s.kind, '2d');
  assert.equal(s.values.length, 3);
  assert.ok(s.values.every((row) => row.length === 5));
  assert.deepEqual(s.axes.x.values, [-2, -1, 0, 1, 2]);
  assert.deepEqual(s.axes.y.values, [0, 0.5, 1]);
  assert.ok(calls.slice(0, -1).every((c) => c <= 4) && calls.slice(0, -1).reduce((a, b) => a + b, 0) === 15);
  const d1 = randomDirection(theta, { seed: 3 }).vector;
  const d2 = randomDirection(theta, { seed: 4 }).vector;
  for (let iy = 0; iy < 3; iy++) for (let ix = 0; ix < 5; ix++) {
    const p = Array.from(theta, (t, i) => t + s.axes.x.values[ix] * d1[i] + s.axes.y.values[iy] * d2[i]);
    assert.ok(near(s.values[iy][ix], q.exact(p), 1e-5), `(${ix}, ${iy})`);
  }
  assert.deepEqual([s.axes.x.direction.seed, s.axes.y.direction.seed], [3, 4]);
  assert.equal(s.axes.x.direction.normalization, 'unit');
  assert.ok(Math.abs(s.meta.cosine!) < 0.5);
  assert.equal(s.meta.method, 'random-plane');
  assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
  const flat = s.values.flat();
  assert.equal(s.meta.min.loss, Math.min(...flat));
  assert.equal(s.values[s.axes.y.values.indexOf(s.meta.min.y!)][s.axes.x.values.indexOf(s.meta.min.x)], s.meta.min.loss);
  await assert.rejects(slice2DRandom(q.fn, theta, { seeds: [2, 2] }), /two direction seeds must differ/);
  const custom = await slice2DAlongDirections(q.fn, theta, d1, d2, { points: 3, xRange: [-2, 2], yRange: [0, 1] });
  assert.deepEqual(custom.values.map((r) => r.map((v) => Math.round(v * 1e4))), [0, 1, 2].map((iy) => [0, 2, 4].map((ix) => Math.round(s.values[iy][ix] * 1e4))));
});

test('2D through three checkpoints: orthonormal plane, distances preserved, checkpoints marked', async () => {
  const q = quadratic([3, 1, 2, 0.5, 1.5], 8);
  const rng = new Rng(9);
  const [A, B, C] = [0, 1, 2].map(() => Float32Array.from({ length: 5 }, () => rng.normal()));
  const plane = checkpointPlane(A, B, C);
  const dist = (u: ArrayLike<number>, v: ArrayLike<number>) => norm(Array.from(u, (x, i) => x - v[i]));
  const { a, b, c } = plane.coords;
  assert.deepEqual(a, [0, 0]);
  assert.ok(near(b[0], dist(A, B), 1e-12) && b[1] === 0);
  assert.ok(near(Math.hypot(c[0], c[1]), dist(A, C), 1e-9));
  assert.ok(near(Math.hypot(c[0] - b[0], c[1]), dist(B, C), 1e-9));
  assert.ok(c[1] > 0);
  const s = await slice2DCheckpoints(q.fn, A, B, C, { names: ['a', 'b', 'c'], points: 9 });
  assert.deepEqual(s.meta.markers.map((m) => m.label), ['a', 'b', 'c']);
  s.meta.markers.forEach((m, i) => assert.ok(near(m.loss, q.exact([A, B, C][i]), 1e-5)));
  // The grid covers all three points with equal margins on both axes.
  for (const m of s.meta.markers) {
    assert.ok(m.x > s.axes.x.range[0] && m.x < s.axes.x.range[1] && m.y! > s.axes.y.range[0] && m.y! < s.axes.y.range[1]);
  }
  const span = Math.max(b[0], c[0]) - Math.min(0, c[0]);
  const pad = 0.25 * Math.max(span, c[1]);
  assert.ok(near(s.axes.x.range[0], Math.min(0, c[0]) - pad, 1e-12) && near(s.axes.y.range[1], c[1] + pad, 1e-12));
  // A grid value is the loss at A + x·e₁ + y·e₂.
  const [ix, iy] = [6, 2];
  const p = Array.from(A, (v, i) => v + s.axes.x.values[ix] * plane.e1[i] + s.axes.y.values[iy] * plane.e2[i]);
  assert.ok(near(s.values[iy][ix], q.exact(p), 1e-5));
  assert.equal(s.meta.cosine, 0);
  await assert.rejects(slice2DCheckpoints(q.fn, A, B, Float32Array.from(A, (v, i) => v + 2 * (B[i] - v))), /nearly\) on one line/);
});

test('non-finite losses, bad grids and wrong lengths are errors; cancel stops; no tensors leak', async () => {
  const logFn: Objective = { dim: 2, evaluate: (t) => tf.sum(tf.log(t), 1) as tf.Tensor1D };
  await assert.rejects(
    sliceAlongDirection(logFn, [1, 1], [1, 0], { range: [-2, 1], points: 4 }),
    (e: unknown) => e instanceof LandscapeError && e.kind === 'compute' && /loss is not finite \(NaN\) at α = -2 \(grid point 1 of 4\)/.test(e.message),
  );
  await assert.rejects(
    slice2DAlongDirections(logFn, [1, 1], [1, 0], [0, 1], { xRange: [0, 1], yRange: [-1, 1], points: 3 }),
    /loss is not finite \(-Infinity\) at α = 0, β = -1 \(grid point 1, 1 of 3×3\)/,
  );
  const q = quadratic([1, 2, 3], 2);
  await assert.rejects(sliceRandomDirection(q.fn, [0, 0, 0], { range: [1, -1] }), /must go from low to high/);
  await assert.rejects(sliceRandomDirection(q.fn, [0, 0, 0], { points: 1 }), /whole number ≥ 2 of points/);
  await assert.rejects(sliceRandomDirection(q.fn, [0, 0], { name: 'ckpt.safetensors' }), /^LandscapeError: ckpt\.safetensors: has 2 parameters but the objective takes 3|ckpt\.safetensors: has 2 parameters/);
  await assert.rejects(sliceBetweenCheckpoints(q.fn, [0, 0, NaN], [1, 1, 1]), /A: parameter 2 is not finite/);

  const before = tf.memory().numTensors;
  await slice2DRandom(q.fn, [0.1, 0.2, 0.3], { points: 21, batchSize: 50 });
  assert.equal(tf.memory().numTensors, before);
  const ac = new AbortController();
  const progress: number[] = [];
  await assert.rejects(
    slice2DRandom(q.fn, [0.1, 0.2, 0.3], { points: 21, batchSize: 50, signal: ac.signal, onProgress: (done) => { progress.push(done); if (done >= 100) ac.abort(); } }),
    CancelledError,
  );
  assert.deepEqual(progress, [50, 100]);
  assert.equal(tf.memory().numTensors, before);
});
