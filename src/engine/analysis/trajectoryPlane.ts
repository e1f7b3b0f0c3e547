/**
 * The trajectory plane (Li et al. 2018, §7): the plane through a run's final
 * weights θ_final spanned by the first two principal directions of its
 * checkpoints' displacements d_k = θ_k − θ_final, and the loss sliced on it
 * with the checkpoints projected into it.
 *
 * The PCA is uncentred: the directions are the top eigenvectors of
 * Σ_k d_k d_kᵀ (the top right singular vectors of D = [d_1; …; d_m]), not of
 * the covariance about the mean displacement. The slice is drawn through
 * θ_final, and among all planes through θ_final this one lies closest to the
 * checkpoints in least squares (Eckart–Young); its explained variance is the
 * fraction of Σ‖d_k‖² that the drawn plane holds. A centred PCA (what
 * scikit-learn's PCA, and so Li et al.'s released code, computes) fits the
 * plane through the displacements' mean instead, which the slice does not
 * pass through, and its variance fractions would describe that other plane.
 *
 * Everything is float64 on the host: the Gram matrix of the displacements
 * (m × m for m checkpoints) is formed without storing the displacements, then
 * eigendecomposed exactly (m is small), and the directions rebuilt from it.
 */
import { computeError, inputError } from '../errors';
import type { Objective } from '../objective';
import { evaluateValues } from '../objective';
import { formatPercent } from '../../format';
import { norm, orthogonalise, scale, symmetricEigen } from './linalg';
import { DEFAULT_2D_POINTS, slice2DOnPlane, type PlaneAxisSpec, type Slice2D, type Slice2DOptions } from './slices';

/** The two principal directions of a trajectory about a reference point, and the trajectory in their coordinates. */
export interface TrajectoryPCA {
  /** Unit norm, orthogonal; oriented so that the first point has coordinates ≥ 0. */
  directions: [Float64Array, Float64Array];
  /** Σ_k x_k² / Σ_k ‖d_k‖² and Σ_k y_k² / Σ_k ‖d_k‖²: each direction's fraction of the total squared displacement. */
  explainedVariance: [number, number];
  /** Σ_k ‖d_k‖². */
  total: number;
  /** (x_k, y_k) = (⟨d_k, v₁⟩, ⟨d_k, v₂⟩) for each point, in the order given. */
  coords: [number, number][];
  /** ‖d_k − x_k·v₁ − y_k·v₂‖: how far each point lies from the plane. */
  offPlane: number[];
}

/** Below this ratio of the second to the first eigenvalue the trajectory spans a line, not a plane. */
const RANK_TOLERANCE = 1e-12;
/** Most floats in one batch of checkpoint evaluations. */
const MAX_BATCH_FLOATS = 1 << 22;

/** The uncentred PCA of points − reference (see the file comment); `labels` name the points in errors. */
export function trajectoryPCA(points: readonly ArrayLike<number>[], reference: ArrayLike<number>, labels: readonly string[] = []): TrajectoryPCA {
  const name = (k: number) => labels[k] ?? `point ${k + 1}`;
  checkPoints(points, reference, name);
  const m = points.length;
  const gram = displacementGram(points, reference);
  let total = 0;
  for (let k = 0; k < m; k++) total += gram[k * m + k];
  if (!(total > 0)) throw inputError('every checkpoint equals the reference weights; there is no trajectory to span a plane');
  const eig = symmetricEigen(gram, m);
  const [l1, l2] = [eig.values[0], eig.values[1]];
  if (!(l2 > RANK_TOLERANCE * l1)) {
    throw inputError(`the checkpoints lie on one line through the reference weights (principal values ${l1} and ${l2}); a plane needs a trajectory that turns`);
  }
  const v1 = unit(combine(points, reference, eig.vectors[0]));
  const v2 = unit(orthogonalise(combine(points, reference, eig.vectors[1]), [v1]));
  let coords = points.map((p): [number, number] => [displacementDot(p, reference, v1), displacementDot(p, reference, v2)]);
  // Orientation is arbitrary for eigenvectors; fix it so the start of training has non-negative coordinates.
  const flip: [number, number] = [coords[0][0] < 0 ? -1 : 1, coords[0][1] < 0 ? -1 : 1];
  scale(v1, flip[0]);
  scale(v2, flip[1]);
  coords = coords.map(([x, y]) => [flip[0] * x, flip[1] * y]);
  const sumSq = (i: 0 | 1) => coords.reduce((s, c) => s + c[i] * c[i], 0);
  return {
    directions: [v1, v2],
    explainedVariance: [sumSq(0) / total, sumSq(1) / total],
    total,
    coords,
    offPlane: points.map((p, k) => residualNorm(p, reference, v1, v2, coords[k])),
  };
}

function checkPoints(points: readonly ArrayLike<number>[], reference: ArrayLike<number>, name: (k: number) => string): void {
  if (points.length < 2) throw inputError(`the trajectory plane needs two checkpoints besides the reference weights, got ${points.length}`);
  checkFinite(reference, 'the reference weights');
  points.forEach((p, k) => {
    if (p.length !== reference.length) throw inputError(`has ${p.length} parameters but the reference weights have ${reference.length}`, name(k));
    checkFinite(p, name(k));
  });
}

function checkFinite(v: ArrayLike<number>, name: string): void {
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) throw inputError(`parameter ${i} is not finite (${v[i]})`, name);
}

/** G[i][j] = ⟨p_i − r, p_j − r⟩ in float64, row-major; the differences are formed on the fly, never stored. */
function displacementGram(points: readonly ArrayLike<number>[], r: ArrayLike<number>): Float64Array {
  const m = points.length;
  const g = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    const a = points[i];
    for (let j = 0; j <= i; j++) {
      const b = points[j];
      let s = 0;
      for (let p = 0; p < r.length; p++) s += (a[p] - r[p]) * (b[p] - r[p]);
      g[i * m + j] = g[j * m + i] = s;
    }
  }
  return g;
}

/** Σ_k w_k·(p_k − r): a principal direction from its eigenvector of the Gram matrix. */
function combine(points: readonly ArrayLike<number>[], r: ArrayLike<number>, w: ArrayLike<number>): Float64Array {
  const v = new Float64Array(r.length);
  points.forEach((p, k) => {
    const wk = w[k];
    for (let i = 0; i < v.length; i++) v[i] += wk * (p[i] - r[i]);
  });
  return v;
}

function unit(v: Float64Array): Float64Array {
  const n = norm(v);
  if (!(n > 0)) throw computeError('a principal direction of the trajectory came out zero');
  return scale(v, 1 / n);
}

function displacementDot(p: ArrayLike<number>, r: ArrayLike<number>, v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (p[i] - r[i]) * v[i];
  return s;
}

/** ‖(p − r) − x·v₁ − y·v₂‖, summed directly: ‖d‖² − x² − y² would cancel for points close to the plane. */
function residualNorm(p: ArrayLike<number>, r: ArrayLike<number>, v1: Float64Array, v2: Float64Array, [x, y]: [number, number]): number {
  let s = 0;
  for (let i = 0; i < v1.length; i++) {
    const e = p[i] - r[i] - x * v1[i] - y * v2[i];
    s += e * e;
  }
  return Math.sqrt(s);
}

/**
 * The grid's range on one axis: the coordinates (and 0) with `pad` on both
 * sides, widened by at most one grid step so that 0 is a grid point, which
 * puts the reference weights themselves on the grid.
 */
export function gridRangeThroughZero(coords: readonly number[], pad: number, points: number): [number, number] {
  const lo = Math.min(0, ...coords) - pad;
  const hi = Math.max(0, ...coords) + pad;
  if (points < 3) return [lo, hi];
  // One spare cell: moving lo down to a multiple of the step (≤ one step) still leaves hi covered.
  const step = (hi - lo) / (points - 2);
  const start = Math.floor(lo / step) * step;
  return [start, start + (points - 1) * step];
}

/** A checkpoint on the trajectory: its weights, its name and the epoch it was saved at. */
export interface TrajectoryCheckpoint {
  theta: ArrayLike<number>;
  label: string;
  epoch: number;
}

/** A checkpoint's place on the plane, with its own loss (off the plane, where it really is). */
export interface TrajectoryPoint {
  label: string;
  epoch: number;
  x: number;
  y: number;
  offPlane: number;
  loss: number;
}

/** What the slice of a trajectory plane adds to the slice: the trajectory and the variance the plane explains. */
export interface TrajectoryOnPlane {
  pca: 'uncentred';
  explainedVariance: [number, number];
  /** The checkpoints in the order given, the final weights last at (0, 0). */
  points: TrajectoryPoint[];
}

export interface TrajectoryPlaneOptions extends Slice2DOptions {
  /** Padding around the trajectory, as a fraction of its larger extent, on every side. Default 0.25. */
  margin?: number;
}

/**
 * The loss on the trajectory plane of `earlier` checkpoints about `final`:
 * θ(x, y) = θ_final + x·v₁ + y·v₂. By default the grid covers every
 * checkpoint's projection with a margin (the same padding on both axes, so
 * the picture is not stretched more than the trajectory is) and has θ_final
 * on a grid point.
 */
export async function sliceTrajectoryPlane(
  fn: Objective,
  final: TrajectoryCheckpoint,
  earlier: readonly TrajectoryCheckpoint[],
  opts: TrajectoryPlaneOptions = {},
): Promise<{ slice: Slice2D; trajectory: TrajectoryOnPlane }> {
  const pca = trajectoryPCA(
    earlier.map((c) => c.theta),
    final.theta,
    earlier.map((c) => c.label),
  );
  const [x, y] = planeAxes(pca, earlier.length, opts);
  const slice = await slice2DOnPlane(fn, final.theta, pca.directions[0], pca.directions[1], {
    x,
    y,
    method: 'trajectory-plane',
    parameterization: 'θ(x, y) = θ_final + x·v₁ + y·v₂',
    centreLabel: final.label,
    markers: [{ label: final.label, x: 0, y: 0, point: final.theta }],
  }, opts);
  const losses = lossesAt(fn, earlier);
  const points: TrajectoryPoint[] = earlier.map((c, k) => ({ label: c.label, epoch: c.epoch, x: pca.coords[k][0], y: pca.coords[k][1], offPlane: pca.offPlane[k], loss: losses[k] }));
  points.push({ label: final.label, epoch: final.epoch, x: 0, y: 0, offPlane: 0, loss: slice.meta.centre.loss });
  return { slice, trajectory: { pca: 'uncentred', explainedVariance: pca.explainedVariance, points } };
}

function planeAxes(pca: TrajectoryPCA, m: number, opts: TrajectoryPlaneOptions): [PlaneAxisSpec, PlaneAxisSpec] {
  const margin = opts.margin ?? 0.25;
  if (!(margin >= 0) || !Number.isFinite(margin)) throw inputError(`margin must be a finite number ≥ 0, got ${opts.margin}`);
  const xs = pca.coords.map((c) => c[0]);
  const ys = pca.coords.map((c) => c[1]);
  const extent = (v: number[]) => Math.max(0, ...v) - Math.min(0, ...v);
  const pad = margin * Math.max(extent(xs), extent(ys));
  const nx = opts.xPoints ?? opts.points ?? DEFAULT_2D_POINTS;
  const ny = opts.yPoints ?? opts.points ?? DEFAULT_2D_POINTS;
  const axis = (i: 0 | 1, name: string, coords: number[], range: [number, number] | undefined, points: number): PlaneAxisSpec => ({
    name,
    label: `${name} (PC${i + 1}, ${formatPercent(pca.explainedVariance[i])} of the trajectory's variance)`,
    range: range ?? gridRangeThroughZero(coords, pad, points),
    points,
    direction: {
      kind: 'trajectory-pca',
      norm: 1,
      description: `principal direction ${i + 1} of θ_k − θ_final over ${m} checkpoints (uncentred PCA), unit norm, the first checkpoint at ${name} ≥ 0`,
    },
  });
  return [axis(0, 'x', xs, opts.xRange, nx), axis(1, 'y', ys, opts.yRange, ny)];
}

/** Each checkpoint's own loss, in batches that keep the stacked weights bounded. */
function lossesAt(fn: Objective, cks: readonly TrajectoryCheckpoint[]): number[] {
  const rows = Math.max(1, Math.floor(MAX_BATCH_FLOATS / fn.dim));
  const out: number[] = [];
  for (let start = 0; start < cks.length; start += rows) {
    const part = cks.slice(start, start + rows);
    const v = evaluateValues(fn, part.map((c) => c.theta));
    part.forEach((c, i) => {
      if (!Number.isFinite(v[i])) throw computeError(`the loss at ${c.label} is not finite (${v[i]})`);
      out.push(v[i]);
    });
  }
  return out;
}
