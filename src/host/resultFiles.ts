/**
 * Result files: what a result panel shows, saved as JSON beside the
 * checkpoints it was computed from, so the panel reopens (and restores after
 * a window reload) without recomputing. Barrier, kernel-PCA and slice results
 * use this; a training run's result is its run folder (run.json and
 * metrics.jsonl), which the engine writes already.
 *
 *   { "landscapeResult": 1, "kind": "<kind>", "saved": "<ISO time>", "data": { "kind": "<kind>", ... } }
 *
 * No vscode import: the CLI or tests can write and read these too.
 */
import * as fs from 'fs';
import { writeJsonAtomic } from '../engine/checkpoint/atomic';
import { inputError } from '../engine/errors';
import { ResultDataSchema, type ResultData, type ResultKind } from '../protocol';
import { validate } from '../schema';

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
