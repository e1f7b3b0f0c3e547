/**
 * One path between two minima (`<A>__<B>.path.json`): the straight line and
 * the optimized path, their heights, the optimization history and the path
 * drawn in a plane. What the path panel shows and what the extension saves.
 * `landscape path --out` writes the CLI form ("kind": "landscape.path"),
 * which src/results/cli/path.ts converts to this.
 */
import { LIMITS, S, type Infer } from '../schema';
import { cell, count, HeightNumbersSchema, kvRows, MinimumRefSchema, num, series, str } from './shapes';

/** Version of this kind's format (1: Landscape 0.1.0). */
export const PATH_FORMAT_VERSION = 1;
/** File name ending of a path result. */
export const PATH_RESULT_SUFFIX = '.path.json';
/** The "kind" of the CLI's form of this result. */
export const CLI_PATH_KIND = 'landscape.path';

export const PATH_METHOD_NAMES = ['fourier', 'linear', 'neb'] as const;
export const PATH_OBJECTIVE_NAMES = ['minimax', 'sum', 'squared'] as const;

/**
 * The path drawn in the plane through A spanned by B − A (axis 1) and the
 * orthonormalised deviation of the path point farthest from the straight
 * line (axis 2), at the profile's t. Computed in the worker in float64.
 */
export const PathPlaneSchema = S.object({
  x: series,
  y: series,
  /** ‖B − A‖: B sits at (distanceAB, 0). */
  distanceAB: num,
  /** Distance of the farthest path point from the straight line, and its t. */
  maxDeviation: num,
  tAtMaxDeviation: num,
  /** Largest distance of a path point from the plane (how much the drawing leaves out). */
  maxResidual: num,
  /** Optional loss over a grid of the plane: z[iy][ix] at (gridX[ix], gridY[iy]); null where not finite. */
  surface: S.optional(
    S.object({
      x: S.array(num, 1000),
      y: S.array(num, 1000),
      z: S.array(S.array(cell, 1000), 1000),
    }),
  ),
});
export type PathPlane = Infer<typeof PathPlaneSchema>;

/**
 * The refinement of a Fourier path onto the saddle (climbing-image band):
 * the optimized path's dense height before it, the band's after it, and the
 * certificate of the band's top (gradient norm, lowest Hessian eigenvalues).
 */
export const PathRefinementSchema = S.object({
  optimizedHeight: num,
  refinedHeight: num,
  lowered: num,
  kept: S.boolean(),
  iterations: count,
  saddle: S.optional(
    S.object({
      height: num,
      t: num,
      gradNorm: num,
      lowestEigenvalue: num,
      secondEigenvalue: S.optional(num),
      negativeEigenvalues: count,
      lanczosSteps: count,
      hvp: str,
    }),
  ),
});
export type PathRefinement = Infer<typeof PathRefinementSchema>;

/** One path between two minima: straight line and optimized path, heights, history, the plane drawing. */
export const BarrierPathSchema = S.object({
  kind: S.literal('barrierPath'),
  a: MinimumRefSchema,
  b: MinimumRefSchema,
  method: S.oneOf(PATH_METHOD_NAMES),
  objective: S.optional(S.oneOf(PATH_OBJECTIVE_NAMES)),
  straight: HeightNumbersSchema,
  /** The reported path: the refined band's numbers when a refinement was kept. */
  optimized: HeightNumbersSchema,
  refinement: S.optional(PathRefinementSchema),
  /** Losses on the dense grid (10·(M − 1) + 1 points), the same t for both. */
  profile: S.object({ t: series, straight: series, optimized: series }),
  /** Path-point height per iteration and the best kept so far. */
  history: S.object({ height: series, best: series }),
  plane: PathPlaneSchema,
  iterations: count,
  bestIteration: count,
  dataset: str,
  backend: str,
  seconds: num,
  /** Display rows: settings and provenance. */
  settings: kvRows,
  /**
   * The Fourier coefficients b_n of the kept path (on disk only: kernel PCA
   * projects points of the path from them; panels do not get them).
   */
  coefficients: S.optional(S.array(S.array(num, LIMITS.points), 1000)),
});
export type BarrierPath = Infer<typeof BarrierPathSchema>;
