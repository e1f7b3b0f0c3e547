/**
 * Datasets from NumPy arrays: an .npz with `x` [N, ...] and `y` [N] (or
 * Keras' x_train, y_train, x_test, y_test, a split of its own), or a folder
 * (or its x.npy) holding x.npy and y.npy. x is float32, float64 or uint8
 * (uint8 pixels scale to [0, 1]); [N, D] rows are features, [N, H, W] and
 * [N, C, H, W] are images in PyTorch's NCHW order. Integer y are class
 * labels 0..k-1 (classification); float y are regression targets.
 */
import * as path from 'node:path';
import { inputError } from '../errors';
import { readBoundedFile, isExistingFile, type ReadDataOptions } from './files';
import { parseNpy, type NpyArray } from './npy';
import { readNpz } from './npz';
import { oneHot } from './split';
import { quoteText } from '../text';
import type { Dataset, ImageShape } from './types';

/** Most classes integer labels may name: the one-hot targets take rows × classes floats. */
export const ARRAY_MAX_CLASSES = 1000;

export type ArrayData = { kind: 'whole'; data: Dataset } | { kind: 'split'; train: Dataset; test: Dataset };

const SPLIT_NAMES = ['x_train', 'y_train', 'x_test', 'y_test'];

/** Read an .npz file. */
export function loadNpz(file: string, opts: ReadDataOptions = {}): ArrayData {
  return npzDataset(readBoundedFile(file, '.npz file', opts), file, opts);
}

/** The dataset in an .npz archive's bytes; `file` names it in messages. */
export function npzDataset(bytes: Uint8Array, file: string, opts: ReadDataOptions = {}): ArrayData {
  const { names, arrays } = readNpz(bytes, file, ['x', 'y', ...SPLIT_NAMES], opts);
  const id = `npz:${path.basename(file)}`;
  if (arrays.has('x') && arrays.has('y')) return { kind: 'whole', data: checkClasses(arraysToDataset(arrays.get('x')!, arrays.get('y')!, file, id), file) };
  if (SPLIT_NAMES.every((n) => arrays.has(n))) {
    const [xtr, ytr, xte, yte] = SPLIT_NAMES.map((n) => arrays.get(n)!);
    const train = checkClasses(arraysToDataset(xtr, ytr, `${file} (x_train, y_train)`, id), file);
    const test = arraysToDataset(xte, yte, `${file} (x_test, y_test)`, id);
    return { kind: 'split', ...matchParts(train, test, file) };
  }
  // Entry names come from the file: quoted, and only the first few.
  const have = names.length ? names.slice(0, 8).map((n) => quoteText(n, 40)).join(', ') + (names.length > 8 ? ', …' : '') : 'no arrays';
  throw inputError(`has ${have}; a dataset .npz needs arrays x and y (or x_train, y_train, x_test, y_test), e.g. numpy.savez(file, x=x, y=y)`, file);
}

/** The x.npy and y.npy of a folder (or the folder of a given x.npy); undefined when the folder has no x.npy. */
export function npyPair(p: string): { x: string; y: string } | undefined {
  const dir = /\.npy$/i.test(p) ? path.dirname(p) : p;
  const x = /\.npy$/i.test(p) ? p : path.join(dir, 'x.npy');
  return isExistingFile(x) ? { x, y: path.join(dir, 'y.npy') } : undefined;
}

/** Read x.npy and y.npy. */
export function loadNpyPair(pair: { x: string; y: string }, opts: ReadDataOptions = {}): ArrayData {
  if (path.basename(pair.x) !== 'x.npy') {
    throw inputError('is one array; put the inputs in x.npy and the labels in y.npy in one folder and pass the folder, or save both in an .npz', pair.x);
  }
  if (!isExistingFile(pair.y)) throw inputError(`has no y.npy beside it (looked for ${pair.y}); save the labels or targets there`, pair.x);
  const x = parseNpy(readBoundedFile(pair.x, '.npy file', opts), pair.x);
  const y = parseNpy(readBoundedFile(pair.y, '.npy file', opts), pair.y);
  const where = `${pair.x} and y.npy`;
  return { kind: 'whole', data: checkClasses(arraysToDataset(x, y, where, `npy:${path.basename(path.dirname(path.resolve(pair.x)))}`), where) };
}

/** Training labels must name two classes at least (float y would be regression targets). */
function checkClasses(ds: Dataset, where: string): Dataset {
  if (ds.task === 'classification' && ds.outputs < 2) throw inputError('y has only class 0; classification needs at least two classes (float y are regression targets)', where);
  return ds;
}

/** Both parts of a split share their features, image shape, task and outputs. */
function matchParts(train: Dataset, test: Dataset, file: string): { train: Dataset; test: Dataset } {
  const row = (d: Dataset) => (d.image ? `${d.image.channels}×${d.image.height}×${d.image.width} images` : `${d.features} values`);
  if (row(train) !== row(test)) throw inputError(`x_test rows are ${row(test)} but x_train rows are ${row(train)}`, file);
  if (train.task !== test.task) throw inputError(`y_train is ${train.task} but y_test is ${test.task}`, file);
  if (train.task === 'classification' && train.outputs !== test.outputs) {
    const k = Math.max(train.outputs, test.outputs);
    return { train: widenClasses(train, k), test: widenClasses(test, k) };
  }
  if (train.outputs !== test.outputs) throw inputError(`y_train has ${train.outputs} target columns but y_test has ${test.outputs}`, file);
  return { train, test };
}

function widenClasses(ds: Dataset, k: number): Dataset {
  return ds.outputs === k ? ds : { ...ds, outputs: k, y: oneHot(ds.labels!, k) };
}

/** The shape of x's rows: flat features, or an image (NCHW). */
function rowShape(shape: number[], where: string): { features: number; image?: ImageShape } {
  const rest = shape.slice(1);
  if (rest.length === 0 || rest.length > 3) {
    throw inputError(`x has shape (${shape.join(', ')}); expected [N, features], [N, height, width] or [N, channels, height, width]`, where);
  }
  const features = rest.reduce((a, b) => a * b, 1);
  if (features === 0) throw inputError(`x has shape (${shape.join(', ')}), rows with no values`, where);
  if (rest.length === 1) return { features };
  if (rest.length === 2) return { features, image: { channels: 1, height: rest[0], width: rest[1] } };
  if (rest[0] > 4 && rest[2] <= 4) {
    throw inputError(`x has shape (${shape.join(', ')}), which looks channels-last (N, H, W, C); save it channels-first: x.transpose(0, 3, 1, 2)`, where);
  }
  return { features, image: { channels: rest[0], height: rest[1], width: rest[2] } };
}

/** x as float32 rows: uint8 scaled to [0, 1], floats as they are (finite only). */
function inputRows(x: NpyArray, where: string): Float32Array {
  const d = x.dtype;
  if (d.kind === 'u' && d.size === 1) {
    const out = new Float32Array(x.data.length);
    for (let i = 0; i < out.length; i++) out[i] = x.data[i] / 255;
    return out;
  }
  if (d.kind !== 'f') throw inputError(`x has dtype ${d.descr}; x must be float32, float64 or uint8`, where);
  const out = x.data instanceof Float32Array ? x.data : Float32Array.from(x.data);
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i])) throw inputError(`x holds ${x.data[i]} at item ${i}; every value must be finite (and within float32)`, where);
  }
  return out;
}

/** A dataset from arrays x and y; `where` names the file(s) in messages. */
export function arraysToDataset(x: NpyArray, y: NpyArray, where: string, id: string): Dataset {
  const n = x.shape[0];
  if (x.shape.length === 0 || n === 0) throw inputError(`x has shape (${x.shape.join(', ')}); it needs at least one row`, where);
  const { features, image } = rowShape(x.shape, where);
  if (y.shape.length === 0 || y.shape[0] !== n) throw inputError(`y has shape (${y.shape.join(', ')}) but x has ${n} rows; y needs one entry per row`, where);
  const xs = inputRows(x, where);
  const target = y.dtype.kind === 'f' ? regressionTargets(y, where) : classLabels(y, where);
  const ds: Dataset = { id, n, features, x: xs, ...target };
  if (image) ds.image = image;
  return ds;
}

function classLabels(y: NpyArray, where: string): Pick<Dataset, 'task' | 'outputs' | 'y' | 'labels'> {
  if (y.shape.length !== 1) throw inputError(`y has shape (${y.shape.join(', ')}); integer class labels need shape [N]`, where);
  const labels = new Int32Array(y.data.length);
  let k = 1;
  for (let i = 0; i < labels.length; i++) {
    const v = y.data[i];
    if (!(Number.isInteger(v) && v >= 0 && v < ARRAY_MAX_CLASSES)) {
      throw inputError(`y holds label ${v} at item ${i}; class labels are whole numbers 0..${ARRAY_MAX_CLASSES - 1}`, where);
    }
    labels[i] = v;
    k = Math.max(k, v + 1);
  }
  return { task: 'classification', outputs: k, y: oneHot(labels, k), labels };
}

function regressionTargets(y: NpyArray, where: string): Pick<Dataset, 'task' | 'outputs' | 'y'> {
  if (y.shape.length > 2) throw inputError(`y has shape (${y.shape.join(', ')}); regression targets need shape [N] or [N, outputs]`, where);
  const outputs = y.shape.length === 2 ? y.shape[1] : 1;
  if (outputs === 0) throw inputError(`y has shape (${y.shape.join(', ')}), no targets`, where);
  const t = Float32Array.from(y.data);
  for (let i = 0; i < t.length; i++) {
    if (!Number.isFinite(t[i])) throw inputError(`y holds ${y.data[i]} at item ${i}; every target must be finite (and within float32)`, where);
  }
  return { task: 'regression', outputs, y: t };
}
