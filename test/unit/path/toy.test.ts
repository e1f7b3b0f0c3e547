/**
 * The path finders on the paper's 2-D landscape (Yu & Morozov 2026, Fig. 3),
 * in float32 on the CPU backend: the known answers, the invariants
 * (fixed endpoints, straight first path, A = B), errors, cancellation and
 * tensor hygiene.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../../../src/engine/backend';
import { LandscapeError, CancelledError } from '../../../src/engine/errors';
import type { Objective } from '../../../src/engine/objective';
import { findPath, toyObjective, toyValue64, TOY_A, TOY_B, fourierPath, pathPoints, evenGrid, PathResult } from '../../../src/engine/path';

const A = [...TOY_A];
const B = [...TOY_B];
const toy = toyObjective();
/** The lowest saddle between the two wells, from a float64 Newton solve (grad.test.ts checks it). */
const TOY_SADDLE = 0.6243878175562961;

before(async () => {
  await initBackend('cpu', { force: true });
});

function assertBarrierArithmetic(r: Pick<PathResult, 'height' | 'barrierFromA' | 'barrierFromB' | 'barrierFromMean' | 'profile' | 'tAtMax'>): void {
  const la = r.profile.loss[0];
  const lb = r.profile.loss[r.profile.loss.length - 1];
  assert.equal(r.barrierFromA, r.height - la);
  assert.equal(r.barrierFromB, r.height - lb);
  assert.equal(r.barrierFromMean, r.height - (la + lb) / 2);
  assert.equal(Math.max(...r.profile.loss), r.height);
  assert.equal(r.profile.t[r.profile.loss.indexOf(r.height)], r.tAtMax);
}

test('straight line on the toy: height 1.102 ± 0.005, on the dense grid, with its barriers', async () => {
  const r = await findPath(toy, A, B, { method: 'linear' });
  assert.equal(r.method, 'linear');
  assert.ok(Math.abs(r.height - 1.102) <= 0.005, `height ${r.height}`);
  assert.equal(r.profile.t.length, 10 * (50 - 1) + 1);
  assert.equal(r.iterations, 0);
  assert.deepEqual(r.coefficients, []);
  assert.deepEqual(r.linear, { height: r.height, tAtMax: r.tAtMax, barrierFromA: r.barrierFromA, barrierFromB: r.barrierFromB, barrierFromMean: r.barrierFromMean, profile: r.profile });
  // float32 losses against the float64 landscape at the same t.
  for (let k = 0; k < r.profile.t.length; k += 37) {
    const t = r.profile.t[k];
    const x = (1 - t) * A[0] + t * B[0];
    const y = (1 - t) * A[1] + t * B[1];
    assert.ok(Math.abs(r.profile.loss[k] - toyValue64(x, y)) < 1e-5);
  }
  assertBarrierArithmetic(r);
});

test('sum (Eq. 4), M = 100, N_F = 10, λ = 10, Adam lr 0.01, 300 steps: height 0.685 ± 0.01', async () => {
  const r = await findPath(toy, A, B, { objective: 'sum', points: 100, modes: 10, lambda: 10, lr: 0.01, steps: 300, refine: 'none' });
  assert.equal(r.objective, 'sum');
  assert.equal(r.iterations, 300);
  assert.ok(Math.abs(r.height - 0.685) <= 0.01, `height ${r.height}`);
  assert.ok(r.linear.height > 1.09);
  assertBarrierArithmetic(r);
  assert.equal(r.coefficients.length, 10);
  assert.equal(r.coefficients[0].length, 2);
});

const SQUARED = { objective: 'squared', points: 101, modes: 15, lambda: 35, lr: 0.01, steps: 300, noise: 1, refine: 'none' } as const;

test('squared (mean of loss², λ = 35, N_F = 15, 101 points, lr 0.01, 300 steps, noise σ = 1), seed 1: height 0.641 ± 0.015', async () => {
  const r = await findPath(toy, A, B, { ...SQUARED, seed: 1 });
  assert.ok(Math.abs(r.height - 0.641) <= 0.015, `height ${r.height}`);
  assert.equal(r.options.seed, 1);
  // Same seed, same path.
  const again = await findPath(toy, A, B, { ...SQUARED, seed: 1 });
  assert.equal(again.height, r.height);
  assert.deepEqual(again.coefficients, r.coefficients);
});

test('squared with noise σ = 1: the mean height over seeds 0..7 is 0.641 ± 0.015', async () => {
  const heights: number[] = [];
  for (let seed = 0; seed < 8; seed++) heights.push((await findPath(toy, A, B, { ...SQUARED, seed })).height);
  const mean = heights.reduce((s, h) => s + h, 0) / heights.length;
  assert.ok(Math.abs(mean - 0.641) <= 0.015, `mean ${mean} of ${heights.map((h) => h.toFixed(4)).join(', ')}`);
  // Every run is a real path: never below the saddle it has to cross.
  for (const h of heights) assert.ok(h >= TOY_SADDLE - 1e-4, `height ${h}`);
});

test('minimax, M = 100, N_F = 10, λ = 10, lr 0.01, 300 steps: height at most 0.630 and not below the saddle', async () => {
  const r = await findPath(toy, A, B, { points: 100, modes: 10, lambda: 10, refine: 'none' });
  assert.equal(r.objective, 'minimax');
  assert.ok(r.height <= 0.63, `height ${r.height}`);
  assert.ok(r.height >= TOY_SADDLE - 1e-4, `height ${r.height}`);
  assertBarrierArithmetic(r);
});

test('minimax with the defaults and denseSelect keeps the iterate whose dense height is lowest: at most 0.630', async () => {
  const r = await findPath(toy, A, B, { denseSelect: true, refine: 'none' });
  assert.ok(r.height <= 0.63 && r.height >= TOY_SADDLE - 1e-4, `height ${r.height}`);
});

test('NEB with climbing image agrees with minimax within 1% of the barrier', async () => {
  const neb = await findPath(toy, A, B, { method: 'neb' });
  const mm = await findPath(toy, A, B, { points: 100, modes: 10, lambda: 10, refine: 'none' });
  assert.equal(neb.method, 'neb');
  assert.equal(neb.images!.length, 50);
  assert.deepEqual(neb.images![0], A.map(Math.fround));
  assert.deepEqual(neb.images![49], B.map(Math.fround));
  const tol = 0.01 * mm.barrierFromMean;
  assert.ok(Math.abs(neb.height - mm.height) <= tol, `neb ${neb.height} minimax ${mm.height} tol ${tol}`);
  // The climbing image sits on the saddle.
  assert.ok(Math.abs(neb.height - TOY_SADDLE) < 1e-4, `neb ${neb.height}`);
  assertBarrierArithmetic(neb);
});

test('the endpoints stay fixed exactly and the first path (0 steps) is the straight line', async () => {
  const zero = await findPath(toy, A, B, { steps: 0, refine: 'none' });
  assert.equal(zero.iterations, 0);
  assert.equal(zero.height, zero.linear.height);
  assert.deepEqual(zero.profile, zero.linear.profile);
  for (const c of zero.coefficients) assert.ok(c.every((v) => v === 0));

  const r = await findPath(toy, A, B, { steps: 40, refine: 'none' });
  assert.ok(r.coefficients.some((c) => c.some((v) => v !== 0)));
  const ab = tf.tensor2d([...A, ...B], [2, 2]);
  const coef = tf.tensor2d(r.coefficients.flat(), [r.coefficients.length, 2]);
  const fp = fourierPath(ab, coef);
  const pts = pathPoints(fp.path, evenGrid(50));
  const rows = pts.arraySync();
  assert.deepEqual(rows[0], A.map(Math.fround));
  assert.deepEqual(rows[49], B.map(Math.fround));
  tf.dispose([pts, coef, ab]);
  fp.dispose();
  const direct = tf.tidy(() => toy.evaluate(tf.tensor2d([...A, ...B], [2, 2])).dataSync());
  assert.equal(r.lossA, direct[0]);
  assert.equal(r.lossB, direct[1]);
  assert.equal(r.profile.loss[0], direct[0]);
  assert.equal(r.profile.loss[r.profile.loss.length - 1], direct[1]);
});

test('A equal to B gives H = loss(A) for every method, without dividing by zero', async () => {
  for (const method of ['fourier', 'linear', 'neb'] as const) {
    for (const objective of ['minimax', 'sum', 'squared'] as const) {
      const r = await findPath(toy, A, A, { method, objective, steps: 20 });
      assert.equal(r.height, r.lossA, `${method}/${objective}`);
      assert.equal(r.barrierFromA, 0);
      assert.equal(r.barrierFromMean, 0);
      assert.ok(Number.isFinite(r.tAtMax));
      if (method !== 'fourier') break;
    }
  }
  // Nearly equal endpoints take the optimising branch; the temperature floor keeps it finite.
  const near = await findPath(toy, A, [A[0] + 1e-6, A[1]], { steps: 10 });
  assert.ok(Number.isFinite(near.height));
  assert.ok(Math.abs(near.height - near.lossA) < 1e-5);
});

test('a non-finite loss on the straight line is reported with its t', async () => {
  // NaN where x > 0.2, which the straight line first reaches at t = 0.82/1.11.
  const bad: Objective = { dim: 2, evaluate: (th) => tf.tidy(() => tf.add(toy.evaluate(th), tf.sqrt(tf.sub(0.2, tf.reshape(tf.slice(th, [0, 0], [-1, 1]), [-1]))))) as tf.Tensor1D };
  await assert.rejects(findPath(bad, A, B), (e: unknown) => {
    assert.ok(e instanceof LandscapeError);
    assert.equal(e.kind, 'compute');
    assert.match(e.message, /loss is NaN on the straight line at t = 0\.7(38|4)/);
    return true;
  });
});

test('a non-finite loss on the optimised path is reported with its t', async () => {
  let armed = false;
  const m = 10;
  const flaky: Objective = {
    dim: 2,
    evaluate: (th) =>
      tf.tidy(() => {
        const f = toy.evaluate(th);
        if (!armed || th.shape[0] !== m) return f;
        const mask = new Float32Array(m);
        mask[3] = Infinity;
        return tf.add(f, tf.tensor1d(mask)) as tf.Tensor1D;
      }),
  };
  await assert.rejects(
    findPath(flaky, A, B, { points: m, steps: 20, onIteration: (it) => { if (it.iteration === 2) armed = true; } }),
    /loss is Infinity on the path at t = 0\.333333/,
  );
});

test('cancel between iterations with an AbortSignal; no tensors are left behind', async () => {
  for (const method of ['fourier', 'neb'] as const) {
    const before = tf.memory().numTensors;
    const ac = new AbortController();
    let last = -1;
    await assert.rejects(
      findPath(toy, A, B, { method, steps: 300, signal: ac.signal, onIteration: (it) => { last = it.iteration; if (it.iteration === 5) ac.abort(); } }),
      (e: unknown) => e instanceof CancelledError,
    );
    assert.equal(last, 5);
    assert.equal(tf.memory().numTensors, before, method);
  }
  // A failing progress callback ends the search with its error and leaks nothing either.
  for (const method of ['fourier', 'neb'] as const) {
    const before = tf.memory().numTensors;
    await assert.rejects(findPath(toy, A, B, { method, steps: 50, onIteration: (it) => { if (it.iteration === 3) throw new Error('listener broke'); } }), /listener broke/);
    assert.equal(tf.memory().numTensors, before, method);
  }
  // An abort from a timer is seen too: the loop yields between iterations.
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 5);
  await assert.rejects(findPath(toy, A, B, { steps: 100000, signal: ac.signal }), CancelledError);
});

test('tensor count stays flat across iterations and returns to its start', async () => {
  for (const opts of [{ objective: 'minimax' as const }, { objective: 'squared' as const, noise: 1 }, { denseSelect: true }, { method: 'neb' as const }]) {
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    await findPath(toy, A, B, { refine: 'none', ...opts, steps: 60, onIteration: () => { counts.push(tf.memory().numTensors); } });
    // The kept best iterate is one extra tensor while it differs from the current one.
    const steady = counts.slice(3, -1);
    assert.ok(Math.max(...steady) - Math.min(...steady) <= 1, `${JSON.stringify(opts)}: ${counts.join(',')}`);
    assert.ok(Math.max(...counts.slice(-20)) <= Math.max(...counts.slice(3, 23)), `${JSON.stringify(opts)} grows: ${counts.join(',')}`);
    assert.equal(tf.memory().numTensors, before, JSON.stringify(opts));
  }
});

test('progress reports every iteration with the height falling, and τ annealing for minimax', async () => {
  const seen: { iteration: number; height: number; tau?: number; objective: number }[] = [];
  const r = await findPath(toy, A, B, { steps: 50, refine: 'none', onIteration: async (it) => { seen.push(it); } });
  assert.equal(seen.length, 51);
  assert.deepEqual(seen.map((s) => s.iteration), Array.from({ length: 51 }, (_, i) => i));
  assert.ok(seen[50].height < seen[0].height);
  const taus = seen.map((s) => s.tau!);
  for (let i = 1; i < 50; i++) assert.ok(taus[i] < taus[i - 1]);
  // τ starts at 0.3 of the straight line's loss spread over the M points and ends near 0.01 of it.
  const t0 = evenGrid(50);
  const line = t0.map((t) => toyValue64((1 - t) * A[0] + t * B[0], (1 - t) * A[1] + t * B[1]));
  const spread = Math.max(...line) - Math.min(...line);
  assert.ok(Math.abs(taus[0] - 0.3 * spread) < 1e-5 * spread);
  assert.ok(Math.abs(taus[49] - 0.01 * spread) < 1e-5 * spread);
  assert.equal(r.heightHistory.length, 51);
  assert.equal(r.objectiveHistory.length, 51);
});

test('mini-batch objectives drive the updates; heights use the full objective', async () => {
  const calls: number[] = [];
  const shifted: Objective = { dim: 2, evaluate: (th) => tf.tidy(() => tf.add(toy.evaluate(th), 100)) as tf.Tensor1D };
  const r = await findPath(toy, A, B, { steps: 5, refine: 'none', batches: (k) => { calls.push(k); return shifted; } });
  assert.deepEqual(calls, [0, 1, 2, 3, 4, 5]);
  assert.ok(r.height < 2, 'heights come from fn, not the batches');
  assert.ok(r.heightHistory[0] > 100, 'iteration losses come from the batches');
});

test('bad input names the fault', async () => {
  await assert.rejects(findPath(toy, [0, 0, 0], B), /endpoint A has 3 values but the objective takes 2/);
  await assert.rejects(findPath(toy, A, [0, NaN]), /endpoint B has a non-finite value/);
  await assert.rejects(findPath(toy, A, B, { method: 'spline' as never }), /unknown path method "spline"/);
  await assert.rejects(findPath(toy, A, B, { objective: 'mean' as never }), /unknown path objective "mean"/);
  await assert.rejects(findPath(toy, A, B, { points: 1 }), /"points" must be a whole number ≥ 2/);
  await assert.rejects(findPath(toy, A, B, { lr: 0 }), /"lr" must be a finite number > 0/);
  const e = await findPath(toy, A, B, { steps: -1 }).catch((x) => x);
  assert.ok(e instanceof LandscapeError && e.kind === 'input');
});

test('endpoints may be tensors or Float32Arrays', async () => {
  const a = tf.tensor1d(A);
  const r = await findPath(toy, a, Float32Array.from(B), { method: 'linear' });
  a.dispose();
  assert.ok(Math.abs(r.height - 1.102) <= 0.005);
});

test('refine climb: M = 50, λ = 1e-4 reaches the saddle within 0.1 % with its certificate; plain FourierPathFinder does not', async () => {
  const plain = await findPath(toy, A, B, { refine: 'none' });
  const r = await findPath(toy, A, B, { refine: 'climb' });
  const barrier = TOY_SADDLE - (r.lossA + r.lossB) / 2;
  assert.ok(Math.abs(plain.height - TOY_SADDLE) > 1e-3 * barrier, `plain ${plain.height}`);
  assert.ok(Math.abs(r.height - TOY_SADDLE) <= 1e-3 * barrier, `refined ${r.height}`);
  assert.equal(r.optimized!.height, plain.height);
  assert.equal(r.refinement!.kept, true);
  assert.ok(r.refinement!.saddle!.gradNorm < 1e-4);
  assert.ok(r.refinement!.saddle!.lowestEigenvalue < 0 && r.refinement!.saddle!.secondEigenvalue! > 0);
  assert.equal(r.refinement!.saddle!.negativeEigenvalues, 1);
  assertBarrierArithmetic(r);
});
