/**
 * Analytic 2-D landscapes with known answers, as objectives. They let the
 * path finders be tested (and demonstrated) without a network: the paper's
 * two-well landscape (Yu & Morozov 2026, Fig. 3) and the Müller–Brown
 * potential, whose saddle points are a standard benchmark for
 * minimum-energy-path methods.
 */
import { tf } from '../backend';
import type { Objective } from '../objective';
import { inputError } from '../errors';

/** Centres of the two wells (depth 1, width exp(-3 r²)) and the two bumps (height 1, exp(-15 r²)). */
export const TOY_WELLS: readonly (readonly [number, number])[] = [
  [-0.5, -0.5],
  [0.5, 0],
];
export const TOY_BUMPS: readonly (readonly [number, number])[] = [
  [-0.2, -0.4],
  [0, 0.3],
];
export const TOY_OFFSET = 1.019;
/** The paper's endpoints, near the bottoms of the two wells. */
export const TOY_A: readonly [number, number] = [-0.62, -0.54];
export const TOY_B: readonly [number, number] = [0.49, -0.02];

function requireTwoColumns(thetas: tf.Tensor2D, what: string): void {
  if (thetas.rank !== 2 || thetas.shape[1] !== 2) {
    throw inputError(`${what} takes points of shape [M, 2], got [${thetas.shape.join(', ')}]`);
  }
}

/** Squared distance of each row of xy [M, 2] to a fixed point: [M]. */
function sqDist(xy: tf.Tensor2D, c: readonly [number, number]): tf.Tensor1D {
  return tf.sum(tf.square(tf.sub(xy, tf.tensor1d([c[0], c[1]]))), 1) as tf.Tensor1D;
}

/** f(r) = −Σ exp(−3‖r − c_i‖²) + Σ exp(−15‖r − d_j‖²) + 1.019. */
export function toyObjective(): Objective {
  return {
    dim: 2,
    evaluate: (thetas: tf.Tensor2D) =>
      tf.tidy(() => {
        requireTwoColumns(thetas, 'the toy landscape');
        let f: tf.Tensor = tf.scalar(TOY_OFFSET);
        for (const c of TOY_WELLS) f = tf.sub(f, tf.exp(tf.mul(sqDist(thetas, c), -3)));
        for (const d of TOY_BUMPS) f = tf.add(f, tf.exp(tf.mul(sqDist(thetas, d), -15)));
        return f as tf.Tensor1D;
      }),
  };
}

/** The toy landscape in float64 on the host (reference values for tests). */
export function toyValue64(x: number, y: number): number {
  let f = TOY_OFFSET;
  for (const [cx, cy] of TOY_WELLS) f -= Math.exp(-3 * ((x - cx) ** 2 + (y - cy) ** 2));
  for (const [dx, dy] of TOY_BUMPS) f += Math.exp(-15 * ((x - dx) ** 2 + (y - dy) ** 2));
  return f;
}

/**
 * Müller & Brown (1979): V = Σ_k A_k exp(a_k (x−x0_k)² + b_k (x−x0_k)(y−y0_k) + c_k (y−y0_k)²).
 */
export const MULLER_BROWN = {
  A: [-200, -100, -170, 15],
  a: [-1, -1, -6.5, 0.7],
  b: [0, 0, 11, 0.6],
  c: [-10, -10, -6.5, 0.7],
  x0: [1, 0, -0.5, -1],
  y0: [0, 0.5, 1.5, 1],
} as const;

export function mullerBrownObjective(): Objective {
  const p = MULLER_BROWN;
  return {
    dim: 2,
    evaluate: (thetas: tf.Tensor2D) =>
      tf.tidy(() => {
        requireTwoColumns(thetas, 'the Müller–Brown potential');
        const m = thetas.shape[0];
        const x = tf.reshape(tf.slice(thetas, [0, 0], [m, 1]), [m]);
        const y = tf.reshape(tf.slice(thetas, [0, 1], [m, 1]), [m]);
        let v: tf.Tensor = tf.zeros([m]);
        for (let k = 0; k < 4; k++) {
          const dx = tf.sub(x, p.x0[k]);
          const dy = tf.sub(y, p.y0[k]);
          const q = tf.add(tf.add(tf.mul(tf.square(dx), p.a[k]), tf.mul(tf.mul(dx, dy), p.b[k])), tf.mul(tf.square(dy), p.c[k]));
          v = tf.add(v, tf.mul(tf.exp(q), p.A[k]));
        }
        return v as tf.Tensor1D;
      }),
  };
}

/** Müller–Brown value, gradient and Hessian in float64 on the host. */
export function mullerBrown64(x: number, y: number): { v: number; g: [number, number]; h: [[number, number], [number, number]] } {
  const p = MULLER_BROWN;
  let v = 0;
  let gx = 0;
  let gy = 0;
  let hxx = 0;
  let hxy = 0;
  let hyy = 0;
  for (let k = 0; k < 4; k++) {
    const dx = x - p.x0[k];
    const dy = y - p.y0[k];
    const e = p.A[k] * Math.exp(p.a[k] * dx * dx + p.b[k] * dx * dy + p.c[k] * dy * dy);
    const qx = 2 * p.a[k] * dx + p.b[k] * dy;
    const qy = p.b[k] * dx + 2 * p.c[k] * dy;
    v += e;
    gx += e * qx;
    gy += e * qy;
    hxx += e * (qx * qx + 2 * p.a[k]);
    hxy += e * (qx * qy + p.b[k]);
    hyy += e * (qy * qy + 2 * p.c[k]);
  }
  return { v, g: [gx, gy], h: [[hxx, hxy], [hxy, hyy]] };
}
