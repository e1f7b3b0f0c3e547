/**
 * The path result (src/results/path.ts, format 2) from the path finder's
 * PathResult: what `landscape path` writes and the worker saves. Field by
 * field, so nothing the schema does not know reaches a file.
 */
import { PATH_FORMAT_VERSION, pathSettings, type BarrierPath, type HeightSummaryData, type PathInputs, type PathPlane } from '../results/path';
import { vectorHash } from './analysis/directions';
import type { DatasetRecord } from '../results/shapes';
import type { DataRecipe } from './checkpointObjective';
import type { HeightSummary, PathResult, ResolvedPathOptions } from './path/types';
import { LANDSCAPE_VERSION } from './version';

/** Where a path was found and how its ends are named. */
export interface PathResultContext {
  /** The checkpoints (or `landscape`, an analytic landscape's name). */
  a?: string;
  b?: string;
  landscape?: string;
  labelA: string;
  labelB: string;
  model?: string;
  dataset?: DatasetRecord;
  backend: string;
  seconds: number;
  plane?: PathPlane;
  /** What the path was computed from (pathInputs), for recognising it later. */
  inputs?: PathInputs;
}

/**
 * The record of what a path between `a` and `b` is computed from: their
 * parameters' hashes (give the vectors, or their vectorHash when it is
 * known) and the options as asked for, resolved.
 */
export function pathInputs(a: Float32Array | string, b: Float32Array | string, asked: ResolvedPathOptions): PathInputs {
  const hash = (v: Float32Array | string) => (typeof v === 'string' ? v : vectorHash(v));
  return { a: hash(a), b: hash(b), options: { ...asked } };
}

/** A height summary with its profile, and nothing else. */
export function heightSummary(h: HeightSummary): HeightSummaryData {
  return { height: h.height, tAtMax: h.tAtMax, barrierFromA: h.barrierFromA, barrierFromB: h.barrierFromB, barrierFromMean: h.barrierFromMean, profile: { t: h.profile.t, loss: h.profile.loss } };
}

/**
 * The three heights every path report gives: the straight line's, the
 * optimised path's on the dense grid, and the refined saddle's (the
 * climbing image's loss; absent without a refinement).
 */
export function pathHeights(r: PathResult): { straight: number; optimized: number; saddle?: number } {
  return {
    straight: r.linear.height,
    optimized: r.optimized?.height ?? r.height,
    ...(r.refinement?.saddle ? { saddle: r.refinement.saddle.height } : {}),
  };
}

/** The result of one path, settings filled in. */
export function pathResult(r: PathResult, c: PathResultContext): BarrierPath {
  const d: Omit<BarrierPath, 'settings'> = {
    kind: 'barrierPath',
    formatVersion: PATH_FORMAT_VERSION,
    command: 'path',
    ...(c.a !== undefined ? { a: c.a } : {}),
    ...(c.b !== undefined ? { b: c.b } : {}),
    ...(c.landscape !== undefined ? { landscape: c.landscape } : {}),
    labelA: c.labelA,
    labelB: c.labelB,
    ...(c.model !== undefined ? { model: c.model } : {}),
    ...(c.dataset ? { dataset: c.dataset } : {}),
    backend: c.backend,
    seconds: c.seconds,
    heights: pathHeights(r),
    method: r.method,
    ...(r.objective ? { objective: r.objective } : {}),
    ...heightSummary(r),
    linear: heightSummary(r.linear),
    iterations: r.iterations,
    coefficients: r.coefficients,
    ...(r.images ? { images: r.images } : {}),
    ...(r.bend ? { bend: r.bend } : {}),
    lossA: r.lossA,
    lossB: r.lossB,
    bestIteration: r.bestIteration,
    objectiveHistory: r.objectiveHistory,
    heightHistory: r.heightHistory,
    ...(r.tauHistory ? { tauHistory: r.tauHistory } : {}),
    options: { ...r.options },
    ...(c.inputs ? { inputs: c.inputs } : {}),
    ...(r.optimized ? { optimized: heightSummary(r.optimized) } : {}),
    ...(r.refinement ? { refinement: { ...r.refinement } } : {}),
    ...(c.plane ? { plane: c.plane } : {}),
    landscapeVersion: LANDSCAPE_VERSION,
  };
  return { ...d, settings: pathSettings(d) };
}

/** The data a result was measured on, as written into result files. */
export function datasetRecord(recipe: DataRecipe, trainSize: number, batch: number | undefined): DatasetRecord {
  return {
    name: recipe.dataset,
    seed: recipe.seed,
    testFraction: recipe.testFraction,
    options: recipe.options,
    split: 'train' as const,
    trainSize,
    ...(batch !== undefined && batch < trainSize ? { batch } : {}),
  };
}
