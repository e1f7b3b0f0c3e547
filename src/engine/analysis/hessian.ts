/**
 * Curvature of an objective at one point, matrix-free: Hessian-vector
 * products (autodiff where tfjs can differentiate twice, otherwise central
 * differences of gradients), the top eigenvalues by Lanczos with full
 * reorthogonalisation, and the trace by Hutchinson's estimator. The Krylov
 * vectors and all reductions live on the host in float64; only the products
 * go through tfjs (float32).
 */
import { tf } from '../backend';
import type { Objective } from '../objective';
import { batchLossAndGrad } from '../objective';
import { usableFast, type HvpSession } from '../fast';
import { Rng } from '../rng';
import { computeError, inputError, throwIfAborted } from '../errors';
import { axpy, dot, fixSign, norm, orthogonalise, randomNormal, scale, toFloat32, tridiagonalEigen } from './linalg';

export type HvpMode = 'auto' | 'autodiff' | 'finite-difference';
export type HvpUsed = 'autodiff' | 'finite-difference';

/** Machine epsilon of float32, the precision every tfjs evaluation runs in. */
export const FLOAT32_EPS = 2 ** -23;

/**
 * Relative differences ‖a − b‖ / max(‖a‖, ‖b‖) measured on the first product.
 * `finiteDifferenceStepDependence` compares central differences at step h and
 * h/2: a proxy for their error (large near ReLU kinks). Auto mode also
 * compares autodiff with central differences to catch tfjs's silent failures.
 */
export interface HvpCheck {
  autodiffVsFiniteDifference?: number;
  finiteDifferenceStepDependence?: number;
}

export interface HvpOptions {
  /** 'auto' (default) tries autodiff and falls back to finite differences when tfjs cannot differentiate twice. */
  hvp?: HvpMode;
}

/** Hessian-vector products at a fixed point θ. Vectors are float64 on the host. */
export interface HvpOperator {
  readonly dim: number;
  /** The method in use now (auto mode switches on the first failure). */
  readonly mode: HvpUsed;
  /** Why auto mode left autodiff, when it did. */
  readonly fallbackReason?: string;
  /** Loss at θ. */
  readonly loss: number;
  /** What the first product revealed about the methods' accuracy (see HvpCheck). */
  readonly check?: HvpCheck;
  /** Products computed so far (each finite-difference product costs two gradients). */
  readonly products: number;
  /** H·v for each v, in one batched pass. */
  apply(vs: readonly Float64Array[]): Float64Array[];
  /**
   * The finite-difference step for a vector of norm ‖v‖: θ ± h·v are the two
   * gradient points. Exposed so reports can state it.
   */
  fdStep(vNorm: number): number;
  dispose(): void;
}

/**
 * Step for the central difference (∇f(θ+hv) − ∇f(θ−hv)) / 2h.
 *
 * The error has two parts. Truncation: h²·‖∇⁴f[v,v,v]‖/6, growing with the
 * displacement δ = h‖v‖ squared. Rounding: every gradient carries float32
 * error of about ε·G (G the scale of the gradient's summands, O(1) for a mean
 * loss), and θ ± hv are themselves rounded to float32, which moves the
 * realised direction by about ε‖θ‖; both enter divided by δ. Balancing
 * δ² against ε·(1 + ‖θ‖)/δ gives δ = (ε·(1 + ‖θ‖))^(1/3): about 5e-3 for a
 * unit-scale θ, 1e-2 for ‖θ‖ = 10, and a relative error of order
 * ε^(2/3) ≈ 2.4e-5. Measured against autodiff on smooth networks (softplus,
 * 8-32-32-3, ‖θ‖ ≈ 11 and 46) this step is within a factor of two of the
 * best fixed step, at 2e-5 to 8e-5 relative; 10× smaller steps are 10× worse.
 */
export function finiteDifferenceStep(thetaNorm: number, vNorm: number): number {
  if (vNorm === 0) return 0;
  return Math.cbrt(FLOAT32_EPS * (1 + thetaNorm)) / vNorm;
}

export function hessianVectorProduct(fn: Objective, theta: ArrayLike<number>, opts: HvpOptions = {}): HvpOperator {
  const mode = opts.hvp ?? 'auto';
  if (mode !== 'auto' && mode !== 'autodiff' && mode !== 'finite-difference') {
    throw inputError(`unknown Hessian-vector product mode "${String(mode)}"; choose auto, autodiff or finite-difference`);
  }
  const dim = fn.dim;
  if (theta.length !== dim) throw inputError(`parameter vector has ${theta.length} values but the objective takes ${dim}`);
  const theta32 = toFloat32(theta);
  for (let i = 0; i < dim; i++) {
    if (!Number.isFinite(theta32[i])) throw inputError(`parameter ${i} is not finite (${theta32[i]})`);
  }
  const thetaNorm = norm(theta32);
  // Only autodiff and objectives without a fast path need θ on the device;
  // kept, because it is first made inside a tidy and lives until dispose().
  let thetaTensor: tf.Tensor2D | undefined;
  const thetaRow = (): tf.Tensor2D => (thetaTensor ??= tf.keep(tf.tensor2d(theta32, [1, dim])));
  const loss = usableFast(fn) ? fn.fast.run(theta32, 1, false).losses[0] : tf.tidy(() => fn.evaluate(thetaRow()).dataSync()[0]);
  if (!Number.isFinite(loss)) {
    thetaTensor?.dispose();
    throw computeError(`the loss at the given parameters is not finite (${loss})`);
  }

  let current: HvpUsed = mode === 'finite-difference' ? 'finite-difference' : 'autodiff';
  let fallbackReason: string | undefined;
  const known = mode === 'auto' ? noSecondDerivative.get(fn) : undefined;
  if (known) {
    current = 'finite-difference';
    fallbackReason = known;
  }
  let check: HvpCheck | undefined;
  let products = 0;
  let first = true;

  const stack = (vs: readonly Float64Array[]): Float32Array => {
    const flat = new Float32Array(vs.length * dim);
    vs.forEach((v, r) => {
      if (v.length !== dim) throw inputError(`vector has ${v.length} values but the objective takes ${dim}`);
      flat.set(v, r * dim);
    });
    return flat;
  };
  const rows = (flat: ArrayLike<number>, count: number): Float64Array[] => {
    const out: Float64Array[] = [];
    for (let r = 0; r < count; r++) out.push(Float64Array.from({ length: dim }, (_, i) => flat[r * dim + i]));
    return out;
  };

  // H v for each row of V at once: the rows of the tiled θ are independent,
  // so the gradient of Σ_r ∇f(θ_r)·v_r with respect to the tiled θ holds H v_r in row r.
  const autodiff = (vs: readonly Float64Array[]): Float64Array[] => {
    const b = vs.length;
    const flat = tf.tidy(() => {
      const V = tf.tensor2d(stack(vs), [b, dim]);
      const T = tf.tile(thetaRow(), [b, 1]);
      const hv = tf.grad((t: tf.Tensor) => {
        const g = tf.grad((u: tf.Tensor) => tf.sum(fn.evaluate(u as tf.Tensor2D)))(t);
        return tf.sum(tf.mul(g, V));
      })(T);
      return hv.dataSync();
    });
    return rows(flat, b);
  };

  // Dense networks go straight to the kernels' central-difference pass on
  // host arrays (a tfjs round trip per product cost twice the arithmetic):
  // it makes layer 0's product with θ once for every product at this θ.
  let session: HvpSession | undefined;
  const fastDifferences = (vs: readonly Float64Array[], steps: number[]): Float64Array[] | undefined => {
    if (!usableFast(fn)) return undefined;
    session ??= fn.fast.hvp(theta32);
    return vs.map((v, r) => {
      if (v.length !== dim) throw inputError(`vector has ${v.length} values but the objective takes ${dim}`);
      const out = new Float64Array(dim);
      const h = steps[r];
      if (h > 0) {
        const { diff } = session!.difference(v, h);
        for (let i = 0; i < dim; i++) out[i] = diff[i] / (2 * h);
      }
      return out;
    });
  };

  // Central differences otherwise: one batched gradient pass over the 2B
  // points θ ± h_r v_r, so both gradients of a product run at once.
  const finiteDifference = (vs: readonly Float64Array[], stepFactor = 1): Float64Array[] => {
    const b = vs.length;
    const steps = vs.map((v) => stepFactor * finiteDifferenceStep(thetaNorm, norm64(v)));
    const fast = fastDifferences(vs, steps);
    if (fast) return fast;
    const pts = new Float32Array(2 * b * dim);
    for (let r = 0; r < b; r++) {
      const v = vs[r];
      if (v.length !== dim) throw inputError(`vector has ${v.length} values but the objective takes ${dim}`);
      const h = steps[r];
      const plus = 2 * r * dim;
      const minus = plus + dim;
      for (let i = 0; i < dim; i++) {
        const t = theta32[i];
        const d = h * v[i];
        pts[plus + i] = t + d;
        pts[minus + i] = t - d;
      }
    }
    const grads = tfjsGradients(pts, 2 * b);
    const out: Float64Array[] = [];
    for (let r = 0; r < b; r++) {
      const v = new Float64Array(dim);
      const h = steps[r];
      if (h > 0) {
        const plus = 2 * r * dim;
        const minus = plus + dim;
        for (let i = 0; i < dim; i++) v[i] = (grads[plus + i] - grads[minus + i]) / (2 * h);
      }
      out.push(v);
    }
    return out;
  };

  const tfjsGradients = (pts: Float32Array, m: number): Float32Array =>
    tf.tidy(() => {
      const { losses, grads } = batchLossAndGrad(fn, tf.tensor2d(pts, [m, dim]));
      losses.dispose();
      return grads.dataSync() as Float32Array;
    });

  const firstNonFinite = (vs: Float64Array[]): number => {
    for (const v of vs) for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return i;
    return -1;
  };

  return {
    dim,
    get mode() {
      return current;
    },
    get fallbackReason() {
      return fallbackReason;
    },
    loss,
    get products() {
      return products;
    },
    fdStep: (vNorm: number) => finiteDifferenceStep(thetaNorm, vNorm),
    get check() {
      return check;
    },
    apply(vs: readonly Float64Array[]): Float64Array[] {
      if (vs.length === 0) return [];
      const isFirst = first;
      first = false;
      let out: Float64Array[] | undefined;
      if (current === 'autodiff') {
        try {
          out = withTapeCleanup(() => autodiff(vs));
          const bad = firstNonFinite(out);
          if (bad >= 0) throw computeError(`autodiff Hessian-vector product is not finite at coordinate ${bad}`);
        } catch (e) {
          // Only the first product decides: later failures are real problems, not missing kernels.
          if (mode !== 'auto' || !isFirst) {
            throw e instanceof Error && (e as { kind?: string }).kind ? e : computeError(`autodiff Hessian-vector product failed: ${firstLine(e)}`);
          }
          current = 'finite-difference';
          fallbackReason = `tfjs could not differentiate twice (${firstLine(e)}); used central differences of gradients`;
          noSecondDerivative.set(fn, fallbackReason);
          out = undefined;
        }
      }
      if (out && isFirst && mode === 'auto') {
        // tfjs can also be silently wrong: for tanh, sigmoid and exp the
        // gradient reuses the op's saved output, and the second derivative
        // through it is dropped without an error (tfjs#3252). So compare the
        // first product with central differences at two steps. If the
        // differences agree with each other but not with autodiff, autodiff is
        // the one missing a term. If they disagree with each other, the
        // objective is not smooth at this scale (ReLU kinks make the gradient
        // jump), the differences cannot be trusted, and autodiff, which gives
        // the Hessian of the current linear region, is kept.
        const [fd1, fd2] = [finiteDifference([vs[0]])[0], finiteDifference([vs[0]], 0.5)[0]];
        const stepDependence = relDiff(fd1, fd2);
        const autodiffVsFd = relDiff(out[0], fd1);
        check = { autodiffVsFiniteDifference: autodiffVsFd, finiteDifferenceStepDependence: stepDependence };
        if (autodiffVsFd > AGREEMENT && stepDependence < autodiffVsFd / 10) {
          current = 'finite-difference';
          fallbackReason =
            `autodiff disagreed with central differences by ${fmt(autodiffVsFd)} (relative) while the differences agree with ` +
            `themselves to ${fmt(stepDependence)} under step halving: tfjs dropped part of the second derivative (tfjs#3252); used central differences`;
          out = undefined;
        }
      }
      if (!out) {
        out = finiteDifference(vs);
        const bad = firstNonFinite(out);
        if (bad >= 0) throw computeError(`finite-difference Hessian-vector product is not finite at coordinate ${bad}: the loss is not finite near the given parameters`);
        if (!check) {
          // Step halving estimates the products' own error (truncation, rounding, kinks), reported with the result.
          check = { finiteDifferenceStepDependence: relDiff(out[0], finiteDifference([vs[0]], 0.5)[0]) };
        }
      }
      products += vs.length;
      return out;
    },
    dispose() {
      thetaTensor?.dispose();
      thetaTensor = undefined;
    },
  };
}

/** Above this step dependence a central-difference product is called rough. */
export const STEP_CHECK_ROUGH = 0.1;

/**
 * The step-halving check of the first central-difference product, in words.
 * Large values come from activation kinks (ReLU) that θ ± h·v straddle,
 * whose gradient jumps do not shrink with h; a single product along a random
 * direction is then rough, while the top eigenvalues, dominated by the
 * smooth curvature, are usually much steadier.
 */
export function describeStepCheck(dependence: number, activation: string): string {
  const line = `the first product changed by ${dependence.toExponential(1)} (relative) when the step was halved`;
  if (!(dependence > STEP_CHECK_ROUGH)) return line;
  const why = activation === 'relu' ? 'the differences cross ReLU kinks' : 'the loss is not smooth at the scale of the step';
  return `${line}: ${why}, so single products are rough; compare the eigenvalues over a few seeds`;
}

/**
 * Objectives on which tfjs threw while differentiating twice. The failure is
 * structural (a missing gradient kernel), so auto mode skips the attempt next
 * time, e.g. when stability is recomputed every few epochs.
 */
const noSecondDerivative = new WeakMap<Objective, string>();

interface TapeState {
  gradientDepth: number;
  activeTape: { saved?: tf.Tensor[] }[] | null;
}

/**
 * When backprop throws, tfjs leaves its tape alive, and with it every tensor
 * the forward pass saved for the backward pass (about a hundred for a small
 * network, every time). Dispose them as tfjs itself does after a successful
 * top-level gradient. This reaches into the engine's state; if that shape
 * ever changes, the guard makes it a no-op (a leak, not a crash).
 */
function withTapeCleanup<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    try {
      const state = (tf.engine() as unknown as { state?: TapeState }).state;
      if (state && state.gradientDepth === 0 && Array.isArray(state.activeTape)) {
        for (const node of state.activeTape) for (const t of node.saved ?? []) if (!t.isDisposed) t.dispose();
        state.activeTape = null;
      }
    } catch {
      // best effort only
    }
    throw e;
  }
}

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
function reorthogonalise(w: Float64Array, basis: readonly Float64Array[]): void {
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

/** ‖w‖; linalg's scaled norm only when the plain sum over- or underflows. */
function norm64(w: Float64Array): number {
  const s = norm2(w);
  return s > 1e-280 && s < 1e280 ? Math.sqrt(s) : norm(w);
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
const EXHAUSTED = 1e-5;

/** Above this relative difference autodiff and central differences are said to disagree. */
const AGREEMENT = 1e-2;

function relDiff(a: Float64Array, b: Float64Array): number {
  const diff = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) diff[i] = a[i] - b[i];
  // norm64, not a running Math.hypot: that is a library call per entry, slow until optimised.
  const d = norm64(diff);
  const s = Math.max(norm64(a), norm64(b));
  return s === 0 ? 0 : d / s;
}

function fmt(x: number): string {
  return x.toExponential(1);
}

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split('\n')[0];
}

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
