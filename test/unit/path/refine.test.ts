/**
 * The default pipeline (FourierPathFinder, then the climbing-image
 * refinement) against exact minimax barriers: the paper's toy, Müller–Brown
 * and a two-saddle landscape over λ ∈ {1e-4, 10, 100} × M ∈ {30, 50, 100} ×
 * the three objectives, and a stiff double well in 50 dimensions. The exact
 * answers come from float64 Newton solves on analytic gradients written in
 * test/support/landscapes64.ts, each checked to be an index-1 saddle.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../../src/engine/backend';
import type { Objective } from '../../../src/engine/objective';
import {
  findPath,
  toyObjective,
  mullerBrownObjective,
  mullerBrown64,
  twoSaddlesObjective,
  stiffDoubleWell,
  TOY_A,
  TOY_B,
  TWO_SADDLES_A,
  TWO_SADDLES_B,
  PATH_OBJECTIVES,
  type PathResult,
} from '../../../src/engine/path';
import { newton2, newtonN, toy64, twoSaddles64, stiff64 } from '../../support/landscapes64';

before(async () => {
  await initBackend('cpu', { force: true });
});

/** The target: within 0.1 % of the exact barrier above the mean endpoint loss. */
const TOLERANCE = 1e-3;

function saddle2(f: typeof toy64, x: number, y: number): number {
  const s = newton2(f, x, y);
  assert.ok(s.gradNorm < 1e-9, `Newton did not converge: ‖g‖ ${s.gradNorm}`);
  // det < 0 in 2-D: exactly one negative eigenvalue.
  assert.ok(s.det < 0, `not an index-1 saddle: det ${s.det}`);
  return s.v;
}

interface Case {
  name: string;
  fn: Objective;
  a: number[];
  b: number[];
  exact: number;
}

function cases(): Case[] {
  const mbA = newton2(mullerBrown64, -0.55, 1.44);
  const mbB = newton2(mullerBrown64, 0.62, 0.03);
  // From A to B the Müller–Brown path passes two saddles with the minimum C between them; the higher one is the barrier.
  const mbS1 = saddle2(mullerBrown64, -0.82, 0.62);
  const mbS2 = saddle2(mullerBrown64, 0.21, 0.29);
  const tsLeft = saddle2(twoSaddles64, -0.55, 0.35);
  const tsRight = saddle2(twoSaddles64, 0.6, 0.33);
  assert.ok(tsRight > tsLeft + 0.05, 'the second saddle is the higher one');
  return [
    { name: 'toy', fn: toyObjective(), a: [...TOY_A], b: [...TOY_B], exact: saddle2(toy64, -0.1, 0) },
    { name: 'Müller–Brown', fn: mullerBrownObjective(), a: [mbA.x, mbA.y], b: [mbB.x, mbB.y], exact: Math.max(mbS1, mbS2) },
    { name: 'two saddles', fn: twoSaddlesObjective(), a: [...TWO_SADDLES_A], b: [...TWO_SADDLES_B], exact: Math.max(tsLeft, tsRight) },
  ];
}

function relativeError(r: PathResult, exact: number): number {
  return (r.height - exact) / (exact - (r.lossA + r.lossB) / 2);
}

test('default pipeline: within 0.1 % of the exact barrier on the toy, Müller–Brown and two saddles in series, for λ ∈ {1e-4, 10, 100}, M ∈ {30, 50, 100} and every objective', async () => {
  const misses: string[] = [];
  let worst = 0;
  for (const c of cases()) {
    for (const objective of PATH_OBJECTIVES) {
      for (const lambda of [1e-4, 10, 100]) {
        for (const points of [30, 50, 100]) {
          const r = await findPath(c.fn, c.a, c.b, { objective, lambda, points });
          const rel = relativeError(r, c.exact);
          worst = Math.max(worst, Math.abs(rel));
          assert.equal(r.options.refine, 'climb');
          assert.ok(r.optimized && r.refinement, 'the default refines');
          assert.ok(r.height <= r.optimized.height, 'the refinement never raises H');
          if (Math.abs(rel) > TOLERANCE) misses.push(`${c.name} ${objective} λ=${lambda} M=${points}: H ${r.height} vs ${c.exact} (${(100 * rel).toFixed(3)} %)`);
        }
      }
    }
  }
  assert.deepEqual(misses, [], `worst ${(100 * worst).toFixed(4)} %`);
});

test('the certificate at the refined top: small gradient, exactly one negative Hessian eigenvalue', async () => {
  for (const c of cases()) {
    const r = await findPath(c.fn, c.a, c.b);
    const s = r.refinement!.saddle!;
    assert.equal(s.negativeEigenvalues, 1, c.name);
    assert.ok(s.lowestEigenvalue < 0 && s.secondEigenvalue! > 0, `${c.name}: ${s.lowestEigenvalue}, ${s.secondEigenvalue}`);
    assert.ok(Math.abs(s.height - c.exact) <= TOLERANCE * (c.exact - (r.lossA + r.lossB) / 2), `${c.name}: saddle ${s.height} vs ${c.exact}`);
    // These objectives have no fast kernels: central differences of gradients.
    assert.equal(s.hvp, 'finite-difference');
  }
});

/** The stiff well's saddle by Newton in θ-space from near the origin, checked to be index 1; its value is 1. */
function stiffSaddle(st: ReturnType<typeof stiffDoubleWell>): number {
  const start = st.basis[0].map((q, i) => 0.05 * q + 0.02 * st.basis[1][i] + 1e-3 * st.basis[5][i]);
  const s = newtonN((x) => stiff64(x, st.basis, st.walls), start);
  assert.ok(s.gradNorm < 1e-9, `‖g‖ ${s.gradNorm}`);
  assert.equal(s.negative, 1);
  assert.ok(Math.abs(s.v - 1) < 1e-12, `the saddle of (x² − 1)² + … is at f = 1, got ${s.v}`);
  return s.v;
}

test('stiff double well in 50 dimensions (walls 10 to 1000, rotated): every objective\'s defaults within 0.1 %', async () => {
  const st = stiffDoubleWell(50, 1e3);
  const exact = stiffSaddle(st);
  for (const objective of PATH_OBJECTIVES) {
    const r = await findPath(st.objective, st.a, st.b, { objective });
    const rel = relativeError(r, exact);
    assert.ok(Math.abs(rel) <= TOLERANCE, `${objective}: H ${r.height} (${(100 * rel).toFixed(3)} %)`);
    assert.ok(r.linear.height > exact + 0.1, 'the straight line crosses well above the saddle');
  }
});

test('stiff double well with walls to 10⁴: every objective\'s defaults within 0.1 %', async () => {
  const st = stiffDoubleWell(50, 1e4);
  const exact = stiffSaddle(st);
  for (const objective of PATH_OBJECTIVES) {
    const r = await findPath(st.objective, st.a, st.b, { objective });
    assert.ok(Math.abs(relativeError(r, exact)) <= TOLERANCE, `${objective}: H ${r.height}`);
  }
});

test('the band\'s quick-min alone stops short on the 10⁴ walls (why L-BFGS is the default)', async () => {
  const st = stiffDoubleWell(50, 1e4);
  const exact = stiffSaddle(st);
  const quick = await findPath(st.objective, st.a, st.b, { bandOptimizer: 'quick-min' });
  assert.ok(relativeError(quick, exact) > 10 * TOLERANCE, `quick-min H ${quick.height}`);
});
