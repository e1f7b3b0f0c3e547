/**
 * L-BFGS on the whole elastic band (Sheppard, Terrell & Henkelman 2008,
 * J. Chem. Phys. 128, 134106: the "global L-BFGS" of their comparison of
 * NEB optimisers). The band's interior images are one vector x and the NEB
 * force F plays −∇; curvature pairs (s, y) = (Δx, −ΔF) build an inverse
 * Hessian that scales each direction by its own stiffness. Quick-min's step is
 * bounded by the stiffest direction (a wall of curvature 10⁴ forces dt² < 2·10⁻⁴),
 * so the soft directions along the valley, where the saddle is, barely move;
 * L-BFGS takes large steps there and small ones across the walls.
 *
 * The NEB force is not a gradient (it is projected), so two safeguards: a pair
 * with s·y ≤ 0 empties the memory, and a direction that does not point along
 * F (d·F ≤ 0) is replaced by a plain force step. The climbing image's force
 * changes its law when another image becomes the highest, so the caller
 * resets the memory then. No line search: the band's energy is not the
 * function being minimised. Each image moves at most `maxMove` per step.
 */
import { dot } from '../analysis/linalg';

export interface BandLbfgs {
  /** Curvature pairs, oldest first. */
  pairs: { s: Float32Array; y: Float32Array; rho: number }[];
  memory: number;
  prevX?: Float32Array;
  prevF?: Float32Array;
  /** Inverse curvature for a step without memory: force × this = move. */
  firstStep: number;
  /** Largest move of one image in one step (its Euclidean norm). */
  maxMove: number;
}

export function newBandLbfgs(memory: number, firstStep: number, maxMove: number): BandLbfgs {
  return { pairs: [], memory, firstStep, maxMove };
}

export function resetBandLbfgs(state: BandLbfgs): void {
  state.pairs = [];
  state.prevX = undefined;
  state.prevF = undefined;
}

/** Remembers (Δx, −ΔF) when it has positive curvature, else forgets everything. */
function remember(state: BandLbfgs, x: Float32Array, force: Float32Array): void {
  if (state.prevX && state.prevF) {
    const s = new Float32Array(x.length);
    const y = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) {
      s[i] = x[i] - state.prevX[i];
      y[i] = state.prevF[i] - force[i];
    }
    const sy = dot(s, y);
    if (sy > 0) {
      state.pairs.push({ s, y, rho: 1 / sy });
      if (state.pairs.length > state.memory) state.pairs.shift();
    } else state.pairs = [];
  }
  state.prevX = Float32Array.from(x);
  state.prevF = Float32Array.from(force);
}

/** The two-loop recursion: H·F with the remembered pairs, H₀ = γ·I from the newest pair. */
function inverseHessianTimes(state: BandLbfgs, force: Float32Array): Float32Array {
  const q = Float64Array.from(force);
  const alpha = new Float64Array(state.pairs.length);
  for (let k = state.pairs.length - 1; k >= 0; k--) {
    const { s, y, rho } = state.pairs[k];
    let a = 0;
    for (let i = 0; i < q.length; i++) a += s[i] * q[i];
    alpha[k] = rho * a;
    for (let i = 0; i < q.length; i++) q[i] -= alpha[k] * y[i];
  }
  const newest = state.pairs[state.pairs.length - 1];
  const gamma = newest ? 1 / (newest.rho * dot(newest.y, newest.y)) : state.firstStep;
  for (let i = 0; i < q.length; i++) q[i] *= gamma;
  for (let k = 0; k < state.pairs.length; k++) {
    const { s, y, rho } = state.pairs[k];
    let b = 0;
    for (let i = 0; i < q.length; i++) b += y[i] * q[i];
    b *= rho;
    for (let i = 0; i < q.length; i++) q[i] += s[i] * (alpha[k] - b);
  }
  return Float32Array.from(q);
}

/**
 * The move of the band's interior images ([inner·dim], row per image) for
 * this force; updates the memory with the current position first.
 */
export function bandLbfgsMove(state: BandLbfgs, x: Float32Array, force: Float32Array, inner: number): Float32Array {
  remember(state, x, force);
  let d = inverseHessianTimes(state, force);
  if (!(dot(d, force) > 0)) {
    state.pairs = [];
    d = Float32Array.from(force, (f) => f * state.firstStep);
  }
  const dim = x.length / inner;
  let largest = 0;
  for (let r = 0; r < inner; r++) {
    let ss = 0;
    for (let c = 0; c < dim; c++) ss += d[r * dim + c] ** 2;
    largest = Math.max(largest, Math.sqrt(ss));
  }
  if (largest > state.maxMove) {
    const shrink = state.maxMove / largest;
    for (let i = 0; i < d.length; i++) d[i] *= shrink;
  }
  return d;
}
