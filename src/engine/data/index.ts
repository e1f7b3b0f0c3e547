/**
 * One entry point for every dataset the engine trains on: a built-in name or
 * a CSV path in, a seeded train/test split with standardised features out.
 */
import * as fs from 'node:fs';
import { inputError } from '../errors';
import { loadCsv } from './csv';
import { loadDigits } from './digits';
import { checkSeed, splitDataset, splitIndices, standardize, subsetDataset } from './split';
import { generateSynthetic, type SyntheticName } from './synthetic';
import type { Dataset, Split } from './types';

export * from './types';
export * from './split';
export * from './synthetic';
export * from './digits';
export * from './csv';

export const DATASET_NAMES = ['digits', 'spirals', 'moons', 'circles', 'blobs', 'xor', 'teacher'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

export interface LoadDatasetOptions {
  /** Seeds the generator (synthetic data), the subsample (n on digits/CSV) and the split. Default 0. */
  seed?: number;
  /** Rows to generate (synthetic; default 1000), or a seeded stratified subsample size for digits/CSV. */
  n?: number;
  /** Noise of a synthetic generator (ignored for digits and CSV). */
  noise?: number;
  /** CSV only: label column by header name or index (negative from the end). Default: last. */
  labelColumn?: string | number;
  /** CSV only. Default 'auto'. */
  task?: 'classification' | 'regression' | 'auto';
  /** Z-score features with the training part's statistics. Default true; always on for digits. */
  standardize?: boolean;
  /** Default 0.2. */
  testFraction?: number;
}

export function isDatasetName(s: string): s is DatasetName {
  return (DATASET_NAMES as readonly string[]).includes(s);
}

function isCsvPath(s: string): boolean {
  if (/\.csv$/i.test(s)) return true;
  try {
    return fs.statSync(s).isFile();
  } catch {
    return false;
  }
}

/** The full dataset (before split and standardisation) for a name or CSV path. */
export function loadRawDataset(nameOrCsvPath: string, opts: LoadDatasetOptions = {}): Dataset {
  const seed = opts.seed ?? 0;
  checkSeed(seed);
  let ds: Dataset;
  let generated = false;
  if (nameOrCsvPath === 'digits') ds = loadDigits();
  else if (isDatasetName(nameOrCsvPath)) {
    ds = generateSynthetic(nameOrCsvPath as SyntheticName, { n: opts.n, noise: opts.noise, seed });
    generated = true;
  } else if (isCsvPath(nameOrCsvPath)) {
    ds = loadCsv(nameOrCsvPath, { labelColumn: opts.labelColumn, task: opts.task });
  } else {
    throw inputError(
      `unknown dataset "${nameOrCsvPath}": use one of ${DATASET_NAMES.join(', ')}, or the path of a .csv file`,
    );
  }
  if (!generated && opts.n !== undefined) {
    const n = opts.n;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 2) {
      throw inputError(`n must be a whole number >= 2 (got ${String(n)})`);
    }
    // A smaller, still stratified, sample: the rows a split with this fraction would hold out.
    if (n < ds.n) ds = subsetDataset(ds, splitIndices(ds, { testFraction: n / ds.n, seed: (seed + 0x9e37) >>> 0 }).test);
  }
  return ds;
}

/**
 * Load a built-in dataset by name or a CSV file by path, split it (seeded,
 * stratified for classification) and standardise the features with the
 * training part's statistics (unless standardize is false; digits always).
 */
export async function loadDataset(nameOrCsvPath: string, opts: LoadDatasetOptions = {}): Promise<Split> {
  const ds = loadRawDataset(nameOrCsvPath, opts);
  const split = splitDataset(ds, { seed: opts.seed ?? 0, testFraction: opts.testFraction ?? 0.2 });
  const doStandardize = nameOrCsvPath === 'digits' || opts.standardize !== false;
  return doStandardize ? standardize(split).split : split;
}

/** One line, e.g. "digits: classification, 1797 rows, 64 features, 10 classes". */
export function describeDataset(ds: Dataset): string {
  const plural = (k: number, one: string, many = `${one}s`) => `${k} ${k === 1 ? one : many}`;
  const out = ds.task === 'classification' ? plural(ds.outputs, 'class', 'classes') : plural(ds.outputs, 'output');
  return `${ds.id}: ${ds.task}, ${plural(ds.n, 'row')}, ${plural(ds.features, 'feature')}, ${out}`;
}

/** One line for a split, e.g. "digits: classification, 64 features, 10 classes; 1438 train / 359 test rows (seed 0)". */
export function describeSplit(s: Split): string {
  const head = describeDataset(s.train).replace(/, \d+ rows?,/, ',');
  return `${head}; ${s.train.n} train / ${s.test.n} test rows (seed ${s.seed})`;
}
