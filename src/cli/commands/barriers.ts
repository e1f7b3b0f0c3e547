import * as fs from 'fs';
import * as path from 'path';
import { FlagSpec, parseArgs } from '../args';
import type { Io } from '../output';
import { fmt, progressBar, table } from '../output';
import { initBackend, describeBackend } from '../../engine/backend';
import { inputError } from '../../engine/errors';
import { loadAnyCheckpoint, OpenedCheckpoint } from '../../engine/evaluate';
import { checkSameSurface, dataRecipeForCheckpoint, objectiveFromRecipe } from '../../engine/checkpointObjective';
import { evaluateValues } from '../../engine/objective';
import { resolvePathOptions } from '../../engine/path/find';
import { parsePairSpec, selectPairs, summarizePairs, pairMatrix, DisconnectivityNode, PairOutcome } from '../../engine/path/pairs';
import type { PathResult } from '../../engine/path/types';
import { runPathPairs, defaultJobs } from '../../engine/pool/pathPool';
import type { PairTaskOutcome, PathProblem } from '../../engine/pool/pathTask';
import { PATH_FLAGS, pathTaskOptions, pathHeights, without, checkBatchFlag, datasetRecord, writeResultJson } from './path';
import { checkOutputPath } from './common-analysis';
import type { CommandDef } from './types';

const flags: FlagSpec[] = [
  { name: 'pairs', type: 'string', description: 'which pairs: all, or random:N (N pairs drawn with --seed)', defaultText: 'all', metavar: 'all|random:N' },
  { name: 'jobs', type: 'int', description: 'worker threads (1: compute on the main thread)', defaultText: 'one per core' },
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

function compactPair(files: string[], o: PairOutcome<PathResult>, full: boolean, coefficients: boolean) {
  const r = o.result;
  const base = {
    i: o.i,
    j: o.j,
    a: files[o.i],
    b: files[o.j],
    method: r.method,
    ...(r.objective ? { objective: r.objective } : {}),
    height: r.height,
    tAtMax: r.tAtMax,
    barrierFromA: r.barrierFromA,
    barrierFromB: r.barrierFromB,
    barrierFromMean: r.barrierFromMean,
    lossA: r.lossA,
    lossB: r.lossB,
    iterations: r.iterations,
    bestIteration: r.bestIteration,
    heights: pathHeights(r),
    ...(r.refinement ? { refinement: full ? r.refinement : without(r.refinement, ['forceHistory']) } : {}),
  };
  if (!full) return { ...base, linear: { height: r.linear.height, tAtMax: r.linear.tAtMax, barrierFromA: r.linear.barrierFromA, barrierFromB: r.linear.barrierFromB, barrierFromMean: r.linear.barrierFromMean } };
  return {
    ...base,
    profile: r.profile,
    linear: r.linear,
    heightHistory: r.heightHistory,
    ...(coefficients ? { coefficients: r.coefficients, ...(r.images ? { images: r.images } : {}) } : {}),
  };
}

export const barriersCommand: CommandDef = {
  name: 'barriers',
  usage: '<checkpoints… | folder> [--pairs all|random:N] [--jobs n] [path options, --refine climb|none] [--json] [--out file]',
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
    checkOutputPath(f.out as string | undefined);
    if (positionals.length === 0) throw inputError('"landscape barriers" needs checkpoint files or a folder of them, e.g. landscape barriers runs/');
    const selection = parsePairSpec((f.pairs as string | undefined) ?? 'all');
    const jobs = (f.jobs as number | undefined) ?? defaultJobs();
    if (jobs < 1) throw inputError(`--jobs must be a whole number ≥ 1, got ${jobs}`);
    const options = pathTaskOptions(f);
    // Bad option values are usage errors now, not n² failed pairs later.
    const resolved = resolvePathOptions(options);
    const batch = checkBatchFlag(f);
    const json = Boolean(f.json);
    const dataset = f.dataset as string | undefined;
    const model = f.model as string | undefined;
    const files = expandArguments(positionals);
    if (files.length < 2) throw inputError(`"landscape barriers" needs at least two minima, got ${files.length} (${files.join(', ')})`);

    const backend = await initBackend(f.backend as string | undefined);
    const cks: OpenedCheckpoint[] = [];
    for (const file of files) {
      const ck = await loadAnyCheckpoint(file, model);
      if (cks.length) checkSameSurface(cks[0], ck, { datasetOverride: dataset !== undefined });
      cks.push(ck);
    }
    const recipe = dataRecipeForCheckpoint(cks[0], { dataset });
    const n = files.length;
    const pairs = selectPairs(n, selection, resolved.seed);
    const problem: PathProblem = { backend: backend.name, spec: cks[0].spec, recipe, thetas: cks.map((c) => c.theta), path: options, batch };
    // The parent's own copy of the objective: it checks the data fits before any thread starts,
    // and measures the minima no computed pair covers.
    const surface = await objectiveFromRecipe(problem.spec, recipe);
    const trainSize = surface.trainSize;
    const threads = Math.min(jobs, pairs.length);
    if (!json) {
      io.err(
        `landscape barriers: ${pairs.length} of ${(n * (n - 1)) / 2} pairs of ${n} minima, ${resolved.method}${resolved.method === 'fourier' ? `/${resolved.objective}` : ''}, ` +
          `${threads === 1 ? 'on the main thread' : `${threads} worker threads`}; training loss of ${cks[0].specString} on ${recipe.dataset} (${trainSize} rows); ${describeBackend(backend)}`,
      );
    }
    const started = Date.now();
    let outcomes: PairTaskOutcome[];
    const inFlight = new Map<string, string>();
    let doneCount = 0;
    try {
      outcomes = await runPathPairs(problem, pairs, {
        jobs,
        signal,
        onProgress: (p) => {
          if (!io.tty) return;
          inFlight.set(`${p.i}-${p.j}`, `${p.i}↔${p.j} it ${p.iteration} H ${fmt(p.bestHeight)}`);
          io.status(`${progressBar(doneCount, pairs.length, 20)} ${doneCount}/${pairs.length} pairs  ${[...inFlight.values()].join('  ')}`);
        },
        onResult: (o, done, total) => {
          doneCount = done;
          inFlight.delete(`${o.i}-${o.j}`);
          const what = o.result ? `H ${fmt(o.result.height)} (straight ${fmt(o.result.linear.height)}${o.result.optimized ? `, optimized ${fmt(o.result.optimized.height)}` : ''})` : `failed: ${o.error?.message}`;
          if (io.tty) io.status(`${progressBar(done, total, 20)} ${done}/${total} pairs  last ${o.i}↔${o.j} ${what}`);
          else if (!json) io.err(`pair ${done}/${total}: [${o.i}] ↔ [${o.j}] ${what}`);
        },
      });
    } finally {
      if (io.tty) io.status('');
    }
    const seconds = (Date.now() - started) / 1000;

    const ok = outcomes.filter((o): o is PairTaskOutcome & { result: PathResult } => o.result !== undefined).map((o) => ({ i: o.i, j: o.j, result: o.result }));
    const errors = outcomes.filter((o) => o.error).map((o) => ({ i: o.i, j: o.j, a: files[o.i], b: files[o.j], kind: o.error!.kind, message: o.error!.message }));
    // Minima no successful pair measured (random selections, failed pairs) get their loss here.
    const covered = new Set(ok.flatMap((o) => [o.i, o.j]));
    const missing = Array.from({ length: n }, (_, k) => k).filter((k) => !covered.has(k));
    const given: (number | null)[] = new Array(n).fill(null);
    try {
      if (missing.length) {
        const v = evaluateValues(surface.objective, missing.map((k) => problem.thetas[k]));
        missing.forEach((k, m) => (given[k] = Number.isFinite(v[m]) ? v[m] : null));
      }
    } finally {
      surface.dispose();
    }
    const summary = summarizePairs(n, ok, given, files);
    const straightHeights = pairMatrix(n, ok.map((o) => ({ i: o.i, j: o.j, value: o.result.linear.height })), summary.losses);
    const doc = (full: boolean) => ({
      kind: 'landscape.barriers',
      formatVersion: 1,
      files,
      model: cks[0].specString,
      dataset: datasetRecord(recipe, trainSize, batch),
      backend: backend.name,
      selection: selection.kind === 'all' ? 'all' : `random:${selection.count}`,
      options: resolved,
      seconds,
      losses: summary.losses,
      heights: summary.heights,
      barriers: summary.barriers,
      straightHeights,
      mst: summary.mst,
      tree: summary.tree,
      pairs: ok.map((o) => compactPair(files, o, full, Boolean(f.coefficients))),
      errors,
    });
    if (f.out !== undefined) writeResultJson(f.out as string, doc(true));
    if (json) io.out(JSON.stringify(doc(false)));
    else {
      io.out('minima');
      io.out(table(files.map((file, k) => [`  [${k}]`, file, `loss ${fmt(summary.losses[k] ?? undefined)}`])));
      io.out('saddle heights H (diagonal: the minimum\'s loss)');
      const header = ['', ...files.map((_, k) => `[${k}]`)];
      io.out(table([header, ...summary.heights.map((row, k) => [`  [${k}]`, ...row.map((h) => (h === null ? '-' : fmt(h)))])]));
      io.out('minimum spanning tree');
      io.out(table(summary.mst.edges.map((e) => [`  [${e.i}] ↔ [${e.j}]`, `H ${fmt(e.height)}`])));
      if (summary.mst.components.length > 1) io.out(`  (${summary.mst.components.length} separate groups: not every minimum is linked by a computed pair)`);
      io.out('disconnectivity graph');
      io.out(treeLines(summary.tree, files, '  ').join('\n'));
      if (f.out !== undefined) io.out(`wrote ${f.out as string}`);
    }
    if (errors.length) {
      for (const e of errors) io.err(`pair [${e.i}] ${e.a} ↔ [${e.j}] ${e.b} failed: ${e.message}`);
      io.err(`landscape barriers: ${errors.length} of ${pairs.length} pairs failed; they are null in the matrices`);
      return 1;
    }
    return 0;
  },
};
