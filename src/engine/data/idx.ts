/**
 * The IDX format of MNIST, Fashion-MNIST and KMNIST: a 4-byte magic number
 * (two zero bytes, a type byte, the number of dimensions), each dimension as
 * a big-endian uint32, then the data. Only unsigned bytes (type 0x08) are
 * read: every MNIST-style file holds them. The size must match the header
 * exactly, so a truncated or padded file is refused rather than misread.
 * Memory: the data is a view of the input, nothing is allocated from the
 * header's numbers.
 */
import { inputError } from '../errors';
import type { RawImages } from './rawImages';

export interface IdxArray {
  dims: number[];
  /** Row-major unsigned bytes (a view of the input). */
  data: Uint8Array;
}

const TYPE_NAMES: Record<number, string> = { 0x08: 'unsigned byte', 0x09: 'signed byte', 0x0b: 'int16', 0x0c: 'int32', 0x0d: 'float32', 0x0e: 'float64' };
const hex = (v: number, digits: number) => `0x${v.toString(16).padStart(digits, '0')}`;

function checkMagic(bytes: Uint8Array, file: string): number {
  if (bytes.length < 4) throw inputError(`is too short for an IDX file (${bytes.length} bytes; the magic number alone takes 4)`, file);
  const magic = ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const gz = bytes[0] === 0x1f && bytes[1] === 0x8b ? '; it looks gzip-compressed: name it .gz' : '';
    throw inputError(`wrong magic number ${hex(magic, 8)}: an IDX file starts with two zero bytes${gz}`, file);
  }
  if (bytes[2] !== 0x08) {
    const name = TYPE_NAMES[bytes[2]];
    throw inputError(`holds ${name ? `${name} data` : `unknown data type ${hex(bytes[2], 2)}`} (magic ${hex(magic, 8)}); only unsigned bytes (type 0x08), as MNIST-style files hold, are supported`, file);
  }
  const ndims = bytes[3];
  if (ndims < 1 || ndims > 4) throw inputError(`wrong magic number ${hex(magic, 8)}: ${ndims} dimensions (1 to 4 expected)`, file);
  return ndims;
}

/** Parse one IDX file of unsigned bytes. */
export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
  const ndims = checkMagic(bytes, file);
  const header = 4 + 4 * ndims;
  if (bytes.length < header) throw inputError(`is truncated: ${bytes.length} bytes, but its header of ${ndims} dimensions takes ${header}`, file);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const expected = header + count;
  if (bytes.length !== expected) {
    const what = bytes.length < expected ? 'is truncated' : 'has extra bytes';
    throw inputError(`${what}: ${bytes.length} bytes, but its header (${dims.join('×')}) needs ${expected}`, file);
  }
  return { dims, data: bytes.subarray(header) };
}

/**
 * Images [N, H, W] and their labels [N] as raw images; `classes`, when
 * known (10 for the MNIST family), bounds the labels.
 */
export function idxImages(images: IdxArray, imagesFile: string, labels: IdxArray, labelsFile: string, classes?: number): RawImages {
  if (images.dims.length !== 3) throw inputError(`holds ${images.dims.length} dimension(s) (${images.dims.join('×')}); images need 3: count × height × width`, imagesFile);
  if (labels.dims.length !== 1) throw inputError(`holds ${labels.dims.length} dimensions (${labels.dims.join('×')}); labels need 1: one per image`, labelsFile);
  const [n, height, width] = images.dims;
  if (n === 0 || height === 0 || width === 0) throw inputError(`holds no images (${images.dims.join('×')})`, imagesFile);
  if (labels.dims[0] !== n) throw inputError(`has ${labels.dims[0]} labels but ${imagesFile} has ${n} images`, labelsFile);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = labels.data[i];
    if (classes !== undefined && v >= classes) throw inputError(`label ${v} of item ${i} is outside 0..${classes - 1}`, labelsFile);
    out[i] = v;
  }
  return { n, image: { channels: 1, height, width }, pixels: images.data, labels: out };
}
