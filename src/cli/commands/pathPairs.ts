/**
 * `landscape path --pairs FILE`: the path between each pair of checkpoints a
 * file lists, on the worker-thread pool (or the job queue with --queue), each
 * pair's result written to `--out FOLDER` as soon as it finishes, in the
 * document `landscape path A B --out` writes. A re-run reuses the pairs whose
 * result is there and answers the same question (pathPairsReuse.ts); a failed
 * pair does not stop the others.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Io } from '../output';
import { describeBackend, initBackend, type BackendInfo } from '../../engine/backend';
import { inputError } from '../../engine/errors';
import { openMinima } from '../../engine/barriers';
import { recipeSplit } from '../../engine/checkpointObjective';
import { vectorHash } from '../../engine/analysis/directions';
import { resolvePathOptions } from '../../engine/path/find';
import type { ResolvedPathOptions } from '../../engine/path/types';
import { defaultJobs } from '../../engine/pool/pathPool';
import type { PathProblem, PathTaskOptions } from '../../engine/pool/pathTask';
import { datasetRecord } from '../../engine/pathResult';
import { minimumLabel, commonFolder } from '../../results/barrierFiles';
import { checkBatchFlag, pathTaskOptions, without } from './path';
import { subsetFlag, tensorMapOption } from './common-analysis';
import { parsePairsFile, type PairsFile } from './pathPairsFile';
import { pairResultNames } from './pathPairsNames';
import { computePairs, pairQuestion, type PairsRun } from './pathPairsCompute';
import { printPairsTable, reportFailures, type PairRow } from './pathPairsReport';
import { savedPair } from './pathPairsReuse';

type Flags = Record<string, string | number | boolean | undefined>;

/** Largest pairs file read (a line per pair: far more pairs than anyone computes). */
const MAX_PAIRS_FILE_BYTES = 16 * 1024 * 1024;

export interface PairsRequest {
  pairsFile: string;
  jobs: number;
  options: PathTaskOptions;
  resolved: ResolvedPathOptions;
  batch?: number;
  /** The folder each pair's result goes to. */
  out?: string;
  json: boolean;
  coefficients: boolean;
}

/** The command line, checked: usage errors come out before any checkpoint is read. */
function pairsRequest(f: Flags, positionals: string[]): PairsRequest {
  const pairsFile = f.pairs as string;
  if (pairsFile.trim() === '') throw inputError('--pairs needs a file name, e.g. --pairs pairs.txt');
  if (positionals.length) {
    throw inputError(`"landscape path --pairs" reads its checkpoints from ${pairsFile}, not from the command line (got ${positionals.join(' ')}); remove them, or leave out --pairs for one path`);
  }
  if (f.landscape !== undefined) throw inputError('--landscape and --pairs cannot be combined; use one of them');
  const out = f.out as string | undefined;
  if (out === undefined && !f.json) {
    throw inputError('"landscape path --pairs" needs --out FOLDER (each pair\'s result is written there as it finishes, and a re-run reuses it) or --json');
  }
  if (out !== undefined && fs.existsSync(out) && !fs.statSync(out).isDirectory()) {
    throw inputError('is a file; with --pairs, --out names a folder (created if missing) that gets one <A>__<B>.path.json per pair; choose a folder', out);
  }
  const jobs = (f.jobs as number | undefined) ?? defaultJobs();
  if (jobs < 1) throw inputError(`--jobs must be a whole number ≥ 1, got ${jobs}`);
  const options = pathTaskOptions(f);
  // Bad option values are usage errors now, not one failed search per pair later.
  const resolved = resolvePathOptions(options);
  return { pairsFile, jobs, options, resolved, batch: checkBatchFlag(f), out, json: Boolean(f.json), coefficients: Boolean(f.coefficients) };
}

/** The identity of a checkpoint file: its real path (two spellings of one file are one checkpoint). */
function realPath(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    return file;
  }
}

function readPairsFile(file: string): PairsFile {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    throw inputError('pairs file not found; check the path', file);
  }
  if (st.isDirectory()) throw inputError('is a folder; --pairs needs a text file with two checkpoint paths per line', file);
  if (st.size > MAX_PAIRS_FILE_BYTES) throw inputError(`is too large for a pairs file (${st.size} bytes, limit ${MAX_PAIRS_FILE_BYTES}); check that it is the pairs file`, file);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw inputError(`cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)}); check its permissions`, file);
  }
  return parsePairsFile(text, file, { exists: (p) => fs.existsSync(p), identity: realPath });
}

/** The pairs' problem: the checkpoints (one loss surface), their data, their hashes. */
async function openPairs(req: PairsRequest, list: PairsFile, backend: BackendInfo, f: Flags): Promise<PairsRun> {
  const dataset = f.dataset as string | undefined;
  const { checkpoints: cks, recipe } = await openMinima(list.files, { model: f.model as string | undefined, dataset, subset: subsetFlag(f.subset), ...tensorMapOption(f) });
  const spec = cks[0].spec;
  // Rows the heights are measured on; data the network does not fit is refused before any thread starts.
  const rows = (await recipeSplit(spec, recipe)).train.n;
  const problem: PathProblem = { backend: backend.name, spec, recipe, thetas: cks.map((c) => c.theta), path: req.options, batch: req.batch };
  const base = commonFolder(list.files);
  return {
    req,
    list,
    names: pairResultNames(req.pairsFile, list.files, list.pairs),
    labels: list.files.map((file) => minimumLabel(file, base)),
    hashes: cks.map((c) => vectorHash(c.theta)),
    problem,
    model: cks[0].specString,
    dataset: datasetRecord(recipe, rows, req.batch),
    backend: backend.name,
  };
}

/** The rows of the pairs an earlier run finished, and how many result files were for another question. */
function finishedRows(run: PairsRun): { rows: (PairRow | undefined)[]; stale: number } {
  let stale = 0;
  const rows = run.list.pairs.map((p, k): PairRow | undefined => {
    if (run.req.out === undefined) return undefined;
    const saved = savedPair(path.join(run.req.out, run.names[k]), pairQuestion(run, k));
    if (saved.kind === 'stale') stale++;
    if (saved.kind !== 'reuse') return undefined;
    return { line: p.line, labelA: run.labels[p.i], labelB: run.labels[p.j], doc: saved.doc, reused: true };
  });
  return { rows, stale };
}

function setupLine(run: PairsRun, reused: number, stale: number, where: string, backend: BackendInfo): string {
  const r = run.req.resolved;
  const n = run.list.pairs.length;
  const todo = n - reused;
  const counts = reused ? `${reused} reused from ${run.req.out}, ${todo} to compute` : `${todo} to compute`;
  return (
    `landscape path --pairs: ${n} pair${n === 1 ? '' : 's'} of ${run.list.files.length} checkpoints from ${run.req.pairsFile} (${counts}` +
    `${stale ? `; ${stale} result file${stale === 1 ? '' : 's'} there answered another question and will be replaced` : ''}), ` +
    `${r.method}${r.method === 'fourier' ? `/${r.objective}` : ''}${todo ? `, ${where}` : ''}; ` +
    `training loss of ${run.model} on ${run.dataset.name} (${run.dataset.trainSize} rows${run.dataset.batch ? `, batches of ${run.dataset.batch}` : ''}); ${describeBackend(backend)}`
  );
}

/** `landscape path --pairs FILE …`: the exit code (1 when a pair failed). */
export async function runPairs(f: Flags, positionals: string[], io: Io, signal: AbortSignal): Promise<number> {
  const req = pairsRequest(f, positionals);
  const list = readPairsFile(req.pairsFile);
  const backend = await initBackend(f.backend as string | undefined);
  const run = await openPairs(req, list, backend, f);
  const { rows: done, stale } = finishedRows(run);
  const reused = done.filter(Boolean).length;
  const rows = await computePairs(run, done, f, io, signal, (where) => {
    if (!req.json) io.err(setupLine(run, reused, stale, where, backend));
  });
  if (req.json) {
    const docs = rows.map((r) => (r.doc ? (req.coefficients ? r.doc : without(r.doc, ['coefficients', 'images', 'bend'])) : null));
    const errors = rows.flatMap((r, k) => (r.doc ? [] : [{ line: r.line, a: list.files[list.pairs[k].i], b: list.files[list.pairs[k].j], message: r.error ?? 'no result' }]));
    io.out(JSON.stringify({ pairs: docs, reused: rows.map((r) => r.reused), errors }));
  } else {
    printPairsTable(io, rows);
    if (req.out !== undefined) io.out(`results in ${req.out}`);
  }
  return reportFailures(io, req.pairsFile, rows);
}
