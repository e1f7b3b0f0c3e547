/**
 * Datasets from files other than CSV, by name or path: a named image dataset
 * (src/engine/data/named.ts), a folder of IDX files or CIFAR-10 batches, an
 * .npz, or a folder with x.npy and y.npy. What comes out is float32 rows,
 * scaled but not yet normalised, as one set to split or as the dataset's own
 * training and test parts; `subset` has already been taken (seeded,
 * stratified), before the images became floats.
 */
import * as path from 'node:path';
import { inputError } from '../errors';
import { loadNpz, loadNpyPair, npyPair, type ArrayData } from './arrays';
import { findCifarFolder, loadCifarFolder, CIFAR_TRAIN_FILES } from './cifar';
import { isExistingFile, isFolder, type ReadDataOptions } from './files';
import { findIdxFiles, IDX_FILE_NAMES, loadIdxFiles } from './idxFolder';
import { isImageDatasetName, locateNamedDataset, namedClassNames, type ImageDatasetName } from './named';
import { imagesToDataset, subsetImageSplit, type RawImageSplit } from './rawImages';
import { subsetDataset } from './split';
import { sampleRows, subsetSizes } from './subset';
import type { Dataset } from './types';

export type FileSource = ArrayData;

export interface FileSourceOptions extends ReadDataOptions {
  /** Keep this many rows in all (seeded, stratified). */
  subset?: number;
  /** Seed of the subset. */
  seed: number;
}

/** Does this name or path denote a dataset this module reads? (CSV and built-ins do not.) */
export function isFileDataset(nameOrPath: string): boolean {
  return isImageDatasetName(nameOrPath) || isFolder(nameOrPath) || (/\.(npz|npy)$/i.test(nameOrPath) && isExistingFile(nameOrPath));
}

export function loadFileSource(nameOrPath: string, opts: FileSourceOptions): FileSource {
  if (isImageDatasetName(nameOrPath)) return loadNamed(nameOrPath, opts);
  if (isFolder(nameOrPath)) return loadFolder(nameOrPath, opts);
  if (/\.npz$/i.test(nameOrPath)) return subsetArrays(loadNpz(nameOrPath, opts), opts);
  const pair = npyPair(nameOrPath);
  if (!pair) throw inputError('is not a dataset file Landscape reads (.csv, .npz, x.npy)', nameOrPath);
  return subsetArrays(loadNpyPair(pair, opts), opts);
}

function loadNamed(name: ImageDatasetName, opts: FileSourceOptions): FileSource {
  const found = locateNamedDataset(name);
  const classNames = namedClassNames(name);
  const raw = found.format === 'idx' ? loadIdxFiles(found.files, name, { ...opts, classes: 10, classNames }) : loadCifarFolder(found.folder, name, opts);
  return fromRawImages(raw, opts);
}

function loadFolder(dir: string, opts: FileSourceOptions): FileSource {
  const idx = findIdxFiles(dir);
  if (idx.files) return fromRawImages(loadIdxFiles(idx.files, `idx:${path.basename(path.resolve(dir))}`, opts), opts);
  const cifar = findCifarFolder(dir);
  if (cifar) return fromRawImages(loadCifarFolder(cifar, `cifar10:${path.basename(path.resolve(dir))}`, opts), opts);
  const pair = npyPair(dir);
  if (pair) return subsetArrays(loadNpyPair(pair, opts), opts);
  if (idx.partial) throw inputError(`is missing IDX file(s) ${idx.partial.missing.join(', ')} (plain or .gz)`, idx.partial.folder);
  throw inputError(
    `holds no dataset Landscape reads: expected the IDX files ${IDX_FILE_NAMES.join(', ')} (plain or .gz; also in raw/ or torchvision's MNIST/raw), ` +
      `CIFAR-10 batches (${CIFAR_TRAIN_FILES[0]} .. test_batch.bin), or x.npy and y.npy`,
    dir,
  );
}

function fromRawImages(raw: RawImageSplit, opts: FileSourceOptions): FileSource {
  const s = opts.subset !== undefined ? subsetImageSplit(raw, opts.subset, opts.seed) : raw;
  return {
    kind: 'split',
    train: imagesToDataset(s.train, s.id, s.classes, s.classNames),
    test: imagesToDataset(s.test, s.id, s.classes, s.classNames),
  };
}

function subsetArrays(src: ArrayData, opts: FileSourceOptions): FileSource {
  const k = opts.subset;
  if (k === undefined) return src;
  const pick = (ds: Dataset, m: number, seed: number) => {
    const rows = sampleRows(ds, m, seed);
    return rows ? subsetDataset(ds, rows) : ds;
  };
  if (src.kind === 'whole') return { kind: 'whole', data: pick(src.data, k, opts.seed) };
  const sizes = subsetSizes(src.train.n, src.test.n, k);
  if (!sizes) return src;
  return { kind: 'split', train: pick(src.train, sizes.train, opts.seed), test: pick(src.test, sizes.test, (opts.seed + 1) >>> 0) };
}
