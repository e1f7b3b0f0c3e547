/**
 * findPath: the library entry point for a low path between two minima of any
 * objective, by the Fourier path finder (default), the straight line, a
 * climbing-image nudged elastic band, or a Bezier curve or polygonal chain
 * with one trained bend (Garipov et al. 2018). Heights are always measured on a grid
 * ten times denser than the path points, and the straight line's numbers are
 * reported alongside.
 */
import { tf } from '../backend';
import type { Objective } from '../objective';
import { inputError } from '../errors';
import { BasisPath, chainPath, denseGridSize, denseHeights, evenGrid, evaluateAlong, straightPath, summarize } from './heights';
import { fourierPath, runFourier } from './fourier';
import { runNeb } from './neb';
import { curvePath, isCurveMethod, runCurve } from './curves';
import { climbFromPath, saddleCertificate } from './refine';
import {
  BAND_OPTIMIZERS,
  BandOptimizer,
  CurveMethod,
  PATH_METHODS,
  PATH_OBJECTIVES,
  PATH_REFINES,
  PathEndpoint,
  PathRefine,
  RefinementSummary,
  PathOptions,
  PathResult,
  ResolvedPathOptions,
  HeightSummary,
} from './types';

export const PATH_DEFAULTS = {
  method: 'fourier',
  objective: 'minimax',
  modes: 10,
  points: 50,
  lambda: 1e-4,
  steps: 300,
  lr: 0.01,
  noise: 0,
  seed: 0,
  tauStart: 0.3,
  tauEnd: 0.01,
  // FourierPathFinder alone misses the saddle by up to 8 % at these settings; the climb reaches it.
  refine: 'climb',
  // Quick-min's steps are bounded by the stiffest direction: 9 % high on walls of curvature 10⁴ after 300 steps.
  bandOptimizer: 'lbfgs',
} as const satisfies Record<string, string | number>;

function intOption(name: string, v: number | undefined, def: number, min: number): number {
  const x = v ?? def;
  if (!Number.isInteger(x) || x < min) throw inputError(`path option "${name}" must be a whole number ≥ ${min}, got ${x}`);
  return x;
}

function numOption(name: string, v: number | undefined, def: number, positive: boolean): number {
  const x = v ?? def;
  if (typeof x !== 'number' || !Number.isFinite(x) || (positive ? x <= 0 : x < 0)) {
    throw inputError(`path option "${name}" must be a finite number ${positive ? '> 0' : '≥ 0'}, got ${x}`);
  }
  return x;
}

export function resolvePathOptions(o: PathOptions = {}): ResolvedPathOptions {
  const method = o.method ?? PATH_DEFAULTS.method;
  if (!(PATH_METHODS as readonly string[]).includes(method)) {
    throw inputError(`unknown path method "${method}"; choose one of ${PATH_METHODS.join(', ')}`);
  }
  const objective = o.objective ?? PATH_DEFAULTS.objective;
  if (!(PATH_OBJECTIVES as readonly string[]).includes(objective)) {
    throw inputError(`unknown path objective "${objective}"; choose one of ${PATH_OBJECTIVES.join(', ')}`);
  }
  const refine: PathRefine = o.refine ?? PATH_DEFAULTS.refine;
  if (!(PATH_REFINES as readonly string[]).includes(refine)) {
    throw inputError(`unknown path refinement "${refine}"; choose one of ${PATH_REFINES.join(', ')}`);
  }
  const bandOptimizer: BandOptimizer = o.bandOptimizer ?? PATH_DEFAULTS.bandOptimizer;
  if (!(BAND_OPTIMIZERS as readonly string[]).includes(bandOptimizer)) {
    throw inputError(`unknown band optimizer "${bandOptimizer}"; choose one of ${BAND_OPTIMIZERS.join(', ')}`);
  }
  const steps = intOption('steps', o.steps, PATH_DEFAULTS.steps, 0);
  const points = intOption('points', o.points, PATH_DEFAULTS.points, 2);
  const r: ResolvedPathOptions = {
    method,
    objective,
    modes: intOption('modes', o.modes, PATH_DEFAULTS.modes, 0),
    points,
    lambda: numOption('lambda', o.lambda, PATH_DEFAULTS.lambda, false),
    steps,
    lr: numOption('lr', o.lr, PATH_DEFAULTS.lr, true),
    noise: numOption('noise', o.noise, PATH_DEFAULTS.noise, false),
    seed: intOption('seed', o.seed, PATH_DEFAULTS.seed, 0),
    tauStart: numOption('tauStart', o.tauStart, PATH_DEFAULTS.tauStart, true),
    tauEnd: numOption('tauEnd', o.tauEnd, PATH_DEFAULTS.tauEnd, true),
    denseSelect: o.denseSelect ?? false,
    climbFrom: intOption('climbFrom', o.climbFrom, Math.floor(steps / 3), 0),
    // Only the Fourier path and the curves are refined: the straight line is what it is, and NEB already climbs.
    refine: method === 'fourier' || isCurveMethod(method) ? refine : 'none',
    refineSteps: intOption('refineSteps', o.refineSteps, steps, 0),
    bandOptimizer,
    densePoints: denseGridSize(points),
  };
  if (o.spring !== undefined) r.spring = numOption('spring', o.spring, 1, true);
  return r;
}

/** The last iteration number a search reports: a refinement band's iterations continue after the optimiser's. */
export function progressSteps(o: ResolvedPathOptions): number {
  return o.refine === 'climb' ? o.steps + 1 + o.refineSteps : o.steps;
}

function toVector(x: PathEndpoint, name: string, dim: number): Float32Array {
  let v: Float32Array;
  if (x instanceof tf.Tensor) {
    if (x.rank !== 1) throw inputError(`endpoint ${name} must be a 1-D tensor, got shape [${x.shape.join(', ')}]`);
    v = Float32Array.from(x.dataSync());
  } else {
    v = Float32Array.from(x as ArrayLike<number>);
  }
  if (v.length !== dim) throw inputError(`endpoint ${name} has ${v.length} values but the objective takes ${dim}`);
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) throw inputError(`endpoint ${name} has a non-finite value (${v[i]}) at index ${i}`);
  }
  return v;
}

function sameVector(a: Float32Array, b: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function toRows(x: tf.Tensor2D): number[][] {
  const [n, d] = x.shape;
  const flat = x.dataSync();
  return Array.from({ length: n }, (_, i) => Array.from(flat.subarray(i * d, (i + 1) * d)));
}

/** What every result shares: the endpoints' losses and the options. */
interface Common {
  lossA: number;
  lossB: number;
  options: ResolvedPathOptions;
}

/** The straight line as the result (method linear, or A equal to B, whose path has no barrier). */
function straightResult(o: ResolvedPathOptions, linear: HeightSummary, dim: number, va: Float32Array, common: Common): PathResult {
  return {
    method: o.method,
    ...(o.method === 'fourier' ? { objective: o.objective } : {}),
    ...linear,
    linear,
    iterations: 0,
    coefficients: o.method === 'fourier' ? Array.from({ length: o.modes }, () => new Array<number>(dim).fill(0)) : [],
    ...(o.method === 'neb' ? { images: Array.from(evenGrid(o.points), () => Array.from(va)) } : {}),
    ...(isCurveMethod(o.method) ? { bend: Array.from(va) } : {}),
    bestIteration: 0,
    objectiveHistory: [],
    heightHistory: [],
    ...common,
  };
}

async function nebResult(fn: Objective, ab: tf.Tensor2D, o: ResolvedPathOptions, options: PathOptions, linear: HeightSummary, common: Common): Promise<PathResult> {
  const run = await runNeb(fn, ab, {
    points: o.points,
    steps: o.steps,
    spring: o.spring,
    climbFrom: o.climbFrom,
    signal: options.signal,
    onIteration: options.onIteration,
    batches: options.batches,
  });
  try {
    const h: HeightSummary = denseHeights(fn, chainPath(run.images), o.points, o.points);
    o.spring = run.spring;
    return {
      method: 'neb',
      ...h,
      linear,
      iterations: run.iterations,
      coefficients: [],
      images: toRows(run.images),
      bestIteration: run.iterations,
      objectiveHistory: run.objectiveHistory,
      heightHistory: run.heightHistory,
      ...common,
    };
  } finally {
    run.images.dispose();
  }
}

async function fourierResult(fn: Objective, ab: tf.Tensor2D, o: ResolvedPathOptions, options: PathOptions, linear: HeightSummary, common: Common): Promise<PathResult> {
  const run = await runFourier(fn, ab, {
    objective: o.objective,
    modes: o.modes,
    points: o.points,
    lambda: o.lambda,
    steps: o.steps,
    lr: o.lr,
    noise: o.noise,
    seed: o.seed,
    tauStart: o.tauStart,
    tauEnd: o.tauEnd,
    denseSelect: o.denseSelect,
    signal: options.signal,
    onIteration: options.onIteration,
    batches: options.batches,
  });
  const fp = fourierPath(ab, run.coefficients);
  try {
    const t = evenGrid(o.densePoints);
    const h = summarize(t, evaluateAlong(fn, fp.path, t, o.points));
    const plain: PathResult = {
      method: 'fourier',
      objective: o.objective,
      ...h,
      linear,
      iterations: run.iterations,
      coefficients: toRows(run.coefficients),
      bestIteration: run.bestIteration,
      objectiveHistory: run.objectiveHistory,
      heightHistory: run.heightHistory,
      ...(o.objective === 'minimax' ? { tauHistory: run.tauHistory } : {}),
      ...common,
    };
    if (o.refine === 'none') return plain;
    return await refinedResult(fn, ab, fp.path, o, options, plain);
  } finally {
    fp.dispose();
    run.coefficients.dispose();
  }
}

/** A Bezier curve or polygonal chain with its trained bend, refined like the Fourier path. */
async function curveResult(fn: Objective, ab: tf.Tensor2D, method: CurveMethod, o: ResolvedPathOptions, options: PathOptions, linear: HeightSummary, common: Common): Promise<PathResult> {
  const run = await runCurve(fn, ab, { method, points: o.points, steps: o.steps, lr: o.lr, seed: o.seed, signal: options.signal, onIteration: options.onIteration, batches: options.batches });
  const cp = curvePath(method, ab, run.bend);
  try {
    const plain: PathResult = {
      method,
      ...denseHeights(fn, cp.path, o.points, o.points),
      linear,
      iterations: run.iterations,
      coefficients: [],
      bend: Array.from(run.bend),
      // The last iterate is kept: the learning rate has decayed to 1 % by then.
      bestIteration: run.iterations,
      objectiveHistory: run.objectiveHistory,
      heightHistory: run.heightHistory,
      ...common,
    };
    if (o.refine === 'none') return plain;
    return await refinedResult(fn, ab, cp.path, o, options, plain);
  } finally {
    cp.dispose();
  }
}

/**
 * The optimised path refined by a climbing-image band. The band becomes the
 * reported path (height, profile, images) unless its dense height came out
 * higher than the optimised path's, which then stays; both are real paths, so
 * either height is an honest upper bound on the barrier.
 */
async function refinedResult(fn: Objective, ab: tf.Tensor2D, path: BasisPath, o: ResolvedPathOptions, options: PathOptions, plain: PathResult): Promise<PathResult> {
  const denseT = evenGrid(o.densePoints);
  const run = await climbFromPath(fn, ab, path, denseT, {
    points: o.points,
    steps: o.refineSteps,
    // The top's gradient down 10⁴-fold and the band's forces 100-fold: easy landscapes stop long before refineSteps.
    stopAt: { top: 1e-4, band: 1e-2 },
    optimizer: o.bandOptimizer,
    signal: options.signal,
    // The band's iterations continue the count, so progress bars run on to steps + refineSteps.
    onIteration: options.onIteration && ((it) => options.onIteration!({ ...it, iteration: o.steps + 1 + it.iteration })),
    batches: options.batches,
  });
  try {
    const band = denseHeights(fn, chainPath(run.images, 'the refined band'), o.points, o.points);
    const kept = band.height <= plain.height;
    const refinement: RefinementSummary = {
      method: 'climb',
      optimizedHeight: plain.height,
      refinedHeight: band.height,
      lowered: kept ? plain.height - band.height : 0,
      kept,
      iterations: run.iterations,
      forceHistory: run.objectiveHistory,
      saddle: topCertificate(fn, run.images),
    };
    const optimized: HeightSummary = { height: plain.height, tAtMax: plain.tAtMax, barrierFromA: plain.barrierFromA, barrierFromB: plain.barrierFromB, barrierFromMean: plain.barrierFromMean, profile: plain.profile };
    return { ...plain, ...(kept ? { ...band, images: toRows(run.images) } : {}), optimized, refinement };
  } finally {
    run.images.dispose();
  }
}

/** The certificate at the band's highest interior image (the climbing image). */
function topCertificate(fn: Objective, images: tf.Tensor2D): RefinementSummary['saddle'] {
  const [m, dim] = images.shape;
  if (m < 3) return undefined;
  const losses = tf.tidy(() => fn.evaluate(images));
  const v = losses.dataSync();
  losses.dispose();
  let top = 1;
  for (let i = 2; i < m - 1; i++) if (v[i] > v[top]) top = i;
  const flat = images.dataSync() as Float32Array;
  return saddleCertificate(fn, Float32Array.from(flat.subarray(top * dim, (top + 1) * dim)), top / (m - 1));
}

/**
 * Find a low path from a to b on `fn`. Resolves to the path's height H (the
 * largest loss along it, on a grid ten times denser than its points), where
 * it lies, the barriers from each end and from their mean, the profile, and
 * the same numbers for the straight line.
 */
export async function findPath(fn: Objective, a: PathEndpoint, b: PathEndpoint, options: PathOptions = {}): Promise<PathResult> {
  if (!fn || typeof fn.evaluate !== 'function' || !Number.isInteger(fn.dim) || fn.dim < 1) {
    throw inputError('findPath needs an objective { dim, evaluate(thetas) } with a positive whole dim');
  }
  const o = resolvePathOptions(options);
  const va = toVector(a, 'A', fn.dim);
  const vb = toVector(b, 'B', fn.dim);
  const ab = tf.tensor2d([va, vb].flatMap((v) => Array.from(v)), [2, fn.dim]);
  try {
    // One chunk of dense points is as large as one iteration's batch, which the caller's memory already allows.
    const linear = denseHeights(fn, straightPath(ab), o.points, o.points);
    const common: Common = { lossA: linear.profile.loss[0], lossB: linear.profile.loss[linear.profile.loss.length - 1], options: o };
    if (o.method === 'linear' || sameVector(va, vb)) return straightResult(o, linear, fn.dim, va, common);
    if (o.method === 'neb') return await nebResult(fn, ab, o, options, linear, common);
    if (isCurveMethod(o.method)) return await curveResult(fn, ab, o.method, o, options, linear, common);
    return await fourierResult(fn, ab, o, options, linear, common);
  } finally {
    ab.dispose();
  }
}
