/**
 * The Hessian's eigenvalue density by stochastic Lanczos quadrature (SLQ;
 * Ghorbani, Krishnan & Xiao 2019, as in PyHessian): each run starts Lanczos
 * from a seeded Rademacher vector q, whose spectral measure Σⱼ (q·uⱼ)² δ(λⱼ)
 * has expectation (1/P) Σⱼ δ(λⱼ), the eigenvalue density itself. Lanczos
 * turns that measure into a Gauss quadrature (Ritz values θᵢ, weights τᵢ),
 * and the density is the mean over runs of Σᵢ τᵢ N(x; θᵢ, σ²).
 *
 * The density integrates to 1: it is the fraction of the P eigenvalues per
 * unit of λ, broadened by σ. Its mean Σᵢ τᵢ θᵢ = qᵀHq is Hutchinson's
 * estimator of trace/P, so the spread over runs gives its standard error.
 */
import type { Objective } from '../objective';
import { Rng } from '../rng';
import { inputError } from '../errors';
import { hessianVectorProduct, type HvpOptions, type HvpUsed } from './hvp';
import { lanczosRitz, type LanczosRitz, type SymmetricOperator } from './lanczosRitz';
import { meanWithError } from './sampleMean';

/** The default broadening, as a fraction of the Ritz values' span. */
export const DEFAULT_SIGMA_FRACTION = 0.01;
/** Grid points of the density: at least this many … */
const MIN_GRID = 401;
/** … spaced at most σ/3 apart, up to this many (a finer σ than that is under-resolved: the raw Ritz values remain). */
const MAX_GRID = 4001;
/** The grid reaches this many σ past the outermost Ritz values, where the Gaussians have died out. */
const GRID_MARGIN = 5;

export interface SlqOptions {
  /** Independent start vectors; default 8. */
  runs?: number;
  /** Lanczos steps per run; default 60, capped at the dimension. */
  steps?: number;
  /** Seed of the start vectors; default 0. */
  seed?: number;
  signal?: AbortSignal;
  /** After each run. */
  onRun?: (done: number, runs: number) => void;
}

/** The quadratures of `runs` Rademacher start vectors (run r draws after the vectors of runs 0..r−1, from one generator). */
export async function slqQuadratures(apply: SymmetricOperator, dim: number, opts: SlqOptions = {}): Promise<LanczosRitz[]> {
  const runs = opts.runs ?? 8;
  const steps = opts.steps ?? 60;
  if (!Number.isInteger(runs) || runs < 1) throw inputError(`runs must be a whole number ≥ 1, got ${opts.runs}`);
  if (!Number.isInteger(steps) || steps < 1) throw inputError(`steps must be a whole number ≥ 1, got ${opts.steps}`);
  const rng = new Rng(opts.seed ?? 0);
  const out: LanczosRitz[] = [];
  for (let r = 0; r < runs; r++) {
    const start = new Float64Array(dim);
    for (let i = 0; i < dim; i++) start[i] = rng.uniform() < 0.5 ? -1 : 1;
    out.push(await lanczosRitz(apply, start, { steps, signal: opts.signal }));
    opts.onRun?.(r + 1, runs);
  }
  return out;
}

/** Σᵢ τᵢ θᵢ of each run (qᵀHq: an unbiased estimate of trace/P), averaged, with the standard error over runs. */
export function quadratureMean(runs: readonly Pick<LanczosRitz, 'values' | 'weights'>[]) {
  return meanWithError(runs.map((r) => r.values.reduce((s, v, i) => s + r.weights[i] * v, 0)));
}

/** σ = 1 % of the span of all Ritz values (1 % of their size when they coincide, 1e-12 when all are 0). */
export function defaultSigma(runs: readonly Pick<LanczosRitz, 'values'>[]): number {
  const { lo, hi } = ritzRange(runs);
  const span = hi - lo;
  const size = Math.max(Math.abs(lo), Math.abs(hi));
  return DEFAULT_SIGMA_FRACTION * (span > 0 ? span : size > 0 ? size : 1e-10);
}

/** The smallest and largest Ritz value over all runs (the density's support before broadening). */
export function ritzRange(runs: readonly Pick<LanczosRitz, 'values'>[]): { lo: number; hi: number } {
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of runs) {
    for (const v of r.values) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  return { lo, hi };
}

/** The broadened density on a grid covering every Ritz value with 5σ to spare. */
export function broadenedDensity(runs: readonly Pick<LanczosRitz, 'values' | 'weights'>[], sigma: number): { x: number[]; density: number[] } {
  if (!(sigma > 0) || !Number.isFinite(sigma)) throw inputError(`sigma must be a positive number, got ${sigma}`);
  const range = ritzRange(runs);
  const lo = range.lo - GRID_MARGIN * sigma;
  const hi = range.hi + GRID_MARGIN * sigma;
  const points = Math.min(MAX_GRID, Math.max(MIN_GRID, Math.ceil((hi - lo) / (sigma / 3)) + 1));
  const x = Array.from({ length: points }, (_, k) => lo + ((hi - lo) * k) / (points - 1));
  const density = new Array<number>(points).fill(0);
  const norm = 1 / (runs.length * sigma * Math.sqrt(2 * Math.PI));
  for (const r of runs) {
    r.values.forEach((theta, i) => {
      const w = r.weights[i] * norm;
      for (let k = 0; k < points; k++) {
        const z = (x[k] - theta) / sigma;
        density[k] += w * Math.exp(-0.5 * z * z);
      }
    });
  }
  return { x, density };
}

/**
 * The fraction of eigenvalues in each interval [edges[b], edges[b+1]) from the
 * quadratures themselves (no broadening), the last interval closed.
 */
export function binnedMass(runs: readonly Pick<LanczosRitz, 'values' | 'weights'>[], edges: readonly number[]): number[] {
  const mass = new Array<number>(Math.max(0, edges.length - 1)).fill(0);
  const last = edges.length - 1;
  for (const r of runs) {
    r.values.forEach((theta, i) => {
      for (let b = 0; b < last; b++) {
        if (theta >= edges[b] && (theta < edges[b + 1] || (b === last - 1 && theta === edges[last]))) {
          mass[b] += r.weights[i] / runs.length;
          break;
        }
      }
    });
  }
  return mass;
}

/**
 * The fraction of eigenvalues at or below x, with the Chebyshev–Markov–Stieltjes
 * bounds of Gauss quadrature: for θₖ ≤ x < θₖ₊₁, each run's true mass lies
 * between its weight below θₖ and its weight up to θₖ₊₁. With few steps the
 * bulk is a few heavy nodes, so near the bulk the bounds are wide; the
 * estimate is the plain quadrature mass, all averaged over runs.
 */
export function massBelow(runs: readonly Pick<LanczosRitz, 'values' | 'weights'>[], x: number): { estimate: number; lower: number; upper: number } {
  let estimate = 0;
  let lower = 0;
  let upper = 0;
  for (const r of runs) {
    const asc = r.values.map((v, i) => [v, r.weights[i]] as const).sort((a, b) => a[0] - b[0]);
    const k = asc.filter(([v]) => v <= x).length; // nodes at or below x: asc[0..k−1]
    const upTo = (n: number) => asc.slice(0, Math.max(0, n)).reduce((s, [, w]) => s + w, 0);
    estimate += upTo(k) / runs.length;
    lower += upTo(k - 1) / runs.length;
    upper += upTo(k + 1) / runs.length;
  }
  return { estimate, lower, upper };
}

export interface SpectralDensityOptions extends HvpOptions, SlqOptions {
  /** Gaussian broadening; default DEFAULT_SIGMA_FRACTION of the Ritz values' span. */
  sigma?: number;
}

export interface SpectralDensityResult {
  /** Each run's Ritz values (descending), weights and steps taken. */
  quadratures: { values: number[]; weights: number[]; steps: number }[];
  sigma: number;
  sigmaSource: 'given' | 'default';
  x: number[];
  density: number[];
  /** The estimate of trace/P (the density's mean) and its standard error over runs (NaN for one run). */
  mean: number;
  meanStandardError: number;
  runs: number;
  steps: number;
  seed: number;
  hvp: HvpUsed;
  loss: number;
  dim: number;
}

/** SLQ on the Hessian of `fn` at θ (see the file comment). */
export async function hessianSpectralDensity(fn: Objective, theta: ArrayLike<number>, opts: SpectralDensityOptions = {}): Promise<SpectralDensityResult> {
  if (opts.sigma !== undefined && !(opts.sigma > 0 && Number.isFinite(opts.sigma))) throw inputError(`sigma must be a positive number, got ${opts.sigma}`);
  const op = hessianVectorProduct(fn, theta, opts);
  try {
    const found = await slqQuadratures((v) => op.apply([v])[0], fn.dim, opts);
    const sigma = opts.sigma ?? defaultSigma(found);
    const { mean, standardError } = quadratureMean(found);
    return {
      quadratures: found.map((r) => ({ values: r.values, weights: r.weights, steps: r.steps })),
      sigma,
      sigmaSource: opts.sigma === undefined ? 'default' : 'given',
      ...broadenedDensity(found, sigma),
      mean,
      meanStandardError: standardError,
      runs: found.length,
      steps: Math.min(opts.steps ?? 60, fn.dim),
      seed: opts.seed ?? 0,
      hvp: op.mode,
      loss: op.loss,
      dim: fn.dim,
    };
  } finally {
    op.dispose();
  }
}
