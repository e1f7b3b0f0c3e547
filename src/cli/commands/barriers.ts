import * as fs from 'fs';
import * as path from 'path';
import { FlagSpec, parseArgs } from '../args';
import type { Io } from '../output';
import { fmt, progressBar, table } from '../output';
import { initBackend, describeBackend, type BackendInfo } from '../../engine/backend';
import { inputError } from '../../engine/errors';
import { barrierMatrix, barriersResult, openMinima, type BarrierMatrix, type BarrierMatrixOptions, type BarrierSetup, type BarriersResultContext } from '../../engine/barriers';
import { resolvePathOptions } from '../../engine/path/find';
import { parsePairSpec, DisconnectivityNode } from '../../engine/path/pairs';
import type { ResolvedPathOptions } from '../../engine/path/types';
import { defaultJobs } from '../../engine/pool/pathPool';
import type { PathProblem } from '../../engine/pool/pathTask';
import { PATH_FLAGS, pathTaskOptions, checkBatchFlag, datasetRecord, writeResultJson } from './path';
import { checkpointLabel } from '../../results/shapes';
import { commonDir } from '../../results/barriers';
import { checkOutputPath, subsetFlag, tensorMapOption } from './common-analysis';
import type { CommandDef } from './types';
import { QUEUE_FLAG, withQueue } from './queueOption';

const flags: FlagSpec[] = [
  { name: 'pairs', type: 'string', description: 'which pairs: all, or random:N (N pairs drawn with --seed)', defaultText: 'all', metavar: 'all|random:N' },
  { name: 'jobs', type: 'int', description: 'worker threads (1: compute on the main thread)', defaultText: 'one per core' },
  QUEUE_FLAG,
  ...PATH_FLAGS,
  { name: 'json', type: 'boolean', description: 'print the matrices, spanning tree and disconnectivity graph as one JSON object on stdout' },
  { name: 'out', type: 'string', description: 'write the full result JSON (with each pair\'s profiles) to this file', metavar: 'file' },
];

/** Every *.safetensors under a folder, recursively, in a stable order. */
export function checkpointsIn(folder: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      throw inputError(`cannot read folder: ${(e as Error).message}`, dir);
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && /\.safetensors$/i.test(e.name)) found.push(p);
    }
  };
  walk(folder);
  // Code-unit order, not locale order, so the indices are the same on every machine.
  return found.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
}

function expandArguments(args: string[]): string[] {
  const files: string[] = [];
  for (const a of args) {
    let st: fs.Stats;
    try {
      st = fs.statSync(a);
    } catch {
      throw inputError('file not found; check the path', a);
    }
    if (st.isDirectory()) {
      const inside = checkpointsIn(a);
      if (inside.length === 0) throw inputError('is a folder without any .safetensors checkpoints; pass checkpoint files, or a folder that holds some (e.g. a run folder)', a);
      files.push(...inside);
    } else files.push(a);
  }
  return files;
}

function treeLines(node: DisconnectivityNode, labels: string[], indent = ''): string[] {
  if (node.kind === 'leaf') return [`${indent}[${node.index}] ${labels[node.index]}  loss ${fmt(node.loss ?? undefined)}`];
  const head = `${indent}${node.height === null ? 'not joined by any computed path' : `joined at H ${fmt(node.height)}`}`;
  return [head, ...node.children.flatMap((c) => treeLines(c, labels, indent + '  '))];
}

type Flags = Record<string, string | number | boolean | undefined>;

/** The command line, checked: usage errors come out before any checkpoint is read. */
function barriersRequest(f: Flags, positionals: string[]) {
  checkOutputPath(f.out as string | undefined);
  if (positionals.length === 0) throw inputError('"landscape barriers" needs checkpoint files or a folder of them, e.g. landscape barriers runs/');
  const selection = parsePairSpec((f.pairs as string | undefined) ?? 'all');
  const jobs = (f.jobs as number | undefined) ?? defaultJobs();
  if (jobs < 1) throw inputError(`--jobs must be a whole number ≥ 1, got ${jobs}`);
  const options = pathTaskOptions(f);
  // Bad option values are usage errors now, not n² failed pairs later.
  const resolved = resolvePathOptions(options);
  const batch = checkBatchFlag(f);
  const files = expandArguments(positionals);
  if (files.length < 2) throw inputError(`"landscape barriers" needs at least two minima, got ${files.length} (${files.join(', ')})`);
  return { selection, jobs, options, resolved, batch, files, json: Boolean(f.json), dataset: f.dataset as string | undefined, subset: subsetFlag(f.subset), model: f.model as string | undefined, ...tensorMapOption(f) };
}

/** The progress line on a terminal, one line per pair otherwise (none with --json). */
function progressReport(io: Io, json: boolean): Pick<BarrierMatrixOptions<never>, 'onProgress' | 'onPairDone'> {
  const inFlight = new Map<string, string>();
  let doneCount = 0;
  return {
    onProgress: (p) => {
      if (!io.tty) return;
      inFlight.set(`${p.i}-${p.j}`, `${p.i}↔${p.j} it ${p.iteration} H ${fmt(p.bestHeight)}`);
      io.status(`${progressBar(doneCount, p.total, 20)} ${doneCount}/${p.total} pairs  ${[...inFlight.values()].join('  ')}`);
    },
    onPairDone: (o, done) => {
      doneCount = done;
      inFlight.delete(`${o.i}-${o.j}`);
      const what = o.result ? `H ${fmt(o.result.height)} (straight ${fmt(o.result.linear.height)}${o.result.optimized ? `, optimized ${fmt(o.result.optimized.height)}` : ''})` : `failed: ${o.error?.message}`;
      if (io.tty) io.status(`${progressBar(done, o.total, 20)} ${done}/${o.total} pairs  last ${o.i}↔${o.j} ${what}`);
      else if (!json) io.err(`pair ${done}/${o.total}: [${o.i}] ↔ [${o.j}] ${what}`);
    },
  };
}

function setupLine(s: BarrierSetup, resolved: ResolvedPathOptions, model: string, backend: BackendInfo, queue?: string): string {
  const where = queue ?? (s.onThisThread ? 'on the main thread' : `${s.threads} worker threads`);
  return (
    `landscape barriers: ${s.pairs.length} of ${(s.n * (s.n - 1)) / 2} pairs of ${s.n} minima, ${resolved.method}${resolved.method === 'fourier' ? `/${resolved.objective}` : ''}, ` +
    `${where}; training loss of ${model} on ${s.dataset} (${s.trainSize} rows); ${describeBackend(backend)}`
  );
}

/** The result document: compact for --json, with each pair's profiles for --out. */
function barriersDoc(m: BarrierMatrix, c: Omit<BarriersResultContext, 'full'>, full: boolean) {
  return barriersResult(m, { ...c, full });
}

function printTables(io: Io, m: BarrierMatrix, files: string[]): void {
  io.out('minima');
  io.out(table(files.map((file, k) => [`  [${k}]`, file, `loss ${fmt(m.losses[k] ?? undefined)}`])));
  io.out('saddle heights H (diagonal: the minimum\'s loss)');
  const header = ['', ...files.map((_, k) => `[${k}]`)];
  io.out(table([header, ...m.heights.map((row, k) => [`  [${k}]`, ...row.map((h) => (h === null ? '-' : fmt(h)))])]));
  io.out('minimum spanning tree');
  io.out(table(m.mst.edges.map((e) => [`  [${e.i}] ↔ [${e.j}]`, `H ${fmt(e.height)}`])));
  if (m.mst.components.length > 1) io.out(`  (${m.mst.components.length} separate groups: not every minimum is linked by a computed pair)`);
  io.out('disconnectivity graph');
  io.out(treeLines(m.tree, files, '  ').join('\n'));
}

export const barriersCommand: CommandDef = {
  name: 'barriers',
  usage: '<checkpoints… | folder> [--pairs all|random:N] [--jobs n] [--queue redis://host:port] [path options, --refine climb|none] [--json] [--out file]',
  summary: 'Barrier heights between every pair of minima (on worker threads): the matrix, its minimum spanning tree and the disconnectivity graph.',
  flags,
  fileArgs: {
    slots: [
      { at: 0, kind: 'checkpoints', required: true },
      { at: '--dataset', kind: 'dataset' },
      { at: '--out', kind: 'outFile' },
    ],
    quick: ['--steps', '2', '--points', '5', '--modes', '2', '--jobs', '1'],
  },
  async run(argv: string[], io: Io, signal: AbortSignal): Promise<number> {
    const { flags: f, positionals } = parseArgs(argv, flags, 'barriers');
    const req = barriersRequest(f, positionals);
    const backend = await initBackend(f.backend as string | undefined);
    const { checkpoints: cks, recipe } = await openMinima(req.files, { model: req.model, dataset: req.dataset, subset: req.subset, tensorMap: req.tensorMap });
    const problem: PathProblem = { backend: backend.name, spec: cks[0].spec, recipe, thetas: cks.map((c) => c.theta), path: req.options, batch: req.batch };
    let started = Date.now();
    let m: BarrierMatrix;
    let trainSize = 0;
    try {
      m = await withQueue(f, io, req.json, (queue) =>
        barrierMatrix(problem, {
          pairs: req.selection,
          seed: req.resolved.seed,
          labels: req.files,
          jobs: req.jobs,
          runner: queue?.runner,
          keepPoints: Boolean(f.coefficients),
          signal,
          onSetup: (s) => {
            started = Date.now();
            trainSize = s.trainSize;
            if (!req.json) io.err(setupLine(s, req.resolved, cks[0].specString, backend, queue?.where));
          },
          ...progressReport(io, req.json),
        }),
      );
    } finally {
      if (io.tty) io.status('');
    }
    const w: Omit<BarriersResultContext, 'full'> = {
      files: req.files,
      labels: req.files.map(checkpointLabel),
      folder: commonDir(req.files),
      model: cks[0].specString,
      dataset: datasetRecord(recipe, trainSize, req.batch),
      backend: backend.name,
      selection: req.selection.kind === 'all' ? 'all' : `random:${req.selection.count}`,
      options: req.resolved,
      seconds: (Date.now() - started) / 1000,
      coefficients: Boolean(f.coefficients),
    };
    if (f.out !== undefined) writeResultJson(f.out as string, barriersDoc(m, w, true));
    if (req.json) io.out(JSON.stringify(barriersDoc(m, w, false)));
    else {
      printTables(io, m, req.files);
      if (f.out !== undefined) io.out(`wrote ${f.out as string}`);
    }
    if (m.errors.length) {
      for (const e of m.errors) io.err(`pair [${e.i}] ${req.files[e.i]} ↔ [${e.j}] ${req.files[e.j]} failed: ${e.message}`);
      io.err(`landscape barriers: ${m.errors.length} of ${m.selected.length} pairs failed; they are null in the matrices`);
      return 1;
    }
    return 0;
  },
};
