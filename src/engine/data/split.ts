/**
 * Row subsets, the seeded train/test split and z-score standardisation.
 * Standardisation statistics come from the training part only, so nothing
 * about the test rows leaks into the inputs the model trains on.
 */
import { inputError } from '../errors';
import { Rng } from '../rng';
import type { Dataset, Split } from './types';

/** One-hot rows [n, k] from class indices. */
export function oneHot(labels: Int32Array, k: number): Float32Array {
  const y = new Float32Array(labels.length * k);
  for (let i = 0; i < labels.length; i++) y[i * k + labels[i]] = 1;
  return y;
}

/** A new dataset holding the given rows, in the given order (arrays are copied). */
export function subsetDataset(ds: Dataset, rows: ArrayLike<number>): Dataset {
  const m = rows.length;
  const d = ds.features;
  const o = ds.outputs;
  const x = new Float32Array(m * d);
  const y = new Float32Array(m * o);
  const labels = ds.labels ? new Int32Array(m) : undefined;
  for (let i = 0; i < m; i++) {
    const r = rows[i];
    x.set(ds.x.subarray(r * d, r * d + d), i * d);
    y.set(ds.y.subarray(r * o, r * o + o), i * o);
    if (labels) labels[i] = ds.labels![r];
  }
  const out: Dataset = { id: ds.id, task: ds.task, n: m, features: d, x, outputs: o, y };
  if (labels) out.labels = labels;
  if (ds.featureNames) out.featureNames = ds.featureNames.slice();
  if (ds.classNames) out.classNames = ds.classNames.slice();
  if (ds.image) out.image = { ...ds.image };
  return out;
}

export interface SplitOptions {
  /** Fraction of rows held out for testing, in (0, 1). Default 0.2. */
  testFraction?: number;
  /** Default 0. */
  seed?: number;
}

export interface SplitIndices {
  /** Row indices, ascending. */
  train: Int32Array;
  test: Int32Array;
}

// The split draws from its own stream so that it is not correlated with a
// generator that was seeded with the same number.
const SPLIT_SALT = 0x5b17_c0de;

/**
 * Seeded train/test row indices. Classification data is stratified: each
 * class contributes its share of test rows (largest-remainder rounding so
 * the total is exactly round(n * testFraction), clamped to 1..n-1).
 */
export function splitIndices(ds: Pick<Dataset, 'n' | 'labels' | 'id'>, opts: SplitOptions = {}): SplitIndices {
  const f = opts.testFraction ?? 0.2;
  const seed = opts.seed ?? 0;
  if (typeof f !== 'number' || !Number.isFinite(f) || f <= 0 || f >= 1) {
    throw inputError(`test fraction must be a number strictly between 0 and 1 (got ${String(f)})`);
  }
  checkSeed(seed);
  const n = ds.n;
  if (n < 2) throw inputError(`dataset "${ds.id}" has ${n} row(s); a train/test split needs at least 2`);
  const nTest = Math.min(n - 1, Math.max(1, Math.round(n * f)));
  const rng = new Rng((seed ^ SPLIT_SALT) >>> 0);
  const isTest = new Uint8Array(n);

  if (ds.labels) {
    const groups = new Map<number, number[]>();
    for (let i = 0; i < n; i++) {
      const c = ds.labels[i];
      let g = groups.get(c);
      if (!g) groups.set(c, (g = []));
      g.push(i);
    }
    const classes = [...groups.keys()].sort((a, b) => a - b);
    const quota = classes.map((c) => groups.get(c)!.length * (nTest / n));
    const alloc = quota.map((q) => Math.floor(q));
    let diff = nTest - alloc.reduce((s, a) => s + a, 0);
    const byFrac = classes.map((_, k) => k).sort((a, b) => quota[b] - alloc[b] - (quota[a] - alloc[a]) || a - b);
    for (let j = 0; diff > 0; j = (j + 1) % byFrac.length) {
      const k = byFrac[j];
      if (alloc[k] < groups.get(classes[k])!.length) {
        alloc[k]++;
        diff--;
      }
    }
    classes.forEach((c, k) => {
      const g = groups.get(c)!;
      const p = rng.permutation(g.length);
      for (let j = 0; j < alloc[k]; j++) isTest[g[p[j]]] = 1;
    });
  } else {
    const p = rng.permutation(n);
    for (let j = 0; j < nTest; j++) isTest[p[j]] = 1;
  }

  const train = new Int32Array(n - nTest);
  const test = new Int32Array(nTest);
  let a = 0;
  let b = 0;
  for (let i = 0; i < n; i++) {
    if (isTest[i]) test[b++] = i;
    else train[a++] = i;
  }
  return { train, test };
}

/** Seeded train/test split (default 80/20, stratified for classification). Deterministic for a seed. */
export function splitDataset(ds: Dataset, opts: SplitOptions = {}): Split {
  const { train, test } = splitIndices(ds, opts);
  return {
    train: subsetDataset(ds, train),
    test: subsetDataset(ds, test),
    seed: opts.seed ?? 0,
    testFraction: opts.testFraction ?? 0.2,
  };
}

/** Per-feature statistics of a standardisation: x' = (x - mean) / std. */
export interface Standardization {
  mean: Float64Array;
  /** The divisor used: the population standard deviation, or 1 for a constant feature. */
  std: Float64Array;
}

/** Means and standard deviations of a dataset's features, accumulated in float64. */
export function featureStats(ds: Pick<Dataset, 'n' | 'features' | 'x'>): Standardization {
  const { n, features: d, x } = ds;
  const mean = new Float64Array(d);
  const std = new Float64Array(d).fill(1);
  if (n === 0) return { mean, std };
  const min = new Float64Array(d).fill(Infinity);
  const max = new Float64Array(d).fill(-Infinity);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const v = x[i * d + j];
      mean[j] += v;
      if (v < min[j]) min[j] = v;
      if (v > max[j]) max[j] = v;
    }
  }
  for (let j = 0; j < d; j++) mean[j] /= n;
  const ss = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const t = x[i * d + j] - mean[j];
      ss[j] += t * t;
    }
  }
  for (let j = 0; j < d; j++) {
    if (min[j] === max[j]) {
      // Exactly constant: centre on the value itself so the column becomes exact zeros.
      mean[j] = min[j];
      continue;
    }
    const s = Math.sqrt(ss[j] / n);
    // Spread below float32 resolution is rounding noise, not signal; scaling it up would invent a feature.
    std[j] = s > 1e-7 * Math.abs(mean[j]) ? s : 1;
  }
  return { mean, std };
}

/** A copy of the dataset with its features standardised by the given statistics. */
export function applyStandardization(ds: Dataset, st: Standardization): Dataset {
  const d = ds.features;
  if (st.mean.length !== d || st.std.length !== d) {
    throw inputError(`standardisation has ${st.mean.length} features but dataset "${ds.id}" has ${d}`);
  }
  const x = new Float32Array(ds.x.length);
  for (let i = 0; i < ds.n; i++) {
    for (let j = 0; j < d; j++) x[i * d + j] = (ds.x[i * d + j] - st.mean[j]) / st.std[j];
  }
  const out: Dataset = { ...ds, x, y: ds.y.slice() };
  if (ds.labels) out.labels = ds.labels.slice();
  return out;
}

/**
 * Z-score every feature with the training part's mean and standard deviation,
 * applied to both parts. Constant features are centred and divided by 1.
 */
export function standardize(split: Split): { split: Split; mean: Float64Array; std: Float64Array } {
  const st = featureStats(split.train);
  return {
    split: {
      ...split,
      train: applyStandardization(split.train, st),
      test: applyStandardization(split.test, st),
    },
    mean: st.mean,
    std: st.std,
  };
}

export function checkSeed(seed: unknown): asserts seed is number {
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw inputError(`seed must be a whole number from 0 to 4294967295 (got ${String(seed)})`);
  }
}

/** The rows of `a` then those of `b` (same features and outputs), copied. */
export function concatRows(a: Dataset, b: Dataset): Dataset {
  if (a.features !== b.features || a.outputs !== b.outputs) {
    throw inputError(`cannot join parts of dataset "${a.id}": ${a.features}/${a.outputs} vs ${b.features}/${b.outputs} features/outputs`);
  }
  const x = new Float32Array(a.x.length + b.x.length);
  x.set(a.x);
  x.set(b.x, a.x.length);
  const y = new Float32Array(a.y.length + b.y.length);
  y.set(a.y);
  y.set(b.y, a.y.length);
  const out: Dataset = { ...a, n: a.n + b.n, x, y };
  if (a.labels && b.labels) {
    out.labels = new Int32Array(a.n + b.n);
    out.labels.set(a.labels);
    out.labels.set(b.labels, a.n);
  } else delete out.labels;
  return out;
}
