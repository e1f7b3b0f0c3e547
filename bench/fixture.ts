/**
 * The benchmark's fixed inputs, rebuilt identically from seeds in every
 * process: the digits training split, the network, two parameter vectors
 * (A, B), the two filter-normalised slice directions and 96 checkpoints for
 * kernel PCA. The PyTorch reference gets the very same numbers through
 * `exportFixture`.
 */
import * as fs from 'fs';
import { loadDataset, loadRawDataset } from '../src/engine/data';
import type { Dataset } from '../src/engine/data/types';
import { makeSpec, initParams, paramCount, type ModelSpec } from '../src/engine/model/spec';
import { Rng } from '../src/engine/rng';
import { randomDirection } from '../src/engine/analysis/directions';

export interface FixtureOptions {
  /** Hidden widths; default [32, 32] (the paper's 64-32-32-10). */
  hidden?: number[];
  /** Rows: undefined = the seeded 80 % training split of digits; a number = that many rows of all 1797, standardised. */
  n?: number;
  bias?: boolean;
}

export interface Fixture {
  spec: ModelSpec;
  specString: string;
  data: Dataset;
  dim: number;
  a: Float32Array;
  b: Float32Array;
  d1: Float64Array;
  d2: Float64Array;
  checkpoints: Float32Array[];
}

export const CHECKPOINTS = 96;

export async function makeFixture(o: FixtureOptions = {}): Promise<Fixture> {
  const hidden = o.hidden ?? [32, 32];
  const layers = [64, ...hidden, 10];
  const spec = makeSpec(layers, { bias: o.bias ?? false });
  let data: Dataset;
  if (o.n === undefined) {
    data = (await loadDataset('digits', { seed: 0 })).train;
  } else {
    const raw = loadRawDataset('digits', o.n >= 1797 ? {} : { n: o.n, seed: 0 });
    data = standardised(raw);
  }
  const dim = paramCount(spec);
  const a = initParams(spec, new Rng(1));
  const b = initParams(spec, new Rng(2));
  const d1 = randomDirection(a, { seed: 1, spec }).vector;
  const d2 = randomDirection(a, { seed: 2, spec }).vector;
  const checkpoints: Float32Array[] = [];
  for (let i = 0; i < CHECKPOINTS; i++) checkpoints.push(initParams(spec, new Rng(100 + i)));
  return { spec, specString: layers.join('-'), data, dim, a, b, d1, d2, checkpoints };
}

function standardised(ds: Dataset): Dataset {
  const { n, features } = ds;
  const x = new Float32Array(ds.x.length);
  for (let j = 0; j < features; j++) {
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) s += ds.x[i * features + j];
    const mean = s / n;
    for (let i = 0; i < n; i++) s2 += (ds.x[i * features + j] - mean) ** 2;
    const sd = Math.sqrt(s2 / n) || 1;
    for (let i = 0; i < n; i++) x[i * features + j] = (ds.x[i * features + j] - mean) / sd;
  }
  return { ...ds, x };
}

/** Σ in·out over the layers: a forward pass costs 2·N·this FLOPs (a multiply-add is 2). */
export function macsPerRow(spec: ModelSpec): number {
  let s = 0;
  for (let i = 0; i + 1 < spec.layers.length; i++) s += spec.layers[i] * spec.layers[i + 1];
  return s;
}

/**
 * Everything the reference needs in one file: an 8-byte little-endian header
 * length, a JSON header (shapes, offsets, workload settings) and raw arrays.
 */
export function exportFixture(fx: Fixture, file: string, settings: Record<string, unknown>): void {
  const labels = new Int32Array(fx.data.n);
  for (let i = 0; i < fx.data.n; i++) {
    let best = 0;
    for (let k = 1; k < fx.data.outputs; k++) if (fx.data.y[i * fx.data.outputs + k] > fx.data.y[i * fx.data.outputs + best]) best = k;
    labels[i] = best;
  }
  const flatCk = new Float32Array(fx.checkpoints.length * fx.dim);
  fx.checkpoints.forEach((c, i) => flatCk.set(c, i * fx.dim));
  const arrays: NamedArray[] = [
    ['x', fx.data.x, [fx.data.n, fx.data.features]],
    ['labels', labels, [fx.data.n]],
    ['a', fx.a, [fx.dim]],
    ['b', fx.b, [fx.dim]],
    ['d1', Float32Array.from(fx.d1), [fx.dim]],
    ['d2', Float32Array.from(fx.d2), [fx.dim]],
    ['checkpoints', flatCk, [fx.checkpoints.length, fx.dim]],
  ];
  writeArrayFile(file, arrays, { layers: fx.spec.layers, bias: fx.spec.bias }, settings);
}

/** An array for the reference: its name, its values and its shape. */
export type NamedArray = [string, Float32Array | Int32Array, number[]];

/**
 * Writes the reference's input format: an 8-byte little-endian header length,
 * the JSON header `{ ...head, arrays, ...tail }` (`arrays` giving each array's
 * offset, dtype and shape) and the raw arrays one after another.
 */
export function writeArrayFile(file: string, arrays: NamedArray[], head: Record<string, unknown>, tail: Record<string, unknown>): void {
  const meta: Record<string, { offset: number; dtype: string; shape: number[] }> = {};
  let offset = 0;
  for (const [name, arr, shape] of arrays) {
    meta[name] = { offset, dtype: arr instanceof Int32Array ? 'int32' : 'float32', shape };
    offset += arr.byteLength;
  }
  const header = Buffer.from(JSON.stringify({ ...head, arrays: meta, ...tail }), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, len);
    fs.writeSync(fd, header);
    for (const [, arr] of arrays) fs.writeSync(fd, new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength));
  } finally {
    fs.closeSync(fd);
  }
}
