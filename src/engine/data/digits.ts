/**
 * The built-in real dataset: UCI optical digits (1,797 8x8 images, 10
 * classes; CC BY 4.0, see data/optdigits/README.md). The raw pixel counts are
 * returned here; loadDataset standardises them with the training part's
 * statistics after the split.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { computeError, inputError } from '../errors';
import { oneHot } from './split';
import type { Dataset } from './types';

export const DATA_DIR_ENV = 'LANDSCAPE_DATA_DIR';
export const DIGITS_FILE = path.join('optdigits', 'optdigits-1797.csv.gz');
export const DIGITS_ROWS = 1797;
export const DIGITS_FEATURES = 64;
export const DIGITS_CLASSES = 10;

/**
 * Data folders to try, in order: $LANDSCAPE_DATA_DIR, then next to the
 * running file (dist/data in a bundle), one level up, and the repository's
 * data/ as seen from src/engine/data when run from source.
 */
export function dataDirCandidates(): string[] {
  const out: string[] = [];
  const env = process.env[DATA_DIR_ENV];
  if (env !== undefined && env.trim() !== '') out.push(path.resolve(env));
  out.push(path.join(__dirname, 'data'), path.join(__dirname, '..', 'data'), path.join(__dirname, '..', '..', '..', 'data'));
  return out;
}

/** Absolute path of the digits file, or an error listing every place looked. */
export function findDigitsFile(): string {
  const tried: string[] = [];
  for (const dir of dataDirCandidates()) {
    const f = path.join(dir, DIGITS_FILE);
    tried.push(f);
    try {
      if (fs.statSync(f).isFile()) return f;
    } catch {
      // Not here; keep looking.
    }
  }
  throw inputError(
    `built-in dataset "digits" not found; looked for ${tried.join(', ')}. ` +
      `Set ${DATA_DIR_ENV} to the folder that contains optdigits/.`,
  );
}

let cache: { file: string; x: Float32Array; labels: Int32Array } | null = null;

/** Parse the gzipped digits CSV: 64 integers 0..16 then a label 0..9 per line, no header. */
export function parseDigits(gz: Buffer, file: string): { x: Float32Array; labels: Int32Array } {
  let text: string;
  try {
    text = zlib.gunzipSync(gz).toString('latin1');
  } catch (e) {
    throw computeError(`cannot decompress the digits data (${(e as Error).message}); the installation is damaged`, file);
  }
  const cols = DIGITS_FEATURES + 1;
  const xs: number[] = [];
  const ls: number[] = [];
  let line = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    line++;
    const s = text.slice(start, end).trim();
    start = end + 1;
    if (s === '') continue;
    const parts = s.split(',');
    if (parts.length !== cols) {
      throw computeError(`line ${line} has ${parts.length} values, expected ${cols}; the installation is damaged`, file);
    }
    for (let j = 0; j < cols; j++) {
      const v = Number(parts[j]);
      const max = j < DIGITS_FEATURES ? 16 : DIGITS_CLASSES - 1;
      if (!Number.isInteger(v) || v < 0 || v > max || parts[j].trim() === '') {
        throw computeError(`line ${line}, value ${j + 1} is "${parts[j]}", expected a whole number 0..${max}; the installation is damaged`, file);
      }
      if (j < DIGITS_FEATURES) xs.push(v);
      else ls.push(v);
    }
  }
  if (ls.length !== DIGITS_ROWS) {
    throw computeError(`found ${ls.length} rows, expected ${DIGITS_ROWS}; the installation is damaged`, file);
  }
  return { x: Float32Array.from(xs), labels: Int32Array.from(ls) };
}

/** The digits as a raw (unstandardised) dataset: pixel counts 0..16, id "digits". */
export function loadDigits(): Dataset {
  const file = findDigitsFile();
  if (!cache || cache.file !== file) {
    let gz: Buffer;
    try {
      gz = fs.readFileSync(file);
    } catch (e) {
      throw inputError(`cannot read the digits data: ${(e as Error).message}`, file);
    }
    cache = { file, ...parseDigits(gz, file) };
  }
  // Callers own their arrays; the cache must not be mutated through them.
  const labels = cache.labels.slice();
  return {
    id: 'digits',
    task: 'classification',
    n: DIGITS_ROWS,
    features: DIGITS_FEATURES,
    x: cache.x.slice(),
    outputs: DIGITS_CLASSES,
    y: oneHot(labels, DIGITS_CLASSES),
    labels,
    featureNames: Array.from({ length: DIGITS_FEATURES }, (_, j) => `pixel${Math.floor(j / 8)}_${j % 8}`),
    classNames: Array.from({ length: DIGITS_CLASSES }, (_, c) => String(c)),
    // Row-major 8×8 pixels, so a convolutional model can take them as 1×8×8 images.
    image: { channels: 1, height: 8, width: 8 },
  };
}
