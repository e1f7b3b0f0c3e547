/**
 * The loss on a line (1D) or a plane (2D) of parameter space
 * (`*.<kind>.slice.json`). What the slice panel shows and what the extension
 * saves; `landscape slice --out` writes the CLI form ("command": "slice"),
 * which src/results/cli/slice.ts converts to this.
 */
import { LIMITS, S, type Infer } from '../schema';
import { AnalysisRefSchema, count, kvRows, num, optNum, str } from './shapes';

/** Version of this kind's format (1: Landscape 0.1.0). */
export const SLICE_FORMAT_VERSION = 1;
export const SLICE_SUFFIX = '.slice.json';

/** Slice kinds (the engine's SLICE_KINDS; a unit test keeps them equal). */
export const SLICE_KIND_NAMES = ['line', 'random', 'hessian', 'plane', 'random-plane'] as const;
export type SliceKindName = (typeof SLICE_KIND_NAMES)[number];
/** Most grid points per axis of a slice. */
export const MAX_SLICE_POINTS = 4096;

/** Where a slice direction came from: enough to draw it again. */
export const SliceDirectionSchema = S.object({
  kind: S.string(40),
  seed: S.optional(S.int()),
  normalization: S.optional(S.string(40)),
  bias: S.optional(S.string(40)),
  model: S.optional(str),
  norm: num,
  description: S.optional(S.string(LIMITS.text)),
  eigenvalue: optNum,
  residual: optNum,
  lanczos: S.optional(S.object({ seed: S.int(), iterations: count, which: S.string(40), tol: num, hvp: S.string(40), converged: S.boolean() })),
});

export const SliceAxisSchema = S.object({
  name: S.string(20),
  label: str,
  values: S.array(num, MAX_SLICE_POINTS),
  range: S.tuple(num, num),
  points: count,
  direction: SliceDirectionSchema,
});
export type SliceAxis = Infer<typeof SliceAxisSchema>;

const sliceAt = S.object({ x: num, y: optNum, loss: num });

/** The loss on a line (1D) or a plane (2D) of parameter space. */
export const SliceSchema = S.object({
  kind: S.literal('slice'),
  sliceKind: S.oneOf(SLICE_KIND_NAMES),
  checkpoints: S.array(AnalysisRefSchema, 3),
  x: SliceAxisSchema,
  /** The second axis of a 2D slice. */
  y: S.optional(SliceAxisSchema),
  /** values[iy][ix] (Plotly's z); a 1D slice has one row. */
  values: S.array(S.array(num, MAX_SLICE_POINTS), MAX_SLICE_POINTS),
  markers: S.array(S.object({ label: str, x: num, y: optNum, loss: num }), 100),
  parameterization: str,
  centre: S.object({ label: str, hash: S.string(200), norm: num, loss: num }),
  min: sliceAt,
  max: sliceAt,
  /** Cosine between the two directions of a 2D slice. */
  cosine: optNum,
  evaluations: count,
  batchSize: count,
  model: str,
  dataset: str,
  samples: count,
  backend: str,
  seconds: num,
  settings: kvRows,
});
export type SliceData = Infer<typeof SliceSchema>;
