/**
 * Two more analytic landscapes whose minimax barriers are known exactly, to
 * test path finders where they tend to fail:
 * - `stiffDoubleWell`: a 2-D double well with a curved valley, embedded in
 *   many dimensions behind steep quadratic walls and turned by a random
 *   rotation, so no coordinate is special. Every path from one well to the
 *   other crosses x = 0, where f ≥ (x² − 1)² = 1, and the saddle at the
 *   origin has f = 1: the barrier is exactly 1.
 * - `twoSaddles`: three minima along a curved valley, A and B with C between
 *   them, and two saddles in series; the tilt makes the second one higher.
 *   f = g(x) + k·(y − h(x))² ≥ g(x), and every path from x ≈ −1 to x ≈ 1
 *   crosses the x of each saddle, so the barrier is the higher saddle's g.
 */
import { tf } from '../backend';
import type { Objective } from '../objective';
import { inputError } from '../errors';
import { Rng } from '../rng';
import { toyObjective, mullerBrownObjective, TOY_A, TOY_B } from './toy';

/** The valley of the stiff double well: y = STIFF_BEND·x² (in its own 2-D plane). */
export const STIFF_BEND = 0.3;
/** Weight of the valley term 2·(y − 0.3x²)². */
export const STIFF_VALLEY = 2;

export interface StiffDoubleWell {
  objective: Objective;
  /** Orthonormal basis [dim][dim]: θ's coordinates in the landscape's own frame are u_k = θ·basis[k]. */
  basis: number[][];
  /** Stiffness K_k of the wall u_k²·K_k/2 for k ≥ 2 (0 for the two in-plane directions). */
  walls: number[];
  /** The two minima, u = (∓1, 0.3, 0, …) mapped back to θ. */
  a: number[];
  b: number[];
}

/** A random orthonormal basis from the seed (Gram–Schmidt on Gaussian vectors, twice for accuracy). */
function randomBasis(dim: number, seed: number): number[][] {
  const rng = new Rng(seed);
  const q: number[][] = [];
  while (q.length < dim) {
    const v = Array.from({ length: dim }, () => rng.normal());
    for (let pass = 0; pass < 2; pass++) {
      for (const w of q) {
        let d = 0;
        for (let i = 0; i < dim; i++) d += v[i] * w[i];
        for (let i = 0; i < dim; i++) v[i] -= d * w[i];
      }
    }
    const n = Math.hypot(...v);
    if (n > 1e-8) q.push(v.map((x) => x / n));
  }
  return q;
}

/**
 * f(θ) = (x² − 1)² + 2·(y − 0.3x²)² + Σ_{k≥2} K_k·u_k²/2 with u = the
 * coordinates of θ in a random orthonormal frame (x = u₀, y = u₁), and the
 * wall stiffnesses K_k spread log-evenly from `stiffness`/100 to `stiffness`.
 */
export function stiffDoubleWell(dim = 50, stiffness = 1e4, seed = 0): StiffDoubleWell {
  if (!Number.isInteger(dim) || dim < 2) throw inputError(`the stiff double well needs a whole dim ≥ 2, got ${dim}`);
  if (!(stiffness > 0)) throw inputError(`the stiff double well needs a stiffness > 0, got ${stiffness}`);
  const basis = randomBasis(dim, seed);
  const walls = basis.map((_, k) => (k < 2 ? 0 : stiffness * 100 ** ((k - 2) / Math.max(dim - 3, 1) - 1)));
  const toTheta = (u: number[]) => Array.from({ length: dim }, (_, i) => u.reduce((s, uk, k) => s + uk * basis[k][i], 0));
  const q = tf.tensor2d(basis.flat(), [dim, dim]);
  const wallRow = tf.tensor1d(walls.map((w) => w / 2));
  const objective: Objective = {
    dim,
    evaluate: (thetas: tf.Tensor2D) =>
      tf.tidy(() => {
        if (thetas.rank !== 2 || thetas.shape[1] !== dim) throw inputError(`the stiff double well takes points of shape [M, ${dim}], got [${thetas.shape.join(', ')}]`);
        const m = thetas.shape[0];
        const u = tf.matMul(thetas, q, false, true);
        const x = tf.reshape(tf.slice(u, [0, 0], [m, 1]), [m]);
        const y = tf.reshape(tf.slice(u, [0, 1], [m, 1]), [m]);
        const well = tf.square(tf.sub(tf.square(x), 1));
        const valley = tf.mul(tf.square(tf.sub(y, tf.mul(tf.square(x), STIFF_BEND))), STIFF_VALLEY);
        const wall = tf.sum(tf.mul(tf.square(u), wallRow), 1);
        return tf.add(tf.add(well, valley), wall) as tf.Tensor1D;
      }),
  };
  return { objective, basis, walls, a: toTheta([-1, STIFF_BEND]), b: toTheta([1, STIFF_BEND]) };
}

/** g(x) = x²(x² − 1)² + TWO_SADDLES_TILT·x, valley y = h(x) = 0.5·(1 − x²), weight k = 5. */
export const TWO_SADDLES_TILT = 0.05;
export const TWO_SADDLES_VALLEY = 5;
/** Near the outer minima (A left, B right); the middle minimum C sits near (0, 0.5). */
export const TWO_SADDLES_A: readonly [number, number] = [-1, 0];
export const TWO_SADDLES_B: readonly [number, number] = [1, 0];

export function twoSaddlesObjective(): Objective {
  return {
    dim: 2,
    evaluate: (thetas: tf.Tensor2D) =>
      tf.tidy(() => {
        if (thetas.rank !== 2 || thetas.shape[1] !== 2) throw inputError(`the two-saddle landscape takes points of shape [M, 2], got [${thetas.shape.join(', ')}]`);
        const m = thetas.shape[0];
        const x = tf.reshape(tf.slice(thetas, [0, 0], [m, 1]), [m]);
        const y = tf.reshape(tf.slice(thetas, [0, 1], [m, 1]), [m]);
        const x2 = tf.square(x);
        const g = tf.add(tf.mul(x2, tf.square(tf.sub(x2, 1))), tf.mul(x, TWO_SADDLES_TILT));
        const h = tf.mul(tf.sub(1, x2), 0.5);
        return tf.add(g, tf.mul(tf.square(tf.sub(y, h)), TWO_SADDLES_VALLEY)) as tf.Tensor1D;
      }),
  };
}

/** The analytic landscapes `landscape path --landscape` knows, by name. */
export const ANALYTIC_LANDSCAPES = ['toy', 'muller-brown', 'two-saddles', 'stiff'] as const;
export type AnalyticLandscapeName = (typeof ANALYTIC_LANDSCAPES)[number];

/** Müller–Brown's minima A and B (Müller & Brown 1979), to six decimals. */
export const MULLER_BROWN_A: readonly [number, number] = [-0.558224, 1.441726];
export const MULLER_BROWN_B: readonly [number, number] = [0.623499, 0.028038];

export interface AnalyticLandscape {
  objective: Objective;
  a: number[];
  b: number[];
  description: string;
}

/** An analytic landscape and the two minima a path joins on it. */
export function analyticLandscape(name: AnalyticLandscapeName): AnalyticLandscape {
  switch (name) {
    case 'toy':
      return { objective: toyObjective(), a: [...TOY_A], b: [...TOY_B], description: 'the paper\'s 2-D toy landscape (Yu & Morozov 2026, Fig. 3)' };
    case 'muller-brown':
      return { objective: mullerBrownObjective(), a: [...MULLER_BROWN_A], b: [...MULLER_BROWN_B], description: 'the Müller–Brown potential, minimum A to minimum B (two saddles in series)' };
    case 'two-saddles':
      return { objective: twoSaddlesObjective(), a: [...TWO_SADDLES_A], b: [...TWO_SADDLES_B], description: 'three minima along a curved valley, two saddles in series, the second higher' };
    case 'stiff': {
      const st = stiffDoubleWell();
      return { objective: st.objective, a: st.a, b: st.b, description: 'a 2-D double well in 50 dimensions behind rotated quadratic walls of stiffness 100 to 10⁴' };
    }
    default:
      throw inputError(`unknown landscape "${String(name)}"; choose one of ${ANALYTIC_LANDSCAPES.join(', ')}`);
  }
}
