/**
 * Images as the files hold them: 8-bit pixels and a class per image. A
 * subset is taken here, before the pixels become float32 rows, so
 * `--subset 2000` of Fashion-MNIST never allocates the 220 MB of all 70,000
 * images as floats.
 */
import { checkMemory } from '../limits';
import { oneHot } from './split';
import { sampleRows, subsetSizes } from './subset';
import type { Dataset, ImageShape } from './types';

export interface RawImages {
  n: number;
  image: ImageShape;
  /** [n, C·H·W] row-major, each image in C×H×W order, 0..255. */
  pixels: Uint8Array;
  /** Class per image. */
  labels: Int32Array;
}

/** A dataset that comes with its own training and test parts (IDX, CIFAR-10). */
export interface RawImageSplit {
  /** Dataset id, e.g. "fashion-mnist" or "idx:/data/mnist". */
  id: string;
  train: RawImages;
  test: RawImages;
  classes: number;
  classNames?: string[];
}

export function imageSize(s: ImageShape): number {
  return s.channels * s.height * s.width;
}

export function describeShape(s: ImageShape): string {
  return `${s.channels}×${s.height}×${s.width}`;
}

/** The given rows (ascending indices), copied. */
export function selectImages(raw: RawImages, rows: Int32Array): RawImages {
  const d = imageSize(raw.image);
  const pixels = new Uint8Array(rows.length * d);
  const labels = new Int32Array(rows.length);
  rows.forEach((r, i) => {
    pixels.set(raw.pixels.subarray(r * d, (r + 1) * d), i * d);
    labels[i] = raw.labels[r];
  });
  return { n: rows.length, image: raw.image, pixels, labels };
}

/** A seeded stratified subset of k images in all, divided between the parts in their proportion. */
export function subsetImageSplit(s: RawImageSplit, k: number, seed: number): RawImageSplit {
  const sizes = subsetSizes(s.train.n, s.test.n, k);
  if (!sizes) return s;
  const pick = (raw: RawImages, m: number, sd: number) => {
    const rows = sampleRows({ n: raw.n, labels: raw.labels, id: s.id }, m, sd);
    return rows ? selectImages(raw, rows) : raw;
  };
  return { ...s, train: pick(s.train, sizes.train, seed), test: pick(s.test, sizes.test, (seed + 1) >>> 0) };
}

/** Float32 rows scaled to [0, 1], one-hot targets: a classification dataset with an image shape. */
export function imagesToDataset(raw: RawImages, id: string, classes: number, classNames?: string[]): Dataset {
  const d = imageSize(raw.image);
  const bytes = 4 * raw.n * (d + classes);
  checkMemory(bytes, `loading ${raw.n} images of ${id}`, { images: 4 * raw.n * d, labels: 4 * raw.n * classes }, 'take fewer rows with --subset');
  const x = new Float32Array(raw.n * d);
  for (let i = 0; i < x.length; i++) x[i] = raw.pixels[i] / 255;
  const ds: Dataset = {
    id,
    task: 'classification',
    n: raw.n,
    features: d,
    x,
    outputs: classes,
    y: oneHot(raw.labels, classes),
    labels: raw.labels.slice(),
    image: { ...raw.image },
  };
  if (classNames) ds.classNames = classNames.slice();
  return ds;
}
