/**
 * The safetensors format (huggingface/safetensors): an 8-byte little-endian
 * u64 header length N, N bytes of UTF-8 JSON, then the raw little-endian
 * tensor bytes. The header maps each tensor name to
 * { dtype, shape, data_offsets: [begin, end] } (offsets relative to the byte
 * buffer after the header) and may hold "__metadata__": { string: string }.
 *
 * The reader treats every file as hostile: every length is checked against
 * the bytes actually present and against caps before anything is allocated,
 * and each fault gets its own message naming the file. Only F32 and F64 are
 * accepted because the engine computes in float32; other dtypes are refused
 * with advice rather than silently converted.
 *
 * Memory bound: decodeSafetensors allocates one copy of the tensor bytes
 * actually present in the buffer, plus the header text; readSafetensors first
 * reads the file, only after stat shows it within maxBytes
 * (LANDSCAPE_MAX_CHECKPOINT_BYTES, default 2 GiB); readSafetensorsHeader
 * allocates only the header (at most maxHeaderBytes and the file's size). No
 * length or shape from the file is used to allocate before it has been
 * checked against the bytes present, so a forged header length or a huge
 * shape costs nothing. test/unit/fuzz-safetensors.test.ts holds every case to
 * 1 MiB + 4 × the input's size.
 */
import * as fs from 'fs';
import * as os from 'os';
import { inputError, LandscapeError } from '../errors';

export type Dtype = 'F32' | 'F64';
export type TensorData = Float32Array | Float64Array;

export interface TensorIn {
  name: string;
  dtype: Dtype;
  shape: readonly number[];
  data: TensorData;
}

export interface DecodedTensor {
  dtype: Dtype;
  shape: number[];
  data: TensorData;
}

export interface DecodedSafetensors {
  /** In file order (by data offset). */
  tensors: Map<string, DecodedTensor>;
  metadata: Record<string, string>;
}

/** Header info only, without tensor data (cheap to read from a large file). */
export interface TensorHeaderEntry {
  dtype: Dtype;
  shape: number[];
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  tensors: Map<string, TensorHeaderEntry>;
  metadata: Record<string, string>;
  /** Bytes of the tensor data section (file size - 8 - header length). */
  dataBytes: number;
}

export interface ReadOptions {
  /** Reject files larger than this many bytes (default: maxCheckpointBytes()). */
  maxBytes?: number;
  /** Reject headers longer than this (default 100 MB, the reference implementation's limit). */
  maxHeaderBytes?: number;
  /** Skip the NaN/Infinity scan (the default is to reject non-finite values). */
  allowNonFinite?: boolean;
}

/** The reference implementation's header cap. */
export const MAX_HEADER_BYTES = 100_000_000;
export const DEFAULT_MAX_CHECKPOINT_BYTES = 2 * 1024 ** 3;
export const MAX_CHECKPOINT_BYTES_ENV = 'LANDSCAPE_MAX_CHECKPOINT_BYTES';

const ITEM_SIZE: Record<Dtype, number> = { F32: 4, F64: 8 };

const MAX_MESSAGE_CHARS = 1000;

/**
 * An input error whose message quotes text from a hostile file: control and
 * bidirectional-override characters are escaped (so a tensor name cannot
 * inject terminal escapes or newlines) and the length is bounded.
 */
export function badInput(message: string, file?: string): LandscapeError {
  let m = message.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (m.length > MAX_MESSAGE_CHARS) m = m.slice(0, MAX_MESSAGE_CHARS) + '…';
  return inputError(m, file);
}

/** Every dtype the format defines; the ones we cannot use get a specific refusal. */
const KNOWN_DTYPES = new Set([
  'BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'F4', 'F6_E2M3', 'F6_E3M2',
  'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64', 'C64',
]);

const LITTLE_ENDIAN_HOST = os.endianness() === 'LE';

/**
 * The file-size cap: LANDSCAPE_MAX_CHECKPOINT_BYTES when set (bytes, or with
 * a K/M/G suffix, powers of 1024), else 2 GiB.
 */
export function maxCheckpointBytes(): number {
  const raw = process.env[MAX_CHECKPOINT_BYTES_ENV];
  if (raw === undefined || raw.trim() === '') return DEFAULT_MAX_CHECKPOINT_BYTES;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)i?b?\s*$/i.exec(raw);
  if (!m) {
    throw badInput(`environment variable ${MAX_CHECKPOINT_BYTES_ENV}="${raw}" is not a size; use bytes or e.g. 512M, 4G`);
  }
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  const v = Math.floor(Number(m[1]) * mult);
  if (!Number.isSafeInteger(v) || v <= 0) {
    throw badInput(`environment variable ${MAX_CHECKPOINT_BYTES_ENV}="${raw}" must be a positive size`);
  }
  return v;
}

function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

/** `subject` says what is too large, e.g. "checkpoint" or "model 784-4096-10 (3.2M parameters)". */
export function tooLargeError(file: string, size: number, max: number, subject = 'checkpoint'): LandscapeError {
  return badInput(
    `${subject} is too large: ${size} bytes (${formatBytes(size)}) exceeds the limit of ${max} bytes (${formatBytes(max)}); ` +
      `raise it with ${MAX_CHECKPOINT_BYTES_ENV} if the file is trusted`,
    file,
  );
}

// ---------------------------------------------------------------- writing

/**
 * Serialise tensors. Output is deterministic: tensors are ordered as the
 * reference writer orders them (larger dtype first, then by name, so every
 * tensor stays aligned to its item size), "__metadata__" comes first with its
 * keys sorted, tensor entries are written as {dtype, shape, data_offsets} in
 * data order, and the header is padded with spaces to a multiple of 8.
 */
export function encodeSafetensors(tensors: readonly TensorIn[], metadata: Record<string, string> = {}): Buffer {
  const seen = new Set<string>();
  for (const t of tensors) {
    if (t.name === '__metadata__') throw badInput('a tensor cannot be named "__metadata__"');
    if (seen.has(t.name)) throw badInput(`tensor "${t.name}" given twice`);
    seen.add(t.name);
    if (t.dtype !== 'F32' && t.dtype !== 'F64') throw badInput(`tensor "${t.name}": unsupported dtype ${String(t.dtype)}`);
    const want = t.dtype === 'F32' ? Float32Array : Float64Array;
    if (!(t.data instanceof want)) throw badInput(`tensor "${t.name}": ${t.dtype} needs a ${want.name}`);
    const count = shapeCount(t.shape);
    if (count === undefined) throw badInput(`tensor "${t.name}": shape [${t.shape.join(', ')}] is not a list of whole numbers ≥ 0`);
    if (count !== t.data.length) {
      throw badInput(`tensor "${t.name}": shape [${t.shape.join(', ')}] holds ${count} values but ${t.data.length} were given`);
    }
  }
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw badInput(`metadata "${k}" must be a string, got ${typeof v}`);
  }
  const ordered = [...tensors].sort((a, b) => ITEM_SIZE[b.dtype] - ITEM_SIZE[a.dtype] || compareStrings(a.name, b.name));

  // Built by hand rather than from an object so that names such as "0.weight"
  // or "__proto__" keep the intended order and meaning.
  const parts: string[] = [];
  const metaKeys = Object.keys(metadata).sort(compareStrings);
  if (metaKeys.length > 0) {
    parts.push(`"__metadata__":{${metaKeys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',')}}`);
  }
  let offset = 0;
  for (const t of ordered) {
    const bytes = t.data.length * ITEM_SIZE[t.dtype];
    parts.push(`${JSON.stringify(t.name)}:{"dtype":"${t.dtype}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${offset + bytes}]}`);
    offset += bytes;
  }
  let header = Buffer.from(`{${parts.join(',')}}`, 'utf8');
  const pad = (8 - (header.length % 8)) % 8;
  if (pad > 0) header = Buffer.concat([header, Buffer.alloc(pad, 0x20)]);

  const out = Buffer.alloc(8 + header.length + offset);
  out.writeBigUInt64LE(BigInt(header.length), 0);
  header.copy(out, 8);
  let pos = 8 + header.length;
  for (const t of ordered) {
    writeLittleEndian(out, pos, t.data);
    pos += t.data.length * ITEM_SIZE[t.dtype];
  }
  return out;
}

function writeLittleEndian(out: Buffer, pos: number, data: TensorData): void {
  if (LITTLE_ENDIAN_HOST) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), pos);
    return;
  }
  const step = data instanceof Float32Array ? 4 : 8;
  for (let i = 0; i < data.length; i++) {
    if (step === 4) out.writeFloatLE(data[i], pos + 4 * i);
    else out.writeDoubleLE(data[i], pos + 8 * i);
  }
}

/** Code-unit order, independent of locale, so files are the same everywhere. */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------- reading

/** Product of a shape, or undefined when it is not a list of safe whole numbers ≥ 0 or overflows. */
function shapeCount(shape: unknown): number | undefined {
  if (!Array.isArray(shape)) return undefined;
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) return undefined;
    n *= d;
    if (!Number.isSafeInteger(n)) return undefined;
  }
  return n;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

function short(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 60 ? s.slice(0, 60) + '…' : s;
}

/** Parse and validate the header given the first 8 bytes' value and the header bytes. */
function parseHeader(headerBytes: Uint8Array, dataBytes: number, file: string): SafetensorsHeader {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    throw badInput('safetensors header is not valid UTF-8 (corrupt file, or not a safetensors file)', file);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw badInput(`safetensors header is not valid JSON (${why.slice(0, 120)})`, file);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw badInput(`safetensors header must be a JSON object, found ${describe(json)}`, file);
  }
  const entries = Object.entries(json as Record<string, unknown>);

  let metadata: Record<string, string> = {};
  const tensors: Array<[string, TensorHeaderEntry]> = [];
  for (const [name, raw] of entries) {
    if (name === '__metadata__') {
      metadata = parseMetadata(raw, file);
      continue;
    }
    tensors.push([name, parseEntry(name, raw, dataBytes, file)]);
  }

  // The format has no holes and no sharing: sorted by offset, each tensor
  // starts where the previous one ended and the last ends at the file's end.
  const byOffset = [...tensors].sort((a, b) => a[1].begin - b[1].begin || a[1].end - b[1].end);
  let prevEnd = 0;
  let prevName: string | undefined;
  for (const [name, e] of byOffset) {
    if (e.begin < prevEnd) {
      throw badInput(`tensors "${prevName}" and "${name}" overlap (bytes ${e.begin}..${Math.min(prevEnd, e.end)} of the data are claimed twice)`, file);
    }
    if (e.begin > prevEnd) {
      throw badInput(`data bytes ${prevEnd}..${e.begin} are not covered by any tensor (a hole before "${name}")`, file);
    }
    if (e.end > prevEnd || prevName === undefined) {
      prevEnd = e.end;
      prevName = name;
    }
  }
  if (prevEnd !== dataBytes) {
    throw badInput(
      `data bytes ${prevEnd}..${dataBytes} are not covered by any tensor (${dataBytes - prevEnd} trailing bytes; truncated header or appended data)`,
      file,
    );
  }
  return { tensors: new Map(byOffset), metadata, dataBytes };
}

function parseMetadata(raw: unknown, file: string): Record<string, string> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw badInput(`"__metadata__" must be an object of string values, found ${describe(raw)}`, file);
  }
  const pairs = Object.entries(raw as Record<string, unknown>);
  for (const [k, v] of pairs) {
    if (typeof v !== 'string') throw badInput(`"__metadata__" values must be strings, but "${k}" holds ${describe(v)}`, file);
  }
  // fromEntries defines own properties, so a key such as "__proto__" stays data.
  return Object.fromEntries(pairs) as Record<string, string>;
}

function parseEntry(name: string, raw: unknown, dataBytes: number, file: string): TensorHeaderEntry {
  const t = `tensor "${name.length > 80 ? name.slice(0, 80) + '…' : name}"`;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw badInput(`${t}: header entry must be an object with dtype, shape and data_offsets, found ${describe(raw)}`, file);
  }
  const r = raw as Record<string, unknown>;
  for (const key of ['dtype', 'shape', 'data_offsets']) {
    if (!Object.prototype.hasOwnProperty.call(r, key)) throw badInput(`${t}: header entry has no "${key}"`, file);
  }
  const dtype = r.dtype;
  if (typeof dtype !== 'string') throw badInput(`${t}: dtype must be a string, found ${describe(dtype)}`, file);
  if (dtype !== 'F32' && dtype !== 'F64') {
    if (KNOWN_DTYPES.has(dtype)) {
      throw badInput(
        `${t} has dtype ${dtype}; only F32 and F64 are supported (convert the weights to float32 before saving, e.g. tensor.float() in PyTorch)`,
        file,
      );
    }
    throw badInput(`${t} has unknown dtype ${short(dtype)}; only F32 and F64 are supported`, file);
  }
  const count = shapeCount(r.shape);
  if (count === undefined) {
    throw badInput(`${t}: shape must be a list of whole numbers ≥ 0 whose product is a safe integer, found ${short(r.shape)}`, file);
  }
  const offs = r.data_offsets;
  if (
    !Array.isArray(offs) ||
    offs.length !== 2 ||
    !offs.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)
  ) {
    throw badInput(`${t}: data_offsets must be two whole numbers [begin, end], found ${short(offs)}`, file);
  }
  const [begin, end] = offs as [number, number];
  if (begin > end) throw badInput(`${t}: data_offsets [${begin}, ${end}] begin after they end`, file);
  if (end > dataBytes) {
    throw badInput(`${t}: data_offsets [${begin}, ${end}] reach outside the data section (${dataBytes} bytes; file truncated?)`, file);
  }
  const need = count * ITEM_SIZE[dtype];
  if (!Number.isSafeInteger(need) || need !== end - begin) {
    throw badInput(
      `${t}: shape [${(r.shape as number[]).join(', ')}] of ${dtype} needs ${need} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`,
      file,
    );
  }
  return { dtype, shape: [...(r.shape as number[])], begin, end };
}

/**
 * Validate the 8-byte prefix against the file size and the caps, before
 * anything is allocated for the header. Returns the header length.
 */
function checkPrefix(prefix: Buffer, fileSize: number, file: string, maxHeaderBytes: number): number {
  const advice = '; pass a .safetensors checkpoint (for a tfjs model, its model.json)';
  if (fileSize < 8) {
    throw badInput(`file is ${fileSize} bytes, shorter than the 8-byte safetensors header length (empty, truncated, or not a safetensors file)${advice}`, file);
  }
  const n = prefix.readBigUInt64LE(0);
  if (n > BigInt(fileSize - 8)) {
    // A CSV or a note passed by mistake: say so rather than quote a nonsense length alone.
    const text = /^[\t\n\r\x20-\x7e]{8}$/.test(prefix.toString('latin1')) ? `; it starts with text (${JSON.stringify(prefix.toString('latin1'))}), so it is no checkpoint` : '';
    throw badInput(`safetensors header length ${n} is larger than the rest of the file (${fileSize - 8} bytes; truncated or not a safetensors file)${text}${advice}`, file);
  }
  if (n > BigInt(maxHeaderBytes)) {
    throw badInput(`safetensors header is too large: ${n} bytes exceeds the limit of ${maxHeaderBytes}`, file);
  }
  if (n < 2n) throw badInput(`safetensors header length ${n} is too short to hold a JSON object`, file);
  return Number(n);
}

/** Decode a whole safetensors file held in memory. */
export function decodeSafetensors(buf: Uint8Array, file: string, opts: ReadOptions = {}): DecodedSafetensors {
  const maxBytes = opts.maxBytes ?? maxCheckpointBytes();
  if (buf.length > maxBytes) throw tooLargeError(file, buf.length, maxBytes);
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = checkPrefix(b.subarray(0, Math.min(8, b.length)), b.length, file, opts.maxHeaderBytes ?? MAX_HEADER_BYTES);
  const header = parseHeader(b.subarray(8, 8 + n), b.length - 8 - n, file);
  const base = 8 + n;
  const tensors = new Map<string, DecodedTensor>();
  for (const [name, e] of header.tensors) {
    const data = readTensorData(b, base + e.begin, e);
    if (!opts.allowNonFinite) checkFinite(name, e.shape, data, file);
    tensors.set(name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata: header.metadata };
}

/** Copy (never view) so the result is aligned and independent of the file buffer. */
function readTensorData(b: Buffer, start: number, e: TensorHeaderEntry): TensorData {
  const size = ITEM_SIZE[e.dtype];
  const count = (e.end - e.begin) / size;
  if (LITTLE_ENDIAN_HOST) {
    const copy = new Uint8Array(e.end - e.begin);
    copy.set(b.subarray(start, start + copy.length));
    return e.dtype === 'F32' ? new Float32Array(copy.buffer) : new Float64Array(copy.buffer);
  }
  const out = e.dtype === 'F32' ? new Float32Array(count) : new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = size === 4 ? b.readFloatLE(start + 4 * i) : b.readDoubleLE(start + 8 * i);
  return out;
}

function checkFinite(name: string, shape: number[], data: TensorData, file: string): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v - v !== 0) {
      // Also give the multi-index, which is what a user can look up.
      const idx: number[] = [];
      let rest = i;
      for (let d = shape.length - 1; d >= 0; d--) {
        idx.unshift(shape[d] === 0 ? 0 : rest % shape[d]);
        rest = shape[d] === 0 ? 0 : Math.floor(rest / shape[d]);
      }
      throw badInput(`tensor "${name}" holds a non-finite value (${v}) at flat index ${i} (position [${idx.join(', ')}])`, file);
    }
  }
}

/**
 * A tensor's values as float32 (a copy for F64). F64 values beyond the
 * float32 range are refused rather than turned into Infinity.
 */
export function toFloat32(name: string, t: { dtype: Dtype; data: TensorData }, file: string): Float32Array {
  if (t.data instanceof Float32Array) return t.data;
  const out = Float32Array.from(t.data);
  for (let i = 0; i < out.length; i++) {
    const v = out[i];
    if (v - v !== 0) throw badInput(`tensor "${name}" value ${t.data[i]} at flat index ${i} does not fit in float32`, file);
  }
  return out;
}

// ------------------------------------------------------------ file access

/** stat the path and turn the common mistakes into readable errors. */
export function statInputFile(file: string, what = 'checkpoint'): fs.Stats {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw fileAccessError(e, file, what);
  }
  if (st.isDirectory()) {
    throw badInput(
      `is a directory, not a ${what} file; pass a .safetensors file (for a tfjs model folder, pass its model.json)`,
      file,
    );
  }
  if (!st.isFile()) throw badInput(`is not a regular file; pass a ${what} file`, file);
  return st;
}

export function fileAccessError(e: unknown, file: string, what: string): LandscapeError {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return badInput(`${what} file not found; check the path`, file);
  if (code === 'EACCES' || code === 'EPERM') return badInput(`cannot read the ${what} file: permission denied`, file);
  if (code === 'EISDIR') return badInput(`is a directory, not a ${what} file`, file);
  const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
  return badInput(`cannot read the ${what} file: ${msg}`, file);
}

/** Read and decode a file; the size cap is checked from stat before reading. */
export async function readSafetensors(file: string, opts: ReadOptions = {}): Promise<DecodedSafetensors> {
  const maxBytes = opts.maxBytes ?? maxCheckpointBytes();
  const st = statInputFile(file);
  if (st.size > maxBytes) throw tooLargeError(file, st.size, maxBytes);
  let buf: Buffer;
  try {
    buf = await fs.promises.readFile(file);
  } catch (e) {
    throw fileAccessError(e, file, 'checkpoint');
  }
  return decodeSafetensors(buf, file, { ...opts, maxBytes });
}

export function readSafetensorsSync(file: string, opts: ReadOptions = {}): DecodedSafetensors {
  const maxBytes = opts.maxBytes ?? maxCheckpointBytes();
  const st = statInputFile(file);
  if (st.size > maxBytes) throw tooLargeError(file, st.size, maxBytes);
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw fileAccessError(e, file, 'checkpoint');
  }
  return decodeSafetensors(buf, file, { ...opts, maxBytes });
}

/**
 * Read only the header (names, dtypes, shapes, metadata) without loading the
 * tensor data: cheap even for large files, for listings and `info`.
 */
export async function readSafetensorsHeader(file: string, opts: Pick<ReadOptions, 'maxHeaderBytes'> = {}): Promise<SafetensorsHeader> {
  const st = statInputFile(file);
  let fh: fs.promises.FileHandle | undefined;
  try {
    fh = await fs.promises.open(file, 'r');
    const prefix = Buffer.alloc(8);
    // A file that shrank since stat counts by what could actually be read.
    const got = st.size >= 8 ? (await fh.read(prefix, 0, 8, 0)).bytesRead : st.size;
    const n = checkPrefix(prefix, got < 8 ? got : st.size, file, opts.maxHeaderBytes ?? MAX_HEADER_BYTES);
    const header = Buffer.alloc(n);
    const { bytesRead } = await fh.read(header, 0, n, 8);
    if (bytesRead !== n) throw badInput(`file changed while reading: header ended after ${bytesRead} of ${n} bytes`, file);
    return parseHeader(header, st.size - 8 - n, file);
  } catch (e) {
    if (e instanceof LandscapeError) throw e;
    throw fileAccessError(e, file, 'checkpoint');
  } finally {
    await fh?.close();
  }
}
