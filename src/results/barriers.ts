/**
 * Barriers between every pair (or a random selection) of a set of minima
 * (`barriers.json`): the matrices of saddle heights and barriers, each pair's
 * numbers (and profiles, in files), the minimum spanning tree and the
 * disconnectivity graph. One shape everywhere: barriersResult
 * (src/engine/barriers/result.ts) builds it, `landscape barriers --json/--out`
 * writes it, the worker saves and posts it, the matrix panel shows it
 * (through barrierMatrixView). Files of format 1 (the CLI's "kind":
 * "landscape.barriers" and the extension's panel data) open through
 * upgradeBarriers.
 */
import { formatNumber } from '../format';
import { LIMITS, S, type Infer, type Schema } from '../schema';
import { heightsOfV1, PathOptionsSchema, PathRefinementSchema, PATH_METHOD_NAMES, PATH_OBJECTIVE_NAMES, vectors } from './path';
import { cell, checkpointLabel, count, DatasetRecordSchema, filePath, HeightNumbersSchema, kvRows, num, optNum, series, str, upgradeStamp, type HeightNumbers, type Json, type MinimumRef } from './shapes';

/** Version of this kind's format (1: Landscape 0.1.0; 2: one shape for the CLI and the extension). */
export const BARRIERS_FORMAT_VERSION = 2;
/** The file name of an all-pairs result, in the folder it was computed for. */
export const BARRIERS_FILE = 'barriers.json';
/** The "kind" of the CLI's form of this result in format 1. */
export const CLI_BARRIERS_KIND_V1 = 'landscape.barriers';

/** At most this many minima in one all-pairs result (the matrices are n×n). */
export const MAX_MINIMA = 500;
const matrix = S.array(S.array(cell, MAX_MINIMA), MAX_MINIMA);

/** One computed pair as the matrix panel draws it (barrierMatrixView): both paths' numbers and dense profiles. */
export interface PairResult {
  i: number;
  j: number;
  optimized: HeightNumbers;
  straight: HeightNumbers;
  iterations: number;
  profile: { t: number[]; straight: number[]; optimized: number[] };
}

const profileSchema = S.object({ t: series, loss: series });

/**
 * One computed pair, as `landscape path` reports it (the CLI's names): the
 * reported path's numbers top level, the straight line's in `linear`. Files
 * carry the profiles and the height history; `--json` leaves them out.
 */
export const BarrierPairSchema = S.object({
  i: count,
  j: count,
  a: filePath,
  b: filePath,
  method: S.oneOf(PATH_METHOD_NAMES),
  objective: S.optional(S.oneOf(PATH_OBJECTIVE_NAMES)),
  ...HeightNumbersSchema.shape,
  lossA: num,
  lossB: num,
  iterations: count,
  /** Absent in files the extension saved in format 1. */
  bestIteration: S.optional(count),
  heights: S.object({ straight: num, optimized: num, saddle: optNum }),
  refinement: S.optional(PathRefinementSchema),
  linear: S.object({ ...HeightNumbersSchema.shape, profile: S.optional(profileSchema) }),
  profile: S.optional(profileSchema),
  heightHistory: S.optional(series),
  coefficients: S.optional(vectors),
  images: S.optional(vectors),
});
export type BarrierPair = Infer<typeof BarrierPairSchema>;

/**
 * Disconnectivity graph, flattened: node k < n is minimum k; node n + m is
 * merges[m]. The root is the last merge (or minimum 0 when n = 1).
 */
export interface TreeMerge {
  height: number | null;
  children: number[];
}

/** The disconnectivity graph as the engine builds it (DisconnectivityNode): leaves are minima, merges join groups at a saddle height. */
export type TreeNodeData =
  | { kind: 'leaf'; index: number; label: string; loss: number | null }
  | { kind: 'merge'; height: number | null; children: TreeNodeData[]; minima: number[] };

const treeNode: Schema<TreeNodeData> = { check: (v, at) => TreeNodeSchema.check(v, at) };
export const TreeNodeSchema: Schema<TreeNodeData> = S.tagged('kind', {
  leaf: S.object({ kind: S.literal('leaf'), index: count, label: S.string(LIMITS.path), loss: cell }),
  merge: S.object({ kind: S.literal('merge'), height: cell, children: S.array(treeNode, MAX_MINIMA), minima: S.array(count, MAX_MINIMA) }),
});

const edge = S.object({ i: count, j: count, height: num });

/** Barriers between every pair (or a random selection) of a set of minima. */
export const BarrierMatrixSchema = S.object({
  kind: S.literal('barrierMatrix'),
  formatVersion: S.int(BARRIERS_FORMAT_VERSION, BARRIERS_FORMAT_VERSION),
  command: S.literal('barriers'),
  /** The minima: as given to the CLI, relative to the file in files the extension saves, absolute in memory. */
  files: S.array(filePath, MAX_MINIMA),
  /** How panels name each minimum. */
  labels: S.array(str, MAX_MINIMA),
  /** The folder the minima share (the one the extension computed them for). */
  folder: filePath,
  model: S.optional(str),
  dataset: DatasetRecordSchema,
  backend: str,
  /** "all" or "random:N". */
  selection: S.string(100),
  /** The path options every pair used (absent in files the extension saved in format 1). */
  options: S.optional(PathOptionsSchema),
  seconds: num,
  losses: S.array(cell, MAX_MINIMA),
  /** Saddle heights H_ij of the reported paths; the diagonal holds each minimum's loss; null where not computed. */
  heights: matrix,
  /** H_ij − mean(loss_i, loss_j); zero on the diagonal. */
  barriers: matrix,
  /** The straight lines' heights, for comparison. */
  straightHeights: matrix,
  /** The minimum spanning tree (a forest when the computed pairs do not link every minimum). */
  mst: S.object({ edges: S.array(edge, MAX_MINIMA), components: S.array(S.array(count, MAX_MINIMA), MAX_MINIMA) }),
  tree: TreeNodeSchema,
  pairs: S.array(BarrierPairSchema, LIMITS.list),
  /** Pairs whose search failed (null in the matrices). */
  errors: S.array(S.object({ i: count, j: count, a: filePath, b: filePath, kind: S.string(40), message: S.string(LIMITS.text) }), LIMITS.list),
  landscapeVersion: S.string(100),
  /** Display rows (barriersSettings). */
  settings: kvRows,
});
export type BarrierMatrix = Infer<typeof BarrierMatrixSchema>;

/** The matrix panel's settings table, from the result's own fields. */
export function barriersSettings(d: Omit<BarrierMatrix, 'settings'>): [string, string][] {
  const n = d.files.length;
  const o = d.options;
  const ds = d.dataset;
  const rows: [string, string][] = [
    ['minima', String(n)],
    ['pairs', `${d.pairs.length} of ${(n * (n - 1)) / 2} (${d.selection})${d.errors.length ? `, ${d.errors.length} failed` : ''}`],
    ['method', o ? `${o.method}${o.method === 'fourier' ? `, objective ${o.objective}` : ''}, straight line alongside` : '–'],
    ['path points (M)', o ? String(o.points) : '–'],
    ['Adam steps', o ? `${o.steps} (lr ${o.lr})` : '–'],
    ['refinement', o?.refine ?? '–'],
  ];
  if (d.model) rows.push(['model', d.model]);
  rows.push(
    ['loss measured on', `training loss, ${ds.name}${ds.trainSize !== undefined ? ` (${ds.trainSize} samples${ds.batch ? `, batches of ${ds.batch}` : ''})` : ''}`],
    ['backend', d.backend],
    ['time', `${formatNumber(d.seconds)} s`],
    ['written by', `Landscape ${d.landscapeVersion}`],
  );
  return rows;
}

/** What the matrix panel draws (derived from the result, never stored). */
export interface BarrierMatrixView {
  folder: string;
  minima: MinimumRef[];
  pairs: PairResult[];
  mst: { i: number; j: number; height: number }[];
  tree: TreeMerge[];
  dataset: string;
}

function heightNumbers(h: HeightNumbers): HeightNumbers {
  return { height: h.height, tAtMax: h.tAtMax, barrierFromA: h.barrierFromA, barrierFromB: h.barrierFromB, barrierFromMean: h.barrierFromMean };
}

/** A pair as the pair chart draws it; a pair without profiles (--json) has empty ones. */
function pairView(p: BarrierPair): PairResult {
  const t = p.profile?.t ?? [];
  const straight = p.linear.profile && p.linear.profile.loss.length === t.length ? p.linear.profile.loss : [];
  return { i: p.i, j: p.j, optimized: heightNumbers(p), straight: heightNumbers(p.linear), iterations: p.iterations, profile: { t: straight.length ? t : [], straight, optimized: straight.length ? (p.profile?.loss ?? []) : [] } };
}

/** The panel's reading of an all-pairs result. */
export function barrierMatrixView(d: BarrierMatrix): BarrierMatrixView {
  return {
    folder: d.folder,
    minima: d.files.map((f, i) => ({ path: f, label: d.labels[i] ?? f, loss: d.losses[i] ?? null })),
    pairs: d.pairs.map(pairView),
    mst: d.mst.edges,
    tree: flattenTree(d.tree, d.files.length),
    dataset: d.dataset.name,
  };
}

/**
 * A format-1 file as format 2: the CLI's form ("kind": "landscape.barriers")
 * gains the result kind, labels, the folder and each pair's three heights;
 * the extension's form (the panel data) gets the CLI's names back (files,
 * losses, pairs with top-level numbers and `linear`, `mst.edges`, the nested
 * tree). The caller validates the result, then fills its settings.
 */
export function upgradeBarriers(doc: Json): Json {
  const up: Json = doc.kind === CLI_BARRIERS_KIND_V1 ? barriersFromCliV1(doc) : barriersFromPanelV1(doc);
  return upgradeStamp(up, 'barrierMatrix', BARRIERS_FORMAT_VERSION, null, 'barriers');
}

function barriersFromCliV1(doc: Json): Json {
  const files = Array.isArray(doc.files) ? (doc.files as unknown[]) : [];
  const pairs = Array.isArray(doc.pairs) ? (doc.pairs as Json[]) : [];
  return {
    ...doc,
    labels: files.map((f) => (typeof f === 'string' ? checkpointLabel(f) : f)),
    folder: commonDir(files.filter((f): f is string => typeof f === 'string')),
    pairs: pairs.map((p) => ({ heights: heightsOfV1(p), ...p })),
  };
}

/** The longest folder prefix the files share, by string ('.' when none): the CLI's paths as given. */
export function commonDir(files: readonly string[]): string {
  const dirs = files.map((f) => f.split(/[\\/]+/).slice(0, -1));
  const first = dirs[0] ?? [];
  let k = 0;
  while (k < first.length && dirs.every((d) => d[k] === first[k])) k++;
  return first.slice(0, k).join('/') || '.';
}

function barriersFromPanelV1(doc: Json): Json {
  const { minima, pairs, mst, tree, dataset, folder, settings: _s, ...rest } = doc;
  const refs = (Array.isArray(minima) ? minima : []) as { path?: unknown; label?: unknown; loss?: unknown }[];
  const files = refs.map((m) => m.path);
  const losses = refs.map((m) => m.loss);
  const pairOf = (p: Json): Json => {
    const prof = (p.profile ?? {}) as Json;
    const i = p.i as number;
    const j = p.j as number;
    const optimized = (p.optimized ?? {}) as Json;
    const straight = (p.straight ?? {}) as Json;
    return {
      i, j, a: files[i], b: files[j], method: 'fourier', objective: 'minimax', ...optimized, lossA: losses[i], lossB: losses[j], iterations: p.iterations,
      heights: { straight: straight.height, optimized: optimized.height },
      linear: { ...straight, profile: { t: prof.t, loss: prof.straight } },
      profile: { t: prof.t, loss: prof.optimized },
    };
  };
  return {
    ...rest,
    files,
    labels: refs.map((m) => m.label),
    folder,
    dataset: { name: dataset, split: 'train' },
    losses,
    pairs: (Array.isArray(pairs) ? (pairs as Json[]) : []).map(pairOf),
    mst: { edges: mst, components: [] },
    tree: Array.isArray(tree) ? nestTree(tree as TreeMerge[], refs.map((m) => ({ label: String(m.label ?? ''), loss: typeof m.loss === 'number' ? m.loss : null }))) : tree,
    errors: [],
  };
}

/** The flattened tree of format 1 nested again (flattenTree's inverse); the root is the last merge. */
export function nestTree(merges: readonly TreeMerge[], leaves: readonly { label: string; loss: number | null }[]): TreeNodeData {
  const n = leaves.length;
  const node = (k: number, depth: number): TreeNodeData => {
    if (k < n) return { kind: 'leaf', index: k, label: leaves[k].label, loss: leaves[k].loss };
    const m = merges[k - n];
    if (!m || depth > n + merges.length) throw new Error(`tree node ${k} is not one of the minima or merges`);
    const children = m.children.map((c) => node(c, depth + 1));
    const minima = children.flatMap((c) => (c.kind === 'leaf' ? [c.index] : c.minima)).sort((x, y) => x - y);
    return { kind: 'merge', height: m.height, children, minima };
  };
  return node(merges.length ? n + merges.length - 1 : 0, 0);
}

interface TreeLeaf {
  kind: 'leaf';
  index: number;
}
interface TreeNodeMerge {
  kind: 'merge';
  height: number | null;
  children: TreeNode[];
}
/** The engine's DisconnectivityNode, structurally (no engine import here). */
export type TreeNode = TreeLeaf | TreeNodeMerge;

/**
 * The disconnectivity graph as a list of merges: node k < n is minimum k,
 * node n + m is merge m, children before parents, so the root is last.
 */
export function flattenTree(root: TreeNode, n: number): TreeMerge[] {
  const merges: TreeMerge[] = [];
  const visit = (node: TreeNode): number => {
    if (node.kind === 'leaf') {
      if (!Number.isInteger(node.index) || node.index < 0 || node.index >= n) throw new Error(`tree leaf ${node.index} is not one of ${n} minima`);
      return node.index;
    }
    const children = node.children.map(visit);
    merges.push({ height: node.height, children });
    return n + merges.length - 1;
  };
  visit(root);
  return merges;
}
