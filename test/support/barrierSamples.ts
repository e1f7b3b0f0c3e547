/**
 * Small barrier results (format 2) for tests of the schema, the file round
 * trip and the panels. Numbers are made up but consistent: H is the
 * profile's maximum, barriers are H − the ends' losses.
 */
import type { ResultData } from '../../src/protocol';

export type PathSample = Extract<ResultData, { kind: 'barrierPath' }>;
export type MatrixSample = Extract<ResultData, { kind: 'barrierMatrix' }>;

export const hn = { height: 1.2, tAtMax: 0.5, barrierFromA: 1.1, barrierFromB: 1.0, barrierFromMean: 1.05 };

const options = {
  method: 'fourier' as const, objective: 'minimax' as const, modes: 2, points: 3, lambda: 1e-4, steps: 2, lr: 0.01, noise: 0, seed: 0,
  tauStart: 0.3, tauEnd: 0.01, denseSelect: false, climbFrom: 1, refine: 'none', refineSteps: 2, bandOptimizer: 'lbfgs', densePoints: 21,
};

export function samplePath(a: string, b: string): PathSample {
  return {
    kind: 'barrierPath',
    formatVersion: 2,
    command: 'path',
    a,
    b,
    labelA: 'r1/final',
    labelB: 'r2/final',
    model: '2-4-2',
    dataset: { name: 'digits', seed: 0, testFraction: 0.2, options: {}, split: 'train', trainSize: 100 },
    backend: 'wasm',
    seconds: 3.2,
    heights: { straight: 2, optimized: 1.2 },
    method: 'fourier',
    objective: 'minimax',
    ...hn,
    profile: { t: [0, 0.5, 1], loss: [0.1, 1.2, 0.2] },
    linear: { ...hn, height: 2, profile: { t: [0, 0.5, 1], loss: [0.1, 2, 0.2] } },
    iterations: 1,
    coefficients: [[0.5, -0.5], [0.1, 0.2]],
    lossA: 0.1,
    lossB: 0.2,
    bestIteration: 1,
    objectiveHistory: [2, 1.3],
    heightHistory: [2, 1.3],
    options,
    plane: { x: [0, 1, 2], y: [0, 0.4, 0], distanceAB: 2, maxDeviation: 0.4, tAtMaxDeviation: 0.5, maxResidual: 0.01, surface: { x: [0, 2], y: [-1, 1], z: [[0.1, null], [1, 2]] } },
    landscapeVersion: '0.2.0',
    settings: [['steps', '100']],
  };
}

/** Three minima, pairs 0–1 and 1–2 computed, 0–2 not. */
export function sampleMatrix(folder: string, labels = ['r1/final', 'r2/final', 'r3/final']): MatrixSample {
  const files = labels.map((_, i) => `${folder}/r${i + 1}/final.safetensors`);
  const pair = (i: number, j: number, height: number) => ({
    i, j, a: files[i], b: files[j], method: 'fourier' as const, objective: 'minimax' as const, ...hn, height, lossA: 0.1 * (i + 1), lossB: 0.1 * (j + 1), iterations: 5, bestIteration: 5,
    heights: { straight: height + 1, optimized: height },
    linear: { ...hn, height: height + 1, profile: { t: [0, 0.5, 1], loss: [0.1 * (i + 1), height + 1, 0.1 * (j + 1)] } },
    profile: { t: [0, 0.5, 1], loss: [0.1 * (i + 1), height, 0.1 * (j + 1)] },
    heightHistory: [height + 1, height],
  });
  const leaf = (index: number) => ({ kind: 'leaf' as const, index, label: files[index], loss: 0.1 * (index + 1) });
  return {
    kind: 'barrierMatrix',
    formatVersion: 2,
    command: 'barriers',
    files,
    labels,
    folder,
    model: '2-4-2',
    dataset: { name: 'digits', seed: 0, testFraction: 0.2, split: 'train', trainSize: 100 },
    backend: 'cpu',
    selection: 'random:2',
    options,
    seconds: 9,
    losses: [0.1, 0.2, 0.3],
    heights: [[0.1, 1, null], [1, 0.2, 2], [null, 2, 0.3]],
    barriers: [[0, 0.85, null], [0.85, 0, 1.75], [null, 1.75, 0]],
    straightHeights: [[0.1, 2, null], [2, 0.2, 3], [null, 3, 0.3]],
    mst: { edges: [{ i: 0, j: 1, height: 1 }, { i: 1, j: 2, height: 2 }], components: [[0, 1, 2]] },
    tree: { kind: 'merge', height: 2, minima: [0, 1, 2], children: [{ kind: 'merge', height: 1, minima: [0, 1], children: [leaf(0), leaf(1)] }, leaf(2)] },
    pairs: [pair(0, 1, 1), pair(1, 2, 2)],
    errors: [],
    landscapeVersion: '0.2.0',
    settings: [],
  };
}
