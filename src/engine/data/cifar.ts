/**
 * CIFAR-10's binary version (cifar-10-batches-bin): data_batch_1.bin ..
 * data_batch_5.bin (training, 10,000 images each) and test_batch.bin, each a
 * run of 3073-byte records: one label byte (0..9), then the 32×32 red, green
 * and blue planes, row-major. That is already C×H×W order, so a record's
 * pixels are copied as they are.
 */
import * as path from 'node:path';
import * as fs from 'node:fs';
import { inputError } from '../errors';
import { readDataFile, type ReadDataOptions } from './files';
import type { RawImages, RawImageSplit } from './rawImages';

export const CIFAR_IMAGE = { channels: 3, height: 32, width: 32 } as const;
const PIXELS = 3 * 32 * 32;
export const CIFAR_RECORD_BYTES = 1 + PIXELS;
export const CIFAR_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
export const CIFAR_TRAIN_FILES = [1, 2, 3, 4, 5].map((k) => `data_batch_${k}.bin`);
export const CIFAR_TEST_FILE = 'test_batch.bin';

/** Parse one batch file's records. */
export function parseCifarBatch(bytes: Uint8Array, file: string): RawImages {
  if (bytes.length === 0) throw inputError('is empty; a CIFAR-10 batch holds 3073-byte records', file);
  if (bytes.length % CIFAR_RECORD_BYTES !== 0) {
    const n = Math.floor(bytes.length / CIFAR_RECORD_BYTES);
    throw inputError(
      `has ${bytes.length} bytes, not a whole number of 3073-byte CIFAR-10 records (${n} records and ${bytes.length - n * CIFAR_RECORD_BYTES} bytes left over); is it truncated, or CIFAR-100 (3074-byte records)?`,
      file,
    );
  }
  const n = bytes.length / CIFAR_RECORD_BYTES;
  const pixels = new Uint8Array(n * PIXELS);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const at = i * CIFAR_RECORD_BYTES;
    const label = bytes[at];
    if (label >= CIFAR_CLASSES.length) throw inputError(`record ${i} has label ${label}; CIFAR-10 labels are 0..9`, file);
    labels[i] = label;
    pixels.set(bytes.subarray(at + 1, at + CIFAR_RECORD_BYTES), i * PIXELS);
  }
  return { n, image: { ...CIFAR_IMAGE }, pixels, labels };
}

function concatImages(parts: RawImages[]): RawImages {
  const n = parts.reduce((s, p) => s + p.n, 0);
  const pixels = new Uint8Array(n * PIXELS);
  const labels = new Int32Array(n);
  let at = 0;
  for (const p of parts) {
    pixels.set(p.pixels, at * PIXELS);
    labels.set(p.labels, at);
    at += p.n;
  }
  return { n, image: { ...CIFAR_IMAGE }, pixels, labels };
}

const exists = (f: string) => fs.existsSync(f) || fs.existsSync(`${f}.gz`);
const pick = (f: string) => (fs.existsSync(f) ? f : `${f}.gz`);

/** The folder holding the batches: `dir` itself or its cifar-10-batches-bin subfolder; undefined if neither has any. */
export function findCifarFolder(dir: string): string | undefined {
  for (const d of [dir, path.join(dir, 'cifar-10-batches-bin')]) {
    if ([...CIFAR_TRAIN_FILES, CIFAR_TEST_FILE].some((f) => exists(path.join(d, f)))) return d;
  }
  return undefined;
}

/** Read the five training batches and the test batch of a folder. */
export function loadCifarFolder(dir: string, id: string, opts: ReadDataOptions = {}): RawImageSplit {
  const names = [...CIFAR_TRAIN_FILES, CIFAR_TEST_FILE];
  const missing = names.filter((f) => !exists(path.join(dir, f)));
  if (missing.length) throw inputError(`is missing CIFAR-10 batch file(s) ${missing.join(', ')}; the binary version has ${names.join(', ')}`, dir);
  const read = (f: string) => {
    const file = pick(path.join(dir, f));
    return parseCifarBatch(readDataFile(file, 'CIFAR-10 batch file', opts), file);
  };
  const train = concatImages(CIFAR_TRAIN_FILES.map(read));
  const test = read(CIFAR_TEST_FILE);
  return { id, train, test, classes: CIFAR_CLASSES.length, classNames: CIFAR_CLASSES.slice() };
}
