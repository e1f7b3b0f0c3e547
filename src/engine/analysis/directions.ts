/**
 * Directions in parameter space for slices: seeded random directions with
 * the normalisations of Li et al. 2018 ("Visualizing the Loss Landscape of
 * Neural Nets"), and the line and plane through checkpoints.
 *
 * Filter normalisation: a dense layer's weight W is [in, out] (row-major, see
 * model/spec.ts); its filters are the output neurons, i.e. the columns
 * W[:, j]. Each column of the random direction is rescaled to the norm of the
 * same column of θ, so a step of α moves every neuron by α times its own
 * size, and plots of networks with different weight scales compare. Biases
 * have no filter structure: by default their direction is zero (Li et al.'s
 * "ignore biasbn"), or with bias: 'filter' each bias entry is its own filter
 * (direction entry ±|b_j|).
 *
 * Reproduction: the direction is drawn as one standard normal per parameter,
 * in the flat layout's order, from Rng(seed) — bias entries included, so the
 * weights' draws do not depend on the bias mode — then normalised.
 */
import { createHash } from 'crypto';
import { inputError, computeError } from '../errors';
import { Rng } from '../rng';
import type { ModelSpec } from '../model/spec';
import { paramCount, paramLayout, specToString } from '../model/spec';
import { dot, norm, scale, toFloat64 } from './linalg';

export const NORMALIZATIONS = ['filter', 'layer', 'model', 'unit', 'none'] as const;
/**
 * filter: per output neuron (needs a model spec). layer: per parameter tensor
 * (needs a model spec). model: the whole vector scaled to ‖θ‖. unit: ‖d‖ = 1.
 * none: the raw standard-normal draw.
 */
export type Normalization = (typeof NORMALIZATIONS)[number];
export type BiasMode = 'zero' | 'filter';

export interface RandomDirectionOptions {
  seed: number;
  /** Default 'filter' when a spec is given, else 'unit'. */
  normalization?: Normalization;
  /** Bias entries under filter/layer normalisation; default 'zero'. */
  bias?: BiasMode;
  spec?: ModelSpec;
}

/** Everything needed to draw the same direction again, plus its size. JSON-able. */
export interface DirectionInfo {
  kind: 'random' | 'checkpoints' | 'hessian' | 'plane' | 'trajectory-pca' | 'custom';
  seed?: number;
  normalization?: Normalization;
  bias?: BiasMode;
  /** The model spec the filter/layer normalisation used, as "64-32-10 relu cross-entropy". */
  model?: string;
  /** ‖d‖ of the direction as used. */
  norm: number;
  /** Free-form description of where a custom/checkpoint direction came from. */
  description?: string;
  /** Top-eigenvector directions: the eigenvalue and how it was computed. */
  eigenvalue?: number;
  residual?: number;
  /** Top-eigenvector directions: rerunning Lanczos with this seed, `iterations` steps and tol 0 gives the same vector. */
  lanczos?: { seed: number; iterations: number; which: string; tol: number; hvp: string; converged: boolean };
}

export function randomDirection(theta: ArrayLike<number>, opts: RandomDirectionOptions): { vector: Float64Array; info: DirectionInfo } {
  const dim = theta.length;
  if (!Number.isInteger(opts.seed)) throw inputError(`direction seed must be a whole number, got ${opts.seed}`);
  const normalization = opts.normalization ?? (opts.spec ? 'filter' : 'unit');
  if (!(NORMALIZATIONS as readonly string[]).includes(normalization)) {
    throw inputError(`unknown normalization "${String(normalization)}"; choose one of ${NORMALIZATIONS.join(', ')}`);
  }
  const bias = opts.bias ?? 'zero';
  if (bias !== 'zero' && bias !== 'filter') throw inputError(`bias must be "zero" or "filter", got "${String(bias)}"`);
  if ((normalization === 'filter' || normalization === 'layer') && !opts.spec) {
    throw inputError(`${normalization} normalisation needs the model spec (layer layout); use "model" or "unit" for other objectives`);
  }
  if (opts.spec && paramCount(opts.spec) !== dim) {
    throw inputError(`model ${specToString(opts.spec)} has ${paramCount(opts.spec)} parameters but the vector has ${dim}`);
  }
  const rng = new Rng(opts.seed);
  const d = new Float64Array(dim);
  for (let i = 0; i < dim; i++) d[i] = rng.normal();
  const t = toFloat64(theta);

  switch (normalization) {
    case 'none':
      break;
    case 'unit':
      scale(d, 1 / norm(d));
      break;
    case 'model': {
      const nt = norm(t);
      if (nt === 0) throw inputError('"model" normalisation scales to ‖θ‖, but θ is all zeros; use "unit"');
      scale(d, nt / norm(d));
      break;
    }
    case 'filter':
    case 'layer':
      for (const e of paramLayout(opts.spec!)) {
        if (e.kind === 'bias') {
          if (bias === 'zero') d.fill(0, e.offset, e.offset + e.size);
          else if (normalization === 'filter') {
            for (let j = e.offset; j < e.offset + e.size; j++) d[j] = d[j] === 0 ? 0 : Math.sign(d[j]) * Math.abs(t[j]);
          } else rescale(d, t, rangeIndices(e.offset, e.size));
          continue;
        }
        if (normalization === 'layer') {
          rescale(d, t, rangeIndices(e.offset, e.size));
          continue;
        }
        const [rows, cols] = e.shape;
        for (let j = 0; j < cols; j++) {
          const idx = new Int32Array(rows);
          for (let r = 0; r < rows; r++) idx[r] = e.offset + r * cols + j;
          rescale(d, t, idx);
        }
      }
      break;
  }
  const n = norm(d);
  if (n === 0) throw computeError(`the ${normalization}-normalised direction is zero: θ is zero on every normalised group (e.g. untrained all-zero weights)`);
  return {
    vector: d,
    info: {
      kind: 'random',
      seed: opts.seed,
      normalization,
      ...(normalization === 'filter' || normalization === 'layer' ? { bias, model: specToString(opts.spec!) } : {}),
      norm: n,
    },
  };
}

function rangeIndices(offset: number, size: number): Int32Array {
  const idx = new Int32Array(size);
  for (let k = 0; k < size; k++) idx[k] = offset + k;
  return idx;
}

/** Scale d on the given entries so their norm equals θ's norm there (zero where θ is zero). */
function rescale(d: Float64Array, t: Float64Array, idx: Int32Array): void {
  let nd = 0;
  let nt = 0;
  for (const i of idx) {
    nd += d[i] * d[i];
    nt += t[i] * t[i];
  }
  const f = nd === 0 ? 0 : Math.sqrt(nt / nd);
  for (const i of idx) d[i] *= f;
}

/** d = b − a; with `a` and `b` named in errors. */
export function difference(a: ArrayLike<number>, b: ArrayLike<number>, names: [string, string] = ['A', 'B']): Float64Array {
  if (a.length !== b.length) throw inputError(`${names[1]} has ${b.length} parameters but ${names[0]} has ${a.length}; they must come from the same model`);
  const d = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) d[i] = b[i] - a[i];
  return d;
}

/** The plane through three points: origin A, orthonormal e1 ∥ B − A and e2 ⊥ e1 in span(B − A, C − A). */
export interface CheckpointPlane {
  e1: Float64Array;
  e2: Float64Array;
  /** Coordinates of A, B and C in (e1, e2), in parameter-space distance units. */
  coords: { a: [number, number]; b: [number, number]; c: [number, number] };
}

export function checkpointPlane(a: ArrayLike<number>, b: ArrayLike<number>, c: ArrayLike<number>, names: [string, string, string] = ['A', 'B', 'C']): CheckpointPlane {
  const u = difference(a, b, [names[0], names[1]]);
  const v = difference(a, c, [names[0], names[2]]);
  const nu = norm(u);
  if (nu === 0) throw inputError(`${names[0]} and ${names[1]} are the same point; a plane needs three distinct, non-collinear points`);
  const e1 = scale(Float64Array.from(u), 1 / nu);
  const c1 = dot(v, e1);
  const w = Float64Array.from(v);
  for (let i = 0; i < w.length; i++) w[i] -= c1 * e1[i];
  // Re-orthogonalise once: one Gram–Schmidt step loses orthogonality when C − A is nearly parallel to B − A.
  const again = dot(w, e1);
  for (let i = 0; i < w.length; i++) w[i] -= again * e1[i];
  const c2 = norm(w);
  if (c2 <= 1e-6 * Math.max(nu, norm(v))) {
    throw inputError(`${names[0]}, ${names[1]} and ${names[2]} are (nearly) on one line; a plane needs three non-collinear points`);
  }
  const e2 = scale(w, 1 / c2);
  return { e1, e2, coords: { a: [0, 0], b: [nu, 0], c: [c1 + again, c2] } };
}

/** SHA-256 of a parameter vector's float32 bytes: identifies the centre of a slice without storing it. */
export function vectorHash(v: ArrayLike<number>): string {
  const f = v instanceof Float32Array ? v : Float32Array.from(v);
  const bytes = new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
  // Typed arrays use the platform's byte order; make the hash little-endian everywhere.
  const le = isLittleEndian() ? bytes : swap32(bytes);
  return 'sha256:' + createHash('sha256').update(le).digest('hex');
}

function isLittleEndian(): boolean {
  return new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
}

function swap32(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += 4) {
    out[i] = bytes[i + 3];
    out[i + 1] = bytes[i + 2];
    out[i + 2] = bytes[i + 1];
    out[i + 3] = bytes[i];
  }
  return out;
}
