/**
 * Seeded synthetic datasets: small 2-D classification problems whose loss
 * landscapes are easy to reason about, and a teacher–student regression whose
 * global minimum (the teacher) is known. Classes are exactly balanced (sizes
 * differ by at most one) and rows come out in a seeded shuffled order.
 */
import { inputError } from '../errors';
import { Rng } from '../rng';
import { checkSeed, oneHot } from './split';
import type { Dataset } from './types';

export interface SyntheticOptions {
  /** Number of rows. Default 1000. */
  n?: number;
  /** Standard deviation of the Gaussian noise added to the inputs (targets for teacher). */
  noise?: number;
  /** Default 0. */
  seed?: number;
}

export interface SpiralsOptions extends SyntheticOptions {
  /** Turns of each arm. Default 1.5. */
  turns?: number;
}

export interface CirclesOptions extends SyntheticOptions {
  /** Inner radius relative to the outer (1). Default 0.5. */
  factor?: number;
}

export interface BlobsOptions extends SyntheticOptions {
  /** Number of centres (classes). Default 3. */
  centers?: number;
  /** Input dimension. Default 2. */
  dim?: number;
  /** Centres are uniform in [-spread, spread]^dim. Default 5. */
  spread?: number;
}

export interface TeacherOptions extends SyntheticOptions {
  /** Default 10. */
  inputs?: number;
  /** Width of the teacher's tanh hidden layer. Default 16. */
  hidden?: number;
  /** Default 1. */
  outputs?: number;
  /** Seed of the teacher's weights; defaults to a stream derived from `seed`. */
  teacherSeed?: number;
}

export const DEFAULT_N = 1000;
export const MAX_SYNTHETIC_ROWS = 10_000_000;

export const SYNTHETIC_DEFAULT_NOISE = {
  spirals: 0.05,
  moons: 0.1,
  circles: 0.05,
  blobs: 1.0,
  xor: 0.05,
  teacher: 0.1,
} as const;

export type SyntheticName = keyof typeof SYNTHETIC_DEFAULT_NOISE;
export const SYNTHETIC_NAMES = Object.keys(SYNTHETIC_DEFAULT_NOISE) as SyntheticName[];

interface Common {
  n: number;
  noise: number;
  rng: Rng;
}

function common(name: SyntheticName, o: SyntheticOptions, minRows: number): Common {
  const n = o.n ?? DEFAULT_N;
  const noise = o.noise ?? SYNTHETIC_DEFAULT_NOISE[name];
  const seed = o.seed ?? 0;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < minRows || n > MAX_SYNTHETIC_ROWS) {
    throw inputError(`${name}: n must be a whole number from ${minRows} to ${MAX_SYNTHETIC_ROWS} (got ${String(n)})`);
  }
  if (typeof noise !== 'number' || !Number.isFinite(noise) || noise < 0) {
    throw inputError(`${name}: noise must be a finite number >= 0 (got ${String(noise)})`);
  }
  checkSeed(seed);
  return { n, noise, rng: new Rng(seed) };
}

function positive(name: string, what: string, v: number, integer: boolean, max = Infinity): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > max || (integer && !Number.isInteger(v))) {
    const kind = integer ? 'a whole number' : 'a number';
    throw inputError(`${name}: ${what} must be ${kind} > 0${max < Infinity ? ` and <= ${max}` : ''} (got ${String(v)})`);
  }
  return v;
}

/** Class of row i for exactly balanced classes (before shuffling). */
function balancedLabels(n: number, k: number): Int32Array {
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = i % k;
  return labels;
}

/** Assemble a classification dataset from float64 rows, in a seeded shuffled row order. */
function classification(
  id: SyntheticName,
  x: Float64Array,
  d: number,
  labels: Int32Array,
  k: number,
  rng: Rng,
): Dataset {
  const n = labels.length;
  const perm = rng.permutation(n);
  const xs = new Float32Array(n * d);
  const ls = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const r = perm[i];
    for (let j = 0; j < d; j++) xs[i * d + j] = x[r * d + j];
    ls[i] = labels[r];
  }
  return {
    id,
    task: 'classification',
    n,
    features: d,
    x: xs,
    outputs: k,
    y: oneHot(ls, k),
    labels: ls,
    featureNames: Array.from({ length: d }, (_, j) => `x${j + 1}`),
    classNames: Array.from({ length: k }, (_, c) => String(c)),
  };
}

/** Two interleaved spiral arms of radius up to 1, one per class. */
export function spirals(opts: SpiralsOptions = {}): Dataset {
  const { n, noise, rng } = common('spirals', opts, 2);
  const turns = positive('spirals', 'turns', opts.turns ?? 1.5, false, 100);
  const labels = balancedLabels(n, 2);
  const x = new Float64Array(n * 2);
  for (let i = 0; i < n; i++) {
    // sqrt makes the points uniform along the arm's length rather than crowded at the centre.
    const t = Math.sqrt(rng.uniform());
    const a = t * turns * 2 * Math.PI + labels[i] * Math.PI;
    x[2 * i] = t * Math.cos(a) + noise * rng.normal();
    x[2 * i + 1] = t * Math.sin(a) + noise * rng.normal();
  }
  return classification('spirals', x, 2, labels, 2, rng);
}

/** Two interleaving half circles, centred on the origin. */
export function moons(opts: SyntheticOptions = {}): Dataset {
  const { n, noise, rng } = common('moons', opts, 2);
  const labels = balancedLabels(n, 2);
  const x = new Float64Array(n * 2);
  for (let i = 0; i < n; i++) {
    const t = rng.uniform() * Math.PI;
    const [u, v] = labels[i] === 0 ? [Math.cos(t), Math.sin(t)] : [1 - Math.cos(t), 0.5 - Math.sin(t)];
    x[2 * i] = u - 0.5 + noise * rng.normal();
    x[2 * i + 1] = v - 0.25 + noise * rng.normal();
  }
  return classification('moons', x, 2, labels, 2, rng);
}

/** Two concentric circles: class 0 the outer (radius 1), class 1 the inner (radius `factor`). */
export function circles(opts: CirclesOptions = {}): Dataset {
  const { n, noise, rng } = common('circles', opts, 2);
  const factor = opts.factor ?? 0.5;
  if (typeof factor !== 'number' || !(factor > 0 && factor < 1)) {
    throw inputError(`circles: factor must be a number strictly between 0 and 1 (got ${String(factor)})`);
  }
  const labels = balancedLabels(n, 2);
  const x = new Float64Array(n * 2);
  for (let i = 0; i < n; i++) {
    const a = rng.uniform() * 2 * Math.PI;
    const r = labels[i] === 0 ? 1 : factor;
    x[2 * i] = r * Math.cos(a) + noise * rng.normal();
    x[2 * i + 1] = r * Math.sin(a) + noise * rng.normal();
  }
  return classification('circles', x, 2, labels, 2, rng);
}

/** Isotropic Gaussian clusters (standard deviation `noise`) around seeded random centres. */
export function blobs(opts: BlobsOptions = {}): Dataset {
  const k = positive('blobs', 'centers', opts.centers ?? 3, true, 1000);
  const dim = positive('blobs', 'dim', opts.dim ?? 2, true, 10000);
  const spread = positive('blobs', 'spread', opts.spread ?? 5, false);
  const { n, noise, rng } = common('blobs', opts, Math.max(2, k));
  const centres = new Float64Array(k * dim);
  for (let i = 0; i < centres.length; i++) centres[i] = (2 * rng.uniform() - 1) * spread;
  const labels = balancedLabels(n, k);
  const x = new Float64Array(n * dim);
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    for (let j = 0; j < dim; j++) x[i * dim + j] = centres[c * dim + j] + noise * rng.normal();
  }
  return classification('blobs', x, dim, labels, k, rng);
}

/** XOR of the signs: class 0 where x1 and x2 share a sign, class 1 where they differ; inputs in [-1, 1]^2. */
export function xor(opts: SyntheticOptions = {}): Dataset {
  const { n, noise, rng } = common('xor', opts, 2);
  const labels = balancedLabels(n, 2);
  const x = new Float64Array(n * 2);
  for (let i = 0; i < n; i++) {
    const s = rng.uniform() < 0.5 ? -1 : 1;
    const s2 = labels[i] === 0 ? s : -s;
    x[2 * i] = s * rng.uniform() + noise * rng.normal();
    x[2 * i + 1] = s2 * rng.uniform() + noise * rng.normal();
  }
  return classification('xor', x, 2, labels, 2, rng);
}

/** The teacher network of `teacher()`: y = tanh(x W1 + b1) W2 + b2. */
export interface TeacherNet {
  inputs: number;
  hidden: number;
  outputs: number;
  /** [inputs, hidden] row-major. */
  w1: Float64Array;
  b1: Float64Array;
  /** [hidden, outputs] row-major. */
  w2: Float64Array;
  b2: Float64Array;
}

/** The teacher's weights for a seed: LeCun-normal weights keep pre-activations near unit scale. */
export function makeTeacher(inputs: number, hidden: number, outputs: number, rng: Rng): TeacherNet {
  const w1 = new Float64Array(inputs * hidden);
  const b1 = new Float64Array(hidden);
  const w2 = new Float64Array(hidden * outputs);
  const b2 = new Float64Array(outputs);
  for (let i = 0; i < w1.length; i++) w1[i] = rng.normal() / Math.sqrt(inputs);
  for (let i = 0; i < b1.length; i++) b1[i] = 0.1 * rng.normal();
  for (let i = 0; i < w2.length; i++) w2[i] = rng.normal() / Math.sqrt(hidden);
  for (let i = 0; i < b2.length; i++) b2[i] = 0.1 * rng.normal();
  return { inputs, hidden, outputs, w1, b1, w2, b2 };
}

/** The teacher's noiseless output for one input row. */
export function teacherForward(t: TeacherNet, xRow: ArrayLike<number>, out: Float64Array = new Float64Array(t.outputs)): Float64Array {
  const h = new Float64Array(t.hidden);
  for (let k = 0; k < t.hidden; k++) {
    let s = t.b1[k];
    for (let j = 0; j < t.inputs; j++) s += xRow[j] * t.w1[j * t.hidden + k];
    h[k] = Math.tanh(s);
  }
  for (let o = 0; o < t.outputs; o++) {
    let s = t.b2[o];
    for (let k = 0; k < t.hidden; k++) s += h[k] * t.w2[k * t.outputs + o];
    out[o] = s;
  }
  return out;
}

/**
 * Teacher–student regression: standard normal inputs, targets from a random
 * teacher network (one tanh hidden layer) plus Gaussian noise of std `noise`.
 */
export function teacher(opts: TeacherOptions = {}): Dataset {
  const { n, noise, rng } = common('teacher', opts, 2);
  const inputs = positive('teacher', 'inputs', opts.inputs ?? 10, true, 10000);
  const hidden = positive('teacher', 'hidden', opts.hidden ?? 16, true, 10000);
  const outputs = positive('teacher', 'outputs', opts.outputs ?? 1, true, 10000);
  let teacherRng = rng.fork();
  if (opts.teacherSeed !== undefined) {
    checkSeed(opts.teacherSeed);
    teacherRng = new Rng(opts.teacherSeed);
  }
  const net = makeTeacher(inputs, hidden, outputs, teacherRng);
  const x = new Float32Array(n * inputs);
  const y = new Float32Array(n * outputs);
  const row = new Float64Array(inputs);
  const out = new Float64Array(outputs);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < inputs; j++) {
      // The teacher sees the float32 value the student will see.
      x[i * inputs + j] = rng.normal();
      row[j] = x[i * inputs + j];
    }
    teacherForward(net, row, out);
    for (let o = 0; o < outputs; o++) y[i * outputs + o] = out[o] + noise * rng.normal();
  }
  return {
    id: 'teacher',
    task: 'regression',
    n,
    features: inputs,
    x,
    outputs,
    y,
    featureNames: Array.from({ length: inputs }, (_, j) => `x${j + 1}`),
  };
}

/** Generate a synthetic dataset by name. */
export function generateSynthetic(name: SyntheticName, opts: SyntheticOptions = {}): Dataset {
  switch (name) {
    case 'spirals':
      return spirals(opts);
    case 'moons':
      return moons(opts);
    case 'circles':
      return circles(opts);
    case 'blobs':
      return blobs(opts);
    case 'xor':
      return xor(opts);
    case 'teacher':
      return teacher(opts);
  }
}
