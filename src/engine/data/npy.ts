/**
 * NumPy's .npy format, read strictly: the magic "\x93NUMPY", version 1, 2 or
 * 3, a little-endian header length (2 bytes in version 1, 4 after), and a
 * header that is a Python dict literal with exactly 'descr', 'fortran_order'
 * and 'shape', e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (60000, 28, 28), }.
 * Simple numeric dtypes only (floats, integers, either byte order); the data
 * must fill exactly shape × item size bytes. Memory: one copy of the data,
 * its size checked against the bytes present before it is allocated.
 */
import { inputError } from '../errors';
import { quoteText } from '../text';

export type NpyKind = 'f' | 'i' | 'u';

export interface NpyDtype {
  kind: NpyKind;
  /** Bytes per item: 1, 2, 4 or 8. */
  size: number;
  littleEndian: boolean;
  /** As written in the file, e.g. "<f4". */
  descr: string;
}

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  /** Floats and integers as numbers; uint8 as bytes (the common case of images). */
  data: Float32Array | Float64Array | Uint8Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
// numpy itself refuses headers over 10,000 bytes (max_header_size).
const MAX_HEADER = 10_000;

/** The header dict's text, after the magic, version and length checks. */
function headerText(bytes: Uint8Array, file: string): { text: string; dataStart: number } {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw inputError('is not a .npy file: it does not start with the magic "\\x93NUMPY"', file);
  const major = bytes[6];
  if (major < 1 || major > 3 || bytes[7] !== 0) throw inputError(`has .npy format version ${major}.${bytes[7]}; versions 1.0, 2.0 and 3.0 are supported`, file);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) throw inputError('is truncated inside its .npy header', file);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lenBytes;
  if (len > MAX_HEADER) throw inputError(`has a .npy header of ${len} bytes; numpy writes none over 10,000`, file);
  if (start + len > bytes.length) throw inputError(`is truncated: its .npy header needs ${len} bytes but ${bytes.length - start} follow`, file);
  let text = '';
  for (let i = start; i < start + len; i++) {
    const c = bytes[i];
    if (c > 0x7e || (c < 0x20 && c !== 0x0a)) throw inputError(`has a byte 0x${c.toString(16).padStart(2, '0')} in its .npy header, which must be printable ASCII`, file);
    text += String.fromCharCode(c);
  }
  return { text, dataStart: start + len };
}

type HeaderValue = string | boolean | number[];

/** A Python tuple of whole numbers, e.g. "60000, 28, 28" or "5," or "" (a scalar). */
function parseTuple(inner: string): number[] | undefined {
  const parts = inner.split(',').map((t) => t.trim());
  if (parts.length === 1) return parts[0] === '' ? [] : undefined; // "(5)" is not a tuple
  if (parts[parts.length - 1] === '') parts.pop();
  return parts.every((t) => /^\d{1,15}$/.test(t)) ? parts.map(Number) : undefined;
}

/** Parse the dict literal: quoted keys, values that are 'strings', True/False or tuples of whole numbers. */
function parseDict(text: string, file: string): Map<string, HeaderValue> {
  const out = new Map<string, HeaderValue>();
  const bad = (what: string) => inputError(`has a malformed .npy header (${what}): ${quoteText(text.trim(), 120)}`, file);
  // Sticky, and each part a single character class, so a hostile header cannot make it backtrack badly.
  const entry = /\s*'([^']*)'\s*:\s*(?:'([^']*)'|(True|False)|\(([\d\s,]*)\))\s*(,|(?=\}))/y;
  const close = /\s*\}/y;
  let at = text.search(/\S/);
  if (at < 0 || text[at] !== '{') throw bad('no opening brace');
  at++;
  for (;;) {
    close.lastIndex = at;
    if (close.exec(text)) {
      at = close.lastIndex;
      break;
    }
    entry.lastIndex = at;
    const m = entry.exec(text);
    if (!m) throw bad(`unreadable entry at character ${at}`);
    if (out.has(m[1])) throw bad(`key '${m[1]}' twice`);
    let value: HeaderValue;
    if (m[2] !== undefined) value = m[2];
    else if (m[3] !== undefined) value = m[3] === 'True';
    else {
      const t = parseTuple(m[4]);
      if (!t) throw bad(`'${m[1]}' is not a tuple of whole numbers`);
      value = t;
    }
    out.set(m[1], value);
    at = entry.lastIndex;
  }
  if (/\S/.test(text.slice(at))) throw bad('text after the closing brace');
  return out;
}

function parseDescr(v: HeaderValue | undefined, file: string): NpyDtype {
  if (typeof v !== 'string') throw inputError(`has a .npy header whose 'descr' is not a simple dtype string (structured arrays are not supported)`, file);
  const m = /^([<>|=])([fiu])([1248])$/.exec(v);
  if (!m) throw inputError(`holds dtype ${quoteText(v, 20)}; supported are floats (<f4, <f8) and integers (|u1, <i8 and the like)`, file);
  const size = Number(m[3]);
  if (m[2] === 'f' && size < 4) throw inputError(`holds dtype ${quoteText(v, 20)} (half precision); save it as float32`, file);
  if (m[1] === '|' && size !== 1) throw inputError(`holds dtype ${quoteText(v, 20)}: '|' (no byte order) is only valid for 1-byte items`, file);
  // '=' is the writer's native order; numpy writes it as '<' or '>' so this only appears in hand-made files.
  return { kind: m[2] as NpyKind, size, littleEndian: m[1] !== '>', descr: v };
}

/** Parse a .npy file's header and data. `name` labels the array in messages (e.g. "array x"). */
export function parseNpy(bytes: Uint8Array, file: string): NpyArray {
  const { text, dataStart } = headerText(bytes, file);
  const dict = parseDict(text, file);
  const keys = [...dict.keys()].sort().join(', ');
  if (keys !== 'descr, fortran_order, shape') throw inputError(`has .npy header keys ${quoteText(keys, 80)}; expected descr, fortran_order and shape`, file);
  const dtype = parseDescr(dict.get('descr'), file);
  const fortran = dict.get('fortran_order');
  if (typeof fortran !== 'boolean') throw inputError(`has a .npy header whose fortran_order is not True or False`, file);
  if (fortran) throw inputError('is stored in Fortran (column-major) order; save it with numpy.ascontiguousarray(a)', file);
  const shape = dict.get('shape');
  if (!Array.isArray(shape)) throw inputError(`has a .npy header whose shape is not a tuple`, file);
  if (shape.some((d) => !Number.isSafeInteger(d) || d > 0x7fffffff)) throw inputError(`has a .npy shape (${shape.join(', ')}) with a dimension too large`, file);
  const count = shape.reduce((a, b) => a * b, 1);
  const need = count * dtype.size;
  const have = bytes.length - dataStart;
  if (need !== have) throw inputError(`${have < need ? 'is truncated' : 'has extra bytes'}: shape (${shape.join(', ')}) of ${dtype.descr} needs ${need} data bytes, the file has ${have}`, file);
  return { dtype, shape: shape.slice(), data: decode(bytes.subarray(dataStart), dtype, count) };
}

/** Copy the items out: uint8 as bytes, float32 as float32, anything else as float64 (int64 beyond 2^53 is refused later as out of range). */
function decode(raw: Uint8Array, dtype: NpyDtype, count: number): Float32Array | Float64Array | Uint8Array {
  if (dtype.kind === 'u' && dtype.size === 1) return raw.slice();
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const le = dtype.littleEndian;
  if (dtype.kind === 'f' && dtype.size === 4) {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = v.getFloat32(4 * i, le);
    return out;
  }
  const out = new Float64Array(count);
  const read = itemReader(v, dtype);
  for (let i = 0; i < count; i++) out[i] = read(i * dtype.size, le);
  return out;
}

function itemReader(v: DataView, d: NpyDtype): (at: number, le: boolean) => number {
  if (d.kind === 'f') return (at, le) => v.getFloat64(at, le);
  const signed = d.kind === 'i';
  switch (d.size) {
    case 1:
      return signed ? (at) => v.getInt8(at) : (at) => v.getUint8(at);
    case 2:
      return signed ? (at, le) => v.getInt16(at, le) : (at, le) => v.getUint16(at, le);
    case 4:
      return signed ? (at, le) => v.getInt32(at, le) : (at, le) => v.getUint32(at, le);
    default:
      return signed ? (at, le) => Number(v.getBigInt64(at, le)) : (at, le) => Number(v.getBigUint64(at, le));
  }
}
