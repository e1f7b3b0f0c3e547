/**
 * Hessian-vector products at a fixed point θ, as one operator object with a
 * method per way of computing them:
 * - `exact`: forward-over-reverse (Pearlmutter's R-operator) in the fast
 *   kernels, for dense networks; exact up to float32 rounding, kinks or not.
 * - `autodiff`: tfjs differentiating twice; exact where tfjs can, and checked
 *   against central differences because it is silently wrong for tanh,
 *   sigmoid and exp (tfjs#3252).
 * - `finite-difference`: central differences of gradients, for objectives
 *   without either; their step-halving check is reported with the result.
 * Vectors are float64 on the host.
 */
import { tf } from '../backend';
import type { Objective } from '../objective';
import { batchLossAndGrad } from '../objective';
import { hasKernelHvp, usableFast, type HvpSession } from '../fast';
import { computeError, inputError } from '../errors';
import { norm, toFloat32 } from './linalg';

export const HVP_MODES = ['auto', 'exact', 'autodiff', 'finite-difference'] as const;
export type HvpMode = (typeof HVP_MODES)[number];
export type HvpUsed = Exclude<HvpMode, 'auto'>;

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
  /**
   * 'auto' (default): exact products in the fast kernels where the objective
   * has them, else tfjs autodiff, falling back to central differences when
   * tfjs cannot differentiate twice or is caught being wrong.
   */
  hvp?: HvpMode;
}

/** Hessian-vector products at a fixed point θ. */
export interface HvpOperator {
  readonly dim: number;
  /** The method in use now (auto mode may leave autodiff on the first product). */
  readonly mode: HvpUsed;
  /** Why auto mode left autodiff, when it did, or why it used autodiff rather than the kernels' products (a layer they lack). */
  readonly fallbackReason?: string;
  /** Loss at θ. */
  readonly loss: number;
  /** What the first product revealed about the methods' accuracy (see HvpCheck). */
  readonly check?: HvpCheck;
  /** Products computed so far. */
  readonly products: number;
  /** H·v for each v. */
  apply(vs: readonly Float64Array[]): Float64Array[];
  /** The finite-difference step for a vector of norm ‖v‖ (θ ± h·v are the two gradient points). */
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
  return new HessianOperator(fn, theta, opts.hvp ?? 'auto');
}

/** Above this relative difference autodiff and central differences are said to disagree. */
const AGREEMENT = 1e-2;

class HessianOperator implements HvpOperator {
  readonly dim: number;
  readonly loss: number;
  private current: HvpUsed;
  private reason: string | undefined;
  private firstCheck: HvpCheck | undefined;
  private count = 0;
  private first = true;
  private readonly theta32: Float32Array;
  private readonly thetaNorm: number;
  private thetaTensor: tf.Tensor2D | undefined;
  private session: HvpSession | undefined;

  constructor(
    private readonly fn: Objective,
    theta: ArrayLike<number>,
    private readonly requested: HvpMode,
  ) {
    if (!(HVP_MODES as readonly string[]).includes(requested)) {
      throw inputError(`unknown Hessian-vector product mode "${String(requested)}"; choose ${HVP_MODES.join(', ')}`);
    }
    this.dim = fn.dim;
    this.theta32 = checkedPoint(theta, fn.dim);
    this.thetaNorm = norm(this.theta32);
    this.current = this.initialMode();
    this.loss = this.lossAtTheta();
  }

  get mode(): HvpUsed {
    return this.current;
  }
  get fallbackReason(): string | undefined {
    return this.reason;
  }
  get check(): HvpCheck | undefined {
    return this.firstCheck;
  }
  get products(): number {
    return this.count;
  }

  fdStep(vNorm: number): number {
    return finiteDifferenceStep(this.thetaNorm, vNorm);
  }

  apply(vs: readonly Float64Array[]): Float64Array[] {
    if (vs.length === 0) return [];
    for (const v of vs) if (v.length !== this.dim) throw inputError(`vector has ${v.length} values but the objective takes ${this.dim}`);
    const isFirst = this.first;
    this.first = false;
    let out: Float64Array[] | undefined;
    if (this.current === 'exact') out = this.exactProducts(vs);
    else if (this.current === 'autodiff') out = this.autodiffOrFallback(vs, isFirst);
    if (!out) out = this.checkedDifferences(vs);
    this.count += vs.length;
    return out;
  }

  dispose(): void {
    this.thetaTensor?.dispose();
    this.thetaTensor = undefined;
  }

  private initialMode(): HvpUsed {
    const fast = hasKernelHvp(this.fn);
    const declined = this.fn.kernelsDeclined;
    if (this.requested === 'exact' && !fast) {
      throw inputError(
        `exact Hessian-vector products run in the fast kernels, which make them for dense and convolutional networks but not through BatchNorm on batch statistics (and only with LANDSCAPE_FAST not 0)${declined ? `, and ${declined}` : ''}; use --hvp autodiff or finite-difference (autodiff is exact too, on tfjs)`,
      );
    }
    if (this.requested === 'exact' || (this.requested === 'auto' && fast)) return 'exact';
    if (this.requested === 'finite-difference') return 'finite-difference';
    const known = this.requested === 'auto' ? noSecondDerivative.get(this.fn) : undefined;
    if (known) {
      this.reason = known;
      return 'finite-difference';
    }
    // Auto would have used the kernels' exact products; say why it uses tfjs' (still exact) instead.
    if (this.requested === 'auto' && declined) this.reason = `${declined}: exact products by tfjs autodiff instead of the kernels`;
    return 'autodiff';
  }

  private lossAtTheta(): number {
    const loss = usableFast(this.fn) ? this.fn.fast.run(this.theta32, 1, false).losses[0] : tf.tidy(() => this.fn.evaluate(this.thetaRow()).dataSync()[0]);
    if (!Number.isFinite(loss)) {
      this.dispose();
      throw computeError(`the loss at the given parameters is not finite (${loss})`);
    }
    return loss;
  }

  /** θ as a [1, P] tensor, made on first use inside a tidy and kept until dispose(). */
  private thetaRow(): tf.Tensor2D {
    return (this.thetaTensor ??= tf.keep(tf.tensor2d(this.theta32, [1, this.dim])));
  }

  private kernelSession(): HvpSession {
    if (!hasKernelHvp(this.fn)) throw new Error('kernel Hessian-vector products asked of an objective without them');
    return (this.session ??= this.fn.fast.hvp(this.theta32));
  }

  /** Forward-over-reverse in the kernels, one pass per vector. */
  private exactProducts(vs: readonly Float64Array[]): Float64Array[] {
    const out = vs.map((v) => this.kernelSession().product(v).hv);
    const bad = firstNonFinite(out);
    if (bad >= 0) throw computeError(`exact Hessian-vector product is not finite at coordinate ${bad}`);
    return out;
  }

  /**
   * Autodiff, and in auto mode the first product decides whether to keep it:
   * a throw means tfjs lacks a second-derivative kernel; a disagreement with
   * central differences that agree with themselves means tfjs dropped a term.
   * Returns undefined when auto mode switched to central differences.
   */
  private autodiffOrFallback(vs: readonly Float64Array[], isFirst: boolean): Float64Array[] | undefined {
    let out: Float64Array[];
    try {
      out = withTapeCleanup(() => this.autodiffProducts(vs));
      const bad = firstNonFinite(out);
      if (bad >= 0) throw computeError(`autodiff Hessian-vector product is not finite at coordinate ${bad}`);
    } catch (e) {
      // Only the first product decides: later failures are real problems, not missing kernels.
      if (this.requested !== 'auto' || !isFirst) {
        throw e instanceof Error && (e as { kind?: string }).kind ? e : computeError(`autodiff Hessian-vector product failed: ${firstLine(e)}`);
      }
      this.current = 'finite-difference';
      this.reason = `tfjs could not differentiate twice (${firstLine(e)}); used central differences of gradients`;
      noSecondDerivative.set(this.fn, this.reason);
      return undefined;
    }
    if (isFirst && this.requested === 'auto' && this.autodiffCaughtWrong(vs[0], out[0])) return undefined;
    return out;
  }

  /**
   * tfjs can be silently wrong: for tanh, sigmoid and exp the gradient reuses
   * the op's saved output, and the second derivative through it is dropped
   * without an error (tfjs#3252). So the first product is compared with
   * central differences at two steps. If the differences agree with each
   * other but not with autodiff, autodiff is the one missing a term. If they
   * disagree with each other, the objective is not smooth at this scale (ReLU
   * kinks make the gradient jump), the differences cannot be trusted, and
   * autodiff, which gives the Hessian of the current linear region, is kept.
   */
  private autodiffCaughtWrong(v: Float64Array, autodiff: Float64Array): boolean {
    const fd1 = this.differences([v])[0];
    const fd2 = this.differences([v], 0.5)[0];
    const stepDependence = relDiff(fd1, fd2);
    const autodiffVsFd = relDiff(autodiff, fd1);
    this.firstCheck = { autodiffVsFiniteDifference: autodiffVsFd, finiteDifferenceStepDependence: stepDependence };
    if (!(autodiffVsFd > AGREEMENT && stepDependence < autodiffVsFd / 10)) return false;
    this.current = 'finite-difference';
    this.reason =
      `autodiff disagreed with central differences by ${fmt(autodiffVsFd)} (relative) while the differences agree with ` +
      `themselves to ${fmt(stepDependence)} under step halving: tfjs dropped part of the second derivative (tfjs#3252); used central differences`;
    return true;
  }

  /**
   * H v for each row of V at once: the rows of the tiled θ are independent,
   * so the gradient of Σ_r ∇f(θ_r)·v_r with respect to the tiled θ holds H v_r in row r.
   */
  private autodiffProducts(vs: readonly Float64Array[]): Float64Array[] {
    const b = vs.length;
    const dim = this.dim;
    const flat = tf.tidy(() => {
      const V = tf.tensor2d(stack(vs, dim), [b, dim]);
      const T = tf.tile(this.thetaRow(), [b, 1]);
      const hv = tf.grad((t: tf.Tensor) => {
        const g = tf.grad((u: tf.Tensor) => tf.sum(this.fn.evaluate(u as tf.Tensor2D)))(t);
        return tf.sum(tf.mul(g, V));
      })(T);
      return hv.dataSync();
    });
    return unstack(flat, b, dim);
  }

  /** Central differences, with the step-halving check of the first product recorded. */
  private checkedDifferences(vs: readonly Float64Array[]): Float64Array[] {
    const out = this.differences(vs);
    const bad = firstNonFinite(out);
    if (bad >= 0) throw computeError(`finite-difference Hessian-vector product is not finite at coordinate ${bad}: the loss is not finite near the given parameters`);
    // Step halving estimates the products' own error (truncation, rounding, kinks), reported with the result.
    this.firstCheck ??= { finiteDifferenceStepDependence: relDiff(out[0], this.differences([vs[0]], 0.5)[0]) };
    return out;
  }

  private differences(vs: readonly Float64Array[], stepFactor = 1): Float64Array[] {
    const steps = vs.map((v) => stepFactor * this.fdStep(norm64(v)));
    return hasKernelHvp(this.fn) ? this.kernelDifferences(vs, steps) : this.tfjsDifferences(vs, steps);
  }

  /** Dense networks: the kernels' central-difference pass, layer 0's product with θ made once per θ. */
  private kernelDifferences(vs: readonly Float64Array[], steps: number[]): Float64Array[] {
    return vs.map((v, r) => {
      const out = new Float64Array(this.dim);
      const h = steps[r];
      if (h > 0) {
        const { diff } = this.kernelSession().difference(v, h);
        for (let i = 0; i < this.dim; i++) out[i] = diff[i] / (2 * h);
      }
      return out;
    });
  }

  /** Otherwise one batched tfjs gradient pass over the 2B points θ ± h_r v_r. */
  private tfjsDifferences(vs: readonly Float64Array[], steps: number[]): Float64Array[] {
    const b = vs.length;
    const dim = this.dim;
    const pts = new Float32Array(2 * b * dim);
    for (let r = 0; r < b; r++) {
      for (let i = 0; i < dim; i++) {
        const d = steps[r] * vs[r][i];
        pts[2 * r * dim + i] = this.theta32[i] + d;
        pts[(2 * r + 1) * dim + i] = this.theta32[i] - d;
      }
    }
    const grads = tf.tidy(() => {
      const { losses, grads } = batchLossAndGrad(this.fn, tf.tensor2d(pts, [2 * b, dim]));
      losses.dispose();
      return grads.dataSync() as Float32Array;
    });
    return vs.map((_, r) => {
      const v = new Float64Array(dim);
      const h = steps[r];
      if (h > 0) for (let i = 0; i < dim; i++) v[i] = (grads[2 * r * dim + i] - grads[(2 * r + 1) * dim + i]) / (2 * h);
      return v;
    });
  }
}

function checkedPoint(theta: ArrayLike<number>, dim: number): Float32Array {
  if (theta.length !== dim) throw inputError(`parameter vector has ${theta.length} values but the objective takes ${dim}`);
  const theta32 = toFloat32(theta);
  for (let i = 0; i < dim; i++) {
    if (!Number.isFinite(theta32[i])) throw inputError(`parameter ${i} is not finite (${theta32[i]})`);
  }
  return theta32;
}

function stack(vs: readonly Float64Array[], dim: number): Float32Array {
  const flat = new Float32Array(vs.length * dim);
  vs.forEach((v, r) => flat.set(v, r * dim));
  return flat;
}

function unstack(flat: ArrayLike<number>, count: number, dim: number): Float64Array[] {
  const out: Float64Array[] = [];
  for (let r = 0; r < count; r++) out.push(Float64Array.from({ length: dim }, (_, i) => flat[r * dim + i]));
  return out;
}

function firstNonFinite(vs: Float64Array[]): number {
  for (const v of vs) for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return i;
  return -1;
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
  return `${line}: ${why}, so single products are rough; compare the eigenvalues over a few seeds, or use --hvp exact where the kernels run`;
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

/** ‖w‖; the scaled norm only when the plain sum over- or underflows. */
export function norm64(w: Float64Array): number {
  let s = 0;
  for (let i = 0; i < w.length; i++) s += w[i] * w[i];
  return s > 1e-280 && s < 1e280 ? Math.sqrt(s) : norm(w);
}

/** ‖a − b‖ / max(‖a‖, ‖b‖). */
export function relDiff(a: Float64Array, b: Float64Array): number {
  const diff = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) diff[i] = a[i] - b[i];
  const s = Math.max(norm64(a), norm64(b));
  return s === 0 ? 0 : norm64(diff) / s;
}

function fmt(x: number): string {
  return x.toExponential(1);
}

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split('\n')[0];
}
