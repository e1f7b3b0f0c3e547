/**
 * Result files: what a result panel shows, saved as JSON beside the
 * checkpoints it was computed from, so the panel reopens (and restores after
 * a window reload) without recomputing. From format 2 on, a result file is
 * the result itself, as the CLI writes it (each kind's reader:
 * src/host/analysisFiles.ts, barrierFiles.ts, through currentFormat below). Landscape 0.1.0 wrapped the
 * extension's results, which still open (unwrapResult):
 *
 *   { "landscapeResult": 1, "kind": "<kind>", "saved": "<ISO time>", "data": { "kind": "<kind>", ... } }
 *
 * Node (fs), no vscode: the host, the worker, the CLI and tests read these;
 * not for the webviews.
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeJsonAtomic } from '../engine/checkpoint/atomic';
import { inputError } from '../engine/errors';
import { ResultDataSchema, type ResultData, type ResultKind } from './index';
import { validate, type Schema } from '../schema';

export const RESULT_FILE_VERSION = 1;
export const RESULT_FILE_SUFFIX = '.result.json';
export const MAX_RESULT_BYTES = 200 * 1024 * 1024;

export interface ResultFile<K extends ResultKind = ResultKind> {
  landscapeResult: typeof RESULT_FILE_VERSION;
  kind: K;
  saved: string;
  data: Extract<ResultData, { kind: K }>;
}

/** Atomically write a result beside its inputs. The data is validated first: a panel must be able to show it. */
export function saveResultFile<K extends ResultKind>(file: string, data: Extract<ResultData, { kind: K }>, now = new Date()): void {
  const v = validate(ResultDataSchema, data, 'result');
  if (!v.ok) throw inputError(`refusing to save an invalid result (${v.error})`, file);
  const body: ResultFile<K> = { landscapeResult: RESULT_FILE_VERSION, kind: data.kind as K, saved: now.toISOString(), data };
  writeJsonAtomic(file, body);
}

/** The parsed JSON of a result file of any origin, size-limited; faults name the file. */
export function readResultJson(file: string): unknown {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    throw inputError('result file not found', file);
  }
  if (size > MAX_RESULT_BYTES) throw inputError(`result file is too large (${size} bytes, limit ${MAX_RESULT_BYTES})`, file);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw inputError(`result file is not valid JSON (${(e as Error).message})`, file);
  }
}

/** Read and check a result file; `kind` (when given) must match. Every fault names the file. */
export function readResultFile(file: string, kind?: ResultKind): ResultFile {
  const raw = readResultJson(file);
  const o = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  if (o.landscapeResult !== RESULT_FILE_VERSION) throw inputError(`not a Landscape result file (version ${RESULT_FILE_VERSION} expected)`, file);
  const v = validate(ResultDataSchema, o.data, 'data');
  if (!v.ok) throw inputError(`result file is damaged: ${v.error}`, file);
  if (o.kind !== v.value.kind) throw inputError(`result file says kind "${String(o.kind)}" but holds "${v.value.kind}"`, file);
  if (kind && v.value.kind !== kind) throw inputError(`holds a ${v.value.kind} result, not ${kind}`, file);
  return { landscapeResult: RESULT_FILE_VERSION, kind: v.value.kind, saved: typeof o.saved === 'string' ? o.saved : '', data: v.value };
}

/**
 * When a result file was saved, as local date and time: the `saved` field of
 * a wrapped file, else (a result written as itself) the file's modification
 * time; undefined if unreadable.
 */
export function resultFileDate(file: string): string | undefined {
  try {
    const raw = readResultJson(file) as Record<string, unknown> | null;
    const wrapped = typeof raw === 'object' && raw !== null && 'landscapeResult' in raw;
    const d = wrapped ? new Date(readResultFile(file).saved) : fs.statSync(file).mtime;
    return Number.isNaN(d.getTime()) ? undefined : d.toLocaleString();
  } catch {
    return undefined;
  }
}

/**
 * How a kind's file is read (format 2 on: the file is the result itself, as
 * the CLI writes it): its version, schema, the upgrade of a format-1
 * document and the settings table of a valid result.
 */
export interface ResultFormat<T extends { settings: [string, string][] }> {
  version: number;
  schema: Schema<unknown>;
  /** A format-1 document (the CLI's or the extension's) as the current format, settings left empty. */
  upgrade(doc: Record<string, unknown>): Record<string, unknown>;
  /** The settings table of a valid result. */
  settings(data: T): [string, string][];
}

/** The result inside a file: the extension's format-1 files wrap it in {"landscapeResult": 1, "data"}. */
export function unwrapResult(outer: Record<string, unknown>): Record<string, unknown> {
  return 'landscapeResult' in outer && typeof outer.data === 'object' && outer.data !== null ? (outer.data as Record<string, unknown>) : outer;
}

/** A file of a later format than this version reads is refused, saying so. */
function refuseNewer(doc: Record<string, unknown>, current: number, file: string): void {
  const version = doc.formatVersion;
  if (typeof version === 'number' && version > current) {
    throw inputError(`was written by a newer Landscape (format ${version}; this version reads up to ${current}); update Landscape to open it`, file);
  }
}

/** The document as the current format of its kind: upgraded from format 1, refused when newer, validated. */
export function currentFormat<T extends { settings: [string, string][] }>(doc: Record<string, unknown>, format: ResultFormat<T>, file: string): T {
  refuseNewer(doc, format.version, file);
  const upgrade = doc.formatVersion !== format.version;
  const v = validate(format.schema, upgrade ? format.upgrade(doc) : doc, 'result');
  if (!v.ok) throw inputError(`is not a valid result (damaged, or not written by Landscape): ${v.error}`, file);
  const data = v.value as T;
  return upgrade ? { ...data, settings: format.settings(data) } : data;
}

/**
 * Save a result as itself (format 2 on), validated first so a panel can show
 * it, its paths (`mapPaths` finds them) relative to the file so a workspace
 * can move.
 */
export function saveResultAsIs<T>(file: string, data: T, schema: Schema<unknown>, mapPaths: (d: T, f: (p: string) => string) => T): void {
  const dir = path.dirname(path.resolve(file));
  const rel = (p: string) => {
    const r = path.relative(dir, p);
    return (r === '' ? '.' : r).split(path.sep).join('/');
  };
  const v = validate(schema, data, 'result');
  if (!v.ok) throw inputError(`refusing to save an invalid result (${v.error})`, file);
  writeJsonAtomic(file, mapPaths(data, rel));
}
