/**
 * The loss on a line (1D) or a plane (2D) of parameter space
 * (`*.<kind>.slice.json`). One shape everywhere: the engine's sliceAnalysis
 * returns it, `landscape slice --json/--out` writes it, the worker saves and
 * posts it, the slice panel shows it. `dims` ("1d" or "2d") tells the two
 * apart (format 1 of the CLI called it "kind", which now names the result
 * kind). Files of format 1 (Landscape 0.1.0) open through upgradeSlice.
 */
import { formatNumber, formatPercent } from '../format';
import { LIMITS, S, type Infer } from '../schema';
import { checkpointLabel, count, filePath, kvRows, num, optNum, str, upgradeStamp, type Json } from './shapes';

/** Version of this kind's format (1: Landscape 0.1.0; 2: one shape for the CLI and the extension). */
export const SLICE_FORMAT_VERSION = 2;
export const SLICE_SUFFIX = '.slice.json';

/** Slice kinds (the engine's SLICE_KINDS; a unit test keeps them equal). */
export const SLICE_KIND_NAMES = ['line', 'random', 'hessian', 'plane', 'random-plane'] as const;
export type SliceKindName = (typeof SLICE_KIND_NAMES)[number];
/**
 * What a 2D result's request may name: the slice kinds, and "trajectory" for
 * `landscape slice --plane trajectory <run folder>` (not a --kind: it takes a
 * run folder, not checkpoints).
 */
export const SLICE_REQUEST_KINDS = [...SLICE_KIND_NAMES, 'trajectory'] as const;
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

/** How the grid was computed and where its notable points are (the engine's SliceMeta). */
export const SliceMetaSchema = S.object({
  version: S.int(1, 1),
  method: S.string(40),
  parameterization: str,
  /** Parameters of the model (absent in slices the extension saved in format 1). */
  dim: S.optional(count),
  centre: S.object({ label: str, hash: S.string(200), norm: num, loss: num }),
  markers: S.array(S.object({ label: str, x: num, y: optNum, loss: num }), 100),
  min: sliceAt,
  max: sliceAt,
  evaluations: count,
  batchSize: count,
  model: S.optional(str),
  /** Cosine between the two directions of a 2D slice. */
  cosine: optNum,
  /** Provenance as recorded: dataset, split, backend and the checkpoints as given. */
  source: S.optional(S.record(S.string(LIMITS.path), 20)),
});

const common = {
  kind: S.literal('slice'),
  formatVersion: S.int(SLICE_FORMAT_VERSION, SLICE_FORMAT_VERSION),
  command: S.literal('slice'),
  backend: str,
  model: str,
  objective: S.object({ dataset: str, split: S.string(40), samples: count }),
  meta: SliceMetaSchema,
  /** The first checkpoint's label (run/stem). */
  label: str,
  seconds: num,
  landscapeVersion: S.string(100),
  /** Display rows (sliceSettings). */
  settings: kvRows,
};

/**
 * A trajectory plane's run and its checkpoints projected into the plane
 * (request kind "trajectory"; absent in every other slice). Optional, so
 * slice files written before it existed still open as format 2.
 */
export const SliceTrajectorySchema = S.object({
  /** The run folder. */
  run: filePath,
  /** "uncentred": principal directions of θ_k − θ_final themselves, not of their deviations from their mean. */
  pca: S.string(40),
  /** Each direction's fraction of Σ‖θ_k − θ_final‖². */
  explainedVariance: S.tuple(num, num),
  /** In epoch order, the final weights last at (0, 0); loss is each checkpoint's own (off the plane). */
  points: S.array(S.object({ label: str, file: filePath, epoch: count, x: num, y: num, offPlane: num, loss: num }), LIMITS.list),
});
export type SliceTrajectory = Infer<typeof SliceTrajectorySchema>;

/** The checkpoints: as given to the CLI, relative to the file in files the extension saves, absolute in memory. */
const files = S.array(filePath, 3);

export const Slice1DSchema = S.object({
  ...common,
  request: S.object({ kind: S.oneOf(SLICE_KIND_NAMES), files, points: count }),
  dims: S.literal('1d'),
  axes: S.object({ x: SliceAxisSchema }),
  values: S.array(num, MAX_SLICE_POINTS),
});

export const Slice2DSchema = S.object({
  ...common,
  request: S.object({ kind: S.oneOf(SLICE_REQUEST_KINDS), files, points: S.tuple(count, count) }),
  dims: S.literal('2d'),
  axes: S.object({ x: SliceAxisSchema, y: SliceAxisSchema }),
  /** values[iy][ix] (Plotly's z). */
  values: S.array(S.array(num, MAX_SLICE_POINTS), MAX_SLICE_POINTS),
  trajectory: S.optional(SliceTrajectorySchema),
});

/** The loss on a line (1D) or a plane (2D) of parameter space. */
export const SliceSchema = S.tagged('dims', { '1d': Slice1DSchema, '2d': Slice2DSchema });
export type SliceData = Infer<typeof SliceSchema>;

function directionText(a: SliceAxis): string {
  const d = a.direction;
  const parts = [d.kind];
  if (d.seed !== undefined) parts.push(`seed ${d.seed}`);
  if (d.normalization) parts.push(`${d.normalization} normalisation${d.bias ? `, biases ${d.bias}` : ''}`);
  if (d.eigenvalue !== undefined) parts.push(`λ = ${formatNumber(d.eigenvalue)}`);
  parts.push(`‖d‖ = ${formatNumber(d.norm)}`);
  return parts.join(', ');
}

/** The panel's settings table ("Reproduce it"), from the result's own fields. */
export function sliceSettings(d: DistributiveOmit<SliceData, 'settings'>): [string, string][] {
  const { x } = d.axes;
  const y = d.dims === '2d' ? d.axes.y : undefined;
  const m = d.meta;
  const grid = y ? `${x.points} × ${y.points}` : `${x.points} points`;
  const rows: [string, string][] = [
    ['kind', d.request.kind],
    ['parameterization', m.parameterization],
    ['grid', `${grid}, ${x.name} from ${formatNumber(x.range[0])} to ${formatNumber(x.range[1])}${y ? `, ${y.name} from ${formatNumber(y.range[0])} to ${formatNumber(y.range[1])}` : ''}`],
    [`direction ${x.name}`, directionText(x)],
  ];
  if (y) rows.push([`direction ${y.name}`, directionText(y)]);
  if (y && m.cosine !== undefined) rows.push(['cosine between the directions', formatNumber(m.cosine, 3)]);
  if (d.dims === '2d' && d.trajectory) rows.push(...trajectoryRows(d.trajectory));
  rows.push(
    ['centre', `${m.centre.label} (hash ${m.centre.hash.slice(0, 16)}…, ‖θ‖ = ${formatNumber(m.centre.norm)})`],
    ['loss measured on', `full-batch training loss, ${d.objective.dataset} (${d.objective.samples} samples)`],
    ['evaluations', `${m.evaluations} (${m.batchSize} grid points per pass)`],
    ['backend', d.backend],
    ['written by', `Landscape ${d.landscapeVersion}`],
  );
  return rows;
}

/** The settings rows of a trajectory plane: its run, how the directions were found, the variance they explain. */
function trajectoryRows(t: SliceTrajectory): [string, string][] {
  const [v1, v2] = t.explainedVariance;
  return [
    ['run', t.run],
    ['directions', `first two principal directions of θ_k − θ_final over ${t.points.length - 1} checkpoints (${t.pca} PCA)`],
    ['explained variance', `${formatPercent(v1)} + ${formatPercent(v2)} = ${formatPercent(v1 + v2)} of Σ‖θ_k − θ_final‖²`],
  ];
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The engine's method of each slice kind, for slices the extension saved in format 1 (which did not record it). */
const METHOD_OF: Record<SliceKindName, string> = {
  line: 'checkpoints-line',
  random: 'random-direction',
  hessian: 'hessian-eigenvector',
  plane: 'checkpoints-plane',
  'random-plane': 'random-plane',
};

/**
 * A format-1 file as format 2: the CLI's form ("command": "slice", "kind":
 * "1d"|"2d") renames kind to dims and gains kind, label and seconds; the
 * extension's form (the panel data) gets the CLI's names and nesting back
 * (request, objective, axes, meta, a 1D slice's values as one list). The
 * caller validates the result, then fills its settings.
 */
export function upgradeSlice(doc: Json): Json {
  const up: Json = 'sliceKind' in doc ? sliceFromPanelV1(doc) : { ...doc, dims: doc.kind };
  const files = (up.request as { files?: unknown } | undefined)?.files;
  const first = Array.isArray(files) && typeof files[0] === 'string' ? files[0] : '';
  return upgradeStamp(up, 'slice', SLICE_FORMAT_VERSION, checkpointLabel(first));
}

function sliceFromPanelV1(doc: Json): Json {
  const { sliceKind, checkpoints, x, y, values, markers, parameterization, centre, min, max, cosine, evaluations, batchSize, model, dataset, samples, settings: _s, ...rest } = doc;
  const refs = Array.isArray(checkpoints) ? (checkpoints as { path?: unknown; label?: unknown }[]) : [];
  const twoD = y !== undefined;
  const points = (a: unknown) => (a as { points?: unknown } | undefined)?.points;
  const direction = (x as { direction?: { model?: unknown } } | undefined)?.direction;
  return {
    ...rest,
    label: refs[0]?.label,
    request: { kind: sliceKind, files: refs.map((r) => r.path), points: twoD ? [points(x), points(y)] : points(x) },
    model,
    objective: { dataset, split: 'train', samples },
    dims: twoD ? '2d' : '1d',
    axes: twoD ? { x, y } : { x },
    values: twoD || !Array.isArray(values) ? values : values[0],
    meta: {
      version: 1,
      method: METHOD_OF[sliceKind as SliceKindName] ?? String(sliceKind),
      parameterization,
      centre,
      markers,
      min,
      max,
      evaluations,
      batchSize,
      ...(typeof direction?.model === 'string' ? { model: direction.model } : {}),
      ...(cosine !== undefined ? { cosine } : {}),
    },
  };
}
