/**
 * The lowest eigenvalues of a Hessian given only as products v ↦ H·v, by
 * Lanczos with full reorthogonalisation in float64 on the host. A saddle's
 * certificate needs the bottom of the spectrum: one negative eigenvalue
 * means an index-1 saddle (a mountain pass), none a minimum, two or more a
 * higher-order saddle. The products are a parameter, so callers can pass
 * central differences of gradients or exact products alike.
 */
import { Rng } from '../rng';
import { dot, norm, orthogonalise, randomNormal, scale, tridiagonalEigen } from '../analysis/linalg';

export type HessianProduct = (v: Float64Array) => Float64Array;

export interface LowestEigenResult {
  /** The two lowest Ritz values, ascending (one when dim is 1). */
  values: number[];
  /** |β_k·s_k|, the residual norm ‖H·y − θ·y‖ of each Ritz pair, as values. */
  residuals: number[];
  /** Ritz values below −tol·(largest |Ritz value|): the saddle's index as far as Lanczos sees. */
  negative: number;
  /** Lanczos steps (products) taken. */
  steps: number;
}

export interface LowestEigenOptions {
  /** Most Lanczos steps (products). Default min(dim, 30). */
  steps?: number;
  /** Stop when both lowest residuals are below tol·(largest |Ritz value|). Default 1e-4. */
  tol?: number;
  seed?: number;
}

/** Lanczos on `hvp` in dimension `dim`; returns the lowest Ritz values and how many are clearly negative. */
export function lowestEigenvalues(hvp: HessianProduct, dim: number, o: LowestEigenOptions = {}): LowestEigenResult {
  const maxSteps = Math.max(1, Math.min(dim, o.steps ?? 30));
  const tol = o.tol ?? 1e-4;
  const q: Float64Array[] = [];
  const alpha: number[] = [];
  const beta: number[] = [];
  let v = randomNormal(dim, new Rng(o.seed ?? 0));
  scale(v, 1 / norm(v));
  let result: LowestEigenResult = { values: [], residuals: [], negative: 0, steps: 0 };
  for (let j = 0; j < maxSteps; j++) {
    q.push(v);
    const w = Float64Array.from(hvp(v));
    alpha.push(dot(v, w));
    // Full reorthogonalisation against every earlier vector replaces the three-term recurrence's subtraction.
    const r = orthogonalise(w, q);
    const b = norm(r);
    result = ritzSummary(alpha, beta, b, tol);
    const spectrum = result.values.length ? Math.max(...result.values.map(Math.abs), Number.MIN_VALUE) : 1;
    const done = result.residuals.every((x) => x <= tol * spectrum);
    // An invariant Krylov space (b ≈ 0) holds exact eigenpairs of what the start vector reaches.
    if (done || b <= 1e-12 * spectrum || j + 1 === maxSteps) break;
    beta.push(b);
    v = scale(r, 1 / b);
  }
  return result;
}

function ritzSummary(alpha: number[], beta: number[], bNext: number, tol: number): LowestEigenResult {
  const eig = tridiagonalEigen(alpha, beta);
  const k = alpha.length;
  // tridiagonalEigen sorts descending; the lowest are at the end.
  const order = Array.from({ length: k }, (_, i) => k - 1 - i).slice(0, 2);
  const values = order.map((i) => eig.values[i]);
  const residuals = order.map((i) => Math.abs(bNext * eig.vectors[i][k - 1]));
  const spectrum = Math.max(...Array.from(eig.values, Math.abs), Number.MIN_VALUE);
  let negative = 0;
  for (const x of eig.values) if (x < -tol * spectrum) negative++;
  return { values, residuals, negative, steps: k };
}
