/** Barrier heights between minima: path finders, heights, all-pairs analysis and test landscapes. */
export * from './types';
export { findPath, resolvePathOptions, progressSteps, PATH_DEFAULTS } from './find';
export {
  fourierObjectiveAndGrad,
  fourierPath,
  sineRow,
  dataTerm,
  selectionScore,
  minimaxTau,
} from './fourier';
export { improvedTangentWeights } from './neb';
export { isCurveMethod, curveWeights, curvePath, curvePoint, bendLossAndGrad, curveLearningRate, runCurve } from './curves';
export { arcLengthTimes, climbFromPath, centralDifferenceHvp, saddleCertificate } from './refine';
export { lowestEigenvalues, type HessianProduct, type LowestEigenResult } from './lowestEigen';
export type { BasisPath } from './heights';
export {
  evenGrid,
  denseGridSize,
  pathPoints,
  evaluateAlong,
  summarize,
  denseHeights,
  straightPath,
  chainPath,
} from './heights';
export { TensorAdam } from './adam';
export * from './toy';
export * from './pairs';
export * from './landscapes';
