/**
 * The band's L-BFGS on problems with known answers: an ill-conditioned
 * quadratic (curvatures 1 to 10⁴, where a fixed-step method needs ~10⁴ steps),
 * the per-image move cap, and the reset on negative curvature.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bandLbfgsMove, newBandLbfgs } from '../../../src/engine/path/bandLbfgs';

/** F = −∇ of ½ Σ c_i (x_i − x*_i)². */
function quadraticForce(x: Float32Array, curv: number[], target: number[]): Float32Array {
  return Float32Array.from(x, (xi, i) => -curv[i] * (xi - target[i]));
}

// A fixed step below 2/10⁴ needs about 9·10⁴ steps here (the softest direction shrinks by 1 − 10⁻⁴ per step); this took 519.
test('an ill-conditioned quadratic (curvatures 1 to 10⁴) reaches its minimum in < 1000 steps', () => {
  const n = 40;
  const curv = Array.from({ length: n }, (_, i) => 10 ** ((4 * i) / (n - 1)));
  const target = Array.from({ length: n }, (_, i) => Math.sin(i + 1));
  const x = new Float32Array(n);
  // First step as small as the stiffest direction allows, as the band calibrates it.
  const state = newBandLbfgs(8, 1e-4, 10);
  let steps = 0;
  let err = Infinity;
  for (; steps < 1000; steps++) {
    err = Math.max(...Array.from(x, (xi, i) => Math.abs(xi - target[i])));
    if (err < 1e-4) break;
    const d = bandLbfgsMove(state, x, quadraticForce(x, curv, target), 4);
    for (let i = 0; i < n; i++) x[i] += d[i];
  }
  assert.ok(err < 1e-4, `after ${steps} steps the largest error is ${err}`);
});

test('no image moves further than maxMove in one step', () => {
  const inner = 3;
  const dim = 5;
  const state = newBandLbfgs(8, 1, 0.25);
  const x = new Float32Array(inner * dim);
  const force = Float32Array.from({ length: inner * dim }, (_, i) => (i < dim ? 100 : 1));
  const d = bandLbfgsMove(state, x, force, inner);
  for (let r = 0; r < inner; r++) {
    const norm = Math.hypot(...d.subarray(r * dim, (r + 1) * dim));
    assert.ok(norm <= 0.25 + 1e-6, `image ${r} moved ${norm}`);
  }
  // The cap scales the whole move, so its direction is still the force's.
  assert.ok(Math.abs(d[0] / d[dim] - 100) < 1e-3);
});

test('negative curvature empties the memory: the next move is a plain force step', () => {
  const state = newBandLbfgs(8, 0.5, 100);
  const x = Float32Array.from([0, 0]);
  bandLbfgsMove(state, x, Float32Array.from([1, 0]), 1);
  // Moving along +x made the force grow along +x: s·y < 0, as on a concave ridge.
  const d = bandLbfgsMove(state, Float32Array.from([1, 0]), Float32Array.from([2, 1]), 1);
  assert.equal(state.pairs.length, 0);
  assert.deepEqual(Array.from(d), [1, 0.5]);
});
