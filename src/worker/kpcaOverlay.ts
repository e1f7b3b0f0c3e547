/**
 * Points along a path for a kernel PCA overlay: ω(t) at evenly spaced t
 * from the saved coefficients (or NEB images), in float64, and the path's
 * loss at those t read off its dense profile. Pure (no tfjs, no vscode): the
 * worker projects the vectors with the fitted map's `transform`.
 */
import type { PointSource } from './pathPlane';

/** How many points of a path are projected: enough to show its bend, few enough to hover. */
export const PATH_OVERLAY_POINTS = 21;

/** `count` evenly spaced t in [0, 1], both ends included. */
export function overlayT(count = PATH_OVERLAY_POINTS): number[] {
  if (!Number.isInteger(count) || count < 2) throw new Error(`a path overlay needs at least 2 points, got ${count}`);
  return Array.from({ length: count }, (_, i) => i / (count - 1));
}

/** The path's points at `t` as separate float64 vectors (what kernel PCA's transform takes). */
export function pathVectors(source: PointSource, dim: number, t: readonly number[]): Float64Array[] {
  return t.map((_, k) => {
    const v = new Float64Array(dim);
    source(k, v);
    return v;
  });
}

/**
 * Linear interpolation of `values` over the increasing grid `grid` at `at`
 * (clamped to the ends); undefined when the grid is empty or the two do not match.
 */
export function interpolate(grid: readonly number[], values: readonly number[], at: number): number | undefined {
  const n = grid.length;
  if (n === 0 || values.length !== n || !Number.isFinite(at)) return undefined;
  if (at <= grid[0]) return values[0];
  if (at >= grid[n - 1]) return values[n - 1];
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (grid[mid] <= at) lo = mid;
    else hi = mid;
  }
  const span = grid[hi] - grid[lo];
  const u = span > 0 ? (at - grid[lo]) / span : 0;
  return values[lo] + u * (values[hi] - values[lo]);
}
