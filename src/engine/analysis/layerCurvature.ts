/**
 * Curvature of each layer on its own: the top eigenvalue and the trace of
 * the Hessian's diagonal block H_BB of one layer's parameters (its weight and
 * bias together). Products with H_BB are full Hessian-vector products of a
 * vector that is zero outside the block, of which only the block's
 * components are kept. The top eigenvalue comes from Lanczos, the trace from
 * Hutchinson's estimator with seeded Rademacher probes, or both exactly from
 * the block's columns when the block has no more parameters than the
 * estimates would take products.
 */
import type { Objective } from '../objective';
import { paramLayout, type ModelSpec } from '../model/spec';
import { Rng } from '../rng';
import { inputError, throwIfAborted } from '../errors';
import { dot, randomNormal, symmetricEigen } from './linalg';
import { hessianVectorProduct, type HvpOperator, type HvpOptions, type HvpUsed } from './hvp';
import { lanczosRitz } from './lanczosRitz';
import { meanWithError } from './sampleMean';

/** A set of parameters whose diagonal Hessian block is examined: its coordinates in θ. */
export interface ParameterBlock {
  /** The layer's name in the checkpoint, e.g. "layers.0" (its tensors "layers.0.weight", "layers.0.bias"). */
  name: string;
  tensors: string[];
  indices: Int32Array;
}

/** One block per layer with parameters (weight and bias together), in the order of θ. */
export function layerBlocks(spec: ModelSpec): ParameterBlock[] {
  const byLayer = new Map<number, { tensors: string[]; ranges: [number, number][] }>();
  for (const e of paramLayout(spec)) {
    const g = byLayer.get(e.layer) ?? { tensors: [], ranges: [] };
    g.tensors.push(e.name);
    g.ranges.push([e.offset, e.size]);
    byLayer.set(e.layer, g);
  }
  return [...byLayer.values()].map((g) => {
    const owners = [...new Set(g.tensors.map((t) => t.slice(0, Math.max(0, t.lastIndexOf('.'))) || t))];
    const indices = new Int32Array(g.ranges.reduce((s, [, n]) => s + n, 0));
    let k = 0;
    for (const [offset, size] of g.ranges) for (let i = 0; i < size; i++) indices[k++] = offset + i;
    return { name: owners.join(', '), tensors: g.tensors, indices };
  });
}

export interface BlockCurvatureOptions {
  /** Most Lanczos steps for a block's top eigenvalue; default 30. */
  iterations?: number;
  /** Rademacher probes for a block's trace; default 64. */
  samples?: number;
  /** Blocks of at most this many parameters are computed exactly; default iterations + samples (never more products). */
  exactUpTo?: number;
  /** Block b draws from seed + b; default 0. */
  seed?: number;
  /** Lanczos stops once the top residual is at most tol × |top Ritz value|; default 1e-5. */
  tol?: number;
  signal?: AbortSignal;
}

export interface BlockCurvature {
  name: string;
  tensors: string[];
  size: number;
  method: 'exact' | 'estimated';
  topEigenvalue: number;
  /** min(residual, residual²/gap) of the Lanczos estimate; absent when exact. */
  topEigenvalueError?: number;
  converged: boolean;
  trace: number;
  /** Hutchinson's standard error; absent when exact. */
  traceStandardError?: number;
  lanczosSteps: number;
  traceSamples: number;
  /** Hessian-vector products this block took. */
  products: number;
}

type BlockProduct = (vs: Float64Array[]) => Float64Array[];

/** Products with the diagonal block of `indices`: embed, multiply, keep the block's rows. */
function restrictedProduct(op: HvpOperator, indices: Int32Array): BlockProduct {
  return (vs) => {
    const full = vs.map((v) => {
      const x = new Float64Array(op.dim);
      for (let k = 0; k < indices.length; k++) x[indices[k]] = v[k];
      return x;
    });
    return op.apply(full).map((hv) => Float64Array.from(indices, (c) => hv[c]));
  };
}

/** Probes (or unit columns) per batched pass. */
const BATCH = 8;

/** The whole block from its columns, symmetrised (float32 products are not exactly symmetric), then its eigenvalues. */
function exactBlock(product: BlockProduct, size: number, signal: AbortSignal | undefined): { top: number; trace: number } {
  const cols: Float64Array[] = [];
  for (let j0 = 0; j0 < size; j0 += BATCH) {
    throwIfAborted(signal);
    const units = Array.from({ length: Math.min(BATCH, size - j0) }, (_, r) => {
      const e = new Float64Array(size);
      e[j0 + r] = 1;
      return e;
    });
    cols.push(...product(units));
  }
  const m = new Float64Array(size * size);
  for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) m[i * size + j] = 0.5 * (cols[j][i] + cols[i][j]);
  let trace = 0;
  for (let i = 0; i < size; i++) trace += m[i * size + i];
  return { top: symmetricEigen(m, size).values[0], trace };
}

async function estimatedTop(product: BlockProduct, size: number, rng: Rng, opts: Required<Pick<BlockCurvatureOptions, 'iterations' | 'tol'>> & { signal?: AbortSignal }) {
  const r = await lanczosRitz((v) => product([v])[0], randomNormal(size, rng), { steps: opts.iterations, topTolerance: opts.tol, signal: opts.signal });
  const res = r.residuals[0];
  const gap = r.values.length > 1 ? r.values[0] - r.values[1] : Infinity;
  const error = gap > 0 && Number.isFinite(gap) ? Math.min(res, (res * res) / gap) : res;
  const size0 = Math.max(...r.values.map(Math.abs), Number.MIN_VALUE);
  return { top: r.values[0], error, steps: r.steps, converged: r.invariant || res <= Math.max(opts.tol, 1e-12) * size0 };
}

async function estimatedTrace(product: BlockProduct, size: number, samples: number, rng: Rng, signal: AbortSignal | undefined) {
  const values: number[] = [];
  while (values.length < samples) {
    throwIfAborted(signal);
    const zs = Array.from({ length: Math.min(BATCH, samples - values.length) }, () => Float64Array.from({ length: size }, () => (rng.uniform() < 0.5 ? -1 : 1)));
    product(zs).forEach((hz, r) => values.push(dot(zs[r], hz)));
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return meanWithError(values);
}

/** The curvature of one block (see the file comment); `rng` draws the Lanczos start, then the probes. */
export async function blockCurvature(product: BlockProduct, block: Pick<ParameterBlock, 'name' | 'tensors'> & { size: number }, rng: Rng, opts: BlockCurvatureOptions = {}): Promise<BlockCurvature> {
  const iterations = Math.min(opts.iterations ?? 30, block.size);
  const samples = opts.samples ?? 64;
  const exactUpTo = opts.exactUpTo ?? iterations + samples;
  const base = { name: block.name, tensors: block.tensors, size: block.size };
  if (block.size <= exactUpTo) {
    const { top, trace } = exactBlock(product, block.size, opts.signal);
    return { ...base, method: 'exact', topEigenvalue: top, converged: true, trace, lanczosSteps: 0, traceSamples: 0, products: block.size };
  }
  const top = await estimatedTop(product, block.size, rng, { iterations, tol: opts.tol ?? 1e-5, signal: opts.signal });
  const tr = await estimatedTrace(product, block.size, samples, rng, opts.signal);
  return {
    ...base,
    method: 'estimated',
    topEigenvalue: top.top,
    topEigenvalueError: top.error,
    converged: top.converged,
    trace: tr.mean,
    ...(Number.isFinite(tr.standardError) ? { traceStandardError: tr.standardError } : {}),
    lanczosSteps: top.steps,
    traceSamples: samples,
    products: top.steps + samples,
  };
}

export interface LayerCurvatureOptions extends HvpOptions, BlockCurvatureOptions {
  /** After each block. */
  onBlock?: (done: number, blocks: number, last: BlockCurvature) => void;
}

export interface LayerCurvatureResult {
  blocks: BlockCurvature[];
  hvp: HvpUsed;
  loss: number;
  dim: number;
  seed: number;
}

/** The curvature of every block of the Hessian of `fn` at θ. */
export async function layerCurvature(fn: Objective, theta: ArrayLike<number>, blocks: readonly ParameterBlock[], opts: LayerCurvatureOptions = {}): Promise<LayerCurvatureResult> {
  checkOptions(opts);
  for (const b of blocks) if (b.indices.length === 0 || b.indices.some((c) => c < 0 || c >= fn.dim)) throw inputError(`parameter block "${b.name}" is empty or reaches outside the ${fn.dim} parameters`);
  const seed = opts.seed ?? 0;
  const op = hessianVectorProduct(fn, theta, opts);
  try {
    const out: BlockCurvature[] = [];
    for (const [b, block] of blocks.entries()) {
      out.push(await blockCurvature(restrictedProduct(op, block.indices), { ...block, size: block.indices.length }, new Rng(seed + b), opts));
      opts.onBlock?.(b + 1, blocks.length, out[b]);
    }
    return { blocks: out, hvp: op.mode, loss: op.loss, dim: fn.dim, seed };
  } finally {
    op.dispose();
  }
}

function checkOptions(opts: BlockCurvatureOptions): void {
  const whole = (v: number | undefined, name: string, min: number) => {
    if (v !== undefined && !(Number.isInteger(v) && v >= min)) throw inputError(`${name} must be a whole number ≥ ${min}, got ${v}`);
  };
  whole(opts.iterations, 'iterations', 1);
  whole(opts.samples, 'samples', 2);
  whole(opts.exactUpTo, 'exactUpTo', 0);
  whole(opts.seed, 'seed', 0);
  if (opts.tol !== undefined && !(opts.tol >= 0)) throw inputError(`tol must be ≥ 0, got ${opts.tol}`);
}
