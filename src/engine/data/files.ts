/**
 * Reading dataset files (IDX, CIFAR-10 batches, .npy, .npz) from disk: the
 * size is checked from stat before anything is read, and a `.gz` file is
 * inflated with node's zlib under the same cap, so a forged or runaway file
 * ends in an input error naming it rather than an out-of-memory crash.
 * The cap is LANDSCAPE_MAX_DATA_BYTES (src/engine/limits.ts).
 */
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { inputError, LandscapeError } from '../errors';
import { formatBytes, maxDataBytes, MAX_DATA_BYTES_ENV } from '../limits';

export interface ReadDataOptions {
  /** Largest file, and largest inflated content of a .gz file. Default maxDataBytes(). */
  maxBytes?: number;
}

function tooLarge(file: string, what: string, size: number, max: number): LandscapeError {
  return inputError(
    `${what} is too large: ${formatBytes(size)} exceeds the limit of ${formatBytes(max)}; raise ${MAX_DATA_BYTES_ENV} if the file is trusted`,
    file,
  );
}

function accessError(e: unknown, file: string, what: string): LandscapeError {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return inputError(`${what} not found; check the path`, file);
  if (code === 'EACCES' || code === 'EPERM') return inputError(`cannot read the ${what}: permission denied`, file);
  const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
  return inputError(`cannot read the ${what} (${msg})`, file);
}

/** The bytes of a regular file within the size cap. `what` names the file's role in messages ("IDX file"). */
export function readBoundedFile(file: string, what: string, opts: ReadDataOptions = {}): Uint8Array {
  const max = opts.maxBytes ?? maxDataBytes();
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw accessError(e, file, what);
  }
  if (st.isDirectory()) throw inputError(`is a folder, not a ${what}`, file);
  if (!st.isFile()) throw inputError(`is not a regular file; expected a ${what}`, file);
  if (st.size > max) throw tooLarge(file, what, st.size, max);
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw accessError(e, file, what);
  }
}

/** Inflate gzip bytes (one or more members), refusing output beyond the cap. */
export function gunzipBounded(bytes: Uint8Array, file: string, opts: ReadDataOptions = {}): Uint8Array {
  const max = opts.maxBytes ?? maxDataBytes();
  try {
    return zlib.gunzipSync(bytes, { maxOutputLength: max });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException)?.code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
      throw inputError(`inflates to more than ${formatBytes(max)}, the limit; raise ${MAX_DATA_BYTES_ENV} if the file is trusted`, file);
    }
    const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw inputError(`is not a valid gzip file (${msg}); is it truncated or damaged?`, file);
  }
}

/** A file's bytes, inflated when its name ends in .gz. */
export function readDataFile(file: string, what: string, opts: ReadDataOptions = {}): Uint8Array {
  const bytes = readBoundedFile(file, what, opts);
  return /\.gz$/i.test(file) ? gunzipBounded(bytes, file, opts) : bytes;
}

/** Is `p` an existing folder? */
export function isFolder(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Is `p` an existing file (of any kind but a folder)? */
export function isExistingFile(p: string): boolean {
  try {
    return !fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
