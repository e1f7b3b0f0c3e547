/**
 * 1D and 2D slices of the loss: the objective on a line or a plane of
 * parameter space, evaluated on a grid in batched passes (many grid points
 * per `evaluate` call, built on the device as centre + C·D).
 *
 * Results are plain JSON: `values` holds finite numbers only (a non-finite
 * loss is an error naming the grid point), 2D values are rows of constant y
 * (values[iy][ix], Plotly's z convention), and `axes` + `meta` record the
 * seeds, normalisation, grid and a hash of the centre, so the plot can be
 * recomputed exactly.
 */
import { tf } from '../backend';
import type { Objective } from '../objective';
import { computeError, inputError, throwIfAborted } from '../errors';
import type { ModelSpec } from '../model/spec';
import { specToString } from '../model/spec';
import { dot, norm, toFloat32 } from './linalg';
import { BiasMode, CheckpointPlane, DirectionInfo, Normalization, checkpointPlane, difference, randomDirection, vectorHash } from './directions';
import { LanczosOptions, hessianTopEigenvalues } from './hessian';
import { usableFast } from '../fast';

export type SliceMethod = 'checkpoints-line' | 'random-direction' | 'hessian-eigenvector' | 'direction' | 'random-plane' | 'checkpoints-plane' | 'plane' | 'trajectory-plane';

export interface SliceAxis {
  /** Symbol of the coordinate: 't', 'α', 'β', 'x', 'y'. */
  name: string;
  /** For axis titles, e.g. "t (A → B)" or "α (filter-normalised direction, seed 1)". */
  label: string;
  /** The grid coordinates, `points` of them, evenly spaced over `range` (both ends included). */
  values: number[];
  range: [number, number];
  points: number;
  direction: DirectionInfo;
}

export interface SliceMarker {
  /** e.g. "A", "B", "centre", or a checkpoint's name. */
  label: string;
  x: number;
  y?: number;
  /** Loss evaluated at the marked point itself (not interpolated from the grid). */
  loss: number;
}

export interface SliceMeta {
  /** Format version of this object. */
  version: 1;
  method: SliceMethod;
  /** How grid coordinates map to parameters, e.g. "θ(t) = A + t·(B − A)". */
  parameterization: string;
  dim: number;
  /** The point the coordinates are measured from (coordinate 0). */
  centre: { label: string; hash: string; norm: number; loss: number };
  markers: SliceMarker[];
  /** Lowest and highest grid value and where they are. */
  min: { x: number; y?: number; loss: number };
  max: { x: number; y?: number; loss: number };
  /** Objective evaluations (grid + markers) and grid points per evaluate call. */
  evaluations: number;
  batchSize: number;
  model?: string;
  /** Cosine between the two directions of a 2D slice (random directions are only nearly orthogonal). */
  cosine?: number;
  /** Anything the caller attached (file names, dataset id, ...). */
  source?: Record<string, string | number | boolean>;
}

export interface Slice1D {
  kind: '1d';
  axes: { x: SliceAxis };
  values: number[];
  meta: SliceMeta;
}

export interface Slice2D {
  kind: '2d';
  axes: { x: SliceAxis; y: SliceAxis };
  /** values[iy][ix]: row iy is y = axes.y.values[iy]. */
  values: number[][];
  meta: SliceMeta;
}

export type Slice = Slice1D | Slice2D;

/** A grid's evaluation as plain data: the points are centre + Σ_k coeffs[r][k]·dirs[k], in batches of batchSize. */
export interface GridTask {
  centre: Float32Array;
  dirs: Float64Array[];
  coeffs: number[][];
  batchSize: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** Evaluates a grid somewhere else (the job queue), batch for batch as evaluateGrid would, so the values are the same. */
export type GridRowEvaluator = (task: GridTask) => Promise<Float64Array>;

export interface GridOptions {
  /** Grid points per evaluate call; default 256 (fewer for very long vectors). */
  batchSize?: number;
  /** Who evaluates the grid's points; default this process. */
  rows?: GridRowEvaluator;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Recorded in meta.source. */
  source?: Record<string, string | number | boolean>;
}

export interface Slice1DOptions extends GridOptions {
  /** [from, to] of the coordinate. */
  range?: [number, number];
  /** Grid points (≥ 2). */
  points?: number;
}

export interface Slice2DOptions extends GridOptions {
  xRange?: [number, number];
  yRange?: [number, number];
  /** Grid points per axis (≥ 2); or give xPoints / yPoints. */
  points?: number;
  xPoints?: number;
  yPoints?: number;
}

export const DEFAULT_1D_POINTS = 41;
export const DEFAULT_2D_POINTS = 31;
const MAX_BATCH_FLOATS = 1 << 22;
const MAX_GRID_POINTS = 1 << 20;

// ---------------------------------------------------------------------------
// 1D

/** Along the line through two checkpoints, θ(t) = A + t·(B − A), by default t ∈ [−0.5, 1.5]. */
export async function sliceBetweenCheckpoints(
  fn: Objective,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  opts: Slice1DOptions & { names?: [string, string] } = {},
): Promise<Slice1D> {
  const names = opts.names ?? ['A', 'B'];
  checkLength(fn, a, names[0]);
  checkLength(fn, b, names[1]);
  const d = difference(a, b, names);
  const distance = norm(d);
  if (distance === 0) throw inputError(`${names[0]} and ${names[1]} are the same point; there is no line through them`);
  const axis = makeAxis('t', `t (${names[0]} → ${names[1]})`, opts.range ?? [-0.5, 1.5], opts.points ?? DEFAULT_1D_POINTS, {
    kind: 'checkpoints',
    norm: distance,
    description: `B − A with A = ${names[0]}, B = ${names[1]}; t = 0 at A, t = 1 at B`,
  });
  return slice1DCore(fn, a, d, axis, opts, {
    method: 'checkpoints-line',
    parameterization: 'θ(t) = A + t·(B − A)',
    centreLabel: names[0],
    markers: [
      { label: names[0], x: 0, point: a },
      { label: names[1], x: 1, point: b },
    ],
  });
}

export interface RandomSliceOptions {
  seed?: number;
  normalization?: Normalization;
  bias?: BiasMode;
  /** Needed for filter/layer normalisation. */
  spec?: ModelSpec;
}

/** Along a seeded random direction, θ(α) = θ + α·d, filter-normalised for networks; α ∈ [−1, 1] by default. */
export async function sliceRandomDirection(fn: Objective, theta: ArrayLike<number>, opts: Slice1DOptions & RandomSliceOptions & { name?: string } = {}): Promise<Slice1D> {
  checkLength(fn, theta, opts.name ?? 'θ');
  const { vector, info } = randomDirection(theta, { seed: opts.seed ?? 1, normalization: opts.normalization, bias: opts.bias, spec: opts.spec });
  const axis = makeAxis('α', `α (${describe(info)})`, opts.range ?? [-1, 1], opts.points ?? DEFAULT_1D_POINTS, info);
  return slice1DCore(fn, theta, vector, axis, opts, {
    method: 'random-direction',
    parameterization: 'θ(α) = θ + α·d',
    centreLabel: opts.name ?? 'θ',
    model: opts.spec,
    markers: [{ label: opts.name ?? 'θ', x: 0, point: theta }],
  });
}

/**
 * Along the top Hessian eigenvector (unit norm, largest-magnitude entry
 * positive), θ(α) = θ + α·v; α ∈ [−1, 1] by default, in parameter-space
 * distance. Near a minimum the curve is ≈ f(θ) + ½λmax·α².
 */
export async function sliceHessianDirection(
  fn: Objective,
  theta: ArrayLike<number>,
  opts: Slice1DOptions & { lanczos?: Omit<LanczosOptions, 'k' | 'vectors' | 'signal'>; name?: string } = {},
): Promise<Slice1D> {
  checkLength(fn, theta, opts.name ?? 'θ');
  const eig = await hessianTopEigenvalues(fn, theta, { ...(opts.lanczos ?? {}), k: 1, vectors: true, signal: opts.signal });
  const v = eig.eigenvectors![0];
  const info: DirectionInfo = {
    kind: 'hessian',
    norm: norm(v),
    eigenvalue: eig.eigenvalues[0],
    residual: eig.residuals[0],
    lanczos: { seed: eig.seed, iterations: eig.iterations, which: eig.which, tol: eig.tol, hvp: eig.hvp, converged: eig.converged },
    description: `top Hessian eigenvector (${eig.which}), unit norm, largest-magnitude entry positive`,
  };
  const axis = makeAxis('α', `α (top Hessian eigenvector, λ = ${eig.eigenvalues[0].toPrecision(4)})`, opts.range ?? [-1, 1], opts.points ?? DEFAULT_1D_POINTS, info);
  return slice1DCore(fn, theta, v, axis, opts, {
    method: 'hessian-eigenvector',
    parameterization: 'θ(α) = θ + α·v, ‖v‖ = 1',
    centreLabel: opts.name ?? 'θ',
    markers: [{ label: opts.name ?? 'θ', x: 0, point: theta }],
  });
}

/** Along any direction: θ(α) = θ + α·d. `info` says where d came from (kind 'custom' by default). */
export async function sliceAlongDirection(
  fn: Objective,
  theta: ArrayLike<number>,
  direction: ArrayLike<number>,
  opts: Slice1DOptions & { info?: Partial<DirectionInfo>; name?: string } = {},
): Promise<Slice1D> {
  checkLength(fn, theta, opts.name ?? 'θ');
  checkLength(fn, direction, 'direction');
  const d = Float64Array.from(direction);
  const info: DirectionInfo = { kind: 'custom', ...(opts.info ?? {}), norm: norm(d) };
  if (info.norm === 0 || !Number.isFinite(info.norm)) throw inputError(`the direction must be finite and non-zero (norm ${info.norm})`);
  const axis = makeAxis('α', 'α', opts.range ?? [-1, 1], opts.points ?? DEFAULT_1D_POINTS, info);
  return slice1DCore(fn, theta, d, axis, opts, {
    method: 'direction',
    parameterization: 'θ(α) = θ + α·d',
    centreLabel: opts.name ?? 'θ',
    markers: [{ label: opts.name ?? 'θ', x: 0, point: theta }],
  });
}

interface CoreMarker {
  label: string;
  x: number;
  y?: number;
  point: ArrayLike<number>;
}

interface CoreMeta {
  method: SliceMethod;
  parameterization: string;
  centreLabel: string;
  model?: ModelSpec;
  markers: CoreMarker[];
  cosine?: number;
}

async function slice1DCore(fn: Objective, centre: ArrayLike<number>, d: Float64Array, axis: SliceAxis, opts: GridOptions, m: CoreMeta): Promise<Slice1D> {
  const coeffs = axis.values.map((t) => [t]);
  const { values, batchSize } = await evaluateGrid(fn, centre, [d], coeffs, opts, (r) => `${axis.name} = ${fmt(axis.values[r])} (grid point ${r + 1} of ${axis.points})`);
  const markerLosses = evaluateMarkers(fn, m.markers);
  let iMin = 0;
  let iMax = 0;
  values.forEach((v, i) => {
    if (v < values[iMin]) iMin = i;
    if (v > values[iMax]) iMax = i;
  });
  return {
    kind: '1d',
    axes: { x: axis },
    values: Array.from(values),
    meta: buildMeta(fn, centre, m, markerLosses, values.length, batchSize, opts, {
      min: { x: axis.values[iMin], loss: values[iMin] },
      max: { x: axis.values[iMax], loss: values[iMax] },
    }),
  };
}

// ---------------------------------------------------------------------------
// 2D

/** On the plane of two seeded random directions: θ(α, β) = θ + α·d₁ + β·d₂; α, β ∈ [−1, 1] by default. */
export async function slice2DRandom(
  fn: Objective,
  theta: ArrayLike<number>,
  opts: Slice2DOptions & Omit<RandomSliceOptions, 'seed'> & { seeds?: [number, number]; name?: string } = {},
): Promise<Slice2D> {
  checkLength(fn, theta, opts.name ?? 'θ');
  const seeds = opts.seeds ?? [1, 2];
  if (seeds[0] === seeds[1]) throw inputError(`the two direction seeds must differ (both are ${seeds[0]}), or the plane is a line`);
  const d1 = randomDirection(theta, { seed: seeds[0], normalization: opts.normalization, bias: opts.bias, spec: opts.spec });
  const d2 = randomDirection(theta, { seed: seeds[1], normalization: opts.normalization, bias: opts.bias, spec: opts.spec });
  const cosine = dot(d1.vector, d2.vector) / (d1.info.norm * d2.info.norm);
  const nx = opts.xPoints ?? opts.points ?? DEFAULT_2D_POINTS;
  const ny = opts.yPoints ?? opts.points ?? DEFAULT_2D_POINTS;
  const x = makeAxis('α', `α (${describe(d1.info)})`, opts.xRange ?? [-1, 1], nx, d1.info);
  const y = makeAxis('β', `β (${describe(d2.info)})`, opts.yRange ?? [-1, 1], ny, d2.info);
  return slice2DCore(fn, theta, d1.vector, d2.vector, x, y, opts, {
    method: 'random-plane',
    parameterization: 'θ(α, β) = θ + α·d₁ + β·d₂',
    centreLabel: opts.name ?? 'θ',
    model: opts.spec,
    markers: [{ label: opts.name ?? 'θ', x: 0, y: 0, point: theta }],
    cosine,
  });
}

/**
 * On the plane through three checkpoints: θ(x, y) = A + x·e₁ + y·e₂ with e₁
 * along B − A and e₂ the orthonormalised C − A, coordinates in parameter-space
 * distance. By default the grid covers the three points with a margin of 25 %
 * of the larger extent on every side, the same on both axes so distances are
 * not distorted.
 */
export async function slice2DCheckpoints(
  fn: Objective,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  c: ArrayLike<number>,
  opts: Slice2DOptions & { names?: [string, string, string]; margin?: number } = {},
): Promise<Slice2D> {
  const names = opts.names ?? ['A', 'B', 'C'];
  checkLength(fn, a, names[0]);
  checkLength(fn, b, names[1]);
  checkLength(fn, c, names[2]);
  const plane: CheckpointPlane = checkpointPlane(a, b, c, names);
  const pts = [plane.coords.a, plane.coords.b, plane.coords.c];
  const margin = opts.margin ?? 0.25;
  if (!(margin >= 0) || !Number.isFinite(margin)) throw inputError(`margin must be a finite number ≥ 0, got ${opts.margin}`);
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const extent = Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys));
  const pad = margin * extent;
  const xRange = opts.xRange ?? [Math.min(...xs) - pad, Math.max(...xs) + pad];
  const yRange = opts.yRange ?? [Math.min(...ys) - pad, Math.max(...ys) + pad];
  const nx = opts.xPoints ?? opts.points ?? DEFAULT_2D_POINTS;
  const ny = opts.yPoints ?? opts.points ?? DEFAULT_2D_POINTS;
  const x = makeAxis('x', `x (along ${names[1]} − ${names[0]})`, xRange as [number, number], nx, {
    kind: 'plane',
    norm: 1,
    description: `e₁ = (B − A)/‖B − A‖ with A = ${names[0]}, B = ${names[1]}`,
  });
  const y = makeAxis('y', `y (towards ${names[2]}, orthogonal to x)`, yRange as [number, number], ny, {
    kind: 'plane',
    norm: 1,
    description: `e₂ = C − A minus its e₁ part, normalised, with C = ${names[2]}`,
  });
  return slice2DCore(fn, a, plane.e1, plane.e2, x, y, opts, {
    method: 'checkpoints-plane',
    parameterization: 'θ(x, y) = A + x·e₁ + y·e₂',
    centreLabel: names[0],
    markers: [
      { label: names[0], x: pts[0][0], y: pts[0][1], point: a },
      { label: names[1], x: pts[1][0], y: pts[1][1], point: b },
      { label: names[2], x: pts[2][0], y: pts[2][1], point: c },
    ],
    cosine: 0,
  });
}

/** On the plane of any two directions: θ(α, β) = θ + α·d₁ + β·d₂. */
export async function slice2DAlongDirections(
  fn: Objective,
  theta: ArrayLike<number>,
  d1: ArrayLike<number>,
  d2: ArrayLike<number>,
  opts: Slice2DOptions & { info?: [Partial<DirectionInfo>, Partial<DirectionInfo>]; name?: string } = {},
): Promise<Slice2D> {
  checkLength(fn, theta, opts.name ?? 'θ');
  checkLength(fn, d1, 'direction 1');
  checkLength(fn, d2, 'direction 2');
  const v1 = Float64Array.from(d1);
  const v2 = Float64Array.from(d2);
  const i1: DirectionInfo = { kind: 'custom', ...(opts.info?.[0] ?? {}), norm: norm(v1) };
  const i2: DirectionInfo = { kind: 'custom', ...(opts.info?.[1] ?? {}), norm: norm(v2) };
  if (!(i1.norm > 0 && i2.norm > 0 && Number.isFinite(i1.norm) && Number.isFinite(i2.norm))) throw inputError('both directions must be finite and non-zero');
  const nx = opts.xPoints ?? opts.points ?? DEFAULT_2D_POINTS;
  const ny = opts.yPoints ?? opts.points ?? DEFAULT_2D_POINTS;
  const x = makeAxis('α', 'α', opts.xRange ?? [-1, 1], nx, i1);
  const y = makeAxis('β', 'β', opts.yRange ?? [-1, 1], ny, i2);
  return slice2DCore(fn, theta, v1, v2, x, y, opts, {
    method: 'plane',
    parameterization: 'θ(α, β) = θ + α·d₁ + β·d₂',
    centreLabel: opts.name ?? 'θ',
    markers: [{ label: opts.name ?? 'θ', x: 0, y: 0, point: theta }],
    cosine: dot(v1, v2) / (i1.norm * i2.norm),
  });
}

/** One axis of a plane a caller built: its symbol, title, grid and where its direction came from. */
export interface PlaneAxisSpec {
  name: string;
  label: string;
  range: [number, number];
  points: number;
  direction: DirectionInfo;
}

/** A plane a caller built (e.g. from a trajectory's principal directions), with the points to mark on it. */
export interface PlaneSpec {
  x: PlaneAxisSpec;
  y: PlaneAxisSpec;
  method: SliceMethod;
  parameterization: string;
  centreLabel: string;
  /** Marked points with their plane coordinates; the first is the centre (0, 0). */
  markers: { label: string; x: number; y: number; point: ArrayLike<number> }[];
}

/**
 * On a plane whose directions the caller computed: θ(x, y) = centre + x·e₁ + y·e₂,
 * the grid and the markers as the caller specifies them. Checks the vectors'
 * lengths and finiteness here, so every plane goes through the same gate.
 */
export async function slice2DOnPlane(fn: Objective, centre: ArrayLike<number>, e1: ArrayLike<number>, e2: ArrayLike<number>, plane: PlaneSpec, opts: GridOptions = {}): Promise<Slice2D> {
  checkLength(fn, centre, plane.centreLabel);
  checkLength(fn, e1, 'direction 1');
  checkLength(fn, e2, 'direction 2');
  const v1 = Float64Array.from(e1);
  const v2 = Float64Array.from(e2);
  const x = makeAxis(plane.x.name, plane.x.label, plane.x.range, plane.x.points, plane.x.direction);
  const y = makeAxis(plane.y.name, plane.y.label, plane.y.range, plane.y.points, plane.y.direction);
  return slice2DCore(fn, centre, v1, v2, x, y, opts, {
    method: plane.method,
    parameterization: plane.parameterization,
    centreLabel: plane.centreLabel,
    markers: plane.markers,
    cosine: dot(v1, v2) / (norm(v1) * norm(v2)),
  });
}

async function slice2DCore(
  fn: Objective,
  centre: ArrayLike<number>,
  d1: Float64Array,
  d2: Float64Array,
  x: SliceAxis,
  y: SliceAxis,
  opts: GridOptions,
  m: CoreMeta,
): Promise<Slice2D> {
  if (x.points * y.points > MAX_GRID_POINTS) throw inputError(`a ${x.points}×${y.points} grid is too large (at most ${MAX_GRID_POINTS} points)`);
  const coeffs: number[][] = [];
  for (let iy = 0; iy < y.points; iy++) for (let ix = 0; ix < x.points; ix++) coeffs.push([x.values[ix], y.values[iy]]);
  const { values, batchSize } = await evaluateGrid(fn, centre, [d1, d2], coeffs, opts, (r) => {
    const ix = r % x.points;
    const iy = Math.floor(r / x.points);
    return `${x.name} = ${fmt(x.values[ix])}, ${y.name} = ${fmt(y.values[iy])} (grid point ${ix + 1}, ${iy + 1} of ${x.points}×${y.points})`;
  });
  const markerLosses = evaluateMarkers(fn, m.markers);
  const grid: number[][] = [];
  let iMin = 0;
  let iMax = 0;
  for (let iy = 0; iy < y.points; iy++) grid.push(Array.from(values.subarray(iy * x.points, (iy + 1) * x.points)));
  values.forEach((v, i) => {
    if (v < values[iMin]) iMin = i;
    if (v > values[iMax]) iMax = i;
  });
  const at = (i: number) => ({ x: x.values[i % x.points], y: y.values[Math.floor(i / x.points)], loss: values[i] });
  return {
    kind: '2d',
    axes: { x, y },
    values: grid,
    meta: buildMeta(fn, centre, m, markerLosses, values.length, batchSize, opts, { min: at(iMin), max: at(iMax) }),
  };
}

// ---------------------------------------------------------------------------
// shared

function checkLength(fn: Objective, v: ArrayLike<number>, name: string): void {
  if (v.length !== fn.dim) throw inputError(`has ${v.length} parameters but the objective takes ${fn.dim}`, name);
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) throw inputError(`parameter ${i} is not finite (${v[i]})`, name);
  }
}

function makeAxis(name: string, label: string, range: [number, number], points: number, direction: DirectionInfo): SliceAxis {
  if (!Array.isArray(range) || range.length !== 2 || !range.every(Number.isFinite)) throw inputError(`range for ${name} must be two finite numbers, got ${JSON.stringify(range)}`);
  if (!(range[1] > range[0])) throw inputError(`range for ${name} must go from low to high, got [${range[0]}, ${range[1]}]`);
  if (!Number.isInteger(points) || points < 2) throw inputError(`the grid needs a whole number ≥ 2 of points along ${name}, got ${points}`);
  if (points > MAX_GRID_POINTS) throw inputError(`${points} points along ${name} is too many (at most ${MAX_GRID_POINTS})`);
  // i/(n−1) interpolation, not repeated addition, so both ends are exact and 0 is hit exactly when it is on the grid.
  const values = Array.from({ length: points }, (_, i) => {
    const v = range[0] + ((range[1] - range[0]) * i) / (points - 1);
    return Math.abs(v) < 1e-12 * (range[1] - range[0]) ? 0 : v;
  });
  return { name, label, values, range: [range[0], range[1]], points, direction };
}

function describe(info: DirectionInfo): string {
  const n = info.normalization === 'none' ? 'unnormalised' : `${info.normalization}-normalised`;
  const bias = info.normalization === 'filter' || info.normalization === 'layer' ? `, bias ${info.bias}` : '';
  return `${n} random direction, seed ${info.seed}${bias}`;
}

function fmt(x: number): string {
  return Number(x.toPrecision(4)).toString();
}

/**
 * Losses at centre + Σ_k coeffs[r][k]·dirs[k] for every row r, in chunks. The
 * points are formed on the device (one matMul per chunk) so the host never
 * materialises the whole grid of parameter vectors.
 */
async function evaluateGrid(
  fn: Objective,
  centre: ArrayLike<number>,
  dirs: Float64Array[],
  coeffs: number[][],
  opts: GridOptions,
  where: (row: number) => string,
): Promise<{ values: Float64Array; batchSize: number }> {
  const dim = fn.dim;
  if (opts.batchSize !== undefined && (!Number.isInteger(opts.batchSize) || opts.batchSize < 1)) {
    throw inputError(`batchSize must be a whole number ≥ 1, got ${opts.batchSize}`);
  }
  const batchSize = Math.min(opts.batchSize ?? 256, Math.max(1, Math.floor(MAX_BATCH_FLOATS / dim)));
  if (opts.rows) return { values: await opts.rows({ centre: toFloat32(centre), dirs, coeffs, batchSize, signal: opts.signal, onProgress: opts.onProgress }), batchSize };
  const total = coeffs.length;
  const k = dirs.length;
  const values = new Float64Array(total);
  const centreRow = tf.tensor2d(toFloat32(centre), [1, dim]);
  const D = tf.tensor2d(stackRows(dirs, dim), [k, dim]);
  // Dense networks: the grid points are combinations of [centre; directions],
  // which the fast kernels evaluate with the first layer done once per basis vector.
  const fast = usableFast(fn) ? fn.fast : undefined;
  const basis = fast ? new Float32Array((k + 1) * dim) : undefined;
  if (basis) {
    basis.set(toFloat32(centre), 0);
    basis.set(stackRows(dirs, dim), dim);
  }
  try {
    for (let start = 0; start < total; start += batchSize) {
      throwIfAborted(opts.signal);
      const m = Math.min(batchSize, total - start);
      const C = new Float32Array(m * k);
      for (let r = 0; r < m; r++) for (let j = 0; j < k; j++) C[r * k + j] = coeffs[start + r][j];
      let out: ArrayLike<number>;
      if (fast && basis) {
        const Cb = new Float32Array(m * (k + 1));
        for (let r = 0; r < m; r++) {
          Cb[r * (k + 1)] = 1;
          Cb.set(C.subarray(r * k, (r + 1) * k), r * (k + 1) + 1);
        }
        // Rounded to float32 like every `evaluate` result, so grid values and marker losses compare exactly.
        out = Float32Array.from(fast.runCombination(basis, Cb, m, false).losses);
      } else {
        out = tf.tidy(() => {
          const thetas = tf.add(centreRow, tf.matMul(tf.tensor2d(C, [m, k]), D)) as tf.Tensor2D;
          return fn.evaluate(thetas).dataSync();
        });
      }
      for (let r = 0; r < m; r++) {
        const v = out[r];
        if (!Number.isFinite(v)) {
          throw computeError(`the loss is not finite (${v}) at ${where(start + r)}; narrow the range or check the parameters`);
        }
        values[start + r] = v;
      }
      opts.onProgress?.(start + m, total);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    centreRow.dispose();
    D.dispose();
  }
  return { values, batchSize };
}

/**
 * Rows `firstRow`… of a grid task, for a queue worker: a block that starts on a
 * batch boundary is evaluated in exactly the batches the whole grid would be.
 */
export async function evaluateGridBlock(fn: Objective, task: GridTask, firstRow: number): Promise<Float64Array> {
  const { values } = await evaluateGrid(fn, task.centre, task.dirs, task.coeffs, { batchSize: task.batchSize, signal: task.signal }, (r) => `grid point ${firstRow + r + 1}`);
  return values;
}

function stackRows(rows: Float64Array[], dim: number): Float32Array {
  const flat = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => flat.set(r, i * dim));
  return flat;
}

function evaluateMarkers(fn: Objective, markers: CoreMarker[]): number[] {
  if (markers.length === 0) return [];
  const dim = fn.dim;
  const flat = new Float32Array(markers.length * dim);
  markers.forEach((mk, i) => flat.set(toFloat32(mk.point), i * dim));
  const out = tf.tidy(() => fn.evaluate(tf.tensor2d(flat, [markers.length, dim])).dataSync());
  return markers.map((mk, i) => {
    const v = out[i];
    if (!Number.isFinite(v)) throw computeError(`the loss at ${mk.label} is not finite (${v})`);
    return v;
  });
}

function buildMeta(
  fn: Objective,
  centre: ArrayLike<number>,
  m: CoreMeta,
  markerLosses: number[],
  gridPoints: number,
  batchSize: number,
  opts: GridOptions,
  extremes: { min: SliceMeta['min']; max: SliceMeta['max'] },
): SliceMeta {
  // By construction the first marker is the centre (coordinate 0).
  const centreLoss = markerLosses[0];
  return {
    version: 1,
    method: m.method,
    parameterization: m.parameterization,
    dim: fn.dim,
    centre: { label: m.centreLabel, hash: vectorHash(centre), norm: norm(centre), loss: centreLoss },
    markers: m.markers.map((mk, i) => ({ label: mk.label, x: mk.x, ...(mk.y !== undefined ? { y: mk.y } : {}), loss: markerLosses[i] })),
    min: extremes.min,
    max: extremes.max,
    evaluations: gridPoints + m.markers.length,
    batchSize,
    ...(m.model ? { model: specToString(m.model) } : {}),
    ...(m.cosine !== undefined ? { cosine: m.cosine } : {}),
    ...(opts.source ? { source: opts.source } : {}),
  };
}
