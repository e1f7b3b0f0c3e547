/** Analysis of trained networks: kernel PCA, curvature, stability, gradient checks, slices. */
export { symmetricEigen, tridiagonalEigen, jacobiEigen } from './linalg';
export type { EigenResult } from './linalg';
export * from './kpca';
export * from './hessian';
export * from './stability';
export * from './gradcheck';
export * from './directions';
export * from './slices';
export * from './trajectoryPlane';
export * from './spectralDensity';
export * from './layerCurvature';
