/**
 * One all-pairs problem as plain, cloneable data (the network, the data
 * recipe, the minima, the path options), and the solver that computes one
 * pair of it. The worker threads and the in-process runner both go through
 * PairSolver, so a pair gives the same numbers wherever it is computed.
 */
import type { BackendName } from '../backend';
import { tf } from '../backend';
import { LandscapeError, computeError } from '../errors';
import type { ErrorKind } from '../errors';
import type { ModelSpec } from '../model/spec';
import { modelSpecFromText } from '../model/archModel';
import { objectiveFromRecipe, CheckpointObjective, DataRecipe } from '../checkpointObjective';
import { findPath } from '../path/find';
import type { PathIteration, PathOptions, PathResult } from '../path/types';

/** Path options without the callbacks (they cannot cross a thread). */
export type PathTaskOptions = Omit<PathOptions, 'signal' | 'onIteration' | 'batches'>;

export interface PathProblem {
  /** The backend every thread computes on (the parent's, so results agree). */
  backend: BackendName;
  spec: ModelSpec;
  /**
   * A layer-grammar model's spec text, set when the problem crosses to a
   * worker thread: its parsed layers hold functions and cycles that
   * structured cloning refuses, so the worker parses the text again.
   */
  specText?: string;
  recipe: DataRecipe;
  /** The minima as flat parameter vectors. */
  thetas: Float32Array[];
  path: PathTaskOptions;
  /** Mini-batch size of the path optimisation (heights stay full-batch). */
  batch?: number;
  /** The folder the parent loaded tfjs-node from, so worker threads load the same one (tensorflow only). */
  tfjsNodePath?: string;
}

export interface PairError {
  kind: ErrorKind | 'internal';
  message: string;
}

export interface PairTaskOutcome {
  i: number;
  j: number;
  result?: PathResult;
  error?: PairError;
}

export interface PairProgress {
  i: number;
  j: number;
  iteration: number;
  height: number;
  bestHeight: number;
}

export function toPairError(e: unknown): PairError {
  if (e instanceof LandscapeError) return { kind: e.kind, message: e.message };
  return { kind: 'internal', message: e instanceof Error ? e.message : String(e) };
}

/** The problem as a worker thread receives it (see PathProblem.specText). */
export function portableProblem(problem: PathProblem): PathProblem {
  if (!problem.spec.arch) return problem;
  const { arch, ...plain } = problem.spec;
  return { ...problem, spec: plain, specText: arch.text };
}

/** Computes pairs of one problem on this thread; the objective is built once. */
export class PairSolver {
  private constructor(
    private readonly problem: PathProblem,
    readonly objective: CheckpointObjective,
  ) {}

  /** Builds the objective on the current backend, which must be `problem.backend`. */
  static async create(problem: PathProblem): Promise<PairSolver> {
    const active = tf.getBackend();
    if (active !== problem.backend) {
      throw computeError(`path pairs were set up for the ${problem.backend} backend but this thread computes on ${active}`);
    }
    const spec = problem.specText !== undefined ? modelSpecFromText(problem.specText, { loss: problem.spec.loss }) : problem.spec;
    const objective = await objectiveFromRecipe(spec, problem.recipe, { batch: problem.batch, seed: problem.path.seed });
    return new PairSolver(problem, objective);
  }

  get size(): number {
    return this.problem.thetas.length;
  }

  async solve(i: number, j: number, opts: { signal?: AbortSignal; onIteration?: (it: PathIteration) => void } = {}): Promise<PathResult> {
    const { thetas } = this.problem;
    if (!thetas[i] || !thetas[j]) throw computeError(`pair (${i}, ${j}) is out of range for ${thetas.length} minima`);
    return findPath(this.objective.objective, thetas[i], thetas[j], {
      ...this.problem.path,
      signal: opts.signal,
      onIteration: opts.onIteration,
      batches: this.objective.batches,
    });
  }

  dispose(): void {
    this.objective.dispose();
  }
}

/** Messages from the parent to a path worker. */
export type ToPathWorker = { type: 'pair'; k: number; i: number; j: number } | { type: 'cancel' };

/** Messages from a path worker to the parent. */
export type FromPathWorker =
  | { type: 'ready' }
  | { type: 'init-error'; error: PairError }
  | { type: 'progress'; k: number; iteration: number; height: number; bestHeight: number }
  | { type: 'done'; k: number; result: PathResult }
  | { type: 'failed'; k: number; error: PairError };
