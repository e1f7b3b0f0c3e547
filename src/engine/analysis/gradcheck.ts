/**
 * Gradient check: the objective's autodiff gradient against central
 * differences of its loss, along random coordinates and random directions.
 *
 * Everything tfjs computes is float32, so the check is built around
 * float32's limits rather than float64 habits:
 *  - the step is h = ε^(1/3)·max(1, |θ_i|) (ε of float32, ≈ 4.9e-3 for unit
 *    scale), the step that balances the central difference's O(h²)
 *    truncation against rounding of order ε·|f|/h;
 *  - the analytic side is dotted with the *realised* displacement
 *    fl(θ + hu) − fl(θ − hu), so rounding θ ± hu to float32 cancels out;
 *  - rounding noise in the loss is measured, not assumed (it grows with the
 *    data size and differs between backends): the fourth difference
 *    f(−s) − 4f(−s/2) + 6f(0) − 4f(s/2) + f(s) of a smooth function is
 *    O(s⁴) and otherwise pure noise (√70·σ); its upper quartile over 16 extra
 *    random directions with a tiny step s = √ε·max(1, |θ·u|) gives σ
 *    relative to |f|;
 *  - a probe passes when |analytic − numeric| ≤ atol + tolerance·max(|analytic|, |numeric|),
 *    atol = 10·σ/h, the numeric derivative's own rounding allowance.
 *
 * ReLU kinks: when [θ − h, θ + h] crosses a kink, the central difference
 * averages the two one-sided slopes and need not match the gradient. A kink
 * is recognised by the differences' step dependence, which smooth functions
 * do not have: the odd part D(h) − D(h/2) (central differences at h and h/2,
 * each relative to the analytic value) and the even part S(h) − 4S(h/2)
 * (second differences, which scale exactly as h² when smooth) together see a
 * kink anywhere inside the interval. Or, exactly, by an optional
 * `kinkDetector` asked about each interval (see reluKinkDetector for
 * networks). A failing probe with a kink is reported as 'kink', not 'fail'.
 */
import { tf } from '../backend';
import type { Objective } from '../objective';
import { lossAndGrad } from '../objective';
import { Rng } from '../rng';
import { computeError, inputError, throwIfAborted } from '../errors';
import type { ModelSpec } from '../model/spec';
import { paramCount, paramLayout } from '../model/spec';
import { norm, randomNormal, scale, toFloat32 } from './linalg';
import { FLOAT32_EPS, hessianVectorProduct, relDiff } from './hvp';
import { hasKernelHvp } from '../fast';

/**
 * Whether the segment between two parameter vectors crosses a kink of the
 * objective. Return true/false, or the number of kinks crossed.
 */
export type KinkDetector = (lower: Float32Array, upper: Float32Array) => boolean | number;

export interface GradCheckOptions {
  /** Random coordinates probed (without repetition); default 20. */
  coordinates?: number;
  /** Explicit coordinates to probe instead of random ones. */
  indices?: number[];
  /** Random unit directions probed; default 10. */
  directions?: number;
  /**
   * Also probe along the gradient itself (default true): there the
   * directional derivative is largest (‖∇f‖), so float32 noise matters least,
   * and any error in the gradient not orthogonal to it shows.
   */
  gradientProbe?: boolean;
  /** Seed for the coordinates and directions; default 0. */
  seed?: number;
  /** Relative tolerance; default 1e-2 (float32 central differences are good to ~1e-4 relative on smooth losses). */
  tolerance?: number;
  kinkDetector?: KinkDetector;
  /** Points per evaluate call; default 256. */
  batchSize?: number;
  signal?: AbortSignal;
}

export type ProbeStatus = 'ok' | 'kink' | 'fail';

export interface GradCheckProbe {
  kind: 'coordinate' | 'direction' | 'gradient';
  /** The coordinate (coordinate probes). */
  index?: number;
  /** 0-based number of the random direction, drawn in order from the seed (direction probes). */
  direction?: number;
  /** Step along the unit probe vector. */
  h: number;
  /** Directional derivative from the gradient. */
  analytic: number;
  /** Central difference (f(θ + hu) − f(θ − hu)) / 2h. */
  numeric: number;
  absError: number;
  /** absError / max(|analytic|, |numeric|); 0 when both are 0. */
  relError: number;
  /** The absolute allowance for float32 rounding (atol). */
  noise: number;
  /** Whether the step dependence (or the detector) found a kink in [θ − h, θ + h]. */
  kink: boolean;
  /** Kinks crossed, when the detector counts them. */
  crossings?: number;
  /** How strongly the central difference depends on the step: |D(h) − D(h/2)| and its even-part counterpart, the larger. */
  stepDependence: number;
  status: ProbeStatus;
}

export interface GradCheckResult {
  /** No probe failed (kinks excepted). */
  passed: boolean;
  /**
   * Largest relative error over the resolved probes: those whose derivative
   * is large enough that tolerance·|derivative| exceeds the rounding allowance.
   */
  maxRelError: number;
  /** The same, over resolved probes without a kink. */
  maxRelErrorSmooth: number;
  /** Largest absError / (noise + tolerance·max(|analytic|, |numeric|)) over all probes: above 1 fails (or is a kink). */
  maxScaledError: number;
  /** Index into `probes` of the largest relative error (−1 when no probe is resolved). */
  worst: number;
  failures: number;
  kinks: number;
  /** Probes too small to resolve relative to float32 rounding: judged by the absolute allowance only. */
  unresolved: number;
  probes: GradCheckProbe[];
  tolerance: number;
  /** Measured rounding noise of the loss, relative to |loss|. */
  relativeNoise: number;
  kinkMethod: 'detector' | 'step-dependence';
  loss: number;
  gradNorm: number;
  seed: number;
  dim: number;
  /** The step convention, for the record. */
  stepRule: string;
  evaluations: number;
  /** The exact Hessian-vector products against the analytic gradient, where the fast kernels run (see hessianConsistency). */
  hessian?: HvpConsistency;
}

export interface HvpConsistencyProbe {
  /** 0-based number of the random unit direction u. */
  direction: number;
  /** Step of the central difference of gradients along u. */
  h: number;
  /** ‖H·u − (∇f(θ + hu) − ∇f(θ − hu))/2h‖ / max of the two norms. */
  relError: number;
  /** The differences' change when the step is halved (large across kinks). */
  stepDependence: number;
  kink: boolean;
  crossings?: number;
  status: ProbeStatus;
}

export interface HvpConsistency {
  /** Which products were checked: the kernels' forward-over-reverse ones. */
  method: 'exact';
  probes: HvpConsistencyProbe[];
  /** Largest relative error over probes without a kink. */
  maxRelErrorSmooth: number;
  failures: number;
  tolerance: number;
}

const CBRT_EPS = Math.cbrt(FLOAT32_EPS);
const MAX_BATCH_FLOATS = 1 << 22;
/** Extra random directions whose tiny-step stencils measure the loss's rounding noise. */
const NOISE_PROBES = 16;
/** Offsets (in units of h) evaluated for every probe; 0 is shared. */
const OFFSETS = [1, -1, 0.5, -0.5] as const;

/** A probe before it is evaluated: the unit vector u (none for a coordinate) and the step h along it. */
interface Plan {
  kind: 'coordinate' | 'direction' | 'gradient' | 'noise';
  index?: number;
  direction?: number;
  u?: Float64Array;
  h: number;
}

/** Loss values at θ (index 0) and at θ + c·h·u for every plan and offset c, with the lookup `at(k, c)`. */
interface Stencils {
  f0: number;
  at(k: number, c: number): number;
  pointFor(p: Plan, c: number): Float32Array;
  evaluations: number;
}

export async function gradientCheck(fn: Objective, theta: ArrayLike<number>, opts: GradCheckOptions = {}): Promise<GradCheckResult> {
  const dim = fn.dim;
  const theta32 = checkedTheta(theta, dim);
  const { seed, tolerance, batchSize } = checkOptions(opts, dim);
  const rng = new Rng(seed);
  const coordRng = rng.fork();
  const dirRng = rng.fork();
  const noiseRng = rng.fork();
  const indices = chooseCoordinates(opts, dim, coordRng);
  const nDirections = opts.directions ?? 10;
  if (!Number.isInteger(nDirections) || nDirections < 0) throw inputError(`directions must be a whole number ≥ 0, got ${opts.directions}`);
  if (indices.length + nDirections === 0) throw inputError('nothing to check: coordinates and directions are both 0');

  const { grad } = gradientAt(fn, theta32);
  const gNorm = norm(grad);
  const plans = planProbes(theta32, indices, nDirections, dirRng, opts.gradientProbe ?? true ? grad : undefined, noiseRng);
  const st = await evaluateStencils(fn, theta32, plans, batchSize, opts.signal);
  const relativeNoise = measureNoise(plans, st);
  // Noise probes were planned last, so index k of `checked` is also index k of `plans`.
  const probes = plans.filter((p) => p.kind !== 'noise').map((p, k) => judgeProbe(p, k, grad, st, relativeNoise, tolerance, opts.kinkDetector));
  const summary = summarise(probes, tolerance);
  const hessian = hasKernelHvp(fn) ? await hessianConsistency(fn, theta32, tolerance, new Rng(seed).fork(), opts) : undefined;
  return {
    passed: summary.failures === 0 && (hessian?.failures ?? 0) === 0,
    ...summary,
    kinks: probes.filter((p) => p.kink).length,
    probes,
    tolerance,
    relativeNoise,
    kinkMethod: opts.kinkDetector ? 'detector' : 'step-dependence',
    loss: st.f0,
    gradNorm: gNorm,
    seed,
    dim,
    stepRule: 'h = ε^(1/3)·max(1, |θ·u|), ε = 2^-23 (float32), |θ·u| = √Σ u_i²θ_i² (|θ_i| for coordinate i)',
    evaluations: st.evaluations,
    ...(hessian ? { hessian } : {}),
  };
}

function checkedTheta(theta: ArrayLike<number>, dim: number): Float32Array {
  if (theta.length !== dim) throw inputError(`parameter vector has ${theta.length} values but the objective takes ${dim}`);
  const theta32 = toFloat32(theta);
  for (let i = 0; i < dim; i++) if (!Number.isFinite(theta32[i])) throw inputError(`parameter ${i} is not finite (${theta32[i]})`);
  return theta32;
}

function checkOptions(opts: GradCheckOptions, dim: number): { seed: number; tolerance: number; batchSize: number } {
  const tolerance = opts.tolerance ?? 1e-2;
  if (!(tolerance > 0)) throw inputError(`tolerance must be positive, got ${opts.tolerance}`);
  if (opts.batchSize !== undefined && (!Number.isInteger(opts.batchSize) || opts.batchSize < 1)) {
    throw inputError(`batchSize must be a whole number ≥ 1, got ${opts.batchSize}`);
  }
  // Also bound the host buffer: at most about 4M floats (16 MB) of points per pass.
  const batchSize = Math.min(opts.batchSize ?? 256, Math.max(1, Math.floor(MAX_BATCH_FLOATS / dim)));
  return { seed: opts.seed ?? 0, tolerance, batchSize };
}

function chooseCoordinates(opts: GradCheckOptions, dim: number, rng: Rng): number[] {
  if (opts.indices) {
    return opts.indices.map((i) => {
      if (!Number.isInteger(i) || i < 0 || i >= dim) throw inputError(`coordinate ${i} is out of range 0..${dim - 1}`);
      return i;
    });
  }
  const want = opts.coordinates ?? 20;
  if (!Number.isInteger(want) || want < 0) throw inputError(`coordinates must be a whole number ≥ 0, got ${opts.coordinates}`);
  return Array.from(rng.permutation(dim).subarray(0, Math.min(want, dim))).sort((a, b) => a - b);
}

function gradientAt(fn: Objective, theta32: Float32Array): { loss: number; grad: Float64Array } {
  const thetaTensor = tf.tensor1d(theta32);
  let loss: number;
  let grad: Float64Array;
  try {
    const r = lossAndGrad(fn, thetaTensor);
    loss = r.loss;
    grad = Float64Array.from(r.grad.dataSync());
    r.grad.dispose();
  } finally {
    thetaTensor.dispose();
  }
  if (!Number.isFinite(loss)) throw computeError(`the loss at the given parameters is not finite (${loss})`);
  for (let i = 0; i < grad.length; i++) if (!Number.isFinite(grad[i])) throw computeError(`gradient coordinate ${i} is not finite (${grad[i]})`);
  return { loss, grad };
}

/**
 * The probe vectors u (unit) and steps h. For a direction, the magnitude that
 * sets the step is θ's size along u: √Σ u_i²θ_i², which is |θ_i| for e_i.
 * Noise probes come last: the same five-point stencil along a few more random
 * directions but with a step √ε times smaller than usual, so truncation is
 * negligible and crossing a kink unlikely; what their fourth differences show
 * is rounding. (The check's own probes cannot be used: one probe that
 * straddles a kink would pass its kink off as noise.)
 */
function planProbes(theta32: Float32Array, indices: number[], nDirections: number, dirRng: Rng, grad: Float64Array | undefined, noiseRng: Rng): Plan[] {
  const dim = theta32.length;
  const sizeAlong = (u: Float64Array): number => {
    let mag = 0;
    for (let i = 0; i < dim; i++) mag += u[i] * u[i] * theta32[i] * theta32[i];
    return Math.max(1, Math.sqrt(mag));
  };
  const unitRandom = (rng: Rng): Float64Array => {
    const u = randomNormal(dim, rng);
    return scale(u, 1 / norm(u));
  };
  const plans: Plan[] = indices.map((i) => ({ kind: 'coordinate', index: i, h: CBRT_EPS * Math.max(1, Math.abs(theta32[i])) }));
  for (let d = 0; d < nDirections; d++) {
    const u = unitRandom(dirRng);
    plans.push({ kind: 'direction', direction: d, u, h: CBRT_EPS * sizeAlong(u) });
  }
  const gNorm = grad ? norm(grad) : 0;
  if (grad && gNorm > 0) {
    const u = scale(Float64Array.from(grad), 1 / gNorm);
    plans.push({ kind: 'gradient', u, h: CBRT_EPS * sizeAlong(u) });
  }
  for (let d = 0; d < NOISE_PROBES; d++) {
    const u = unitRandom(noiseRng);
    plans.push({ kind: 'noise', u, h: Math.sqrt(FLOAT32_EPS) * sizeAlong(u) });
  }
  return plans;
}

/** Evaluates θ, then θ + c·h·u for each probe and each offset c, in batched chunks. */
async function evaluateStencils(fn: Objective, theta32: Float32Array, plans: Plan[], batchSize: number, signal: AbortSignal | undefined): Promise<Stencils> {
  const dim = theta32.length;
  const pointFor = (p: Plan, c: number): Float32Array => {
    const x = Float32Array.from(theta32);
    if (p.kind === 'coordinate') x[p.index!] = theta32[p.index!] + c * p.h;
    else for (let i = 0; i < dim; i++) x[i] = theta32[i] + c * p.h * p.u![i];
    return x;
  };
  const total = 1 + plans.length * OFFSETS.length;
  const values = new Float64Array(total);
  const pending: Float32Array[] = [];
  let filled = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    throwIfAborted(signal);
    const flat = new Float32Array(pending.length * dim);
    pending.forEach((x, r) => flat.set(x, r * dim));
    const out = tf.tidy(() => fn.evaluate(tf.tensor2d(flat, [pending.length, dim])).dataSync());
    for (let r = 0; r < pending.length; r++) values[filled + r] = out[r];
    filled += pending.length;
    pending.length = 0;
    await new Promise<void>((resolve) => setImmediate(resolve));
  };
  pending.push(theta32);
  for (const p of plans) {
    for (const c of OFFSETS) {
      pending.push(pointFor(p, c));
      if (pending.length >= batchSize) await flush();
    }
  }
  await flush();
  checkFiniteLosses(values, plans);
  const at = (k: number, c: number) => values[1 + k * OFFSETS.length + OFFSETS.indexOf(c as (typeof OFFSETS)[number])];
  return { f0: values[0], at, pointFor, evaluations: total };
}

function checkFiniteLosses(values: Float64Array, plans: Plan[]): void {
  for (let r = 0; r < values.length; r++) {
    if (Number.isFinite(values[r])) continue;
    const p = r === 0 ? undefined : plans[Math.floor((r - 1) / OFFSETS.length)];
    const where = p ? (p.kind === 'coordinate' ? `coordinate ${p.index}` : p.kind === 'direction' ? `direction ${p.direction}` : p.kind === 'gradient' ? 'the gradient' : 'a random direction') : 'θ';
    throw computeError(`the loss is not finite (${values[r]}) near the given parameters (probe along ${where}); cannot check the gradient there`);
  }
}

/** Rounding noise of the loss relative to |f|: the upper quartile of |4th difference| / √70 over the noise probes. */
function measureNoise(plans: Plan[], st: Stencils): number {
  const { f0, at } = st;
  const rel = plans
    .map((p, k) => (p.kind === 'noise' ? k : -1))
    .filter((k) => k >= 0)
    .map((k) => {
      const d4 = at(k, -1) - 4 * at(k, -0.5) + 6 * f0 - 4 * at(k, 0.5) + at(k, 1);
      const F = Math.max(Math.abs(f0), Math.abs(at(k, 1)), Math.abs(at(k, -1)), Number.MIN_VALUE);
      return Math.abs(d4) / Math.sqrt(70) / F;
    });
  const sorted = [...rel].sort((a, b) => a - b);
  // The upper quartile, not the median: rounding noise has heavy tails on some backends (WASM), and underestimating it would fail correct gradients.
  return Math.max(FLOAT32_EPS, sorted[Math.floor(0.75 * (sorted.length - 1))]);
}

/** One probe's verdict: analytic against numeric derivative, with its rounding allowance and kink test. */
function judgeProbe(p: Plan, k: number, grad: Float64Array, st: Stencils, relativeNoise: number, tolerance: number, detector: KinkDetector | undefined): GradCheckProbe {
  const { f0, at, pointFor } = st;
  // Realised displacement between the two evaluated points (float32 rounding included), dotted with the gradient.
  const analyticFor = (c: number): number => {
    const up = pointFor(p, c);
    const lo = pointFor(p, -c);
    let s = 0;
    if (p.kind === 'coordinate') s = grad[p.index!] * (up[p.index!] - lo[p.index!]);
    else for (let i = 0; i < grad.length; i++) s += grad[i] * (up[i] - lo[i]);
    return s / (2 * c * p.h);
  };
  const h = p.h;
  const numeric = (at(k, 1) - at(k, -1)) / (2 * h);
  const numericHalf = (at(k, 0.5) - at(k, -0.5)) / h;
  const analytic = analyticFor(1);
  const analyticHalf = analyticFor(0.5);
  const F = Math.max(Math.abs(f0), Math.abs(at(k, 1)), Math.abs(at(k, -1)));
  const sigma = relativeNoise * F;
  const atol = (10 * sigma) / h;
  const absError = Math.abs(analytic - numeric);
  const big = Math.max(Math.abs(analytic), Math.abs(numeric));
  const relError = big === 0 ? 0 : absError / big;
  const odd = Math.abs(numeric - analytic - (numericHalf - analyticHalf));
  const sFull = at(k, 1) + at(k, -1) - 2 * f0;
  const sHalf = at(k, 0.5) + at(k, -0.5) - 2 * f0;
  const even = Math.abs(sFull - 4 * sHalf) / (2 * h);
  const stepDependence = Math.max(odd, even);
  // Noise alone gives stepDependence up to a few σ/h (the even part is the
  // noisier: about 5σ/h standard deviation); a kink that matters exceeds
  // both that and a good fraction of the failure threshold.
  const { kink, crossings } = detector
    ? detectKink(detector, pointFor(p, -1), pointFor(p, 1))
    : { kink: stepDependence > Math.max((30 * sigma) / h, 0.4 * (atol + tolerance * big)), crossings: undefined };
  const ok = absError <= atol + tolerance * big;
  const status: ProbeStatus = ok ? 'ok' : kink ? 'kink' : 'fail';
  return {
    kind: p.kind as GradCheckProbe['kind'],
    ...(p.kind === 'coordinate' ? { index: p.index } : p.kind === 'direction' ? { direction: p.direction } : {}),
    h,
    analytic,
    numeric,
    absError,
    relError,
    noise: atol,
    kink,
    ...(crossings !== undefined ? { crossings } : {}),
    stepDependence,
    status,
  };
}

function detectKink(detector: KinkDetector, lower: Float32Array, upper: Float32Array): { kink: boolean; crossings?: number } {
  const ans = detector(lower, upper);
  return typeof ans === 'number' ? { kink: ans > 0, crossings: ans } : { kink: ans };
}

function summarise(probes: GradCheckProbe[], tolerance: number): Pick<GradCheckResult, 'maxRelError' | 'maxRelErrorSmooth' | 'maxScaledError' | 'worst' | 'failures' | 'unresolved'> {
  let maxRelError = 0;
  let maxRelErrorSmooth = 0;
  let maxScaledError = 0;
  let worst = -1;
  let unresolved = 0;
  probes.forEach((p, k) => {
    const big = Math.max(Math.abs(p.analytic), Math.abs(p.numeric));
    maxScaledError = Math.max(maxScaledError, p.absError / (p.noise + tolerance * big));
    // A relative error means something only where the relative term of the
    // allowance dominates the rounding term.
    if (big * tolerance < p.noise) {
      unresolved++;
      return;
    }
    if (worst < 0 || p.relError > maxRelError) {
      maxRelError = p.relError;
      worst = k;
    }
    if (!p.kink) maxRelErrorSmooth = Math.max(maxRelErrorSmooth, p.relError);
  });
  return { maxRelError, maxRelErrorSmooth, maxScaledError, worst, failures: probes.filter((p) => p.status === 'fail').length, unresolved };
}

/** Random directions along which the exact Hessian-vector products are checked against the gradient. */
const HVP_PROBES = 3;

/**
 * The kernels' exact Hessian-vector products against their own analytic
 * gradient: H·u from forward-over-reverse, and (∇f(θ + hu) − ∇f(θ − hu))/2h
 * from the gradient. They agree to about 1e-4 relative where the segment
 * θ ± hu crosses no kink; a disagreement there means the products and the
 * gradient describe different functions. Kinks are found as for the
 * gradient's probes (the detector, else the differences' step dependence).
 */
async function hessianConsistency(fn: Objective, theta32: Float32Array, tolerance: number, rng: Rng, opts: GradCheckOptions): Promise<HvpConsistency> {
  const exact = hessianVectorProduct(fn, theta32, { hvp: 'exact' });
  try {
    const probes: HvpConsistencyProbe[] = [];
    for (let d = 0; d < HVP_PROBES; d++) {
      throwIfAborted(opts.signal);
      const u = randomNormal(theta32.length, rng);
      scale(u, 1 / norm(u));
      probes.push(consistencyProbe(fn, theta32, u, d, exact.apply([u])[0], tolerance, opts.kinkDetector));
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const smooth = probes.filter((p) => !p.kink).map((p) => p.relError);
    return { method: 'exact', probes, maxRelErrorSmooth: smooth.length ? Math.max(...smooth) : 0, failures: probes.filter((p) => p.status === 'fail').length, tolerance };
  } finally {
    exact.dispose();
  }
}

/** One direction: the exact product against central differences of the gradient, whose operator also halves the step once. */
function consistencyProbe(fn: Objective, theta32: Float32Array, u: Float64Array, direction: number, hu: Float64Array, tolerance: number, detector: KinkDetector | undefined): HvpConsistencyProbe {
  const differences = hessianVectorProduct(fn, theta32, { hvp: 'finite-difference' });
  try {
    const numeric = differences.apply([u])[0];
    const h = differences.fdStep(1);
    const relError = relDiff(hu, numeric);
    const stepDependence = differences.check?.finiteDifferenceStepDependence ?? 0;
    const { kink, crossings } = detector ? detectKink(detector, shifted(theta32, u, -h), shifted(theta32, u, h)) : { kink: stepDependence > tolerance / 2, crossings: undefined };
    const status: ProbeStatus = relError <= tolerance ? 'ok' : kink ? 'kink' : 'fail';
    return { direction, h, relError, stepDependence, kink, ...(crossings !== undefined ? { crossings } : {}), status };
  } finally {
    differences.dispose();
  }
}

function shifted(theta32: Float32Array, u: Float64Array, by: number): Float32Array {
  return Float32Array.from(theta32, (t, i) => t + by * u[i]);
}

/**
 * Exact kink detection for a dense ReLU network on inputs x: counts the
 * (sample, hidden unit) pairs whose pre-activation has opposite signs at the
 * two ends of the segment. Pre-activations of deeper layers are not linear
 * along the segment, so a unit that crosses zero twice is missed; for the
 * short segments of a gradient check that is rare. Activations other than
 * ReLU have no kinks (ELU's is in the second derivative only), so this
 * returns 0 for them.
 */
export function reluKinkDetector(spec: ModelSpec, x: tf.Tensor2D): KinkDetector {
  const dim = paramCount(spec);
  const layout = paramLayout(spec);
  return (lower: Float32Array, upper: Float32Array): number => {
    if (spec.activation !== 'relu') return 0;
    if (lower.length !== dim || upper.length !== dim) throw inputError(`parameter vectors must have ${dim} values for this model`);
    return tf.tidy(() => {
      const thetas = [lower, upper];
      const signs: tf.Tensor[][] = [[], []];
      thetas.forEach((t, side) => {
        let h: tf.Tensor = x;
        const nLayers = spec.layers.length - 1;
        for (let i = 0; i < nLayers - 1; i++) {
          const w = layout.find((e) => e.layer === i && e.kind === 'weight')!;
          let z = tf.matMul(h as tf.Tensor2D, tf.tensor2d(t.subarray(w.offset, w.offset + w.size), [w.shape[0], w.shape[1]]));
          if (spec.bias) {
            const b = layout.find((e) => e.layer === i && e.kind === 'bias')!;
            z = tf.add(z, tf.tensor1d(t.subarray(b.offset, b.offset + b.size)));
          }
          signs[side].push(tf.greater(z, 0));
          h = tf.relu(z);
        }
      });
      let count = 0;
      for (let l = 0; l < signs[0].length; l++) count += tf.sum(tf.cast(tf.notEqual(signs[0][l], signs[1][l]), 'int32')).dataSync()[0];
      return count;
    });
  };
}
