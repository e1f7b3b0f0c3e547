/** Worker-thread pool for all-pairs path finding (pure Node worker_threads; no VS Code). */
export { runPathPairs, defaultJobs, pathWorkerEntry, pairErrorToThrow } from './pathPool';
export type { RunPathPairsOptions } from './pathPool';
export { PairSolver, toPairError } from './pathTask';
export type { PathProblem, PathTaskOptions, PairTaskOutcome, PairError, PairProgress } from './pathTask';
