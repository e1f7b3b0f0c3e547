/**
 * Kernel PCA of parameter vectors (checkpoints, trajectory points), after
 * scikit-learn's KernelPCA: build the kernel matrix, centre it explicitly in
 * feature space, take its symmetric eigendecomposition, and keep what is
 * needed to project new vectors with the *training* centring (fit/transform
 * split). All arithmetic is float64 on the host: N is at most a few hundred
 * and the kernel needs distances between nearby checkpoints, where float32's
 * ‖x‖² + ‖y‖² − 2x·y would cancel catastrophically.
 */
import { inputError, computeError, throwIfAborted } from '../errors';
import { symmetricEigen, fixSign, type EigenResult } from './linalg';

export const KERNELS = ['rbf', 'polynomial', 'sigmoid', 'cosine', 'linear'] as const;
export type KernelName = (typeof KERNELS)[number];

export interface KernelPCAOptions {
  /** Default 'rbf'. */
  kernel?: KernelName;
  /** rbf, polynomial, sigmoid: default 1/P (P = vector length), the paper's 2σ² = P for RBF. */
  gamma?: number;
  /** polynomial only; default 3. */
  degree?: number;
  /** polynomial and sigmoid; default 1. */
  coef0?: number;
  /** Number of components kept; default 2. */
  components?: number;
  /** One name per vector (e.g. checkpoint file names), used in error messages. */
  names?: string[];
  signal?: AbortSignal;
}

/** The kernel as actually used, with every default resolved, so a map can be reproduced. */
export interface ResolvedKernel {
  kernel: KernelName;
  gamma?: number;
  degree?: number;
  coef0?: number;
}

export interface KernelPCAResult {
  /** [N][components]: coordinates of the fitted vectors (eigenvector × √eigenvalue). */
  projections: number[][];
  /** Eigenvalues of the centred kernel matrix for the kept components, descending. */
  eigenvalues: number[];
  /** eigenvalue / (sum of all positive eigenvalues of the centred kernel matrix), per kept component. */
  explainedVariance: number[];
  /** Every eigenvalue of the centred kernel matrix (descending), for scree plots. */
  spectrum: number[];
  kernel: ResolvedKernel;
  /** Number of fitted vectors and their length. */
  n: number;
  dim: number;
  components: number;
  /** Non-fatal observations, e.g. components with zero variance. */
  warnings: string[];
  /**
   * Coordinates of new vectors (e.g. training trajectories, path points) in
   * the fitted map, using the training centring. Transforming the fitted
   * vectors themselves gives `projections` back.
   */
  transform(vectors: readonly ArrayLike<number>[], names?: string[]): number[][];
}

const DEFAULT_COMPONENTS = 2;

export async function kernelPCA(vectors: readonly ArrayLike<number>[], opts: KernelPCAOptions = {}): Promise<KernelPCAResult> {
  const kernelName = opts.kernel ?? 'rbf';
  if (!(KERNELS as readonly string[]).includes(kernelName)) {
    throw inputError(`unknown kernel "${String(kernelName)}"; choose one of ${KERNELS.join(', ')}`);
  }
  const components = opts.components ?? DEFAULT_COMPONENTS;
  if (!Number.isInteger(components) || components < 1) throw inputError(`components must be a whole number ≥ 1, got ${components}`);
  const names = opts.names;
  const train = checkedVectors(vectors, components, names);
  const n = train.length;
  const dim = train[0].length;
  const kernel = resolveKernel(kernelName, dim, opts);
  if (kernel.kernel === 'cosine') {
    train.forEach((v, i) => {
      if (sumSquares(v) === 0) throw inputError(`the cosine kernel is undefined for an all-zero vector`, names?.[i] ?? `vector ${i}`);
    });
  }
  const trainSq = train.map(sumSquares);
  const K = await pairwise(train, train, kernel.kernel === 'rbf' ? 'sqdist' : 'dot', true, opts.signal);
  applyKernel(K, kernel, trainSq, trainSq);
  checkFiniteKernel(K, n, names);
  const centring = kernelMeans(K, n);
  const Kc = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) Kc[i * n + j] = K[i * n + j] - centring.colMean[i] - centring.colMean[j] + centring.grandMean;

  throwIfAborted(opts.signal);
  const eig = symmetricEigen(Kc, n);
  const comps = keptComponents(eig, n, components, kernel);
  const fit: FittedMap = { train, trainSq, kernel, names, ...centring, alphas: comps.alphas };
  const { projections, eigenvalues, explainedVariance, spectrum, warnings } = comps;
  const transform = (more: readonly ArrayLike<number>[], moreNames?: string[]) => transformInto(fit, more, moreNames);
  return { projections, eigenvalues, explainedVariance, spectrum, kernel, n, dim, components, warnings, transform };
}

function vectorLabel(i: number, pool?: string[]): string {
  return pool ? `"${pool[i]}"` : `vector ${i}`;
}

/** The vectors as float64 copies, after checking there are enough of them, of one length, all finite. */
function checkedVectors(vectors: readonly ArrayLike<number>[], components: number, names: string[] | undefined): Float64Array[] {
  const n = vectors.length;
  if (names && names.length !== n) throw inputError(`${names.length} names given for ${n} vectors`);
  if (n < 2) throw inputError(`kernel PCA needs at least 2 vectors, got ${n}`);
  if (n < components) {
    throw inputError(`kernel PCA with ${components} components needs at least ${components} vectors, got ${n}; pass fewer components or more checkpoints`);
  }
  const dim = vectors[0].length;
  if (dim === 0) throw inputError(`${vectorLabel(0, names)} is empty`, names?.[0]);
  const train: Float64Array[] = [];
  for (let i = 0; i < n; i++) {
    const v = vectors[i];
    if (v.length !== dim) {
      throw inputError(`has ${v.length} values but ${vectorLabel(0, names)} has ${dim}; all vectors must come from the same model`, names?.[i] ?? `vector ${i}`);
    }
    train.push(finiteCopy(v, i, names));
  }
  return train;
}

function checkFiniteKernel(K: Float64Array, n: number, names: string[] | undefined): void {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const v = K[i * n + j];
      if (!Number.isFinite(v)) {
        throw computeError(`kernel value between ${vectorLabel(i, names)} and ${vectorLabel(j, names)} is not finite (${v}); check gamma/coef0 or the vectors`);
      }
    }
  }
}

/**
 * Centring in feature space: K̃ = K − 1K − K1 + 1K1 with 1 = (1/N)·ones, i.e.
 * subtract row and column means and add back the grand mean. The means are
 * kept: new vectors are centred with them (the training centring).
 */
function kernelMeans(K: Float64Array, n: number): { colMean: Float64Array; grandMean: number } {
  const colMean = new Float64Array(n);
  let grandMean = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += K[i * n + j];
    colMean[i] = s / n;
    grandMean += s;
  }
  grandMean /= n * n;
  return { colMean, grandMean };
}

interface KeptComponents {
  projections: number[][];
  eigenvalues: number[];
  explainedVariance: number[];
  spectrum: number[];
  warnings: string[];
  /** alphas[c] maps a centred kernel row to coordinate c: u_c / √λ_c (zero for a variance-free component). */
  alphas: Float64Array[];
}

/** The leading `components` eigenpairs of the centred kernel matrix as coordinates, variances and warnings. */
function keptComponents(eig: EigenResult, n: number, components: number, kernel: ResolvedKernel): KeptComponents {
  const spectrum = Array.from(eig.values);
  const maxAbs = spectrum.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  // Eigenvalues this small relative to the largest are rounding noise (the
  // centred matrix always has one exact zero); they carry no variance.
  const zeroTol = 1e-12 * Math.max(maxAbs, Number.MIN_VALUE) * n;
  let positiveSum = 0;
  for (const v of spectrum) if (v > zeroTol) positiveSum += v;

  const kept: KeptComponents = { projections: Array.from({ length: n }, () => new Array<number>(components).fill(0)), eigenvalues: [], explainedVariance: [], spectrum, warnings: [], alphas: [] };
  for (let c = 0; c < components; c++) {
    const lambda = eig.values[c];
    const u = fixSign(eig.vectors[c]);
    kept.eigenvalues.push(lambda);
    if (lambda > zeroTol) {
      kept.explainedVariance.push(lambda / positiveSum);
      const root = Math.sqrt(lambda);
      const alpha = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        alpha[i] = u[i] / root;
        kept.projections[i][c] = u[i] * root;
      }
      kept.alphas.push(alpha);
    } else {
      kept.explainedVariance.push(0);
      kept.alphas.push(new Float64Array(n));
      kept.warnings.push(`component ${c + 1} has no variance (eigenvalue ${lambda.toExponential(3)}): the ${n} vectors span fewer than ${components} directions in the kernel's feature space; its coordinates are 0`);
    }
  }
  if (spectrum.some((v) => v < -1e-8 * Math.max(maxAbs, Number.MIN_VALUE))) {
    kept.warnings.push(`the centred kernel matrix has negative eigenvalues (min ${Math.min(...spectrum).toExponential(3)}): the ${kernel.kernel} kernel is not positive semi-definite for these vectors; explained variance is relative to the positive part`);
  }
  return kept;
}

/** What projecting new vectors needs from the fit. */
interface FittedMap {
  train: Float64Array[];
  trainSq: number[];
  kernel: ResolvedKernel;
  names: string[] | undefined;
  colMean: Float64Array;
  grandMean: number;
  alphas: Float64Array[];
}

/** KernelPCAResult.transform: coordinates of new vectors in the fitted map. */
function transformInto(fit: FittedMap, more: readonly ArrayLike<number>[], moreNames?: string[]): number[][] {
  const { train, kernel, colMean, grandMean, alphas } = fit;
  const n = train.length;
  const dim = train[0].length;
  if (moreNames && moreNames.length !== more.length) throw inputError(`${moreNames.length} names given for ${more.length} vectors`);
  const xs = more.map((raw, r) => {
    if (raw.length !== dim) {
      throw inputError(`has ${raw.length} values but the fitted vectors have ${dim}; it must come from the same model`, moreNames?.[r] ?? `vector ${r}`);
    }
    const x = finiteCopy(raw, r, moreNames);
    if (kernel.kernel === 'cosine' && sumSquares(x) === 0) {
      throw inputError(`the cosine kernel is undefined for an all-zero vector`, moreNames?.[r] ?? `vector ${r}`);
    }
    return x;
  });
  const m = xs.length;
  const Kx = pairwiseSync(xs, train, kernel.kernel === 'rbf' ? 'sqdist' : 'dot');
  applyKernel(Kx, kernel, xs.map(sumSquares), fit.trainSq);
  const out: number[][] = [];
  for (let r = 0; r < m; r++) {
    const row = Kx.subarray(r * n, (r + 1) * n);
    let rowMean = 0;
    for (let j = 0; j < n; j++) {
      if (!Number.isFinite(row[j])) throw computeError(`kernel value between ${vectorLabel(r, moreNames)} and fitted ${vectorLabel(j, fit.names)} is not finite (${row[j]})`);
      rowMean += row[j];
    }
    rowMean /= n;
    // Training centring: the fitted column means and grand mean, the new row's own mean.
    for (let j = 0; j < n; j++) row[j] = row[j] - colMean[j] - rowMean + grandMean;
    out.push(
      alphas.map((a) => {
        let s = 0;
        for (let j = 0; j < n; j++) s += row[j] * a[j];
        return s;
      }),
    );
  }
  return out;
}

function finiteCopy(v: ArrayLike<number>, i: number, names?: string[]): Float64Array {
  const out = Float64Array.from(v);
  for (let j = 0; j < out.length; j++) {
    if (!Number.isFinite(out[j])) throw inputError(`value ${j} is not finite (${out[j]})`, names?.[i] ?? `vector ${i}`);
  }
  return out;
}

function resolveKernel(kernel: KernelName, dim: number, opts: KernelPCAOptions): ResolvedKernel {
  const positive = (name: string, v: number | undefined, dflt: number) => {
    const x = v ?? dflt;
    if (!Number.isFinite(x) || x <= 0) throw inputError(`${name} must be a positive number, got ${v}`);
    return x;
  };
  const finite = (name: string, v: number | undefined, dflt: number) => {
    const x = v ?? dflt;
    if (!Number.isFinite(x)) throw inputError(`${name} must be a finite number, got ${v}`);
    return x;
  };
  switch (kernel) {
    case 'rbf':
      return { kernel, gamma: positive('gamma', opts.gamma, 1 / dim) };
    case 'polynomial': {
      const degree = opts.degree ?? 3;
      if (!Number.isInteger(degree) || degree < 1) throw inputError(`degree must be a whole number ≥ 1, got ${opts.degree}`);
      return { kernel, gamma: positive('gamma', opts.gamma, 1 / dim), degree, coef0: finite('coef0', opts.coef0, 1) };
    }
    case 'sigmoid':
      return { kernel, gamma: positive('gamma', opts.gamma, 1 / dim), coef0: finite('coef0', opts.coef0, 1) };
    case 'cosine':
    case 'linear':
      return { kernel };
  }
}

function sumSquares(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return s;
}

/** Turn a matrix of dot products (or squared distances, for rbf) into kernel values, in place. */
function applyKernel(G: Float64Array, k: ResolvedKernel, rowSq: number[], colSq: number[]): void {
  const cols = colSq.length;
  for (let r = 0; r < rowSq.length; r++) {
    for (let c = 0; c < cols; c++) {
      const g = G[r * cols + c];
      let v: number;
      switch (k.kernel) {
        case 'linear':
          v = g;
          break;
        case 'polynomial':
          v = Math.pow(k.gamma! * g + k.coef0!, k.degree!);
          break;
        case 'sigmoid':
          v = Math.tanh(k.gamma! * g + k.coef0!);
          break;
        case 'cosine':
          v = g / Math.sqrt(rowSq[r] * colSq[c]);
          break;
        case 'rbf':
          v = Math.exp(-k.gamma! * g);
          break;
      }
      G[r * cols + c] = v;
    }
  }
}

// Coordinates are processed in blocks so the block of every vector stays in
// cache while all pairs use it: about 2× faster than whole-vector dot
// products once N·P·8 bytes exceeds the cache (N = 100, P = 50 000: 0.35 s).
const BLOCK = 2048;

/**
 * All dot products (or squared distances, summed directly so that nearby
 * vectors keep their precision) between rows of A and rows of B: [A.length × B.length].
 * With `symmetric` (A === B) only the lower triangle is computed and mirrored.
 */
async function pairwise(A: Float64Array[], B: Float64Array[], mode: 'dot' | 'sqdist', symmetric: boolean, signal?: AbortSignal): Promise<Float64Array> {
  const out = new Float64Array(A.length * B.length);
  const dim = A.length ? A[0].length : 0;
  for (let lo = 0; lo < dim; lo += BLOCK) {
    throwIfAborted(signal);
    accumulateBlock(out, A, B, mode, symmetric, lo, Math.min(dim, lo + BLOCK));
    if (dim > BLOCK) await yieldToLoop();
  }
  if (symmetric) mirrorLower(out, A.length);
  return out;
}

function pairwiseSync(A: Float64Array[], B: Float64Array[], mode: 'dot' | 'sqdist'): Float64Array {
  const out = new Float64Array(A.length * B.length);
  const dim = A.length ? A[0].length : 0;
  for (let lo = 0; lo < dim; lo += BLOCK) accumulateBlock(out, A, B, mode, false, lo, Math.min(dim, lo + BLOCK));
  return out;
}

function mirrorLower(out: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) out[j * n + i] = out[i * n + j];
}

function accumulateBlock(out: Float64Array, A: Float64Array[], B: Float64Array[], mode: 'dot' | 'sqdist', symmetric: boolean, lo: number, hi: number): void {
  const cols = B.length;
  const even = lo + ((hi - lo) & ~1);
  for (let i = 0; i < A.length; i++) {
    const a = A[i];
    const jEnd = symmetric ? i + 1 : cols;
    for (let j = 0; j < jEnd; j++) {
      const b = B[j];
      // Two accumulators: independent chains let V8 pipeline the loop.
      let s0 = 0;
      let s1 = 0;
      if (mode === 'dot') {
        for (let k = lo; k < even; k += 2) {
          s0 += a[k] * b[k];
          s1 += a[k + 1] * b[k + 1];
        }
        if (even < hi) s0 += a[even] * b[even];
      } else {
        for (let k = lo; k < even; k += 2) {
          const d0 = a[k] - b[k];
          const d1 = a[k + 1] - b[k + 1];
          s0 += d0 * d0;
          s1 += d1 * d1;
        }
        if (even < hi) {
          const d = a[even] - b[even];
          s0 += d * d;
        }
      }
      out[i * cols + j] += s0 + s1;
    }
  }
}

function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
