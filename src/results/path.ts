/**
 * One path between two minima (`<A>__<B>.path.json`): the straight line and
 * the optimized path, their heights, the optimization history and (when
 * drawn) the path in a plane. One shape everywhere: pathResult
 * (src/engine/pathResult.ts) builds it from the path finder's result,
 * `landscape path --json/--out` writes it, the worker saves and posts it,
 * the path panel shows it (through barrierPathView). Files of format 1 (the
 * CLI's "kind": "landscape.path" and the extension's panel data) open
 * through upgradePath.
 */
import { formatNumber } from '../format';
import { LIMITS, S, type Infer } from '../schema';
import { cell, checkpointLabel, count, DatasetRecordSchema, filePath, HeightNumbersSchema, kvRows, num, optNum, series, str, upgradeStamp, type HeightNumbers, type Json, type MinimumRef } from './shapes';

/** Version of this kind's format (1: Landscape 0.1.0; 2: one shape for the CLI and the extension). */
export const PATH_FORMAT_VERSION = 2;
/** File name ending of a path result. */
export const PATH_RESULT_SUFFIX = '.path.json';
/** The "kind" of the CLI's form of this result in format 1. */
export const CLI_PATH_KIND_V1 = 'landscape.path';

/** 'bezier' and 'polychain' (curves with one trained bend) were added later; the list only grows, so older files still validate. */
export const PATH_METHOD_NAMES = ['fourier', 'linear', 'neb', 'bezier', 'polychain'] as const;
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
  /** The refinement's method ("climb"; absent in files the extension saved in format 1). */
  method: S.optional(S.string(40)),
  optimizedHeight: num,
  refinedHeight: num,
  lowered: num,
  kept: S.boolean(),
  iterations: count,
  /** Largest band force per step (absent in files the extension saved in format 1, and in barriers' --json). */
  forceHistory: S.optional(series),
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

/** Heights of one path on the dense grid, with its profile (the path finder's HeightSummary). */
export const HeightSummarySchema = S.object({ ...HeightNumbersSchema.shape, profile: S.object({ t: series, loss: series }) });
export type HeightSummaryData = Infer<typeof HeightSummarySchema>;

/** The path options in effect (the engine's ResolvedPathOptions). */
export const PathOptionsSchema = S.object({
  method: S.oneOf(PATH_METHOD_NAMES),
  objective: S.oneOf(PATH_OBJECTIVE_NAMES),
  modes: count,
  points: count,
  lambda: num,
  steps: count,
  lr: num,
  noise: num,
  seed: S.int(),
  tauStart: num,
  tauEnd: num,
  denseSelect: S.boolean(),
  spring: optNum,
  climbFrom: num,
  /** Absent in files written before the refinement existed. */
  refine: S.optional(S.string(40)),
  refineSteps: S.optional(count),
  bandOptimizer: S.optional(S.string(40)),
  densePoints: count,
});
export type PathOptionsData = Infer<typeof PathOptionsSchema>;

/**
 * What a path was computed from, so that a saved path can be recognised as
 * still answering the same question (`landscape path --pairs` reuses it on a
 * re-run): A's and B's parameters as "sha256:<hex>" of their float32 bytes
 * (little-endian), and the path options as asked for, resolved (`options`
 * is what ran, which differs where the engine chose a value: NEB's spring).
 * The data, network and backend are the result's own `dataset`, `model` and
 * `backend`.
 */
export const PathInputsSchema = S.object({
  a: S.string(200),
  b: S.string(200),
  options: PathOptionsSchema,
});
export type PathInputs = Infer<typeof PathInputsSchema>;

/** Path vectors (coefficients, NEB's images or a band: as many as the path's points), each of up to a million parameters. */
export const vectors = S.array(S.array(num, LIMITS.points), LIMITS.list);

/**
 * One path between two minima. The reported path's numbers are top level
 * (height … profile), the straight line's are `linear`, the optimized path's
 * before a refinement `optimized`: the CLI's names since 0.1.0.
 */
export const BarrierPathSchema = S.object({
  kind: S.literal('barrierPath'),
  formatVersion: S.int(PATH_FORMAT_VERSION, PATH_FORMAT_VERSION),
  command: S.literal('path'),
  /** The two checkpoints: as given to the CLI, relative to the file in files the extension saves, absolute in memory. */
  a: S.optional(filePath),
  b: S.optional(filePath),
  /** Instead of checkpoints: the analytic landscape the path was found on (landscape path --landscape). */
  landscape: S.optional(S.string(100)),
  /** How panels name A and B. */
  labelA: str,
  labelB: str,
  model: S.optional(str),
  dataset: S.optional(DatasetRecordSchema),
  backend: str,
  seconds: num,
  /** The three heights: the straight line's, the optimized path's, the refined saddle's. */
  heights: S.object({ straight: num, optimized: num, saddle: optNum }),
  method: S.oneOf(PATH_METHOD_NAMES),
  objective: S.optional(S.oneOf(PATH_OBJECTIVE_NAMES)),
  ...HeightNumbersSchema.shape,
  /** The reported path's losses on the dense grid (10·(M − 1) + 1 points); the straight line's share its t. */
  profile: S.object({ t: series, loss: series }),
  linear: HeightSummarySchema,
  iterations: count,
  /** The Fourier coefficients b_n of the kept path (--out files and the extension's; kernel PCA projects path points from them). */
  coefficients: S.optional(vectors),
  /** NEB's images, or a kept refinement's band, ends included. */
  images: S.optional(vectors),
  /** Bezier and polychain: the trained bend θ; with A and B it redraws the curve. */
  bend: S.optional(S.array(num, LIMITS.points)),
  lossA: num,
  lossB: num,
  bestIteration: count,
  /** Per evaluated iteration: the objective, the path-point height, the minimax temperature (absent in files the extension saved in format 1). */
  objectiveHistory: S.optional(series),
  heightHistory: series,
  tauHistory: S.optional(series),
  options: S.optional(PathOptionsSchema),
  /** What the path was computed from (PathInputsSchema); absent in files written before `landscape path --pairs` existed, and in the extension's. */
  inputs: S.optional(PathInputsSchema),
  optimized: S.optional(HeightSummarySchema),
  refinement: S.optional(PathRefinementSchema),
  /** The path drawn in its plane; the CLI does not draw it (the extension does when it opens the file). */
  plane: S.optional(PathPlaneSchema),
  landscapeVersion: S.string(100),
  /** Display rows (pathSettings). */
  settings: kvRows,
});
export type BarrierPath = Infer<typeof BarrierPathSchema>;

/** The path's settings table, from the result's own fields. */
export function pathSettings(d: Omit<BarrierPath, 'settings'>): [string, string][] {
  const o = d.options;
  const opt = (v: unknown) => (v === undefined ? '–' : String(v));
  const ds = d.dataset;
  const steps: [string, string] = ['Adam steps', `${opt(o?.steps)} (lr ${opt(o?.lr)})`];
  // The curves train one bend on t ~ U(0, 1): no sine modes, smoothness or temperature.
  const howFound: [string, string][] =
    d.method === 'bezier' || d.method === 'polychain'
      ? [steps, ['curve', 'one trained bend θ, one t ~ U(0, 1) per step, lr decayed to 1 % from half the steps to 90 %']]
      : [
          ['sine modes (N_F)', opt(o?.modes)],
          steps,
          ['smoothness λ', opt(o?.lambda)],
          ['minimax temperature', o ? `${o.tauStart} → ${o.tauEnd} of the initial loss spread` : '–'],
        ];
  const rows: [string, string][] = [
    ['method', `${d.method}${d.objective ? `, objective ${d.objective}` : ''}`],
    ['path points (M)', opt(o?.points)],
    ...howFound,
    ['refinement', d.refinement ? `${d.refinement.method ?? 'climb'}, ${d.refinement.iterations} band steps${o?.bandOptimizer ? ` (${o.bandOptimizer})` : ''}` : 'none'],
    ['heights measured on', `${d.profile.t.length} points`],
    ['plane grid', d.plane?.surface ? `${d.plane.surface.x.length} × ${d.plane.surface.y.length}` : d.plane ? 'off' : 'not drawn'],
    ['seed', opt(o?.seed)],
  ];
  if (d.landscape) rows.push(['landscape', d.landscape]);
  if (d.model) rows.push(['model', d.model]);
  if (ds) rows.push(['loss measured on', `training loss, ${ds.name}${ds.trainSize !== undefined ? ` (${ds.trainSize} samples${ds.batch ? `, batches of ${ds.batch}` : ''})` : ''}`]);
  rows.push(['backend', d.backend], ['time', `${formatNumber(d.seconds)} s`], ['written by', `Landscape ${d.landscapeVersion}`]);
  return rows;
}

/** What the path panel draws: A and B with their losses, the two paths' numbers side by side, the best height so far. */
export interface BarrierPathView {
  a: MinimumRef;
  b: MinimumRef;
  straight: HeightNumbers;
  optimized: HeightNumbers;
  profile: { t: number[]; straight: number[]; optimized: number[] };
  history: { height: number[]; best: number[] };
  dataset: string;
}

function heightNumbers(h: HeightNumbers): HeightNumbers {
  return { height: h.height, tAtMax: h.tAtMax, barrierFromA: h.barrierFromA, barrierFromB: h.barrierFromB, barrierFromMean: h.barrierFromMean };
}

/** The lowest value so far at each step. */
export function runningMin(h: readonly number[]): number[] {
  let m = Infinity;
  return h.map((v) => (m = Math.min(m, v)));
}

/** The panel's reading of a path result (derived, never stored). */
export function barrierPathView(d: BarrierPath): BarrierPathView {
  return {
    a: { path: d.a ?? '', label: d.labelA, loss: d.lossA },
    b: { path: d.b ?? '', label: d.labelB, loss: d.lossB },
    straight: heightNumbers(d.linear),
    optimized: heightNumbers(d),
    profile: { t: d.profile.t, straight: d.linear.profile.loss, optimized: d.profile.loss },
    history: { height: d.heightHistory, best: runningMin(d.heightHistory) },
    dataset: d.dataset?.name ?? d.landscape ?? '?',
  };
}

/**
 * A format-1 file as format 2: the CLI's form ("kind": "landscape.path")
 * gains the result kind, labels and settings; the extension's form (the
 * panel data) gets the CLI's names back (a, b and their losses, the reported
 * numbers top level, `linear`, `heightHistory`, `heights`). The caller
 * validates the result, then fills its settings.
 */
export function upgradePath(doc: Json): Json {
  const up: Json = doc.kind === CLI_PATH_KIND_V1 ? pathFromCliV1(doc) : pathFromPanelV1(doc);
  return upgradeStamp(up, 'barrierPath', PATH_FORMAT_VERSION, null, 'path');
}

function pathFromCliV1(doc: Json): Json {
  const name = (k: 'a' | 'b') => (typeof doc[k] === 'string' ? checkpointLabel(doc[k] as string) : `${String(doc.landscape ?? '?')} ${k.toUpperCase()}`);
  return { heights: heightsOfV1(doc), ...doc, labelA: name('a'), labelB: name('b') };
}

/**
 * The three heights of a format-1 path or pair that predates them (0.1.0):
 * the straight line's, the optimized path's (before any refinement), the
 * refined saddle's.
 */
export function heightsOfV1(doc: Json): Json {
  const h = (o: unknown) => (o as { height?: unknown } | undefined)?.height;
  const saddle = h((doc.refinement as { saddle?: unknown } | undefined)?.saddle);
  return { straight: h(doc.linear), optimized: h(doc.optimized) ?? doc.height, ...(saddle !== undefined ? { saddle } : {}) };
}

function pathFromPanelV1(doc: Json): Json {
  const { a, b, straight, optimized, profile, history, dataset, settings: _s, label: _l, ...rest } = doc;
  const ref = (m: unknown) => (m ?? {}) as { path?: unknown; label?: unknown; loss?: unknown };
  const prof = (profile ?? {}) as { t?: unknown; straight?: unknown; optimized?: unknown };
  const refinement = rest.refinement as { optimizedHeight?: unknown; saddle?: { height?: unknown } } | undefined;
  const reported = (optimized ?? {}) as Json;
  return {
    ...rest,
    a: ref(a).path,
    b: ref(b).path,
    labelA: ref(a).label,
    labelB: ref(b).label,
    lossA: ref(a).loss,
    lossB: ref(b).loss,
    dataset: { name: dataset, split: 'train' },
    heights: { straight: (straight as Json | undefined)?.height, optimized: refinement?.optimizedHeight ?? reported.height, ...(refinement?.saddle ? { saddle: refinement.saddle.height } : {}) },
    ...reported,
    profile: { t: prof.t, loss: prof.optimized },
    linear: { ...(straight as Json), profile: { t: prof.t, loss: prof.straight } },
    heightHistory: (history as { height?: unknown } | undefined)?.height,
  };
}
