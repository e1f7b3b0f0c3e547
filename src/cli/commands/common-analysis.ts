/**
 * What the analysis commands (kpca, hessian, gradcheck, slice) share: their
 * common flags, finding checkpoint files, short labels, metadata numbers,
 * and writing the result (--json on stdout, --out as an atomic JSON file).
 */
import * as fs from 'fs';
import * as path from 'path';
import type { FlagSpec } from '../args';
import type { Io } from '../output';
import type { FileArgs } from './types';
import { BACKEND_CHOICES } from '../../engine/backend';
import { inputError } from '../../engine/errors';
import { writeJsonAtomic } from '../../engine/checkpoint/atomic';
import { checkpointsInFolder } from '../../engine/checkpointAnalysis';
import { LANDSCAPE_VERSION } from '../../engine/version';

// Shared with the VS Code worker; re-exported for the commands that import them from here.
export { checkpointsInFolder, metaNumber, shortLabels } from '../../engine/checkpointAnalysis';

export const TENSOR_MAP_FLAG: FlagSpec = {
  name: 'tensor-map',
  type: 'string',
  description: 'for PyTorch files whose tensor names cannot decide the layer order: a JSON file mapping each of the model\'s tensor names (layers.0.weight, …) to the file\'s',
  metavar: 'file.json',
};

export const COMMON_FLAGS: FlagSpec[] = [
  { name: 'model', type: 'string', description: 'model spec, for checkpoints without Landscape metadata (e.g. "64-32-10 relu no-bias")', metavar: 'spec' },
  { name: 'backend', type: 'string', description: 'tfjs backend (also LANDSCAPE_BACKEND)', choices: BACKEND_CHOICES, defaultText: 'auto' },
  { name: 'out', type: 'string', description: 'also write the result as JSON to this file (atomically)', metavar: 'file.json' },
  { name: 'json', type: 'boolean', description: 'print the result as one JSON object instead of a table' },
  TENSOR_MAP_FLAG,
];

export const DATASET_FLAG: FlagSpec = {
  name: 'dataset',
  type: 'string',
  description: 'dataset of the objective (default: the one in the checkpoint metadata)',
  metavar: 'name|path',
};

export const SUBSET_FLAG: FlagSpec = {
  name: 'subset',
  type: 'int',
  description: 'keep this many rows of the data (seeded, stratified by class)',
  defaultText: 'the subset in the checkpoint metadata, else all',
};

/** --subset as given (a whole number ≥ 2), or undefined. */
export function subsetFlag(v: unknown): number | undefined {
  return positiveInt(v, 'subset', 2);
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

/**
 * The file arguments of a one-checkpoint analysis (hessian, gradcheck, slice):
 * the checkpoint, --dataset and --out, plus the flags that make it quick in
 * the file-argument tests.
 */
export function checkpointAnalysisFiles(quick: string[]): FileArgs {
  return {
    slots: [
      { at: 0, kind: 'checkpoint', required: true },
      { at: '--dataset', kind: 'dataset' },
      { at: '--out', kind: 'outFile' },
    ],
    quick,
  };
}


/** loadAnyCheckpoint's options from the parsed flags: the --tensor-map file, when given. */
export function tensorMapOption(f: Record<string, unknown>): { tensorMap?: Record<string, string> } {
  return { tensorMap: readTensorMap(f.tensorMap as string | undefined) };
}

/** The --tensor-map file: a JSON object of our tensor names to the checkpoint's, strings only. */
export function readTensorMap(file: string | undefined): Record<string, string> | undefined {
  if (file === undefined) return undefined;
  requireFile(file);
  if (fs.statSync(file).size > 4 * 1024 * 1024) throw inputError('is too large for a tensor map (at most 4 MiB)', file);
  let v: unknown;
  try {
    v = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw inputError(`is not valid JSON (${(e as Error).message.slice(0, 200)})`, file);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string')) {
    throw inputError('must hold a JSON object of tensor names, e.g. {"layers.0.weight": "features.0.weight"}', file);
  }
  return v as Record<string, string>;
}
