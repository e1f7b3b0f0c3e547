/**
 * Computing the pairs of `landscape path --pairs` that no earlier run
 * finished: on this machine's thread pool (runPathPairs) or, with --queue,
 * on queue workers (the same runner signature). Each pair's document is made
 * and written the moment its outcome arrives, so a cancelled run keeps every
 * finished pair.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Io } from '../output';
import type { Pair } from '../../engine/path/pairs';
import { runPathPairs } from '../../engine/pool/pathPool';
import type { PairTaskOutcome, PathProblem } from '../../engine/pool/pathTask';
import { pathInputs, pathResult } from '../../engine/pathResult';
import type { DatasetRecord } from '../../results/shapes';
import { checkpointLabel } from '../../results/shapes';
import { writeResultJson } from './path';
import { withQueue } from './queueOption';
import type { PairsFile } from './pathPairsFile';
import { PairsProgress, type PairRow } from './pathPairsReport';
import type { PairsRequest } from './pathPairs';
import type { PairQuestion } from './pathPairsReuse';

/** One `path --pairs` run, set up: the request, the pairs, where their results go, and the problem every pair shares. */
export interface PairsRun {
  req: PairsRequest;
  list: PairsFile;
  /** Each pair's result file name in --out, in file order. */
  names: string[];
  /** Each checkpoint's name in tables (its path from the checkpoints' common folder). */
  labels: string[];
  /** Each checkpoint's vectorHash. */
  hashes: string[];
  problem: PathProblem;
  model: string;
  dataset: DatasetRecord;
  backend: string;
}

/** What pair `k` must have been computed from to be reused. */
export function pairQuestion(run: PairsRun, k: number): PairQuestion {
  const { i, j } = run.list.pairs[k];
  return { inputs: pathInputs(run.hashes[i], run.hashes[j], run.req.resolved), model: run.model, dataset: run.dataset, backend: run.backend };
}

/** A result file that answered another question goes when its pair fails now: the folder holds only this question's answers. */
function dropStale(run: PairsRun, k: number): void {
  if (run.req.out === undefined) return;
  try {
    fs.rmSync(path.join(run.req.out, run.names[k]), { force: true });
  } catch {
    // Left as it is: a re-run sees that it answers another question.
  }
}

/** Pair `k`'s row from its outcome; its document is written to --out first. */
function finishPair(run: PairsRun, k: number, o: PairTaskOutcome, seconds: number): PairRow {
  const p = run.list.pairs[k];
  const row = { line: p.line, labelA: run.labels[p.i], labelB: run.labels[p.j], reused: false };
  if (!o.result) {
    dropStale(run, k);
    return { ...row, doc: null, error: o.error?.message ?? 'no result' };
  }
  const [a, b] = [run.list.files[p.i], run.list.files[p.j]];
  const doc = pathResult(o.result, {
    a,
    b,
    labelA: checkpointLabel(a),
    labelB: checkpointLabel(b),
    model: run.model,
    dataset: run.dataset,
    backend: run.backend,
    seconds,
    inputs: pairQuestion(run, k).inputs,
  });
  if (run.req.out !== undefined) {
    try {
      writeResultJson(path.join(run.req.out, run.names[k]), doc);
    } catch (e) {
      return { ...row, doc: null, error: `computed, but the result could not be written: ${(e as Error).message}` };
    }
  }
  return { ...row, doc };
}

/**
 * Computes the pairs without a row in `done` and returns every pair's row in
 * file order. `announce` gets where they run, once, before the first starts.
 */
export async function computePairs(
  run: PairsRun,
  done: readonly (PairRow | undefined)[],
  f: Record<string, unknown>,
  io: Io,
  signal: AbortSignal,
  announce: (where: string) => void,
): Promise<PairRow[]> {
  const rows = [...done];
  const pending = run.list.pairs.map((_, k) => k).filter((k) => !rows[k]);
  if (pending.length === 0) {
    announce('');
    return rows as PairRow[];
  }
  const pairs = pending.map((k): Pair => [run.list.pairs[k].i, run.list.pairs[k].j]);
  const indexOf = new Map(pending.map((k, m) => [`${pairs[m][0]},${pairs[m][1]}`, k]));
  const started = new Map<number, number>();
  const progress = new PairsProgress(io, pending.length, run.req.json, (i, j) => `${run.labels[i]}↔${run.labels[j]}`);
  try {
    await withQueue(f, io, run.req.json, async (queue) => {
      const threads = Math.min(run.req.jobs, pending.length);
      announce(queue?.where ?? (threads === 1 ? 'on the main thread' : `${threads} worker threads`));
      const since = Date.now();
      await (queue?.runner ?? runPathPairs)(run.problem, pairs, {
        jobs: run.req.jobs,
        signal,
        // Written results carry the path's points, as `path --out` files do; --json prints them with --coefficients.
        keepPoints: run.req.out !== undefined || run.req.coefficients,
        onStart: ([i, j]) => started.set(indexOf.get(`${i},${j}`)!, Date.now()),
        onProgress: (p) => progress.progress(p),
        onResult: (o) => {
          const k = indexOf.get(`${o.i},${o.j}`)!;
          rows[k] = finishPair(run, k, o, (Date.now() - (started.get(k) ?? since)) / 1000);
          progress.finished(o.i, o.j, rows[k]!);
        },
      });
    });
  } finally {
    progress.clear();
  }
  return rows as PairRow[];
}
