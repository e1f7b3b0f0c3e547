/**
 * Heights along a path. Every path here (straight line, Fourier path,
 * piecewise-linear NEB chain) is a fixed linear combination of a few basis
 * vectors, ω(t) = Σ_k w_k(t)·P_k, so a grid of t becomes one small weight
 * matrix times the basis, evaluated in batched chunks.
 */
import { tf } from '../backend';
import type { Objective } from '../objective';
import { computeError } from '../errors';
import type { HeightSummary } from './types';

export interface BasisPath {
  /** P, [K, dim]. Not disposed here. */
  basis: tf.Tensor2D;
  /** Writes the K weights of ω(t) into row (length K). */
  weights(t: number, row: Float32Array): void;
  /** Named in error messages, e.g. "the straight line". */
  label: string;
}

/** M evenly spaced t in [0, 1], endpoints included and exact. */
export function evenGrid(m: number): Float64Array {
  const t = new Float64Array(m);
  for (let i = 0; i < m; i++) t[i] = m === 1 ? 0 : i / (m - 1);
  if (m > 1) t[m - 1] = 1;
  return t;
}

/** The dense grid the heights are measured on: ten times finer than M points. */
export function denseGridSize(m: number): number {
  return 10 * (m - 1) + 1;
}

/** Weight matrix [t.length, K] of a path at the given t. */
export function weightMatrix(path: BasisPath, t: ArrayLike<number>): Float32Array {
  const k = path.basis.shape[0];
  const w = new Float32Array(t.length * k);
  for (let i = 0; i < t.length; i++) path.weights(t[i], w.subarray(i * k, (i + 1) * k));
  return w;
}

/** Points of the path at the given t, [n, dim]. The caller disposes. */
export function pathPoints(path: BasisPath, t: ArrayLike<number>): tf.Tensor2D {
  const k = path.basis.shape[0];
  return tf.tidy(() => tf.matMul(tf.tensor2d(weightMatrix(path, t), [t.length, k]), path.basis));
}

/**
 * Losses along the path at the given t, evaluated in chunks of `chunk`
 * points (one batched call each). Throws a compute error naming the first t
 * with a non-finite loss.
 */
export function evaluateAlong(fn: Objective, path: BasisPath, t: ArrayLike<number>, chunk: number): Float64Array {
  const out = new Float64Array(t.length);
  const step = Math.max(1, Math.floor(chunk));
  for (let start = 0; start < t.length; start += step) {
    const n = Math.min(step, t.length - start);
    const ts = Array.from({ length: n }, (_, i) => t[start + i]);
    const losses = tf.tidy(() => {
      const pts = pathPoints(path, ts);
      return fn.evaluate(pts);
    });
    const v = losses.dataSync();
    losses.dispose();
    if (v.length !== n) throw computeError(`the objective returned ${v.length} losses for ${n} points on ${path.label}`);
    for (let i = 0; i < n; i++) out[start + i] = v[i];
  }
  checkFinite(out, t, path.label);
  return out;
}

export function checkFinite(loss: ArrayLike<number>, t: ArrayLike<number>, label: string): void {
  for (let i = 0; i < loss.length; i++) {
    if (!Number.isFinite(loss[i])) {
      throw computeError(`loss is ${loss[i]} on ${label} at t = ${formatT(t[i])}`);
    }
  }
}

function formatT(t: number): string {
  return Number(t.toPrecision(6)).toString();
}

/** Height, where it lies and the three barriers, from losses on a grid that includes both endpoints. */
export function summarize(t: ArrayLike<number>, loss: ArrayLike<number>): HeightSummary {
  let iMax = 0;
  for (let i = 1; i < loss.length; i++) if (loss[i] > loss[iMax]) iMax = i;
  const h = loss[iMax];
  const la = loss[0];
  const lb = loss[loss.length - 1];
  return {
    height: h,
    tAtMax: t[iMax],
    barrierFromA: h - la,
    barrierFromB: h - lb,
    barrierFromMean: h - (la + lb) / 2,
    profile: { t: Array.from(t), loss: Array.from(loss) },
  };
}

/** Evaluate a path on the dense grid for M points and summarise it. */
export function denseHeights(fn: Objective, path: BasisPath, m: number, chunk: number): HeightSummary {
  const t = evenGrid(denseGridSize(m));
  return summarize(t, evaluateAlong(fn, path, t, chunk));
}

/** The straight line (1 − t)·A + t·B, with A and B as the rows of `ab` [2, dim]. */
export function straightPath(ab: tf.Tensor2D): BasisPath {
  return {
    basis: ab,
    label: 'the straight line',
    weights(t, row) {
      // Exact 0 and 1 at the ends, so the end points are A and B bit for bit.
      row[0] = t === 1 ? 0 : 1 - t;
      row[1] = t === 0 ? 0 : t;
    },
  };
}

/** The piecewise-linear chain through the rows of `images` [M, dim], t = i/(M − 1) at image i. */
export function chainPath(images: tf.Tensor2D, label = 'the elastic band'): BasisPath {
  const m = images.shape[0];
  return {
    basis: images,
    label,
    weights(t, row) {
      row.fill(0);
      if (m === 1) {
        row[0] = 1;
        return;
      }
      let s = t * (m - 1);
      // Grid points that fall on an image must give that image exactly.
      const r = Math.round(s);
      if (Math.abs(s - r) < 1e-9) s = r;
      const k = Math.min(Math.max(Math.floor(s), 0), m - 2);
      const u = s - k;
      row[k] = 1 - u;
      row[k + 1] += u;
    },
  };
}
