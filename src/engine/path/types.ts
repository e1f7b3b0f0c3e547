/** Options and results of the path finders (the `findPath` library API). */
import type { tf } from '../backend';
import type { Objective } from '../objective';

export const PATH_METHODS = ['fourier', 'linear', 'neb', 'bezier', 'polychain'] as const;
export type PathMethod = (typeof PATH_METHODS)[number];
/** Garipov et al. 2018's curves with one trained bend (curves.ts). */
export const CURVE_METHODS = ['bezier', 'polychain'] as const;
export type CurveMethod = (typeof CURVE_METHODS)[number];
export const PATH_OBJECTIVES = ['minimax', 'sum', 'squared'] as const;
export type PathObjective = (typeof PATH_OBJECTIVES)[number];
/** What runs after FourierPathFinder: nothing (the paper's algorithm) or a climbing-image band onto the saddle. */
/** How an elastic band moves (see neb.ts and bandLbfgs.ts). */
export const BAND_OPTIMIZERS = ['lbfgs', 'quick-min'] as const;
export type BandOptimizer = (typeof BAND_OPTIMIZERS)[number];

export const PATH_REFINES = ['climb', 'none'] as const;
export type PathRefine = (typeof PATH_REFINES)[number];

/** An endpoint: a flat parameter vector. */
export type PathEndpoint = Float32Array | Float64Array | readonly number[] | tf.Tensor1D;

export interface PathIteration {
  /** 0-based; iteration k reports the path before the k-th update. */
  iteration: number;
  /** Largest loss over the M path points (NEB: images) of the current iterate. */
  height: number;
  /** The point height of the iterate kept so far (NEB keeps the latest). */
  bestHeight: number;
  /**
   * The value being minimised: the Fourier objective including the
   * smoothness term; for NEB the largest force norm over the images.
   */
  objective: number;
  /** Minimax temperature in use at this iteration. */
  tau?: number;
  /** NEB: whether the climbing image is on. */
  climbing?: boolean;
}

export interface PathOptions {
  method?: PathMethod;
  objective?: PathObjective;
  /** N_F, the number of sine modes (Fourier only). Default 10. */
  modes?: number;
  /** M, points on the path (NEB: images), endpoints included. Default 50. */
  points?: number;
  /** λ of the smoothness term λ·Σ‖ω(t_{m+1}) − ω(t_m)‖². Default 1e-4. */
  lambda?: number;
  /** Optimisation steps (updates; bezier and polychain: one sampled t each). Default 300. */
  steps?: number;
  /** Adam learning rate (Fourier; bezier and polychain: decayed linearly from half the steps to 1 % at 90 %). Default 0.01. */
  lr?: number;
  /** σ of N(0, σ²) noise added to every coefficient-gradient entry at every step. Default 0. */
  noise?: number;
  /** Seed of the noise (bezier and polychain: of the sampled t). Default 0. */
  seed?: number;
  /** Minimax temperature schedule, as fractions of the initial straight path's loss spread. Defaults 0.3 and 0.01. */
  tauStart?: number;
  tauEnd?: number;
  /**
   * Keep the `minimax` or `squared` iterate whose height on the dense grid
   * (the H that is reported) is lowest, instead of the one whose height over
   * the M points is lowest. Costs a forward pass over 10·(M − 1) + 1 points in
   * the iterations whose point height beats the best dense height so far.
   * Guards against paths that slip between their points across a narrow
   * ridge. Default false.
   */
  denseSelect?: boolean;
  /**
   * NEB spring constant k. Default: chosen from the problem's scales,
   * k = g₀ / ℓ, where g₀ is the RMS gradient norm over the initial images and
   * ℓ = ‖B − A‖ / (M − 1) the initial image spacing, so that a spacing error
   * of one segment meets a restoring force of the size of a typical true force.
   */
  spring?: number;
  /** NEB: iteration from which the climbing image is on. Default ⌊steps / 3⌋. */
  climbFrom?: number;
  /**
   * Fourier, bezier and polychain: 'climb' refines the optimised path with a
   * climbing-image NEB of M images started from it, driving its highest
   * point onto the saddle (default); 'none' is the paper's plain FourierPathFinder.
   */
  refine?: PathRefine;
  /** Updates of the refinement band. Default: steps. */
  refineSteps?: number;
  /**
   * How the refinement band moves: 'lbfgs' (default; L-BFGS on the whole band)
   * or 'quick-min' (damped dynamics, whose steps the stiffest direction bounds).
   */
  bandOptimizer?: BandOptimizer;
  signal?: AbortSignal;
  onIteration?: (it: PathIteration) => void | Promise<void>;
  /**
   * Mini-batches: called once per iteration for the objective that drives
   * that update (e.g. the network on the next mini-batch). Heights are always
   * measured on `fn` itself. Full batch (`fn`) when absent.
   */
  batches?: (iteration: number) => Objective;
}

export interface PathProfile {
  t: number[];
  loss: number[];
}

export interface HeightSummary {
  /** H, the largest loss along the path on the dense grid. */
  height: number;
  tAtMax: number;
  barrierFromA: number;
  barrierFromB: number;
  barrierFromMean: number;
  profile: PathProfile;
}

/** What certifies the refined path's top as a saddle (a pass) of the objective. */
export interface SaddleCertificate {
  /** Loss at the band's highest image. */
  height: number;
  /** Its t on the refined path. */
  t: number;
  /** ‖∇f‖ there: zero at a stationary point. */
  gradNorm: number;
  /** Lowest Hessian eigenvalue there (Lanczos): negative at a saddle. */
  lowestEigenvalue: number;
  /** Second lowest: positive at an index-1 saddle. */
  secondEigenvalue?: number;
  /** Clearly negative Ritz values: 1 at an index-1 saddle. */
  negativeEigenvalues: number;
  lanczosSteps: number;
  /** How the Hessian-vector products were computed. */
  hvp: 'finite-difference' | 'exact';
}

/** The refinement's numbers beside the path it started from. */
export interface RefinementSummary {
  method: Exclude<PathRefine, 'none'>;
  /** The optimised (Fourier) path's dense height, before refinement. */
  optimizedHeight: number;
  /** The refined band's dense height. */
  refinedHeight: number;
  /** optimizedHeight − height: how much the refinement lowered H (0 when the band was not kept). */
  lowered: number;
  /** Whether the refined band is the reported path (it is unless it came out higher). */
  kept: boolean;
  /** Band updates performed. */
  iterations: number;
  /** Largest NEB force norm per iteration. */
  forceHistory: number[];
  /** Present when the objective has gradients (always, for tfjs objectives). */
  saddle?: SaddleCertificate;
}

export interface PathResult extends HeightSummary {
  method: PathMethod;
  /** The objective the coefficients were optimised for (Fourier only). */
  objective?: PathObjective;
  /** The straight line's numbers, always computed. */
  linear: HeightSummary;
  /** Updates performed (0 for the straight line, or when A equals B). */
  iterations: number;
  /** The N_F vectors b_n of the kept iterate (empty for linear and NEB). */
  coefficients: number[][];
  /** NEB: the final images, endpoints included (also a kept refinement's band). */
  images?: number[][];
  /** Bezier and polychain: the trained bend θ, which with A and B redraws the curve. */
  bend?: number[];
  lossA: number;
  lossB: number;
  /** Iteration whose path was kept. */
  bestIteration: number;
  /** Objective value per evaluated iteration (NEB: largest force norm). */
  objectiveHistory: number[];
  /** Path-point height per evaluated iteration. */
  heightHistory: number[];
  /** Minimax temperature per evaluated iteration (Fourier minimax only). */
  tauHistory?: number[];
  /** The options in effect, defaults filled in (callbacks left out). */
  options: ResolvedPathOptions;
  /**
   * Fourier with refinement: the optimised path's own numbers (the reported
   * height, profile and images are the refined band's when it is kept).
   */
  optimized?: HeightSummary;
  refinement?: RefinementSummary;
}

export interface ResolvedPathOptions {
  method: PathMethod;
  objective: PathObjective;
  modes: number;
  points: number;
  lambda: number;
  steps: number;
  lr: number;
  noise: number;
  seed: number;
  tauStart: number;
  tauEnd: number;
  denseSelect: boolean;
  spring?: number;
  climbFrom: number;
  /** 'none' for the straight line and NEB, which need none; Fourier and the curves refine. */
  refine: PathRefine;
  refineSteps: number;
  bandOptimizer: BandOptimizer;
  /** How many dense points the heights were measured on: 10·(M − 1) + 1. */
  densePoints: number;
}
