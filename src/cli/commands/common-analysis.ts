/**
 * What the analysis commands (kpca, hessian, gradcheck, slice) share: their
 * common flags, finding checkpoint files, short labels, metadata numbers,
 * and writing the result (--json on stdout, --out as an atomic JSON file).
 */
import * as fs from 'fs';
import * as path from 'path';
import type { FlagSpec } from '../args';
import type { Io } from '../output';
import { BACKEND_CHOICES } from '../../engine/backend';
import { inputError } from '../../engine/errors';
import { isAtomicTempFile, writeJsonAtomic } from '../../engine/checkpoint/atomic';
import { LANDSCAPE_VERSION } from '../../engine/version';

export const COMMON_FLAGS: FlagSpec[] = [
  { name: 'model', type: 'string', description: 'model spec, for checkpoints without Landscape metadata (e.g. "64-32-10 relu no-bias")', metavar: 'spec' },
  { name: 'backend', type: 'string', description: 'tfjs backend (also LANDSCAPE_BACKEND)', choices: BACKEND_CHOICES, defaultText: 'auto' },
  { name: 'out', type: 'string', description: 'also write the result as JSON to this file (atomically)', metavar: 'file.json' },
  { name: 'json', type: 'boolean', description: 'print the result as one JSON object instead of a table' },
];

export const DATASET_FLAG: FlagSpec = {
  name: 'dataset',
  type: 'string',
  description: 'dataset of the objective (default: the one in the checkpoint metadata)',
  metavar: 'name|file.csv',
};

/** Most files a folder argument may expand to; kernel PCA of more is a different tool. */
const MAX_FOLDER_FILES = 5000;

function isCheckpointFile(name: string): boolean {
  return /\.safetensors$/i.test(name) && !isAtomicTempFile(name);
}

/** Every checkpoint under a folder (recursively, skipping hidden folders and node_modules), in path order. */
export function checkpointsInFolder(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string, depth: number) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch (e) {
      throw inputError(`cannot read the folder (${(e as NodeJS.ErrnoException).code ?? String(e)})`, d);
    }
    entries.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        if (depth < 6 && !e.name.startsWith('.') && e.name !== 'node_modules') walk(p, depth + 1);
      } else if (e.isFile() && isCheckpointFile(e.name)) {
        found.push(p);
        if (found.length > MAX_FOLDER_FILES) throw inputError(`holds more than ${MAX_FOLDER_FILES} checkpoints; pass a smaller folder or the files themselves`, dir);
      }
    }
  };
  walk(dir, 0);
  return found;
}

/** Files as given, folders expanded to the checkpoints inside; a missing path is bad input naming it. */
export function expandCheckpointArgs(args: string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    let st: fs.Stats;
    try {
      st = fs.statSync(a);
    } catch {
      throw inputError('file or folder not found; check the path', a);
    }
    if (st.isDirectory()) {
      if (fs.existsSync(path.join(a, 'model.json'))) {
        out.push(a);
        continue;
      }
      const inside = checkpointsInFolder(a);
      if (inside.length === 0) throw inputError('is a folder without any .safetensors checkpoints; pass checkpoint files, or a folder that holds some (e.g. a run folder)', a);
      out.push(...inside);
    } else out.push(a);
  }
  return out;
}

/** One existing file (not a folder), for commands that take a single checkpoint per argument. */
export function requireFile(file: string): string {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    throw inputError('file not found; check the path', file);
  }
  if (st.isDirectory() && !fs.existsSync(path.join(file, 'model.json'))) {
    throw inputError('is a folder, not a checkpoint; give a .safetensors file', file);
  }
  return file;
}

/**
 * The shortest trailing part of each path that tells them apart, e.g.
 * "run-a/final.safetensors" and "run-b/final.safetensors", for tables and plot labels.
 */
export function shortLabels(files: string[]): string[] {
  const parts = files.map((f) => path.resolve(f).split(path.sep).filter(Boolean));
  const labels = parts.map((p) => p[p.length - 1]);
  for (let round = 2; round <= Math.max(2, ...parts.map((p) => p.length)); round++) {
    const count = new Map<string, number>();
    for (const l of labels) count.set(l, (count.get(l) ?? 0) + 1);
    let clash = false;
    labels.forEach((l, i) => {
      if ((count.get(l) ?? 0) > 1 && parts[i].length >= round) {
        labels[i] = parts[i].slice(-round).join('/');
        clash = true;
      }
    });
    if (!clash) break;
  }
  return labels;
}

/** A finite number from checkpoint metadata, or undefined (never NaN). */
export function metaNumber(meta: Record<string, string>, key: string): number | undefined {
  const s = meta[key];
  if (s === undefined || s.trim() === '') return undefined;
  const v = Number(s);
  return Number.isFinite(v) ? v : undefined;
}

/** "a,b" into a finite increasing pair. */
export function parseRange(s: string | undefined, flag: string): [number, number] | undefined {
  if (s === undefined) return undefined;
  const m = s.split(',').map((p) => p.trim());
  const v = m.map(Number);
  if (m.length !== 2 || m.some((p) => p === '') || !v.every(Number.isFinite)) {
    throw inputError(`--${flag} needs two numbers "from,to", e.g. --${flag} -0.5,1.5; got "${s}"`);
  }
  if (!(v[1] > v[0])) throw inputError(`--${flag} must go from low to high, got "${s}"`);
  return [v[0], v[1]];
}

export function positiveInt(v: unknown, flag: string, min = 1): number | undefined {
  if (v === undefined) return undefined;
  const n = v as number;
  if (!Number.isInteger(n) || n < min) throw inputError(`--${flag} must be a whole number ≥ ${min}, got ${n}`);
  return n;
}

/**
 * Refuse an --out path that cannot be written, before any computation: a
 * path through a file, or a folder where a file is meant (unless the command
 * accepts a folder and picks the name itself).
 */
export function checkOutputPath(out: string | undefined, folderOk = false): void {
  if (out === undefined) return;
  if (out.trim() === '') throw inputError('--out needs a file name, e.g. --out result.json');
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(out);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') throw inputError('cannot be written: part of the path is a file, not a folder; choose another --out', out);
  }
  if (st?.isDirectory() && !folderOk) throw inputError('is a folder; give --out a file name, e.g. result.json', out);
}

/**
 * Emit a finished result: the JSON object on stdout with --json, else the
 * table; with --out also the JSON file. The file is written before anything
 * is printed, so a failed write is the only output.
 */
export function emitResult(io: Io, f: Record<string, unknown>, result: Record<string, unknown>, renderTable: () => string[]): void {
  const full = { ...result, landscapeVersion: LANDSCAPE_VERSION };
  const out = f.out as string | undefined;
  if (out) {
    try {
      fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
    } catch (e) {
      throw inputError(`cannot create the folder for --out (${(e as NodeJS.ErrnoException).code ?? String(e)}); choose another --out`, out);
    }
    writeJsonAtomic(out, full);
  }
  if (f.json) io.out(JSON.stringify(full));
  else {
    for (const line of renderTable()) io.out(line);
    if (out) io.out(`written to ${out}`);
  }
}
