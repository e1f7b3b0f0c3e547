/**
 * Barriers between every pair (or a random selection) of a set of minima
 * (`barriers.json`): the matrices of saddle heights and barriers, each pair's
 * profiles, the minimum spanning tree and the disconnectivity graph. What the
 * matrix panel shows and what the extension saves. `landscape barriers --out`
 * writes the CLI form ("kind": "landscape.barriers"), which
 * src/results/cli/barriers.ts converts to this.
 */
import { LIMITS, S, type Infer } from '../schema';
import { cell, count, filePath, HeightNumbersSchema, kvRows, MinimumRefSchema, num, series, str } from './shapes';

/** Version of this kind's format (1: Landscape 0.1.0). */
export const BARRIERS_FORMAT_VERSION = 1;
/** The file name of an all-pairs result, in the folder it was computed for. */
export const BARRIERS_FILE = 'barriers.json';
/** The "kind" of the CLI's form of this result. */
export const CLI_BARRIERS_KIND = 'landscape.barriers';

/** At most this many minima in one all-pairs result (the matrices are n×n). */
export const MAX_MINIMA = 500;
const matrix = S.array(S.array(cell, MAX_MINIMA), MAX_MINIMA);

/** One computed pair of an all-pairs result, with its dense profiles (for the pair chart under the matrix). */
export const PairResultSchema = S.object({
  i: count,
  j: count,
  optimized: HeightNumbersSchema,
  straight: HeightNumbersSchema,
  iterations: count,
  profile: S.object({ t: series, straight: series, optimized: series }),
});
export type PairResult = Infer<typeof PairResultSchema>;

/**
 * Disconnectivity graph, flattened: node k < n is minimum k; node n + m is
 * merges[m]. The root is the last merge (or minimum 0 when n = 1).
 */
export const TreeMergeSchema = S.object({ height: S.nullable(num), children: S.array(count, MAX_MINIMA) });
export type TreeMerge = Infer<typeof TreeMergeSchema>;

/** Barriers between every pair (or a random selection) of a set of minima. */
export const BarrierMatrixSchema = S.object({
  kind: S.literal('barrierMatrix'),
  /** The folder the result was saved in (absolute in messages, "." on disk). */
  folder: filePath,
  minima: S.array(MinimumRefSchema, MAX_MINIMA),
  /** Saddle heights H_ij of the optimized paths; the diagonal holds each minimum's loss. */
  heights: matrix,
  /** H_ij − mean(loss_i, loss_j); zero on the diagonal, null where not computed. */
  barriers: matrix,
  /** The straight lines' heights, for comparison. */
  straightHeights: matrix,
  pairs: S.array(PairResultSchema, LIMITS.list),
  mst: S.array(S.object({ i: count, j: count, height: num }), MAX_MINIMA),
  tree: S.array(TreeMergeSchema, MAX_MINIMA),
  /** "all" or "random:N". */
  selection: S.string(100),
  dataset: str,
  backend: str,
  seconds: num,
  settings: kvRows,
});
export type BarrierMatrix = Infer<typeof BarrierMatrixSchema>;

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
