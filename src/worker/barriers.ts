/**
 * The barrier jobs as the compute worker runs them (this file loads tfjs:
 * only the worker (src/worker/) may import it). One path between two minima, or
 * every pair of a set, with FourierPathFinder (minimax) and the straight line;
 * the result is written beside the checkpoints as a result file the panels
 * reopen without recomputing.
 */
import { withQueueRunner } from '../queue/withQueueRunner';
import { initBackend, tf, type BackendName } from '../engine/backend';
import { inputError } from '../engine/errors';
import { loadAnyCheckpoint, type OpenedCheckpoint } from '../engine/evaluate';
import { objectiveForCheckpoint, type DataRecipe } from '../engine/checkpointObjective';
import type { Objective } from '../engine/objective';
import { findPath, parsePairSpec, resolvePathOptions, progressSteps, type PathIteration, type PathResult } from '../engine/path';
import { pathSettings, type BarrierPath } from '../results/path';
import { barrierMatrix, barriersResult, openMinima, type BarrierMatrixOptions } from '../engine/barriers';
import { datasetRecord, pathResult } from '../engine/pathResult';
import { pairErrorToThrow, type PathProblem, type PathTaskOptions } from '../engine/pool';
import type { HeightNumbers, PathPlane } from '../protocol';
import { commonFolder, minimumLabel, readBarrierResult, saveBarrierResult } from '../results/barrierFiles';
import { chainPointSource, curvePointSource, fourierPointSource, planeGrid, projectToPlane, type PointSource } from './pathPlane';
import type { BarriersJobResult, PathJobEvent, PathJobResult, PathJobSettings } from './protocol';

export interface JobContext {
  backend: string;
  /** The landscape.queue setting, when set: the pairs go to its workers. */
  queue?: string;
  signal: AbortSignal;
  emit(e: PathJobEvent): void;
  /** A line for the Landscape log (the worker's stdout goes there). */
  log?(line: string): void;
}

/** Fixed so a barrier is reproducible; the path finder's own defaults otherwise (N_F 10, λ 1e-4, lr 0.01). */
const PATH_SEED = 0;
const MAX_GRID = 200;

function numbers(h: HeightNumbers): HeightNumbers {
  return { height: h.height, tAtMax: h.tAtMax, barrierFromA: h.barrierFromA, barrierFromB: h.barrierFromB, barrierFromMean: h.barrierFromMean };
}

function checkSettings(s: PathJobSettings): void {
  if (!Number.isInteger(s.points) || s.points < 3) throw inputError(`landscape.path.points must be a whole number ≥ 3, got ${s.points}`);
  if (!Number.isInteger(s.steps) || s.steps < 0) throw inputError(`landscape.path.steps must be a whole number ≥ 0, got ${s.steps}`);
  if (s.method !== undefined && !(['fourier', 'bezier', 'polychain'] as const).includes(s.method)) throw inputError(`landscape.path.method must be fourier, bezier or polychain, got ${String(s.method).slice(0, 40)}`);
  if (!Number.isInteger(s.planeGrid) || s.planeGrid < 0 || s.planeGrid > MAX_GRID) {
    throw inputError(`landscape.path.planeGrid must be a whole number from 0 to ${MAX_GRID}, got ${s.planeGrid}`);
  }
}

async function findOne(fn: Objective, a: Float32Array, b: Float32Array, s: PathJobSettings, index: number, ctx: JobContext): Promise<PathResult> {
  return findPath(fn, a, b, {
    method: s.method ?? 'fourier',
    objective: 'minimax',
    points: s.points,
    steps: s.steps,
    seed: PATH_SEED,
    signal: ctx.signal,
    onIteration: (it: PathIteration) => ctx.emit({ type: 'iteration', index, iteration: it.iteration, height: it.height, bestHeight: it.bestHeight }),
  });
}

/** Rows of thetas in float32, evaluated in batched chunks; non-finite losses become null. */
function evaluateRows(fn: Objective, count: number, row: (k: number, out: Float32Array) => void, chunk: number): (number | null)[] {
  const out: (number | null)[] = [];
  const step = Math.max(1, chunk);
  for (let start = 0; start < count; start += step) {
    const n = Math.min(step, count - start);
    const flat = new Float32Array(n * fn.dim);
    for (let k = 0; k < n; k++) row(start + k, flat.subarray(k * fn.dim, (k + 1) * fn.dim));
    const losses = tf.tidy(() => fn.evaluate(tf.tensor2d(flat, [n, fn.dim])));
    const v = losses.dataSync();
    losses.dispose();
    for (let k = 0; k < n; k++) out.push(Number.isFinite(v[k]) ? v[k] : null);
  }
  return out;
}

function pointSource(t: number[], a: Float32Array, b: Float32Array, coefficients: number[][], images: number[][] | undefined, curve?: { method: string; bend?: number[] }): PointSource {
  // NEB's images, and a kept refinement's band: the reported profile is along them, not the Fourier path.
  if (images) return chainPointSource(images, t);
  if (curve?.bend && (curve.method === 'bezier' || curve.method === 'polychain')) return curvePointSource(curve.method, a, b, curve.bend, t);
  return fourierPointSource(a, b, coefficients, t);
}

/**
 * The path (its points at `t`) in the plane of A, B and its largest
 * deviation, with the loss over a grid of that plane when `fn` is given.
 */
export function planeOf(fn: Objective | undefined, source: PointSource, t: number[], a: Float32Array, b: Float32Array, grid: number, chunk: number, ctx: JobContext): PathPlane {
  const p = projectToPlane(a, b, t.length, source);
  const plane: PathPlane = {
    x: p.x,
    y: p.y,
    distanceAB: p.distanceAB,
    maxDeviation: p.maxDeviation,
    tAtMaxDeviation: p.farthest >= 0 ? t[p.farthest] : 0,
    maxResidual: p.maxResidual,
  };
  // A straight path spans no plane; a grid along a line would say nothing the profile does not.
  if (!fn || grid < 2 || p.farthest < 0) return plane;
  const { gx, gy } = planeGrid(p.x, p.y, p.distanceAB, grid);
  ctx.emit({ type: 'surface', points: gx.length * gy.length });
  const flat = evaluateRows(
    fn,
    gx.length * gy.length,
    (k, out) => {
      const xv = gx[k % gx.length];
      const yv = gy[Math.floor(k / gx.length)];
      for (let i = 0; i < out.length; i++) out[i] = a[i] + xv * p.e1[i] + yv * p.e2[i];
    },
    chunk,
  );
  const z = gy.map((_, iy) => flat.slice(iy * gx.length, (iy + 1) * gx.length));
  plane.surface = { x: gx, y: gy, z };
  return plane;
}

async function openAll(files: readonly string[], ctx: JobContext): Promise<{ cks: OpenedCheckpoint[]; recipe: DataRecipe; backend: BackendName }> {
  const info = await initBackend(ctx.backend);
  const { checkpoints, recipe } = await openMinima(files);
  return { cks: checkpoints, recipe, backend: info.name };
}

/** Path vectors rounded to 9 significant digits: enough to hold a float32 exactly, a third of the JSON. */
function rounded(v: readonly number[][] | undefined): number[][] | undefined {
  return v?.map((c) => c.map((x) => Number(x.toPrecision(9))));
}

/** One path between two minima: compute, project, save as `out`. */
export async function runPathJob(req: { a: string; b: string; out: string; settings: PathJobSettings }, ctx: JobContext): Promise<PathJobResult> {
  const t0 = Date.now();
  checkSettings(req.settings);
  const { cks, backend } = await openAll([req.a, req.b], ctx);
  const [ckA, ckB] = cks;
  const surface = await objectiveForCheckpoint(ckA);
  try {
    const fn = surface.objective;
    ctx.emit({ type: 'setup', backend, dataset: surface.dataset, minima: 2, pairs: 1, steps: progressSteps(resolvePathOptions({ points: req.settings.points, steps: req.settings.steps })) });
    ctx.emit({ type: 'pair-start', index: 0, total: 1, a: req.a, b: req.b });
    const r = await findOne(fn, ckA.theta, ckB.theta, req.settings, 0, ctx);
    const straight = numbers(r.linear);
    const optimized = numbers(r);
    ctx.emit({ type: 'pair-done', index: 0, total: 1, optimized, straight });
    const source = pointSource(r.profile.t, ckA.theta, ckB.theta, r.coefficients, r.images);
    const plane = planeOf(fn, source, r.profile.t, ckA.theta, ckB.theta, req.settings.planeGrid, req.settings.points, ctx);
    const base = commonFolder([req.a, req.b]);
    const seconds = (Date.now() - t0) / 1000;
    const data = pathResult(
      { ...r, coefficients: rounded(r.coefficients) ?? [], images: rounded(r.images) },
      { a: req.a, b: req.b, labelA: minimumLabel(req.a, base), labelB: minimumLabel(req.b, base), model: ckA.specString, dataset: datasetRecord(surface.recipe, surface.trainSize, undefined), backend, seconds, plane },
    );
    saveBarrierResult(req.out, data);
    return { file: req.out, optimized, straight, iterations: r.iterations, seconds };
  } finally {
    surface.dispose();
  }
}

/**
 * A saved path without its plane drawing (the CLI does not draw it), drawn
 * for the path panel: its plane from the saved coefficients or band and the
 * two checkpoints, and the loss over that plane when the checkpoint's data
 * can be rebuilt. The path is not searched again.
 */
export async function importCliPath(req: { file: string; roots: string[]; planeGrid: number }, ctx: JobContext): Promise<BarrierPath> {
  const d = readBarrierResult(req.file, 'barrierPath', req.roots).data;
  if (d.a === undefined || d.b === undefined) throw inputError(`holds a path on the analytic landscape ${d.landscape ?? '?'}; there are no checkpoints to draw it between`, req.file);
  await initBackend(ctx.backend);
  const ckA = await loadAnyCheckpoint(d.a);
  const ckB = await loadAnyCheckpoint(d.b);
  const source = savedPathSource(d, ckA.theta, ckB.theta, d.profile.t, req.file);
  let surface: Awaited<ReturnType<typeof objectiveForCheckpoint>> | undefined;
  if (req.planeGrid >= 2) {
    try {
      surface = await objectiveForCheckpoint(ckA);
    } catch (e) {
      // The drawing still shows the path; only the loss under it needs the data.
      ctx.log?.(`no loss surface under the path: ${(e as Error).message}`);
    }
  }
  try {
    const plane = planeOf(surface?.objective, source, d.profile.t, ckA.theta, ckB.theta, req.planeGrid, 32, ctx);
    const drawn = { ...d, plane };
    return { ...drawn, settings: pathSettings(drawn) };
  } finally {
    surface?.dispose();
  }
}

/**
 * The points of a saved path at `t`: NEB's images or a kept refinement's band
 * when saved (the reported profile runs along them), else the Fourier
 * coefficients; the straight line needs neither. Vectors of another length
 * than the checkpoints' mean the checkpoints were replaced.
 */
export function savedPathSource(d: BarrierPath, a: Float32Array, b: Float32Array, t: number[], file: string): PointSource {
  const dim = a.length;
  if (b.length !== dim) throw inputError(`${d.a} and ${d.b} have different numbers of parameters (${dim} and ${b.length})`, file);
  for (const c of [...(d.coefficients ?? []), ...(d.images ?? []), ...(d.bend ? [d.bend] : [])]) {
    if (c.length !== dim) throw inputError(`holds path vectors of ${c.length} values, but ${d.a} has ${dim} parameters (were the checkpoints replaced?)`, file);
  }
  if (d.method !== 'linear' && !d.images && !d.coefficients?.length && !d.bend) {
    throw inputError("has none of the path's points (coefficients, images or a curve's bend); write it with landscape path --out, or compute the barrier again", file);
  }
  return pointSource(t, a, b, d.coefficients ?? [], d.images, d);
}

/** The worker's path options: FourierPathFinder (minimax) with the job's points and steps, seed fixed. */
function workerPathOptions(s: PathJobSettings): PathTaskOptions {
  return { method: s.method ?? 'fourier', objective: 'minimax', points: s.points, steps: s.steps, seed: PATH_SEED };
}

/** The job's events, numbered by the pair's place among the chosen pairs. */
function pairEvents(files: readonly string[], ctx: JobContext): Pick<BarrierMatrixOptions<never>, 'onPairStart' | 'onProgress' | 'onPairDone'> {
  return {
    onPairStart: (p) => ctx.emit({ type: 'pair-start', index: p.k, total: p.total, a: files[p.i], b: files[p.j] }),
    onProgress: (p) => ctx.emit({ type: 'iteration', index: p.k, iteration: p.iteration, height: p.height, bestHeight: p.bestHeight }),
    onPairDone: (o) => {
      if (o.result) ctx.emit({ type: 'pair-done', index: o.k, total: o.total, optimized: numbers(o.result), straight: numbers(o.result.linear) });
    },
  };
}

/** Every pair (or a random selection) of `files`: matrices, spanning tree, disconnectivity graph; saved as `out`. */
export async function runBarriersJob(
  req: { files: string[]; folder: string; out: string; selection: string; settings: PathJobSettings },
  ctx: JobContext,
): Promise<BarriersJobResult> {
  const t0 = Date.now();
  checkSettings(req.settings);
  if (req.files.length < 2) throw inputError(`barriers need at least two checkpoints, got ${req.files.length}`, req.folder);
  parsePairSpec(req.selection);
  const { cks, recipe, backend } = await openAll(req.files, ctx);
  const labels = req.files.map((f) => minimumLabel(f, req.folder));
  const problem: PathProblem = { backend, spec: cks[0].spec, recipe, thetas: cks.map((c) => c.theta), path: workerPathOptions(req.settings) };
  // On this thread, as before: the extension's worker is already off the UI thread; or on the queue's workers.
  const sum = await withQueueRunner(ctx.queue, ctx.log, (runner) => barrierMatrix(problem, {
    pairs: req.selection,
    seed: PATH_SEED,
    labels,
    jobs: 1,
    runner,
    signal: ctx.signal,
    onSetup: (s) => ctx.emit({ type: 'setup', backend, dataset: s.dataset, minima: s.n, pairs: s.pairs.length, steps: progressSteps(resolvePathOptions({ points: req.settings.points, steps: req.settings.steps })) }),
    ...pairEvents(req.files, ctx),
  }));
  if (sum.errors.length) throw pairErrorToThrow(sum.errors[0], `pair ${labels[sum.errors[0].i]} ↔ ${labels[sum.errors[0].j]}: `);
  const n = cks.length;
  const seconds = (Date.now() - t0) / 1000;
  const data = barriersResult(sum, {
    files: req.files,
    labels,
    folder: req.folder,
    model: cks[0].specString,
    dataset: datasetRecord(recipe, sum.trainSize, undefined),
    backend,
    selection: req.selection,
    options: resolvePathOptions(problem.path),
    seconds,
    full: true,
    coefficients: false,
  });
  const barrierValues = data.pairs.map((p) => p.barrierFromMean);
  saveBarrierResult(req.out, data);
  return {
    file: req.out,
    minima: n,
    pairs: data.pairs.length,
    maxBarrier: barrierValues.length ? Math.max(...barrierValues) : null,
    minBarrier: barrierValues.length ? Math.min(...barrierValues) : null,
    seconds,
  };
}
