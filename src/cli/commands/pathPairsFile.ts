/**
 * The pairs file of `landscape path --pairs FILE`: plain text, one pair per
 * line, two checkpoint paths separated by whitespace (a path with spaces in
 * double quotes). Blank lines and lines starting with `#` are skipped.
 * Relative paths are read from the file's own folder, so a pairs file can
 * sit beside the runs it names. Every fault names the file and the line.
 *
 * Pure: text in, checkpoints and pairs out. The file system is reached only
 * through the two functions the caller passes (whether a file exists, and
 * which name stands for a file, so that two spellings of one file count as
 * the same file).
 */
import * as path from 'path';
import { inputError, type LandscapeError } from '../../engine/errors';
import { quoteText } from '../../engine/text';

/** The most pairs one file may list (each pair is a path search of seconds to hours). */
export const MAX_PAIRS = 100_000;

export interface PairsFileEntry {
  /** 1-based line number in the file. */
  line: number;
  /** Indices into `files`. */
  i: number;
  j: number;
}

export interface PairsFile {
  /** Every checkpoint, once, in order of first mention: absolute paths, relative ones resolved against the file's folder. */
  files: string[];
  /** The pairs in file order. */
  pairs: PairsFileEntry[];
}

export interface PairsFileOptions {
  /** Whether a checkpoint exists; unchecked when absent. */
  exists?: (file: string) => boolean;
  /** The identity of a file (e.g. its real path). Default: the absolute path. */
  identity?: (file: string) => string;
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

const SPACE = /\s/;

/** The whitespace-separated words of a line; a word in double quotes may hold spaces. */
function words(text: string, at: string): string[] {
  const out: string[] = [];
  let k = 0;
  while (k < text.length) {
    if (SPACE.test(text[k])) {
      k++;
    } else if (text[k] === '"') {
      const close = text.indexOf('"', k + 1);
      if (close < 0) throw inputError(`${at}: a path opened with " has no closing "; expected "path with spaces"`);
      if (close + 1 < text.length && !SPACE.test(text[close + 1])) throw inputError(`${at}: expected a space after the closing " of a quoted path`);
      out.push(text.slice(k + 1, close));
      k = close + 1;
    } else {
      let e = k;
      while (e < text.length && !SPACE.test(text[e])) e++;
      out.push(text.slice(k, e));
      k = e;
    }
  }
  return out;
}

function checkPath(p: string, at: string): void {
  if (p === '') throw inputError(`${at}: empty path ""; expected two checkpoint paths`);
  if (CONTROL.test(p)) throw inputError(`${at}: path ${quoteText(p, 120)} holds a control character; check the file`);
}

function pairLine(text: string, at: string): [string, string] | undefined {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return undefined;
  const w = words(trimmed, at);
  if (w.length !== 2) {
    const hint = w.length > 2 ? ' (put a path with spaces in double quotes; a # comment needs a line of its own)' : '';
    throw inputError(`${at}: expected two checkpoint paths, got ${w.length}${hint}`);
  }
  for (const p of w) checkPath(p, at);
  return [w[0], w[1]];
}

/** Parse the pairs file `file` (its name, as given, is used for the folder and in messages). */
export function parsePairsFile(text: string, file: string, opts: PairsFileOptions = {}): PairsFile {
  const folder = path.dirname(path.resolve(file));
  const identity = opts.identity ?? ((p: string) => p);
  const files: string[] = [];
  const byId = new Map<string, number>();
  const seen = new Map<string, number>();
  const pairs: PairsFileEntry[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const index = (p: string, at: string): number => {
    const abs = path.resolve(folder, p);
    const id = identity(abs);
    let k = byId.get(id);
    if (k === undefined) {
      if (opts.exists && !opts.exists(abs)) throw missing(p, abs, at);
      k = files.push(abs) - 1;
      byId.set(id, k);
    }
    return k;
  };
  lines.forEach((text, n) => {
    const at = `${file}:${n + 1}`;
    const two = pairLine(text, at);
    if (!two) return;
    const [i, j] = [index(two[0], at), index(two[1], at)];
    if (i === j) throw inputError(`${at}: both paths name the same checkpoint ${quoteText(files[i], 200)}; expected two different files`);
    const key = i < j ? `${i},${j}` : `${j},${i}`;
    const first = seen.get(key);
    if (first !== undefined) throw inputError(`${at}: this pair is listed twice (first on line ${first}, in either order); remove one`);
    if (pairs.length >= MAX_PAIRS) throw inputError(`${at}: more than ${MAX_PAIRS} pairs; split the file`);
    seen.set(key, n + 1);
    pairs.push({ line: n + 1, i, j });
  });
  if (pairs.length === 0) throw inputError(`has no pairs (every line is blank or a # comment); expected lines of two checkpoint paths, e.g. runs/a/final.safetensors runs/b/final.safetensors`, file);
  return { files, pairs };
}

function missing(p: string, abs: string, at: string): LandscapeError {
  const where = p === abs ? '' : ` (read as ${quoteText(abs, 200)}: relative paths are read from the pairs file's folder)`;
  return inputError(`${at}: checkpoint ${quoteText(p, 200)} not found${where}; check the path`);
}
