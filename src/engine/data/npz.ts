/**
 * NumPy's .npz: a zip archive of .npy files, one per array (numpy.savez
 * stores them, savez_compressed deflates them). The archive is read with
 * fflate, a maintained zip library; what it is given is checked first
 * through its entry filter: at most NPZ_MAX_ENTRIES entries are looked at,
 * only the wanted arrays are inflated, and only when their declared size is
 * within the cap and within what deflate can produce from their compressed
 * size (so a forged size cannot make it allocate gigabytes).
 */
import { unzipSync } from 'fflate';
import { inputError, LandscapeError } from '../errors';
import { formatBytes, maxDataBytes, MAX_DATA_BYTES_ENV } from '../limits';
import { quoteText } from '../text';
import { parseNpy, type NpyArray } from './npy';

export const NPZ_MAX_ENTRIES = 256;
// Deflate's best case: a 258-byte match from about two bits (RFC 1951), so at most ~1032 bytes per input byte.
const DEFLATE_MAX_RATIO = 1032;

export interface NpzOptions {
  /** Largest inflated array. Default maxDataBytes(). */
  maxBytes?: number;
}

/** The archive's array names (entry names without ".npy") and, for the wanted ones, their contents. */
export function readNpz(bytes: Uint8Array, file: string, wanted: readonly string[], opts: NpzOptions = {}): { names: string[]; arrays: Map<string, NpyArray> } {
  const max = opts.maxBytes ?? maxDataBytes();
  const names: string[] = [];
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes, {
      filter: (f) => {
        if (names.length >= NPZ_MAX_ENTRIES) throw inputError(`holds more than ${NPZ_MAX_ENTRIES} entries; an .npz dataset needs only x and y`, file);
        const name = f.name.replace(/\.npy$/, '');
        names.push(name);
        if (!wanted.includes(name) || !f.name.endsWith('.npy')) return false;
        checkEntrySize(f, file, max);
        return true;
      },
    });
  } catch (e) {
    if (e instanceof LandscapeError) throw e;
    const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw inputError(`is not a readable .npz (zip) archive (${quoteText(msg, 80)}); is it truncated or damaged?`, file);
  }
  const arrays = new Map<string, NpyArray>();
  for (const [entry, data] of Object.entries(entries)) {
    const name = entry.replace(/\.npy$/, '');
    arrays.set(name, parseNpy(data, `${file}:${entry}`));
  }
  return { names, arrays };
}

function checkEntrySize(f: { name: string; size: number; originalSize: number; compression: number }, file: string, max: number): void {
  const entry = quoteText(f.name, 60);
  if (f.compression !== 0 && f.compression !== 8) throw inputError(`entry ${entry} uses zip compression method ${f.compression}; numpy writes only stored (0) or deflated (8) entries`, file);
  if (f.originalSize > max) {
    throw inputError(`entry ${entry} inflates to ${formatBytes(f.originalSize)}, more than the limit of ${formatBytes(max)}; raise ${MAX_DATA_BYTES_ENV} if the file is trusted`, file);
  }
  if (f.compression === 0 && f.originalSize !== f.size) throw inputError(`entry ${entry} is stored with ${f.size} bytes but declares ${f.originalSize}; the archive is damaged`, file);
  if (f.compression === 8 && f.originalSize > DEFLATE_MAX_RATIO * f.size + 1024) {
    throw inputError(`entry ${entry} declares ${f.originalSize} bytes from ${f.size} compressed, more than deflate can produce; the archive is damaged`, file);
  }
}
