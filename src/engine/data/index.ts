/**
 * One entry point for every dataset the engine trains on: a built-in name, a
 * named image dataset, or a CSV, .npz, .npy or image-folder path in; a
 * seeded train/test split with standardised features (images: normalised
 * per channel) out.
 */
import * as fs from 'node:fs';
import { inputError } from '../errors';
import { loadCsv } from './csv';
import { loadDigits } from './digits';
import { isFileDataset, loadFileSource, type FileSource } from './fileDatasets';
import { IMAGE_DATASET_NAMES, isImageDatasetName } from './named';
import { channelStats, checkNormalization, normalizeChannelsInPlace } from './normalize';
import { checkSeed, concatRows, splitDataset, standardize, subsetDataset } from './split';
import { checkSubsetSize, sampleRows } from './subset';
import { generateSynthetic, type SyntheticName } from './synthetic';
import type { ChannelNormalization, Dataset, Split } from './types';

export * from './types';
export * from './split';
export * from './synthetic';
export * from './digits';
export * from './csv';
export * from './subset';
export * from './normalize';
export { IMAGE_DATASET_NAMES, isImageDatasetName, locateNamedDataset, dataRoots, DATA_PATH_ENV } from './named';
export { isFileDataset, loadFileSource, type FileSource } from './fileDatasets';

export const DATASET_NAMES = ['digits', 'spirals', 'moons', 'circles', 'blobs', 'xor', 'teacher'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

export interface LoadDatasetOptions {
  /** Seeds the generator (synthetic data), the subsample (n, subset) and the split. Default 0. */
  seed?: number;
  /** Rows to generate (synthetic; default 1000), or a seeded stratified subsample size for digits/CSV. */
  n?: number;
  /** Noise of a synthetic generator (ignored for digits and CSV). */
  noise?: number;
  /** CSV only: label column by header name or index (negative from the end). Default: last. */
  labelColumn?: string | number;
  /** CSV only. Default 'auto'. */
  task?: 'classification' | 'regression' | 'auto';
  /** Z-score features with the training part's statistics (images: normalise per channel). Default true; always on for digits. */
  standardize?: boolean;
  /** Default 0.2. Data with its own test part (IDX, CIFAR-10, an .npz with x_test) keeps that part instead. */
  testFraction?: number;
  /**
   * Keep this many rows in all: a seeded sample stratified by class, taken
   * before the split (data with its own test part: divided between the parts
   * in their proportion).
   */
  subset?: number;
  /** Image data: normalise with these per-channel statistics (as recorded in a checkpoint) instead of the training part's. */
  normalization?: ChannelNormalization;
}

export function isDatasetName(s: string): s is DatasetName {
  return (DATASET_NAMES as readonly string[]).includes(s);
}

/**
 * Whether loadDataset reads `s` as a built-in or system dataset's name
 * (digits, moons, fashion-mnist, …) even when a file or folder of that name
 * lies in the current folder: the job queue sends these by name, so a
 * worker loads what a local run would.
 */
export function readsAsDatasetName(s: string): boolean {
  return isDatasetName(s) || isImageDatasetName(s);
}

function isCsvPath(s: string): boolean {
  if (/\.csv$/i.test(s)) return true;
  try {
    return fs.statSync(s).isFile();
  } catch {
    return false;
  }
}

/** Read by the file-dataset loaders (named image sets, folders, .npz, .npy) rather than as a built-in or CSV. */
function isFileSource(nameOrPath: string): boolean {
  return !isDatasetName(nameOrPath) && isFileDataset(nameOrPath);
}

/** The full dataset (before split and standardisation) for a name or path; data with its own test part comes back as its training rows, then its test rows. */
export function loadRawDataset(nameOrPath: string, opts: LoadDatasetOptions = {}): Dataset {
  const seed = opts.seed ?? 0;
  checkSeed(seed);
  if (opts.subset !== undefined) checkSubsetSize(opts.subset);
  if (isFileSource(nameOrPath)) {
    const src = loadFileSource(nameOrPath, { seed, subset: opts.subset });
    return src.kind === 'whole' ? src.data : concatRows(src.train, src.test);
  }
  let ds: Dataset;
  let generated = false;
  if (nameOrPath === 'digits') ds = loadDigits();
  else if (isDatasetName(nameOrPath)) {
    ds = generateSynthetic(nameOrPath as SyntheticName, { n: opts.n, noise: opts.noise, seed });
    generated = true;
  } else if (isCsvPath(nameOrPath)) {
    ds = loadCsv(nameOrPath, { labelColumn: opts.labelColumn, task: opts.task });
  } else {
    throw inputError(
      `unknown dataset "${nameOrPath}": use one of ${[...DATASET_NAMES, ...IMAGE_DATASET_NAMES].join(', ')}, ` +
        'or the path of a .csv or .npz file, or of a folder of IDX files, CIFAR-10 batches, or x.npy and y.npy',
    );
  }
  if (!generated && opts.n !== undefined) {
    checkSubsetSize(opts.n, 'n');
    ds = takeSample(ds, opts.n, seed);
  }
  return opts.subset !== undefined ? takeSample(ds, opts.subset, seed) : ds;
}

/** A smaller, still stratified, seeded sample (the whole set when n covers it). */
function takeSample(ds: Dataset, n: number, seed: number): Dataset {
  const rows = sampleRows(ds, n, seed);
  return rows ? subsetDataset(ds, rows) : ds;
}

/**
 * Load a dataset by name or path, split it (seeded, stratified for
 * classification; data with its own test part keeps it) and standardise the
 * features with the training part's statistics (unless standardize is
 * false; digits always). Images from files are instead scaled to [0, 1] and
 * normalised per channel, with opts.normalization when given; the split
 * records the statistics used.
 */
export async function loadDataset(nameOrPath: string, opts: LoadDatasetOptions = {}): Promise<Split> {
  if (isFileSource(nameOrPath)) {
    const seed = opts.seed ?? 0;
    checkSeed(seed);
    if (opts.subset !== undefined) checkSubsetSize(opts.subset);
    return prepareFileSplit(loadFileSource(nameOrPath, { seed, subset: opts.subset }), opts);
  }
  const ds = loadRawDataset(nameOrPath, opts);
  const split = splitDataset(ds, { seed: opts.seed ?? 0, testFraction: opts.testFraction ?? 0.2 });
  const doStandardize = nameOrPath === 'digits' || opts.standardize !== false;
  return doStandardize ? standardize(split).split : split;
}

/** Split (unless the data came split) and normalise file data: images per channel, other rows per feature. */
function prepareFileSplit(src: FileSource, opts: LoadDatasetOptions): Split {
  const seed = opts.seed ?? 0;
  const split: Split =
    src.kind === 'whole'
      ? splitDataset(src.data, { seed, testFraction: opts.testFraction ?? 0.2 })
      : { train: src.train, test: src.test, seed, testFraction: src.test.n / (src.train.n + src.test.n) };
  if (opts.standardize === false) return split;
  const image = split.train.image;
  if (!image) return standardize(split).split;
  const norm = opts.normalization !== undefined ? checkNormalization(opts.normalization) : channelStats(split.train, image);
  // The parts' arrays are fresh (converted or split copies), so normalising in place touches nothing shared.
  normalizeChannelsInPlace(split.train, norm);
  normalizeChannelsInPlace(split.test, norm);
  return { ...split, normalization: norm };
}

/** One line, e.g. "digits: classification, 1797 rows, 64 features (1×8×8 images), 10 classes". */
export function describeDataset(ds: Dataset): string {
  const plural = (k: number, one: string, many = `${one}s`) => `${k} ${k === 1 ? one : many}`;
  const out = ds.task === 'classification' ? plural(ds.outputs, 'class', 'classes') : plural(ds.outputs, 'output');
  const image = ds.image ? ` (${ds.image.channels}×${ds.image.height}×${ds.image.width} images)` : '';
  return `${ds.id}: ${ds.task}, ${plural(ds.n, 'row')}, ${plural(ds.features, 'feature')}${image}, ${out}`;
}

/** One line for a split, e.g. "digits: classification, 64 features (1×8×8 images), 10 classes; 1438 train / 359 test rows (seed 0)". */
export function describeSplit(s: Split): string {
  const head = describeDataset(s.train).replace(/, \d+ rows?,/, ',');
  return `${head}; ${s.train.n} train / ${s.test.n} test rows (seed ${s.seed})`;
}
