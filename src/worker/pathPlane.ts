/**
 * The plane a path is drawn in: origin A, axis 1 along B − A, axis 2 along
 * the deviation from the straight line of the path point farthest from it
 * (orthonormalised against axis 1). Every path point is projected onto these
 * two axes in float64, so the worker sends only 2-D coordinates however many
 * parameters the network has.
 *
 * Pure (no tfjs, no vscode): the points come from a callback, so a path of
 * hundreds of points in a large network never has to sit in memory at once.
 */
import { curveWeights } from '../engine/path/curves';
import type { CurveMethod } from '../engine/path/types';

export interface PlaneProjection {
  x: number[];
  y: number[];
  distanceAB: number;
  maxDeviation: number;
  /** Index (into the points) of the farthest point from the straight line; -1 when the path is straight. */
  farthest: number;
  maxResidual: number;
  /** The plane's unit axes (axis 2 is all zeros for a straight path). */
  e1: Float64Array;
  e2: Float64Array;
}

/** Writes point k of the path into `out` (length dim). */
export type PointSource = (k: number, out: Float64Array) => void;

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * Project `count` path points into the plane of A, B and the largest
 * deviation. A path whose points all lie on the line through A and B (up to
 * rounding) has no second axis: its y are all zero.
 */
export function projectToPlane(a: ArrayLike<number>, b: ArrayLike<number>, count: number, point: PointSource): PlaneProjection {
  const dim = a.length;
  if (b.length !== dim) throw new Error(`A has ${dim} values but B has ${b.length}`);
  const e1 = new Float64Array(dim);
  for (let i = 0; i < dim; i++) e1[i] = b[i] - a[i];
  const distanceAB = Math.sqrt(dot(e1, e1));
  if (distanceAB > 0) for (let i = 0; i < dim; i++) e1[i] /= distanceAB;

  const p = new Float64Array(dim);
  const r = new Float64Array(dim);
  const x = new Array<number>(count);
  let farthest = -1;
  let maxDev2 = 0;
  let scale = distanceAB;
  // Pass 1: coordinate along A→B and squared distance from the line, per point.
  for (let k = 0; k < count; k++) {
    point(k, p);
    for (let i = 0; i < dim; i++) r[i] = p[i] - a[i];
    const xk = distanceAB > 0 ? dot(r, e1) : 0;
    x[k] = xk;
    scale = Math.max(scale, Math.sqrt(dot(r, r)));
    // The deviation as a vector, not ‖r‖² − x²: the difference of squares cancels to noise near the line.
    let dev2 = 0;
    for (let i = 0; i < dim; i++) {
      const d = r[i] - xk * e1[i];
      dev2 += d * d;
    }
    if (dev2 > maxDev2) {
      maxDev2 = dev2;
      farthest = k;
    }
  }
  const e2 = new Float64Array(dim);
  // Deviations at the level of float rounding are not a direction.
  const straight = farthest < 0 || Math.sqrt(maxDev2) <= 1e-9 * Math.max(1, scale);
  if (!straight) {
    point(farthest, p);
    for (let i = 0; i < dim; i++) e2[i] = p[i] - a[i];
    // Gram–Schmidt twice: one pass leaves a component along e1 of the order of the rounding error times ‖r‖/‖d‖.
    for (let pass = 0; pass < 2; pass++) {
      const c = distanceAB > 0 ? dot(e2, e1) : 0;
      for (let i = 0; i < dim; i++) e2[i] -= c * e1[i];
    }
    const n = Math.sqrt(dot(e2, e2));
    for (let i = 0; i < dim; i++) e2[i] /= n;
  }

  // Pass 2: coordinate along the deviation, and what the plane leaves out.
  const y = new Array<number>(count).fill(0);
  let maxResidual = 0;
  let maxDeviation = 0;
  for (let k = 0; k < count; k++) {
    point(k, p);
    for (let i = 0; i < dim; i++) r[i] = p[i] - a[i];
    const yk = straight ? 0 : dot(r, e2);
    y[k] = yk;
    let dev2 = 0;
    let res2 = 0;
    for (let i = 0; i < dim; i++) {
      const d = r[i] - x[k] * e1[i];
      const q = d - yk * e2[i];
      dev2 += d * d;
      res2 += q * q;
    }
    maxDeviation = Math.max(maxDeviation, Math.sqrt(dev2));
    maxResidual = Math.max(maxResidual, Math.sqrt(res2));
  }
  return { x, y, distanceAB, maxDeviation, farthest: straight ? -1 : farthest, maxResidual, e1, e2 };
}

/**
 * A point source for the Fourier path ω(t) = (1 − t)·A + t·B + Σ_n b_n·sin(nπt)
 * at the given t (float64, so the drawing does not inherit float32 noise).
 */
export function fourierPointSource(a: ArrayLike<number>, b: ArrayLike<number>, coefficients: readonly ArrayLike<number>[], t: ArrayLike<number>): PointSource {
  const dim = a.length;
  return (k, out) => {
    const tk = t[k];
    for (let i = 0; i < dim; i++) out[i] = a[i] + tk * (b[i] - a[i]);
    for (let n = 0; n < coefficients.length; n++) {
      const s = Math.sin((n + 1) * Math.PI * tk);
      if (s === 0) continue;
      const c = coefficients[n];
      for (let i = 0; i < dim; i++) out[i] += s * c[i];
    }
  };
}

/** A point source for the piecewise-linear chain through `images` (NEB), image i at t = i/(M − 1). */
/** A Bezier curve or polygonal chain through its trained bend (Garipov et al.), at `t`. */
export function curvePointSource(method: CurveMethod, a: ArrayLike<number>, b: ArrayLike<number>, bend: ArrayLike<number>, t: ArrayLike<number>): PointSource {
  const w = new Float64Array(3);
  return (k, out) => {
    curveWeights(method, t[k], w);
    for (let i = 0; i < out.length; i++) out[i] = w[0] * a[i] + w[1] * b[i] + w[2] * bend[i];
  };
}

export function chainPointSource(images: readonly ArrayLike<number>[], t: ArrayLike<number>): PointSource {
  const m = images.length;
  return (k, out) => {
    let s = t[k] * (m - 1);
    const rs = Math.round(s);
    if (Math.abs(s - rs) < 1e-9) s = rs;
    const j = Math.min(Math.max(Math.floor(s), 0), Math.max(0, m - 2));
    const u = m > 1 ? s - j : 0;
    const p = images[j];
    const q = images[Math.min(j + 1, m - 1)];
    for (let i = 0; i < out.length; i++) out[i] = (1 - u) * p[i] + u * q[i];
  };
}

/**
 * The grid of a loss surface around the drawn path: the path's bounding box in
 * the plane (A and B included), widened by `margin` of its size on each side.
 */
export function planeGrid(x: readonly number[], y: readonly number[], distanceAB: number, size: number, margin = 0.25): { gx: number[]; gy: number[] } {
  let x0 = Math.min(0, distanceAB);
  let x1 = Math.max(0, distanceAB);
  let y0 = 0;
  let y1 = 0;
  // Loops, not spreads: a long path would overflow the argument stack.
  for (const v of x) (x0 = Math.min(x0, v)), (x1 = Math.max(x1, v));
  for (const v of y) (y0 = Math.min(y0, v)), (y1 = Math.max(y1, v));
  const w = x1 - x0 || 1;
  // A flat drawing still gets some height, so the valley the line runs in shows.
  const h = Math.max(y1 - y0, 0.25 * w);
  const cy = (y0 + y1) / 2;
  x0 -= margin * w;
  x1 += margin * w;
  y0 = cy - (h / 2) * (1 + 2 * margin);
  y1 = cy + (h / 2) * (1 + 2 * margin);
  const lin = (lo: number, hi: number) => Array.from({ length: size }, (_, i) => (size === 1 ? (lo + hi) / 2 : lo + ((hi - lo) * i) / (size - 1)));
  return { gx: lin(x0, x1), gy: lin(y0, y1) };
}
