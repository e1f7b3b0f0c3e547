/**
 * `--subset n`: a seeded sample of n rows, stratified by class so every class
 * keeps its share. Full-batch methods on 60,000 images are heavy; a subset
 * keeps them interactive and is reproduced exactly from (n, seed) on reload.
 */
import { inputError } from '../errors';
import { splitIndices } from './split';
import type { Dataset } from './types';

// The sample draws from its own stream, not correlated with a split or a generator of the same seed.
const SUBSET_SALT = 0x9e37;

/** Throws unless n is a whole number ≥ 2 (a split needs two rows). */
export function checkSubsetSize(n: unknown, name = 'subset'): asserts n is number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 2) {
    throw inputError(`${name} must be a whole number >= 2 (got ${String(n)})`);
  }
}

/**
 * Ascending row indices of a stratified sample of k rows (regression data:
 * a plain random sample), or undefined when k covers every row.
 */
export function sampleRows(ds: Pick<Dataset, 'n' | 'labels' | 'id'>, k: number, seed: number): Int32Array | undefined {
  if (k >= ds.n) return undefined;
  // The rows a stratified split with this test fraction would hold out.
  return splitIndices(ds, { testFraction: k / ds.n, seed: (seed + SUBSET_SALT) >>> 0 }).test;
}

/**
 * How a subset of k rows divides between a dataset's own training and test
 * parts: in their proportion, at least one row each. Undefined when k covers both.
 */
export function subsetSizes(trainRows: number, testRows: number, k: number): { train: number; test: number } | undefined {
  const total = trainRows + testRows;
  if (k >= total) return undefined;
  const train = Math.min(trainRows, Math.max(1, Math.min(k - 1, Math.round((k * trainRows) / total))));
  return { train, test: Math.min(testRows, k - train) };
}
