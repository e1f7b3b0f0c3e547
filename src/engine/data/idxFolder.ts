/**
 * A folder of MNIST-style IDX files: the four files of the original
 * distribution (train-images-idx3-ubyte, train-labels-idx1-ubyte,
 * t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte), each plain or .gz, either
 * in the folder itself, in its raw/ subfolder, or in torchvision's
 * <root>/MNIST/raw (FashionMNIST/raw, KMNIST/raw) layout.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { inputError } from '../errors';
import { readDataFile, type ReadDataOptions } from './files';
import { idxImages, parseIdx } from './idx';
import { describeShape, type RawImageSplit } from './rawImages';

export interface IdxFiles {
  trainImages: string;
  trainLabels: string;
  testImages: string;
  testLabels: string;
}

type Part = keyof IdxFiles;

/** Base names of each file; the dotted spelling is how some unpackers name them. */
const PART_NAMES: Record<Part, string[]> = {
  trainImages: ['train-images-idx3-ubyte', 'train-images.idx3-ubyte'],
  trainLabels: ['train-labels-idx1-ubyte', 'train-labels.idx1-ubyte'],
  testImages: ['t10k-images-idx3-ubyte', 't10k-images.idx3-ubyte'],
  testLabels: ['t10k-labels-idx1-ubyte', 't10k-labels.idx1-ubyte'],
};

export const IDX_FILE_NAMES = Object.values(PART_NAMES).map((n) => n[0]);

/** torchvision's subfolders of a dataset root. */
const TORCHVISION_FOLDERS = ['MNIST', 'FashionMNIST', 'KMNIST'];

export interface IdxSearch {
  files?: IdxFiles;
  /** Parts present in the best folder looked at (when some, but not all, are there). */
  partial?: { folder: string; missing: string[] };
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The four files in exactly this folder (plain preferred over .gz), or which are missing. */
function idxFilesIn(dir: string): { files?: IdxFiles; missing: string[] } {
  const found: Partial<IdxFiles> = {};
  const missing: string[] = [];
  for (const part of Object.keys(PART_NAMES) as Part[]) {
    const hit = PART_NAMES[part].flatMap((n) => [n, `${n}.gz`]).map((n) => path.join(dir, n)).find(isFile);
    if (hit) found[part] = hit;
    else missing.push(PART_NAMES[part][0]);
  }
  return missing.length ? { missing } : { files: found as IdxFiles, missing };
}

/** Look in the folder, its raw/ subfolder and torchvision's layouts. */
export function findIdxFiles(dir: string): IdxSearch {
  const candidates = [dir, path.join(dir, 'raw'), ...TORCHVISION_FOLDERS.map((t) => path.join(dir, t, 'raw'))];
  let partial: IdxSearch['partial'];
  for (const c of candidates) {
    const r = idxFilesIn(c);
    if (r.files) return { files: r.files };
    if (r.missing.length < 4 && !partial) partial = { folder: c, missing: r.missing };
  }
  return { partial };
}

/**
 * Read and check the four files. `classes` (10 for the MNIST family) bounds
 * the labels when known; otherwise the classes are 0..the largest label.
 */
export function loadIdxFiles(files: IdxFiles, id: string, opts: ReadDataOptions & { classes?: number; classNames?: string[] } = {}): RawImageSplit {
  const read = (f: string) => parseIdx(readDataFile(f, 'IDX file', opts), f);
  const train = idxImages(read(files.trainImages), files.trainImages, read(files.trainLabels), files.trainLabels, opts.classes);
  const test = idxImages(read(files.testImages), files.testImages, read(files.testLabels), files.testLabels, opts.classes);
  if (describeShape(train.image) !== describeShape(test.image)) {
    throw inputError(`holds ${describeShape(test.image)} images but ${files.trainImages} holds ${describeShape(train.image)}`, files.testImages);
  }
  let classes = opts.classes;
  if (classes === undefined) {
    classes = 1;
    for (const l of [train.labels, test.labels]) for (const v of l) classes = Math.max(classes, v + 1);
  }
  return { id, train, test, classes, classNames: opts.classNames };
}
