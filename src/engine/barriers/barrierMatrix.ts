/**
 * Barrier heights between pairs of a set of minima: the one orchestration
 * that `landscape barriers`, the extension's barriers job and the optimizer
 * study share. It chooses the pairs (all, "random:N" drawn with a seed, or a
 * given list), skips pairs an earlier run already finished, computes the
 * rest on the worker-thread pool (or on this thread), measures the minima
 * no pair covered, and returns the matrices, the minimum spanning tree and
 * the disconnectivity graph. Path options pass through untouched, so every
 * caller gets the same numbers for the same options and seed.
 */
import { inputError } from '../errors';
import { evaluateValues } from '../objective';
import { objectiveFromRecipe } from '../checkpointObjective';
import { resolvePathOptions } from '../path/find';
import { pairMatrix, selectPairs, summarizePairs, type AllPairsResult, type Matrix, type Pair, type PairOutcome, type PairSelection } from '../path/pairs';
import type { PathResult } from '../path/types';
import { defaultJobs, runPathPairs, type RunPathPairsOptions } from '../pool/pathPool';
import type { PairError, PairProgress, PairTaskOutcome, PathProblem } from '../pool/pathTask';

/** What the matrices need of one pair: a PathResult has it, and so has a pair saved by an earlier run. */
export interface PairHeights {
  height: number;
  lossA: number;
  lossB: number;
  linear: { height: number };
}

export interface BarrierSetup {
  /** Number of minima. */
  n: number;
  /** The pairs chosen, in the order the results come back. */
  pairs: Pair[];
  /** How many of them are computed now (the rest were finished before). */
  pending: number;
  /** Threads computing them; `onThisThread` when no worker thread is started. */
  threads: number;
  onThisThread: boolean;
  dataset: string;
  trainSize: number;
}

/** Where a pair stands; `k` indexes the chosen pairs. */
export interface PairRef {
  i: number;
  j: number;
  k: number;
  total: number;
}

export interface BarrierMatrixOptions<R extends PairHeights> {
  /** "all" (default), "random:N" (drawn with `seed`), or the pairs themselves. */
  pairs?: PairSelection | string | readonly Pair[];
  /** Seed of a random selection. Default: the path seed. */
  seed?: number;
  /** Names of the minima in the disconnectivity graph. Default: their indices. */
  labels?: readonly string[];
  /** Threads for the pairs. Default one per core (at most one per pair). */
  jobs?: number;
  /** Compute on this thread even with several jobs. */
  inProcess?: boolean;
  /**
   * Who computes the pending pairs. Default: this machine's thread pool
   * (runPathPairs); the job queue passes its own (src/queue/pairRunner.ts).
   */
  runner?: (problem: PathProblem, pairs: readonly Pair[], opts: RunPathPairsOptions) => Promise<PairTaskOutcome[]>;
  signal?: AbortSignal;
  /** The results' path points are wanted (see RunPathPairsOptions.keepPoints). */
  keepPoints?: boolean;
  /** A pair an earlier, interrupted run finished: it is not computed again, but it is in the matrices. */
  finished?: (i: number, j: number) => R | undefined;
  /** Once the data is loaded, before the first pair starts. */
  onSetup?: (s: BarrierSetup) => void;
  onPairStart?: (p: PairRef) => void;
  /** Iterations of the pairs in flight (throttled on worker threads). */
  onProgress?: (p: PairProgress & PairRef) => void;
  /** Each pair computed now, with its result or its error; `done` counts the pairs computed now. */
  onPairDone?: (o: PairTaskOutcome & PairRef, done: number) => void;
}

export interface PairFailure extends PairError {
  i: number;
  j: number;
}

export interface BarrierMatrix<R extends PairHeights = never> extends AllPairsResult<PathResult | R> {
  /** Every pair chosen, computed or not. */
  selected: Pair[];
  /** Pairs whose search failed; they are null in the matrices. */
  errors: PairFailure[];
  /** Heights of the straight lines; the diagonal holds the minima's losses. */
  straightHeights: Matrix;
  dataset: string;
  trainSize: number;
}

function choosePairs(n: number, pairs: BarrierMatrixOptions<PairHeights>['pairs'], seed: number): Pair[] {
  if (pairs === undefined || typeof pairs === 'string' || !Array.isArray(pairs)) return selectPairs(n, (pairs as PairSelection | string | undefined) ?? 'all', seed);
  const seen = new Set<string>();
  for (const [i, j] of pairs as readonly Pair[]) {
    if (!Number.isInteger(i) || !Number.isInteger(j) || i < 0 || j < 0 || i >= n || j >= n || i === j) throw inputError(`pair (${i}, ${j}) is not a pair of two of the ${n} minima`);
    const key = i < j ? `${i},${j}` : `${j},${i}`;
    if (seen.has(key)) throw inputError(`pair (${i}, ${j}) is listed twice`);
    seen.add(key);
  }
  return pairs.map(([i, j]) => [i, j] as Pair);
}

/** The pairs chosen and, among them, which are already finished. */
function plan<R extends PairHeights>(problem: PathProblem, opts: BarrierMatrixOptions<R>) {
  const n = problem.thetas.length;
  // Bad option values fail here, once, not as one failed search per pair.
  const resolved = resolvePathOptions(problem.path);
  const selected = choosePairs(n, opts.pairs, opts.seed ?? resolved.seed);
  const jobs = opts.jobs ?? defaultJobs();
  if (!Number.isInteger(jobs) || jobs < 1) throw inputError(`--jobs must be a whole number ≥ 1, got ${jobs}`);
  const reused = new Map<number, PairOutcome<R>>();
  const pending: number[] = [];
  selected.forEach(([i, j], k) => {
    const r = opts.finished?.(i, j);
    if (r) reused.set(k, { i, j, result: r });
    else pending.push(k);
  });
  return { n, selected, jobs, reused, pending };
}

/** Computes `pending` (indices into `selected`) and reports each with its index among the chosen pairs. */
async function computePending<R extends PairHeights>(problem: PathProblem, selected: Pair[], pending: number[], jobs: number, opts: BarrierMatrixOptions<R>): Promise<PairTaskOutcome[]> {
  const total = selected.length;
  const indexOf = new Map(pending.map((k) => [`${selected[k][0]},${selected[k][1]}`, k]));
  const ref = (i: number, j: number): PairRef => ({ i, j, k: indexOf.get(`${i},${j}`)!, total });
  return (opts.runner ?? runPathPairs)(
    problem,
    pending.map((k) => selected[k]),
    {
      jobs,
      inProcess: opts.inProcess,
      signal: opts.signal,
      keepPoints: opts.keepPoints,
      onStart: opts.onPairStart && (([i, j]) => opts.onPairStart!(ref(i, j))),
      onProgress: opts.onProgress && ((p) => opts.onProgress!({ ...p, ...ref(p.i, p.j) })),
      onResult: opts.onPairDone && ((o, done) => opts.onPairDone!({ ...o, ...ref(o.i, o.j) }, done)),
    },
  );
}

/** Losses of the minima no successful pair measured (random selections, failed pairs); null elsewhere. */
function uncoveredLosses(n: number, ok: readonly PairOutcome<PairHeights>[], measure: (thetas: Float32Array[]) => ArrayLike<number>, thetas: readonly Float32Array[]): (number | null)[] {
  const covered = new Set(ok.flatMap((o) => [o.i, o.j]));
  const missing = Array.from({ length: n }, (_, k) => k).filter((k) => !covered.has(k));
  const given: (number | null)[] = new Array(n).fill(null);
  if (missing.length) {
    const v = measure(missing.map((k) => thetas[k]));
    missing.forEach((k, m) => (given[k] = Number.isFinite(v[m]) ? v[m] : null));
  }
  return given;
}

/**
 * Barrier heights between the chosen pairs of `problem.thetas`: the matrices
 * (heights, barriers, straight lines), spanning tree and disconnectivity
 * graph. A pair that fails is listed in `errors` and the others go on;
 * cancelling, or a worker thread that cannot start, throws.
 */
export async function barrierMatrix<R extends PairHeights = never>(problem: PathProblem, opts: BarrierMatrixOptions<R> = {}): Promise<BarrierMatrix<R>> {
  const { n, selected, jobs, reused, pending } = plan(problem, opts);
  // This thread's own copy of the objective: it checks the data fits before any thread
  // starts, and measures the minima no computed pair covers.
  const surface = await objectiveFromRecipe(problem.spec, problem.recipe);
  try {
    const threads = Math.max(1, Math.min(jobs, pending.length));
    const onThisThread = opts.inProcess ?? threads === 1;
    opts.onSetup?.({ n, pairs: selected, pending: pending.length, threads: onThisThread ? 1 : threads, onThisThread, dataset: surface.dataset, trainSize: surface.trainSize });
    const computed = await computePending(problem, selected, pending, jobs, opts);
    const outcomes = new Map<number, PairTaskOutcome | PairOutcome<R>>(reused);
    pending.forEach((k, m) => outcomes.set(k, computed[m]));
    const ok: PairOutcome<PathResult | R>[] = [];
    const errors: PairFailure[] = [];
    for (let k = 0; k < selected.length; k++) {
      const o = outcomes.get(k)! as PairTaskOutcome;
      if (o.result) ok.push({ i: o.i, j: o.j, result: o.result });
      else errors.push({ i: o.i, j: o.j, kind: o.error!.kind, message: o.error!.message });
    }
    const given = uncoveredLosses(n, ok, (thetas) => evaluateValues(surface.objective, thetas), problem.thetas);
    const summary = summarizePairs(n, ok, given, opts.labels);
    const straightHeights = pairMatrix(n, ok.map((o) => ({ i: o.i, j: o.j, value: o.result.linear.height })), summary.losses);
    return { ...summary, selected, errors, straightHeights, dataset: surface.dataset, trainSize: surface.trainSize };
  } finally {
    surface.dispose();
  }
}
