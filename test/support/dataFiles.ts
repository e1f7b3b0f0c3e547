/**
 * Writers of small dataset files for tests: IDX (MNIST style), CIFAR-10
 * binary records, .npy and .npz (the zip through fflate's zipSync). Each
 * follows the published format, written here independently of the readers
 * in src/engine/data so a test can catch a reader that misreads it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { zipSync } from 'fflate';

/** An IDX file of unsigned bytes: 00 00 08 ndims, big-endian dims, data. */
export function idxBytes(dims: number[], data: ArrayLike<number>): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = 0x08;
  head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(Uint8Array.from(data))]);
}

export interface TinyImages {
  /** [n, h, w] pixels 0..255. */
  pixels: Uint8Array;
  labels: Uint8Array;
  n: number;
  h: number;
  w: number;
}

/** n deterministic images with labels cycling through `classes`. */
export function tinyImages(n: number, h: number, w: number, classes: number, salt = 0): TinyImages {
  const pixels = new Uint8Array(n * h * w);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 37 + salt * 11 + ((i * i) % 17)) % 256;
  const labels = Uint8Array.from({ length: n }, (_, i) => (i + salt) % classes);
  return { pixels, labels, n, h, w };
}

/** Write the four MNIST files into `dir` (gzipped when gz), named as the original distribution names them. */
export function writeIdxFolder(dir: string, train: TinyImages, test: TinyImages, opts: { gz?: boolean; dotted?: boolean } = {}): void {
  fs.mkdirSync(dir, { recursive: true });
  const sep = opts.dotted ? '.' : '-';
  const write = (name: string, b: Buffer) => fs.writeFileSync(path.join(dir, opts.gz ? `${name}.gz` : name), opts.gz ? zlib.gzipSync(b) : b);
  write(`train-images${sep}idx3-ubyte`, idxBytes([train.n, train.h, train.w], train.pixels));
  write(`train-labels${sep}idx1-ubyte`, idxBytes([train.n], train.labels));
  write(`t10k-images${sep}idx3-ubyte`, idxBytes([test.n, test.h, test.w], test.pixels));
  write(`t10k-labels${sep}idx1-ubyte`, idxBytes([test.n], test.labels));
}

/** CIFAR-10 binary records: label byte, then 3 planes of 32×32 (values from the record index and position). */
export function cifarBytes(labels: number[], salt = 0): Buffer {
  const rec = 3073;
  const b = Buffer.alloc(labels.length * rec);
  labels.forEach((l, i) => {
    b[i * rec] = l;
    for (let j = 0; j < 3072; j++) b[i * rec + 1 + j] = (j * 7 + i * 13 + salt + (j >> 10) * 50) % 256;
  });
  return b;
}

export type NpyData = Float32Array | Float64Array | Uint8Array | Int32Array | BigInt64Array;

/** numpy's descr for a typed array (little-endian). */
function descrOf(a: NpyData): string {
  if (a instanceof Float32Array) return '<f4';
  if (a instanceof Float64Array) return '<f8';
  if (a instanceof Uint8Array) return '|u1';
  if (a instanceof Int32Array) return '<i4';
  return '<i8';
}

/** A version 1.0 .npy: magic, version, header length, the dict padded to 64 bytes with spaces and a newline, data. */
export function npyBytes(shape: number[], data: NpyData, opts: { descr?: string; fortran?: boolean } = {}): Buffer {
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${opts.descr ?? descrOf(data)}', 'fortran_order': ${opts.fortran ? 'True' : 'False'}, 'shape': ${tuple}, }`;
  const total = 10 + dict.length + 1;
  dict += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(head);
  head.writeUInt16LE(dict.length, 8);
  return Buffer.concat([head, Buffer.from(dict, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

/** An .npz of named .npy entries, stored (as numpy.savez) or deflated (as savez_compressed). */
export function npzBytes(arrays: Record<string, Buffer>, compressed = false): Buffer {
  const files: Record<string, [Uint8Array, { level: 0 | 6 }]> = {};
  for (const [name, b] of Object.entries(arrays)) files[`${name}.npy`] = [new Uint8Array(b), { level: compressed ? 6 : 0 }];
  return Buffer.from(zipSync(files));
}
