/**
 * The all-pairs result (src/results/barriers.ts, format 2) from the engine's
 * BarrierMatrix: what `landscape barriers` writes and the worker saves.
 */
import { BARRIERS_FORMAT_VERSION, barriersSettings, type BarrierMatrix as BarrierMatrixData, type BarrierPair, type TreeNodeData } from '../../results/barriers';
import type { PathOptionsData } from '../../results/path';
import type { DatasetRecord } from '../../results/shapes';
import type { PairOutcome } from '../path/pairs';
import type { PathResult } from '../path/types';
import { heightSummary, pathHeights } from '../pathResult';
import { LANDSCAPE_VERSION } from '../version';
import type { BarrierMatrix } from './barrierMatrix';

/** What the result says about where and how the pairs were computed. */
export interface BarriersResultContext {
  files: readonly string[];
  labels: readonly string[];
  folder: string;
  model?: string;
  dataset: DatasetRecord;
  backend: string;
  /** "all" or "random:N". */
  selection: string;
  options: PathOptionsData;
  seconds: number;
  /** Each pair's profiles and height history (files); without them, the compact form of --json. */
  full: boolean;
  /** Each pair's path coefficients (and NEB images) too. */
  coefficients: boolean;
}

/** One pair in the CLI's names: the reported path's numbers top level, the straight line's in `linear`. */
export function barrierPair(files: readonly string[], o: PairOutcome<PathResult>, full: boolean, coefficients: boolean): BarrierPair {
  const r = o.result;
  const { profile: _p, ...numbers } = heightSummary(r);
  const { profile: linearProfile, ...linear } = heightSummary(r.linear);
  const base: BarrierPair = {
    i: o.i,
    j: o.j,
    a: files[o.i],
    b: files[o.j],
    method: r.method,
    ...(r.objective ? { objective: r.objective } : {}),
    ...numbers,
    lossA: r.lossA,
    lossB: r.lossB,
    iterations: r.iterations,
    bestIteration: r.bestIteration,
    heights: pathHeights(r),
    ...(r.refinement ? { refinement: full ? { ...r.refinement } : withoutForces(r.refinement) } : {}),
    linear: full ? { ...linear, profile: linearProfile } : linear,
  };
  if (!full) return base;
  return {
    ...base,
    profile: { t: r.profile.t, loss: r.profile.loss },
    heightHistory: r.heightHistory,
    ...(coefficients ? { coefficients: r.coefficients, ...(r.images ? { images: r.images } : {}) } : {}),
  };
}

function withoutForces<T extends { forceHistory: number[] }>(x: T): Omit<T, 'forceHistory'> {
  const { forceHistory: _f, ...rest } = x;
  return rest;
}

/** The all-pairs result, settings filled in. Failed pairs are null in the matrices and listed in `errors`. */
export function barriersResult(m: BarrierMatrix, c: BarriersResultContext): BarrierMatrixData {
  const d: Omit<BarrierMatrixData, 'settings'> = {
    kind: 'barrierMatrix',
    formatVersion: BARRIERS_FORMAT_VERSION,
    command: 'barriers',
    files: [...c.files],
    labels: [...c.labels],
    folder: c.folder,
    ...(c.model !== undefined ? { model: c.model } : {}),
    dataset: c.dataset,
    backend: c.backend,
    selection: c.selection,
    options: c.options,
    seconds: c.seconds,
    losses: m.losses,
    heights: m.heights,
    barriers: m.barriers,
    straightHeights: m.straightHeights,
    mst: { edges: m.mst.edges.map((e) => ({ i: e.i, j: e.j, height: e.height })), components: m.mst.components },
    tree: m.tree as TreeNodeData,
    pairs: m.pairs.map((o) => barrierPair(c.files, o, c.full, c.coefficients)),
    errors: m.errors.map((e) => ({ i: e.i, j: e.j, a: c.files[e.i], b: c.files[e.j], kind: e.kind, message: e.message })),
    landscapeVersion: LANDSCAPE_VERSION,
  };
  return { ...d, settings: barriersSettings(d) };
}
