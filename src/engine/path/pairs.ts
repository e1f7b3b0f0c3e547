/**
 * All-pairs barrier analysis as pure functions: which pairs to compute, a
 * concurrency-limited runner for any per-pair function (a worker pool plugs
 * in there), the symmetric height and barrier matrices, the minimum spanning
 * tree of saddle heights and the disconnectivity graph (single-linkage tree
 * by barrier height) of the minima.
 */
import { Rng } from '../rng';
import { inputError, CancelledError } from '../errors';

export type PairSelection = { kind: 'all' } | { kind: 'random'; count: number };
export type Pair = [number, number];

/** "all" or "random:N" (N ≥ 1). */
export function parsePairSpec(spec: string): PairSelection {
  const s = spec.trim().toLowerCase();
  if (s === 'all') return { kind: 'all' };
  const m = /^random:(\d+)$/.exec(s);
  if (m) {
    const count = Number(m[1]);
    if (count >= 1 && Number.isSafeInteger(count)) return { kind: 'random', count };
  }
  throw inputError(`--pairs "${spec}" is not understood; use "all" or "random:N" with N ≥ 1, e.g. random:20`);
}

/**
 * The pairs (i < j) of n minima to compute, in lexicographic order. A random
 * selection draws N distinct pairs uniformly from the seeded generator; asking
 * for at least all of them gives all of them.
 */
export function selectPairs(n: number, selection: PairSelection | string = 'all', seed = 0): Pair[] {
  if (!Number.isInteger(n) || n < 0) throw inputError(`number of minima must be a whole number ≥ 0, got ${n}`);
  const sel = typeof selection === 'string' ? parsePairSpec(selection) : selection;
  const total = (n * (n - 1)) / 2;
  const all: Pair[] = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) all.push([i, j]);
  if (sel.kind === 'all' || sel.count >= total) return all;
  const perm = new Rng(seed).permutation(total);
  const chosen = Array.from(perm.subarray(0, sel.count)).sort((a, b) => a - b);
  return chosen.map((k) => all[k]);
}

export interface PairOutcome<T> {
  i: number;
  j: number;
  result: T;
}

export interface RunPairsOptions<T> {
  /** Pairs computed at the same time. Default 1. */
  concurrency?: number;
  signal?: AbortSignal;
  onResult?: (outcome: PairOutcome<T>, done: number, total: number) => void;
}

/**
 * Runs `compute(i, j)` for every pair with at most `concurrency` in flight.
 * Results come back in the order of `pairs`. The first failure (or an abort)
 * stops new pairs from starting; the ones in flight are awaited, then it is
 * thrown.
 */
export async function runPairs<T>(pairs: readonly Pair[], compute: (i: number, j: number) => Promise<T>, opts: RunPairsOptions<T> = {}): Promise<PairOutcome<T>[]> {
  const limit = opts.concurrency ?? 1;
  if (!Number.isInteger(limit) || limit < 1) throw inputError(`concurrency must be a whole number ≥ 1, got ${limit}`);
  const out: PairOutcome<T>[] = new Array(pairs.length);
  let next = 0;
  let done = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (!failure && next < pairs.length) {
      if (opts.signal?.aborted) {
        failure = { error: new CancelledError() };
        break;
      }
      const k = next++;
      const [i, j] = pairs[k];
      try {
        const result = await compute(i, j);
        out[k] = { i, j, result };
        done++;
        opts.onResult?.(out[k], done, pairs.length);
      } catch (e) {
        failure ??= { error: e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, pairs.length) }, worker));
  if (failure) throw failure.error;
  return out;
}

export type Matrix = (number | null)[][];

/** Symmetric n×n matrix from pair values; null where no pair was computed. */
export function pairMatrix(n: number, entries: readonly { i: number; j: number; value: number }[], diagonal?: number | readonly (number | null)[]): Matrix {
  const m: Matrix = Array.from({ length: n }, () => new Array<number | null>(n).fill(null));
  for (let i = 0; i < n; i++) m[i][i] = diagonal === undefined ? null : typeof diagonal === 'number' ? diagonal : (diagonal[i] ?? null);
  for (const { i, j, value } of entries) {
    if (i < 0 || j < 0 || i >= n || j >= n || i === j) throw inputError(`pair (${i}, ${j}) is not a pair of two of the ${n} minima`);
    m[i][j] = value;
    m[j][i] = value;
  }
  return m;
}

export interface MstEdge {
  i: number;
  j: number;
  height: number;
}

export interface SpanningForest {
  /** Edges in the order Kruskal adds them: by height, ties by (i, j). */
  edges: MstEdge[];
  /** Connected groups of minima (one when every minimum is linked). */
  components: number[][];
}

/** Kruskal's minimum spanning tree (a forest if the computed pairs do not link every minimum) of a symmetric height matrix. */
export function minimumSpanningTree(heights: Matrix): SpanningForest {
  const n = heights.length;
  const cand: MstEdge[] = [];
  for (let i = 0; i < n; i++) {
    if (heights[i].length !== n) throw inputError(`height matrix row ${i} has ${heights[i].length} entries, expected ${n}`);
    for (let j = i + 1; j < n; j++) {
      const h = heights[i][j];
      if (h !== null && Number.isFinite(h)) cand.push({ i, j, height: h });
    }
  }
  cand.sort((a, b) => a.height - b.height || a.i - b.i || a.j - b.j);
  const uf = new UnionFind(n);
  const edges: MstEdge[] = [];
  for (const e of cand) if (uf.union(e.i, e.j)) edges.push(e);
  return { edges, components: uf.groups() };
}

export interface DisconnectivityLeaf {
  kind: 'leaf';
  index: number;
  label: string;
  loss: number | null;
}

export interface DisconnectivityMerge {
  kind: 'merge';
  /** Saddle height at which the children join; null for the top of a forest whose parts never join. */
  height: number | null;
  /** Sub-trees, ordered by their lowest minimum index. */
  children: DisconnectivityNode[];
  /** Indices of all minima below, ascending. */
  minima: number[];
}

export type DisconnectivityNode = DisconnectivityLeaf | DisconnectivityMerge;

/**
 * Disconnectivity graph: the single-linkage tree of the minima by saddle
 * height. Two groups join at the lowest height of any computed pair between
 * them, which is the lowest crossing over a chain of computed paths. Joins at
 * exactly the same height become one node with several children.
 */
export function disconnectivityGraph(heights: Matrix, losses?: readonly (number | null)[], labels?: readonly string[]): DisconnectivityNode {
  const n = heights.length;
  if (n === 0) throw inputError('a disconnectivity graph needs at least one minimum');
  const forest = minimumSpanningTree(heights);
  const uf = new UnionFind(n);
  const node = new Map<number, DisconnectivityNode>();
  for (let i = 0; i < n; i++) {
    node.set(i, { kind: 'leaf', index: i, label: labels?.[i] ?? String(i), loss: losses?.[i] ?? (heights[i][i] ?? null) });
  }
  for (const e of forest.edges) {
    const ra = uf.find(e.i);
    const rb = uf.find(e.j);
    const parts = [node.get(ra)!, node.get(rb)!];
    node.delete(ra);
    node.delete(rb);
    uf.union(ra, rb);
    node.set(uf.find(ra), join(parts, e.height));
  }
  const roots = [...node.values()];
  return roots.length === 1 ? roots[0] : join(roots, null);
}

function minimaOf(x: DisconnectivityNode): number[] {
  return x.kind === 'leaf' ? [x.index] : x.minima;
}

function join(parts: DisconnectivityNode[], height: number | null): DisconnectivityMerge {
  const children: DisconnectivityNode[] = [];
  for (const p of parts) {
    if (p.kind === 'merge' && p.height === height && height !== null) children.push(...p.children);
    else children.push(p);
  }
  children.sort((a, b) => minimaOf(a)[0] - minimaOf(b)[0]);
  const minima = children.flatMap(minimaOf).sort((a, b) => a - b);
  return { kind: 'merge', height, children, minima };
}

/**
 * The lowest crossing height between every two minima over chains of
 * computed pairs (the tree's merge heights); null between parts never joined.
 * The diagonal holds the minima's own losses when given.
 */
export function linkedHeights(heights: Matrix, losses?: readonly (number | null)[]): Matrix {
  const n = heights.length;
  const out: Matrix = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? (losses?.[i] ?? heights[i][i] ?? null) : null)));
  const members: number[][] = Array.from({ length: n }, (_, i) => [i]);
  const uf = new UnionFind(n);
  for (const e of minimumSpanningTree(heights).edges) {
    const a = members[uf.find(e.i)];
    const b = members[uf.find(e.j)];
    for (const x of a) for (const y of b) {
      out[x][y] = e.height;
      out[y][x] = e.height;
    }
    uf.union(e.i, e.j);
    members[uf.find(e.i)] = a.concat(b);
  }
  return out;
}

export interface PairBarrier {
  height: number;
  lossA?: number;
  lossB?: number;
}

export interface AllPairsOptions<T extends PairBarrier> extends RunPairsOptions<T> {
  /** "all" (default) or "random:N". */
  pairs?: PairSelection | string;
  seed?: number;
  /** Loss of each minimum; taken from the pair results' lossA/lossB where missing. */
  losses?: readonly (number | null)[];
  labels?: readonly string[];
}

export interface AllPairsResult<T extends PairBarrier> {
  n: number;
  pairs: PairOutcome<T>[];
  losses: (number | null)[];
  /** Saddle heights H_ij; the diagonal holds each minimum's loss. */
  heights: Matrix;
  /** H_ij − mean(loss_i, loss_j); zero on the diagonal. */
  barriers: Matrix;
  mst: SpanningForest;
  tree: DisconnectivityNode;
}

/** Every pair (or a random selection) through `compute`, then the matrices, the spanning tree and the disconnectivity graph. */
export async function allPairs<T extends PairBarrier>(n: number, compute: (i: number, j: number) => Promise<T>, opts: AllPairsOptions<T> = {}): Promise<AllPairsResult<T>> {
  const chosen = selectPairs(n, opts.pairs ?? 'all', opts.seed ?? 0);
  const outcomes = await runPairs(chosen, compute, opts);
  return summarizePairs(n, outcomes, opts.losses, opts.labels);
}

/** The matrices, spanning tree and graph from pair results already computed. */
export function summarizePairs<T extends PairBarrier>(n: number, outcomes: PairOutcome<T>[], givenLosses?: readonly (number | null)[], labels?: readonly string[]): AllPairsResult<T> {
  const losses: (number | null)[] = Array.from({ length: n }, (_, i) => givenLosses?.[i] ?? null);
  for (const { i, j, result } of outcomes) {
    if (losses[i] === null && result.lossA !== undefined) losses[i] = result.lossA;
    if (losses[j] === null && result.lossB !== undefined) losses[j] = result.lossB;
  }
  const heights = pairMatrix(n, outcomes.map((o) => ({ i: o.i, j: o.j, value: o.result.height })), losses);
  const barriers: Matrix = heights.map((row, i) =>
    row.map((h, j) => {
      if (i === j) return 0;
      const li = losses[i];
      const lj = losses[j];
      return h === null || li === null || lj === null ? null : h - (li + lj) / 2;
    }),
  );
  return { n, pairs: outcomes, losses, heights, barriers, mst: minimumSpanningTree(heights), tree: disconnectivityGraph(heights, losses, labels) };
}

class UnionFind {
  private readonly parent: Int32Array;
  private readonly rank: Uint8Array;
  constructor(n: number) {
    this.parent = Int32Array.from({ length: n }, (_, i) => i);
    this.rank = new Uint8Array(n);
  }
  find(x: number): number {
    while (this.parent[x] !== x) {
      this.parent[x] = this.parent[this.parent[x]];
      x = this.parent[x];
    }
    return x;
  }
  /** False if already joined. */
  union(a: number, b: number): boolean {
    let ra = this.find(a);
    let rb = this.find(b);
    if (ra === rb) return false;
    if (this.rank[ra] < this.rank[rb]) [ra, rb] = [rb, ra];
    this.parent[rb] = ra;
    if (this.rank[ra] === this.rank[rb]) this.rank[ra]++;
    return true;
  }
  groups(): number[][] {
    const g = new Map<number, number[]>();
    for (let i = 0; i < this.parent.length; i++) {
      const r = this.find(i);
      if (!g.has(r)) g.set(r, []);
      g.get(r)!.push(i);
    }
    return [...g.values()];
  }
}
