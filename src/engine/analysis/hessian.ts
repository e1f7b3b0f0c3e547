/**
 * Curvature of an objective at one point, matrix-free: the top eigenvalues
 * by Lanczos with full reorthogonalisation, and the trace by Hutchinson's
 * estimator, on Hessian-vector products (hvp.ts: exact in the fast kernels,
 * else tfjs autodiff, else central differences of gradients). The Krylov
 * vectors and all reductions live on the host in float64; only the products
 * run in float32.
 */
import type { Objective } from '../objective';
import { Rng } from '../rng';
import { computeError, inputError, throwIfAborted } from '../errors';
import { axpy, dot, fixSign, norm, orthogonalise, randomNormal, scale, tridiagonalEigen } from './linalg';
import { hessianVectorProduct, norm64, type HvpCheck, type HvpOptions, type HvpUsed } from './hvp';

export { FLOAT32_EPS, HVP_MODES, STEP_CHECK_ROUGH, describeStepCheck, finiteDifferenceStep, hessianVectorProduct } from './hvp';
export type { HvpCheck, HvpMode, HvpOperator, HvpOptions, HvpUsed } from './hvp';

/**
 * Full reorthogonalisation against the Krylov basis: one Gram–Schmidt pass,
 * and a second only when the first removed most of w (‖w‖ fell below 1/√2 of
 * what it was: the Daniel–Gragg–Kaufman–Stewart test), which is when one
 * pass can leave components of rounding size relative to the old ‖w‖.
 * After the three-term recurrence w is already nearly orthogonal, so the
 * second pass is rarely needed; it used to run every step, and with linalg's
 * generic ArrayLike loops it cost as much as the 20 Hessian-vector products
 * of a Lanczos run. Float64 arrays only, so the loops stay monomorphic.
 */
export function reorthogonalise(w: Float64Array, basis: readonly Float64Array[]): void {
  const n = w.length;
  const k = basis.length;
  if (k === 0) return;
  let before = norm2(w);
  for (let pass = 0; pass < 2; pass++) {
    // Modified Gram–Schmidt with each subtraction fused into the next dot
    // product: one sweep over w per basis vector instead of two.
    let c = dot64(basis[0], w);
    for (let j = 0; j < k; j++) {
      const q = basis[j];
      if (j + 1 < k) {
        const next = basis[j + 1];
        let s = 0;
        for (let i = 0; i < n; i++) {
          const x = w[i] - c * q[i];
          w[i] = x;
          s += next[i] * x;
        }
        c = s;
      } else {
        for (let i = 0; i < n; i++) w[i] -= c * q[i];
      }
    }
    const after = norm2(w);
    if (!(after < 0.5 * before)) return;
    before = after;
  }
}

/** ‖w‖², plainly: w = H·q is of the size of the eigenvalues, far from overflow (norm64 guards the rest). */
function norm2(w: Float64Array): number {
  let s = 0;
  for (let i = 0; i < w.length; i++) s += w[i] * w[i];
  return s;
}


function dot64(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function axpy64(alpha: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i] += alpha * x[i];
}

/** A Lanczos remainder this small relative to ‖T‖ means the Krylov space is invariant (to float32 precision). */
export const EXHAUSTED = 1e-5;





export interface LanczosOptions extends HvpOptions {
  /** How many eigenvalues; default 1. */
  k?: number;
  /** Maximum Lanczos steps (Hessian-vector products); default max(20, 3k + 10), capped at the dimension. */
  iterations?: number;
  /** Seed of the random start vector; default 0. */
  seed?: number;
  /** 'largest' (default): algebraically largest, what stability needs. 'magnitude': largest |λ|. */
  which?: 'largest' | 'magnitude';
  /** Stop early once every wanted residual is ≤ tol × |largest Ritz value|; default 1e-5, 0 runs all iterations. */
  tol?: number;
  /** Return the eigenvectors too (unit norm, largest-magnitude entry positive). */
  vectors?: boolean;
  signal?: AbortSignal;
  onIteration?: (info: { iteration: number; eigenvalues: number[]; residuals: number[] }) => void;
}

export interface HessianEigenResult {
  /** The k wanted eigenvalues (Ritz values), in the order `which` asks for. */
  eigenvalues: number[];
  /** Unit eigenvectors (Ritz vectors), when `vectors` was set. */
  eigenvectors?: Float64Array[];
  /**
   * Lanczos residuals |β_m · s_{m,i}|: in exact arithmetic ‖H y_i − λ_i y_i‖,
   * so each eigenvalue is within this of a true eigenvalue of the operator.
   */
  residuals: number[];
  /**
   * Sharper error estimates: min(residual, residual² / gap), the gap taken to
   * the nearest other Ritz value (an estimate of the spectral gap). Neither
   * estimate includes the error of the products themselves (finite
   * differences: about 1e-4 relative).
   */
  errorEstimates: number[];
  /** Lanczos steps taken (= Hessian-vector products). */
  iterations: number;
  converged: boolean;
  /** Whether the Krylov space was exhausted and restarted with a fresh random vector. */
  restarts: number;
  hvp: HvpUsed;
  hvpFallbackReason?: string;
  hvpCheck?: HvpCheck;
  /** Finite-difference step along a unit vector (only when hvp is finite-difference). */
  fdStep?: number;
  loss: number;
  seed: number;
  k: number;
  which: 'largest' | 'magnitude';
  tol: number;
  dim: number;
}

export async function hessianTopEigenvalues(fn: Objective, theta: ArrayLike<number>, opts: LanczosOptions = {}): Promise<HessianEigenResult> {
  const dim = fn.dim;
  const k = opts.k ?? 1;
  if (!Number.isInteger(k) || k < 1) throw inputError(`k must be a whole number ≥ 1, got ${opts.k}`);
  if (k > dim) throw inputError(`asked for ${k} eigenvalues but the Hessian is only ${dim}×${dim}`);
  const maxIter = Math.min(dim, opts.iterations ?? Math.max(20, 3 * k + 10));
  if (!Number.isInteger(maxIter) || maxIter < k) throw inputError(`iterations must be a whole number ≥ k (${k}), got ${opts.iterations}`);
  const seed = opts.seed ?? 0;
  const which = opts.which ?? 'largest';
  if (which !== 'largest' && which !== 'magnitude') throw inputError(`which must be "largest" or "magnitude", got "${String(which)}"`);
  const tol = opts.tol ?? 1e-5;
  if (!(tol >= 0)) throw inputError(`tol must be ≥ 0, got ${opts.tol}`);

  const rng = new Rng(seed);
  const op = hessianVectorProduct(fn, theta, opts);
  try {
    const Q: Float64Array[] = [];
    const alpha: number[] = [];
    const beta: number[] = [];
    let restarts = 0;
    const start = () => {
      // A fresh direction orthogonal to everything found so far (also the restart after an exhausted Krylov space).
      for (let attempt = 0; attempt < 10; attempt++) {
        const v = orthogonalise(randomNormal(dim, rng), Q);
        const nv = norm(v);
        if (nv > 1e-8 * Math.sqrt(dim)) return scale(v, 1 / nv);
      }
      throw computeError('could not find a start vector orthogonal to the Krylov basis');
    };
    Q.push(start());
    let picked: { idx: number[]; values: Float64Array; vectors: Float64Array[]; residuals: number[] } | undefined;
    let converged = false;
    for (let j = 0; j < maxIter; j++) {
      throwIfAborted(opts.signal);
      const w = op.apply([Q[j]])[0];
      const a = dot64(Q[j], w);
      alpha.push(a);
      axpy64(-a, Q[j], w);
      if (j > 0) axpy64(-beta[j - 1], Q[j - 1], w);
      // Full reorthogonalisation: without it, rounding makes converged Ritz
      // values reappear as spurious copies ("ghosts") within a few dozen steps.
      reorthogonalise(w, Q);
      const b = norm64(w);
      const eig = tridiagonalEigen(alpha, beta);
      const m = alpha.length;
      const order = Array.from({ length: m }, (_, i) => i);
      if (which === 'magnitude') order.sort((x, y) => Math.abs(eig.values[y]) - Math.abs(eig.values[x]));
      const idx = order.slice(0, Math.min(k, m));
      const residuals = idx.map((i) => Math.abs(b * eig.vectors[i][m - 1]));
      picked = { idx, values: eig.values, vectors: eig.vectors, residuals };
      opts.onIteration?.({ iteration: j + 1, eigenvalues: idx.map((i) => eig.values[i]), residuals });
      const scaleT = Math.max(...Array.from(eig.values, Math.abs), Number.MIN_VALUE);
      // Products are float32, so a Krylov space that is invariant leaves a
      // remainder of rounding size (~1e-7 relative), not zero. Below 1e-5 the
      // space is taken as exhausted and Lanczos restarts from a fresh
      // direction, so eigenvalues the start vector cannot reach (repeated
      // ones) are still found; the dropped coupling is below what float32
      // products resolve anyway.
      const exhausted = b <= EXHAUSTED * scaleT;
      if (j + 1 === maxIter || j + 1 === dim) break;
      if (exhausted) {
        // The start vector's Krylov space is invariant: its Ritz pairs are exact,
        // but eigenvalues outside it (e.g. repeated ones) are missing. Continue from a new direction.
        beta.push(0);
        Q.push(start());
        restarts++;
        continue;
      }
      if (idx.length === k && tol > 0 && residuals.every((r) => r <= tol * scaleT)) {
        converged = true;
        break;
      }
      beta.push(b);
      Q.push(scale(w, 1 / b));
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const { idx, values, vectors, residuals } = picked!;
    const m = alpha.length;
    if (!converged) {
      const scaleT = Math.max(...Array.from(values, Math.abs), Number.MIN_VALUE);
      converged = idx.length === k && residuals.every((r) => r <= Math.max(tol, 1e-12) * scaleT);
    }
    const eigenvalues = idx.map((i) => values[i]);
    const errorEstimates = idx.map((i, r) => {
      let gap = Infinity;
      for (let o = 0; o < m; o++) if (o !== i) gap = Math.min(gap, Math.abs(values[o] - values[i]));
      const res = residuals[r];
      return gap > 0 && Number.isFinite(gap) ? Math.min(res, (res * res) / gap) : res;
    });
    let eigenvectors: Float64Array[] | undefined;
    if (opts.vectors) {
      eigenvectors = idx.map((i) => {
        const y = new Float64Array(dim);
        for (let c = 0; c < m; c++) axpy(vectors[i][c], Q[c], y);
        return fixSign(scale(y, 1 / norm(y)));
      });
    }
    return {
      eigenvalues,
      eigenvectors,
      residuals,
      errorEstimates,
      iterations: m,
      converged,
      restarts,
      hvp: op.mode,
      hvpFallbackReason: op.fallbackReason,
      hvpCheck: op.check,
      fdStep: op.mode === 'finite-difference' ? op.fdStep(1) : undefined,
      loss: op.loss,
      seed,
      k,
      which,
      tol,
      dim,
    };
  } finally {
    op.dispose();
  }
}

export interface TraceOptions extends HvpOptions {
  /** Rademacher probe vectors; default 64. */
  samples?: number;
  /** Seed of the probes; default 0. */
  seed?: number;
  /** Probes per batched pass; default 8. */
  batch?: number;
  signal?: AbortSignal;
  onProgress?: (info: { samples: number; estimate: number; standardError: number }) => void;
}

export interface HessianTraceResult {
  /** Hutchinson's estimate: the mean of zᵀHz over Rademacher z. */
  trace: number;
  /** Standard error of the mean (sample standard deviation / √samples); NaN for one sample. */
  standardError: number;
  samples: number;
  hvp: HvpUsed;
  hvpFallbackReason?: string;
  hvpCheck?: HvpCheck;
  /** Finite-difference step along one probe (norm √dim), when hvp is finite-difference. */
  fdStep?: number;
  loss: number;
  seed: number;
  dim: number;
}

export async function hessianTrace(fn: Objective, theta: ArrayLike<number>, opts: TraceOptions = {}): Promise<HessianTraceResult> {
  const samples = opts.samples ?? 64;
  if (!Number.isInteger(samples) || samples < 1) throw inputError(`samples must be a whole number ≥ 1, got ${opts.samples}`);
  const batch = opts.batch ?? 8;
  if (!Number.isInteger(batch) || batch < 1) throw inputError(`batch must be a whole number ≥ 1, got ${opts.batch}`);
  const seed = opts.seed ?? 0;
  const rng = new Rng(seed);
  const dim = fn.dim;
  const op = hessianVectorProduct(fn, theta, opts);
  try {
    // Welford's running mean and variance: stable for many samples of similar size.
    let count = 0;
    let mean = 0;
    let m2 = 0;
    while (count < samples) {
      throwIfAborted(opts.signal);
      const b = Math.min(batch, samples - count);
      const zs: Float64Array[] = [];
      for (let r = 0; r < b; r++) {
        const z = new Float64Array(dim);
        for (let i = 0; i < dim; i++) z[i] = rng.uniform() < 0.5 ? -1 : 1;
        zs.push(z);
      }
      const hz = op.apply(zs);
      for (let r = 0; r < b; r++) {
        const x = dot(zs[r], hz[r]);
        count++;
        const delta = x - mean;
        mean += delta / count;
        m2 += delta * (x - mean);
      }
      const se = count > 1 ? Math.sqrt(m2 / (count - 1) / count) : NaN;
      opts.onProgress?.({ samples: count, estimate: mean, standardError: se });
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return {
      trace: mean,
      standardError: count > 1 ? Math.sqrt(m2 / (count - 1) / count) : NaN,
      samples: count,
      hvp: op.mode,
      hvpFallbackReason: op.fallbackReason,
      hvpCheck: op.check,
      fdStep: op.mode === 'finite-difference' ? op.fdStep(Math.sqrt(dim)) : undefined,
      loss: op.loss,
      seed,
      dim,
    };
  } finally {
    op.dispose();
  }
}
