/**
 * Where barrier results live and how they are written and read: one path as
 * `<A-stem>__<B>.path.json` in A's folder, all pairs as `barriers.json` in
 * the folder they were computed for. Paths of the minima are stored relative
 * to the result file, so a workspace can move; they become absolute again
 * when read. Reading validates with the kind's schema (src/results/path.ts,
 * barriers.ts), after upgrading a format-1 file (the CLI's or the extension's).
 *
 * Node (fs, path), no vscode, no tfjs: the worker writes these files, the
 * host and the CLI's tests read them. The webviews never import this module
 * (src/results/index.ts, which they do, stays browser-safe).
 */
import * as path from 'path';
import { inputError } from '../engine/errors';
import { BARRIERS_FILE, BARRIERS_FORMAT_VERSION, BarrierMatrixSchema, barriersSettings, CLI_BARRIERS_KIND_V1, flattenTree, upgradeBarriers, type BarrierMatrix } from './barriers';
import { BarrierPathSchema, CLI_PATH_KIND_V1, PATH_FORMAT_VERSION, PATH_RESULT_SUFFIX, pathSettings, upgradePath, type BarrierPath } from './path';
import { resolveRecordedPath, resultKindOf } from './resultKind';
import { currentFormat, readResultJson, saveResultAsIs, unwrapResult, type ResultFormat } from './resultFiles';

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
 * run1/final ↔ run3/final do not overwrite each other. A curve's result is
 * `<A-stem>__<B>.<method>.path.json`, so switching landscape.path.method
 * computes the curve beside the FourierPathFinder path instead of offering
 * the other method's saved result.
 */
export function pathResultFile(a: string, b: string, method: 'fourier' | 'bezier' | 'polychain' = 'fourier'): string {
  const dirA = path.dirname(a);
  let relB = path.relative(dirA, b);
  if (path.basename(relB).toLowerCase() === 'model.json') relB = path.dirname(relB);
  else relB = relB.replace(/\.(safetensors|json)$/i, '');
  const parts = relB.split(/[\\/]+/).filter((p) => p && p !== '..' && p !== '.');
  const bName = clean(parts.join('-')).slice(-120);
  const curve = method === 'fourier' ? '' : `.${method}`;
  return path.join(dirA, `${clean(stem(a)).slice(0, 120)}__${bName}${curve}${PATH_RESULT_SUFFIX}`);
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

function mapPaths<T extends BarrierResult>(d: T, f: (p: string) => string): T {
  if (d.kind === 'barrierPath') return { ...d, ...(d.a !== undefined ? { a: f(d.a) } : {}), ...(d.b !== undefined ? { b: f(d.b) } : {}) };
  const m = d as BarrierMatrix;
  const ends = <E extends { a: string; b: string }>(e: E): E => ({ ...e, a: f(e.a), b: f(e.b) });
  return { ...m, folder: f(m.folder), files: m.files.map(f), pairs: m.pairs.map(ends), errors: m.errors.map(ends) } as T;
}

/** Each barrier kind's format (format 2 on: the file is the result itself, as the CLI writes it). */
const FORMATS: { barrierPath: ResultFormat<BarrierPath>; barrierMatrix: ResultFormat<BarrierMatrix> } = {
  barrierPath: { version: PATH_FORMAT_VERSION, schema: BarrierPathSchema, upgrade: upgradePath, settings: pathSettings },
  barrierMatrix: { version: BARRIERS_FORMAT_VERSION, schema: BarrierMatrixSchema, upgrade: upgradeBarriers, settings: barriersSettings },
};

/** Save a barrier result with its minima's paths relative to the file. */
export function saveBarrierResult(file: string, data: BarrierResult): void {
  saveResultAsIs(file, data, FORMATS[data.kind].schema, mapPaths);
}

/** Which barrier kind a document holds: format 2's "kind", or the CLI's format-1 kinds. */
function barrierKindOfDoc(doc: Record<string, unknown>): BarrierResult['kind'] | undefined {
  if (doc.kind === 'barrierPath' || doc.kind === CLI_PATH_KIND_V1) return 'barrierPath';
  if (doc.kind === 'barrierMatrix' || doc.kind === CLI_BARRIERS_KIND_V1) return 'barrierMatrix';
  return undefined;
}

/**
 * Read a barrier result (either kind, or `kind` when given), its paths made
 * absolute again: the file's own folder first, then `roots` (the CLI records
 * paths as it was given them). Files of format 1 (the CLI's and the
 * extension's) open through the kind's upgrade function.
 */
export function readBarrierResult<K extends BarrierResult['kind']>(file: string, kind?: K, roots: readonly string[] = []): { data: Extract<BarrierResult, { kind: K }> } {
  const raw = readResultJson(file);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw inputError('is not a Landscape result (not a JSON object)', file);
  const doc = unwrapResult(raw as Record<string, unknown>);
  const found = barrierKindOfDoc(doc);
  if (!found) throw inputError(`holds a ${resultKindOf(raw as Record<string, unknown>, file)} result, not ${kind === 'barrierPath' ? 'one path' : kind ? 'all-pairs barriers' : 'a barrier result'}`, file);
  if (kind && found !== kind) throw inputError(`holds ${found === 'barrierPath' ? 'one path' : 'all-pairs barriers'}, not ${kind === 'barrierPath' ? 'one path' : 'all-pairs barriers'}`, file);
  const data: BarrierResult = found === 'barrierPath' ? currentFormat(doc, FORMATS.barrierPath, file) : currentFormat(doc, FORMATS.barrierMatrix, file);
  if (data.kind === 'barrierMatrix') checkTree(data, file);
  return { data: mapPaths(data, (p) => resolveRecordedPath(p, file, roots)) as Extract<BarrierResult, { kind: K }> };
}

/** The schema checks the tree's shape; its leaves must also be the result's minima. */
function checkTree(d: BarrierMatrix, file: string): void {
  try {
    flattenTree(d.tree, d.files.length);
  } catch (e) {
    throw inputError(`has an unreadable disconnectivity tree (${(e as Error).message})`, file);
  }
}
