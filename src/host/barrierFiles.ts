/**
 * Where barrier results live and how they are written: one path as
 * `<A-stem>__<B>.path.json` in A's folder, all pairs as `barriers.json` in
 * the folder they were computed for. Paths of the minima are stored relative
 * to the result file, so a workspace can move; they become absolute again
 * when read.
 *
 * Pure (no vscode, no tfjs): the worker writes these files and the host reads
 * them; unit tests do both.
 */
import * as path from 'path';
import type { MinimumRef } from '../protocol';
export { flattenTree, type TreeNode } from '../results/barriers';
import { BARRIERS_FILE, type BarrierMatrix } from '../results/barriers';
import { PATH_RESULT_SUFFIX, type BarrierPath } from '../results/path';
import { inputError } from '../engine/errors';
import { readResultFile, saveResultFile, type ResultFile } from './resultFiles';

export { BARRIERS_FILE, PATH_RESULT_SUFFIX };

export type BarrierResult = BarrierPath | BarrierMatrix;

function stem(file: string): string {
  const base = path.basename(file);
  // A tfjs model is a folder: its model.json says little, the folder's name says which one.
  if (base.toLowerCase() === 'model.json') return path.basename(path.dirname(file)) || 'model';
  return base.replace(/\.(safetensors|json)$/i, '');
}

function clean(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+|-+$/g, '') || 'x';
}

/**
 * `<A-stem>__<B>.path.json` in A's folder. B is named by its path from A's
 * folder (folders joined by "-"), so run1/final ↔ run2/final and
 * run1/final ↔ run3/final do not overwrite each other.
 */
export function pathResultFile(a: string, b: string): string {
  const dirA = path.dirname(a);
  let relB = path.relative(dirA, b);
  if (path.basename(relB).toLowerCase() === 'model.json') relB = path.dirname(relB);
  else relB = relB.replace(/\.(safetensors|json)$/i, '');
  const parts = relB.split(/[\\/]+/).filter((p) => p && p !== '..' && p !== '.');
  const bName = clean(parts.join('-')).slice(-120);
  return path.join(dirA, `${clean(stem(a)).slice(0, 120)}__${bName}${PATH_RESULT_SUFFIX}`);
}

/** How a minimum is named in tables and legends: its path from the common folder, shortened. */
export function minimumLabel(file: string, base: string): string {
  let rel = path.relative(base, file);
  if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) rel = file;
  if (path.basename(rel).toLowerCase() === 'model.json') rel = path.dirname(rel);
  rel = rel.replace(/\.safetensors$/i, '').split(path.sep).join('/');
  // Run folders keep their checkpoints in checkpoints/; the run's name says more than the folder.
  rel = rel.replace(/\/checkpoints\//, '/');
  return rel.length > 80 ? `…${rel.slice(-79)}` : rel;
}

/** The deepest folder holding every file. */
export function commonFolder(files: readonly string[]): string {
  if (files.length === 0) throw new Error('no files');
  let dir = path.dirname(files[0]);
  for (const f of files.slice(1)) {
    while (!isWithin(dir, f)) {
      const up = path.dirname(dir);
      if (up === dir) return dir;
      dir = up;
    }
  }
  return dir;
}

function isWithin(dir: string, file: string): boolean {
  const rel = path.relative(dir, file);
  return !rel.startsWith('..') && !path.isAbsolute(rel);
}

export function isBarrierResultFile(file: string): boolean {
  const base = path.basename(file).toLowerCase();
  return base.endsWith(PATH_RESULT_SUFFIX) || base === BARRIERS_FILE;
}

function mapPaths<T extends BarrierResult>(data: T, f: (p: string) => string): T {
  const ref = (m: MinimumRef): MinimumRef => ({ ...m, path: f(m.path) });
  if (data.kind === 'barrierPath') return { ...data, a: ref(data.a), b: ref(data.b) } as T;
  return { ...data, folder: f(data.folder), minima: data.minima.map(ref) } as T;
}

/** Save a barrier result with its minima's paths relative to the file. */
export function saveBarrierResult(file: string, data: BarrierResult, now = new Date()): void {
  const dir = path.dirname(path.resolve(file));
  const rel = (p: string) => {
    const r = path.relative(dir, p);
    return (r === '' ? '.' : r).split(path.sep).join('/');
  };
  saveResultFile(file, mapPaths(data, rel), now);
}

/** Read a barrier result (either kind), its minima's paths made absolute again. */
export function readBarrierResult(file: string): ResultFile & { data: BarrierResult } {
  const r = readResultFile(file);
  if (r.data.kind !== 'barrierPath' && r.data.kind !== 'barrierMatrix') {
    throw inputError(`holds a ${r.data.kind} result, not a barrier result`, file);
  }
  const dir = path.dirname(path.resolve(file));
  const abs = (p: string) => (path.isAbsolute(p) ? p : path.resolve(dir, p));
  return { ...r, data: mapPaths(r.data, abs) };
}
