/**
 * The result file of each pair of `landscape path --pairs … --out FOLDER`:
 * `<labelA>__<labelB>.path.json`, where a label is the checkpoint's path
 * relative to the folder all the file's checkpoints share, `.safetensors`
 * dropped and folders joined by `_` (runs/s1/final.safetensors and
 * runs/s2/final.safetensors: s1_final__s2_final.path.json).
 */
import * as path from 'path';
import { inputError } from '../../engine/errors';
import { commonFolder } from '../../results/barrierFiles';
import { PATH_RESULT_SUFFIX } from '../../results/path';
import type { PairsFileEntry } from './pathPairsFile';

/** Bytes of one label in a file name, so that both and the suffix stay within 255 bytes. */
const LABEL_BYTES = 110;

/** The last `max` bytes' worth of whole characters of `s`. */
function tailBytes(s: string, max: number): string {
  let t = s;
  while (Buffer.byteLength(t) > max) t = t.slice(t.codePointAt(0)! > 0xffff ? 2 : 1);
  return t;
}

/** A checkpoint's label in file names: its path from `base`, folders joined by "_". */
export function fileLabel(file: string, base: string): string {
  let rel = path.relative(base, file);
  if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) rel = path.basename(file);
  // A tfjs model is a folder: its model.json says little, the folder's name says which one.
  if (path.basename(rel).toLowerCase() === 'model.json') rel = path.dirname(rel) === '.' ? path.basename(path.dirname(file)) : path.dirname(rel);
  rel = rel.replace(/\.safetensors$/i, '');
  return tailBytes(rel.split(/[\\/]+/).filter((p) => p !== '').join('_'), LABEL_BYTES) || 'checkpoint';
}

/** Each pair's result file name (in file order); two pairs that would share a name are refused, naming both lines. */
export function pairResultNames(pairsFile: string, files: readonly string[], pairs: readonly PairsFileEntry[]): string[] {
  const base = commonFolder(files);
  const labels = files.map((f) => fileLabel(f, base));
  const taken = new Map<string, number>();
  return pairs.map((p) => {
    const name = `${labels[p.i]}__${labels[p.j]}${PATH_RESULT_SUFFIX}`;
    const first = taken.get(name);
    if (first !== undefined) {
      throw inputError(`${pairsFile}:${p.line}: its result file ${name} would be the same as line ${first}'s; rename a checkpoint or its folder so that their paths differ by more than "_" and "/"`);
    }
    taken.set(name, p.line);
    return name;
  });
}
