/** Barriers between pairs of a set of minima, as the CLI, the worker and the study compute them. */
export { barrierMatrix } from './barrierMatrix';
export type { BarrierMatrix, BarrierMatrixOptions, BarrierSetup, PairFailure, PairHeights, PairRef } from './barrierMatrix';
export { openMinima, type OpenedMinima } from './minima';
export { barriersResult, barrierPair, type BarriersResultContext } from './result';
