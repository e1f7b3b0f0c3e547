/**
 * Which pairs of `landscape path --pairs … --out FOLDER` an earlier run
 * already finished: a pair's result file is reused when it parses as a path
 * result and was computed from the same checkpoints (the SHA-256 of both
 * parameter vectors, in the same order), with the same path options as
 * asked for, on the same data, network and backend (its `inputs`, `dataset`,
 * `model` and `backend`). Anything else is computed again and overwritten.
 */
import * as fs from 'fs';
import { isDeepStrictEqual } from 'util';
import { validate } from '../../schema';
import { BarrierPathSchema, type BarrierPath, type PathInputs } from '../../results/path';
import { readResultJson } from '../../results/resultFiles';
import type { DatasetRecord } from '../../results/shapes';

/** What a saved pair must have been computed from to be reused. */
export interface PairQuestion {
  inputs: PathInputs;
  model: string;
  dataset: DatasetRecord;
  backend: string;
}

export type SavedPair =
  /** No file: the pair is new. */
  | { kind: 'none' }
  /** A result of this very question. */
  | { kind: 'reuse'; doc: BarrierPath }
  /** A file that is not this question's result (other options or checkpoints, damaged, or not a path result); `why` says which. */
  | { kind: 'stale'; why: string };

/** As the question would read back from a file (no undefined members). */
function asSaved<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

function difference(doc: BarrierPath, want: PairQuestion): string | undefined {
  if (!doc.inputs) return 'it does not record what it was computed from (written before path --pairs)';
  if (doc.inputs.a !== want.inputs.a || doc.inputs.b !== want.inputs.b) return 'the checkpoints changed';
  if (!isDeepStrictEqual(doc.inputs.options, want.inputs.options)) return 'other path options';
  if (doc.model !== want.model) return 'another network';
  if (!isDeepStrictEqual(doc.dataset, want.dataset)) return 'other data';
  if (doc.backend !== want.backend) return `another backend (${doc.backend})`;
  return undefined;
}

/** The saved result in `file`, when it answers `want`. */
export function savedPair(file: string, want: PairQuestion): SavedPair {
  if (!fs.existsSync(file)) return { kind: 'none' };
  let raw: unknown;
  try {
    raw = readResultJson(file);
  } catch (e) {
    return { kind: 'stale', why: (e as Error).message };
  }
  const v = validate(BarrierPathSchema, raw, 'result');
  if (!v.ok) return { kind: 'stale', why: `not a current path result (${v.error})` };
  const why = difference(v.value, asSaved(want));
  return why === undefined ? { kind: 'reuse', doc: v.value } : { kind: 'stale', why };
}
