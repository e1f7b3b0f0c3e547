/**
 * L-BFGS with golden-section line search (L-BFGS-GSS), after Yu & Morozov
 * 2026 (arXiv 2602.21276, Algorithm 1). Per step, on the full batch:
 *
 *   g = ∇f(θ); s = θ − θ_prev, y = g − g_prev
 *   reset (clear the history, use the plain gradient) when ‖y‖‖s‖ = 0 or
 *     cos(y, s) < 1e-4; otherwise store (s, y) with ρ = 1/(yᵀs + 1e-6),
 *     keeping the last `history` (10) pairs
 *   r = H·g by the two-loop recursion with H₀ = γI, γ = sᵀy / yᵀy (newest pair);
 *     reset when r has a NaN
 *   line search along d = −r/‖r‖: trial steps 0.2·2^k·‖r‖ until the minimum
 *     is bracketed, then golden-section shrinking (fraction 0.382), at most
 *     `maxEvals` (6) evaluations, relative tolerance `tol` (1e-4)
 *
 * The vectors live on the host in float64. P is at most ~50k, so the 4·m·P
 * multiply-adds of the recursion are trivial next to one forward pass, and
 * float64 keeps sᵀy and yᵀy meaningful near convergence, where s and y are
 * differences of nearly equal float32 numbers (such a difference is exact in
 * float64, while float32 dot products over 50k terms would lose the digits
 * the curvature test depends on). Line-search points are rounded to float32
 * only to be evaluated.
 *
 * One addition to the paper: when no trial point lowers the loss (the first
 * trial 0.2‖r‖ can overshoot a narrow valley by orders of magnitude, e.g. at
 * Rosenbrock's (−1.2, 1) where ‖g‖ ≈ 230), the step is rejected (θ stays,
 * which clears the history through the ‖s‖ = 0 rule) and the next search
 * starts where this one stopped, at 0.382 × the smallest rejected step,
 * instead of repeating the identical failed search forever. After an
 * accepted step the factor is 0.2 again, and also once the trial step has
 * shrunk below float32 resolution (nothing smaller can be evaluated).
 */
import { tf } from '../backend';
import type { Objective } from '../objective';
import { checkTheta, dot, gradStats, toHost64 } from './common';
import { GOLDEN_FRACTION, goldenSectionSearch, GoldenSectionResult } from './golden';
import type { Optimizer, ResolvedOptions, StepResult } from './types';

export type LbfgsReset = 'zero-step' | 'curvature' | 'nan-direction';

/** cos(y, s) below this means the pair carries no usable positive curvature. */
export const LBFGS_MIN_COS = 1e-4;
/** Added to yᵀs in ρ = 1/(yᵀs + δ), as in the paper. */
export const LBFGS_RHO_DELTA = 1e-6;
/** First trial step as a fraction of ‖r‖. */
export const LBFGS_FIRST_TRIAL = 0.2;

/** The (s, y) history and the two-loop recursion, all in float64. */
export class LbfgsMemory {
  private s: Float64Array[] = [];
  private y: Float64Array[] = [];
  private rho: number[] = [];

  constructor(readonly size: number) {}

  get length(): number {
    return this.s.length;
  }

  clear(): void {
    this.s = [];
    this.y = [];
    this.rho = [];
  }

  /**
   * Offer a pair. Returns null when it was stored, or the reason it was
   * refused; on refusal the caller clears the history (the paper's reset).
   */
  push(s: Float64Array, y: Float64Array): LbfgsReset | null {
    const sy = dot(s, y);
    const sn = Math.sqrt(dot(s, s));
    const yn = Math.sqrt(dot(y, y));
    if (sn * yn === 0) return 'zero-step';
    if (sy / (sn * yn) < LBFGS_MIN_COS) return 'curvature';
    this.s.push(s);
    this.y.push(y);
    this.rho.push(1 / (sy + LBFGS_RHO_DELTA));
    if (this.s.length > this.size) {
      this.s.shift();
      this.y.shift();
      this.rho.shift();
    }
    return null;
  }

  /** r = H·g (the step is −r); with no pairs, r = g. */
  direction(g: Float64Array): Float64Array {
    const m = this.s.length;
    const q = Float64Array.from(g);
    if (m === 0) return q;
    const alpha = new Float64Array(m);
    for (let i = m - 1; i >= 0; i--) {
      alpha[i] = this.rho[i] * dot(this.s[i], q);
      const yi = this.y[i];
      for (let k = 0; k < q.length; k++) q[k] -= alpha[i] * yi[k];
    }
    const sNew = this.s[m - 1];
    const yNew = this.y[m - 1];
    const gamma = dot(sNew, yNew) / dot(yNew, yNew);
    for (let k = 0; k < q.length; k++) q[k] *= gamma;
    for (let i = 0; i < m; i++) {
      const beta = this.rho[i] * dot(this.y[i], q);
      const si = this.s[i];
      const c = alpha[i] - beta;
      for (let k = 0; k < q.length; k++) q[k] += c * si[k];
    }
    return q;
  }
}

/** The two-loop direction with the NaN fallback: on a non-finite r, the memory is cleared and r = g. */
export function lbfgsDirection(memory: LbfgsMemory, g: Float64Array): { r: Float64Array; reset: LbfgsReset | null } {
  const r = memory.direction(g);
  for (let k = 0; k < r.length; k++) {
    if (Number.isNaN(r[k])) {
      memory.clear();
      return { r: Float64Array.from(g), reset: 'nan-direction' };
    }
  }
  return { r, reset: null };
}

export class Lbfgs implements Optimizer {
  readonly name = 'lbfgs' as const;
  readonly fullBatch = true;
  readonly memory: LbfgsMemory;
  /** Why the last step reset the history (null: it did not). For diagnostics and tests. */
  lastReset: LbfgsReset | null = null;
  /** The last line search, for diagnostics and tests. */
  lastSearch: GoldenSectionResult | null = null;
  private prevTheta: Float64Array | null = null;
  private prevGrad: Float64Array | null = null;
  private firstTrial = LBFGS_FIRST_TRIAL;
  /** Loss and gradient at a rejected step's theta, reused when the caller passes that theta again. */
  private rejected: { f: Objective; loss: number; gradNorm: number } | null = null;

  constructor(
    private readonly history: number,
    private readonly maxEvals: number,
    private readonly tol: number,
    private readonly l2: number,
  ) {
    this.memory = new LbfgsMemory(history);
  }

  get options(): ResolvedOptions {
    return { history: this.history, maxEvals: this.maxEvals, tol: this.tol, l2: this.l2 };
  }

  step(theta: tf.Tensor1D, f: Objective): { theta: tf.Tensor1D } & StepResult {
    checkTheta(theta, f, this.name);
    const th = toHost64(theta);
    let loss: number;
    let gradNorm: number;
    let g: Float64Array;
    let evaluations: number;
    if (this.rejected && this.rejected.f === f && this.prevTheta && this.prevGrad && sameValues(th, this.prevTheta)) {
      // θ did not move, so neither did its loss and gradient.
      ({ loss, gradNorm } = this.rejected);
      g = this.prevGrad;
      evaluations = 0;
    } else {
      const gs = gradStats(f, theta, this.l2);
      g = toHost64(gs.grad);
      gs.grad.dispose();
      ({ loss, gradNorm } = gs);
      evaluations = 1;
    }
    this.rejected = null;

    let reset: LbfgsReset | null = null;
    if (this.prevTheta && this.prevGrad) {
      const n = th.length;
      const s = new Float64Array(n);
      const y = new Float64Array(n);
      for (let k = 0; k < n; k++) {
        s[k] = th[k] - this.prevTheta[k];
        y[k] = g[k] - this.prevGrad[k];
      }
      reset = this.memory.push(s, y);
      if (reset) this.memory.clear();
    }
    const dir = lbfgsDirection(this.memory, g);
    reset = dir.reset ?? reset;
    this.lastReset = reset;
    this.prevTheta = th;
    this.prevGrad = g;

    const r = dir.r;
    const rn = Math.sqrt(dot(r, r));
    if (!(rn > 0 && Number.isFinite(rn))) {
      // A zero gradient is a stationary point; a non-finite one is for the caller's NaN check.
      this.lastSearch = null;
      return { theta: tf.clone(theta), loss, gradNorm, lr: 0, evaluations };
    }
    const n = th.length;
    const d = new Float64Array(n);
    for (let k = 0; k < n; k++) d[k] = -r[k] / rn;

    // The penalty λ/2‖θ + αd‖² in closed form (d is a unit vector), so the
    // search minimises the same function whose gradient chose d.
    const half = this.l2 / 2;
    const thth = dot(th, th);
    const thd = dot(th, d);
    const penalty = (a: number) => (half > 0 ? half * (thth + 2 * a * thd + a * a) : 0);
    const phiMany = (alphas: number[]): number[] => {
      const pts = new Float32Array(alphas.length * n);
      alphas.forEach((a, j) => {
        const off = j * n;
        for (let k = 0; k < n; k++) pts[off + k] = th[k] + a * d[k];
      });
      const out = tf.tidy(() => f.evaluate(tf.tensor2d(pts, [alphas.length, n])));
      const v = out.dataSync();
      out.dispose();
      return alphas.map((a, j) => v[j] + penalty(a));
    };
    const search = goldenSectionSearch((a) => phiMany([a])[0], {
      initialStep: this.firstTrial * rn,
      f0: loss + penalty(0),
      maxEvals: this.maxEvals,
      tol: this.tol,
      phiMany,
    });
    this.lastSearch = search;
    evaluations += search.evaluations;

    if (!search.improved) {
      // Below float32 resolution every trial rounds back to θ and the retries would
      // only shrink towards underflow; start again from 0.2 instead (θ is converged
      // as far as float32 can tell, and a fresh gradient search costs the same).
      const nextStep = GOLDEN_FRACTION * search.hi;
      this.firstTrial = nextStep > Math.max(FLOAT32_RESOLUTION * maxAbs(th), 1e-30) ? nextStep / rn : LBFGS_FIRST_TRIAL;
      this.rejected = { f, loss, gradNorm };
      return { theta: tf.clone(theta), loss, gradNorm, lr: 0, evaluations };
    }
    this.firstTrial = LBFGS_FIRST_TRIAL;
    const next = new Float32Array(n);
    for (let k = 0; k < n; k++) next[k] = th[k] + search.alpha * d[k];
    return { theta: tf.tensor1d(next), loss, gradNorm, lr: search.alpha, evaluations };
  }

  dispose(): void {
    this.memory.clear();
    this.prevTheta = null;
    this.prevGrad = null;
    this.rejected = null;
  }
}

/** Relative spacing of float32 numbers (2^-23): smaller relative moves round back to θ. */
const FLOAT32_RESOLUTION = 1.1920928955078125e-7;

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k]));
  return m;
}

function sameValues(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}
