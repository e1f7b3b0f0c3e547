/**
 * One Lanczos run from a given start vector on any symmetric operator, with
 * full reorthogonalisation, returning the Ritz values with their Gauss
 * quadrature weights: the building block of stochastic Lanczos quadrature
 * (spectralDensity.ts) and of the per-layer top eigenvalues
 * (layerCurvature.ts). hessian.ts keeps its own loop for the top-k
 * eigenvalues because it restarts an exhausted Krylov space, which a
 * quadrature must not do: an invariant space means the quadrature is exact.
 */
import { inputError, throwIfAborted } from '../errors';
import { dot, scale, tridiagonalEigen } from './linalg';
import { norm64 } from './hvp';
import { EXHAUSTED, reorthogonalise } from './hessian';

/** A symmetric linear operator on float64 vectors (e.g. Hessian-vector products). */
export type SymmetricOperator = (v: Float64Array) => Float64Array;

export interface LanczosRitzOptions {
  /** Lanczos steps (operator applications); capped at the dimension. */
  steps: number;
  /**
   * Stop early once the largest Ritz value's residual is at most this times
   * the largest |Ritz value|; absent: run every step (a quadrature wants them all).
   */
  topTolerance?: number;
  signal?: AbortSignal;
}

export interface LanczosRitz {
  /** Ritz values, descending: the nodes of the Gauss quadrature of the start vector's spectral measure. */
  values: number[];
  /**
   * The quadrature weights: the squared first component of each eigenvector
   * of the tridiagonal T. They sum to 1, and Σ wᵢ f(θᵢ) = qᵀ f(A) q exactly
   * for polynomials f of degree < 2·steps (q the normalised start vector).
   */
  weights: number[];
  /** |β_m s_{m,i}|: each Ritz value lies within this of an eigenvalue of the operator. */
  residuals: number[];
  /** Lanczos steps taken. */
  steps: number;
  /** The Krylov space became invariant before `steps` (the quadrature is then exact). */
  invariant: boolean;
}

/** Runs Lanczos from `start` (need not be normalised; not modified). */
export async function lanczosRitz(apply: SymmetricOperator, start: Float64Array, opts: LanczosRitzOptions): Promise<LanczosRitz> {
  const dim = start.length;
  const steps = Math.min(opts.steps, dim);
  if (!Number.isInteger(opts.steps) || opts.steps < 1) throw inputError(`Lanczos steps must be a whole number ≥ 1, got ${opts.steps}`);
  const startNorm = norm64(start);
  if (!(startNorm > 0) || !Number.isFinite(startNorm)) throw inputError('the Lanczos start vector must be finite and not zero');
  const basis: Float64Array[] = [scale(Float64Array.from(start), 1 / startNorm)];
  const alpha: number[] = [];
  const beta: number[] = [];
  // A Gershgorin bound on ‖T‖, so "β is negligible" is relative to the operator's scale.
  let scaleT = 0;
  let last = 0;
  for (let j = 0; j < steps; j++) {
    throwIfAborted(opts.signal);
    const q = basis[j];
    const w = apply(q);
    const a = dot(q, w);
    alpha.push(a);
    for (let i = 0; i < dim; i++) w[i] -= a * q[i] + (j > 0 ? beta[j - 1] * basis[j - 1][i] : 0);
    // Without full reorthogonalisation converged Ritz values reappear as ghost copies, and a ghost takes quadrature weight.
    reorthogonalise(w, basis);
    last = norm64(w);
    scaleT = Math.max(scaleT, Math.abs(a) + last + (j > 0 ? beta[j - 1] : 0));
    if (j + 1 === steps) break;
    if (last <= EXHAUSTED * scaleT) return ritzOf(alpha, beta, last, true);
    if (opts.topTolerance !== undefined && topConverged(alpha, beta, last, opts.topTolerance)) break;
    beta.push(last);
    basis.push(scale(w, 1 / last));
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return ritzOf(alpha, beta, last, false);
}

function ritzOf(alpha: number[], beta: number[], last: number, invariant: boolean): LanczosRitz {
  const eig = tridiagonalEigen(alpha, beta);
  const m = alpha.length;
  return {
    values: Array.from(eig.values),
    weights: eig.vectors.map((s) => s[0] * s[0]),
    residuals: eig.vectors.map((s) => Math.abs(last * s[m - 1])),
    steps: m,
    invariant,
  };
}

function topConverged(alpha: number[], beta: number[], last: number, tol: number): boolean {
  const r = ritzOf(alpha, beta, last, false);
  const size = Math.max(...r.values.map(Math.abs), Number.MIN_VALUE);
  return r.residuals[0] <= tol * size;
}
