import * as fs from 'fs';
import * as path from 'path';
import { FlagSpec, parseArgs } from '../args';
import type { Io } from '../output';
import { fmt, progressBar, table } from '../output';
import { BACKEND_CHOICES, BackendInfo, describeBackend, initBackend } from '../../engine/backend';
import { LandscapeError, computeError, inputError } from '../../engine/errors';
import { loadAnyCheckpoint, OpenedCheckpoint } from '../../engine/evaluate';
import { checkSameSurface, objectiveForCheckpoint } from '../../engine/checkpointObjective';
import { findPath, progressSteps, resolvePathOptions } from '../../engine/path/find';
import { PATH_METHODS, PATH_OBJECTIVES, PATH_REFINES, PathMethod, PathObjective, PathRefine, PathResult, PathIteration, HeightSummary } from '../../engine/path/types';
import type { PathTaskOptions } from '../../engine/pool/pathTask';
import { writeFileAtomicSync } from '../../engine/checkpoint/atomic';
import { checkOutputPath, SUBSET_FLAG, subsetFlag, TENSOR_MAP_FLAG, tensorMapOption } from './common-analysis';
import type { CommandDef } from './types';
import { ANALYTIC_LANDSCAPES, type AnalyticLandscapeName } from '../../engine/path/landscapes';
import { runOnLandscape } from './pathLandscape';
import { runPairs } from './pathPairs';
import { QUEUE_FLAG } from './queueOption';
import { datasetRecord, pathInputs, pathResult } from '../../engine/pathResult';
export { datasetRecord };
import { checkpointLabel } from '../../results/shapes';
import type { BarrierPath } from '../../results/path';

/** The path options shared by `landscape path` and `landscape barriers`. */
export const PATH_FLAGS: FlagSpec[] = [
  { name: 'method', type: 'string', description: 'path finder; bezier and polychain train one bend θ of a quadratic Bezier curve or a two-segment chain (Garipov et al. 2018), starting at the midpoint', choices: PATH_METHODS, defaultText: 'fourier' },
  { name: 'objective', type: 'string', description: 'Fourier path objective (minimax: the smooth maximum along the path)', choices: PATH_OBJECTIVES, defaultText: 'minimax' },
  { name: 'modes', type: 'int', description: 'N_F, sine modes of the Fourier path', defaultText: '10' },
  { name: 'points', type: 'int', description: 'M, points on the path (NEB: images), ends included', defaultText: '50' },
  { name: 'lambda', type: 'number', description: 'λ of the smoothness term λ·Σ‖ω(t_{m+1}) − ω(t_m)‖²', defaultText: '1e-4' },
  { name: 'steps', type: 'int', description: 'optimisation steps (bezier, polychain: one t drawn from U(0, 1) per step)', defaultText: '300' },
  { name: 'lr', type: 'number', description: 'Adam learning rate (Fourier; bezier and polychain: full for half the steps, then down linearly to 1 % at 90 %)', defaultText: '0.01' },
  { name: 'seed', type: 'int', description: 'seed of the gradient noise, the curves\' t, the mini-batch order and random pairs', defaultText: '0' },
  { name: 'noise', type: 'number', description: 'σ of N(0, σ²) noise added to the coefficient gradients each step', defaultText: '0' },
  { name: 'refine', type: 'string', description: 'after FourierPathFinder, bezier or polychain: climb drives the path\'s top onto the saddle with a climbing-image band (and certifies it); none keeps the trained path as it is', choices: PATH_REFINES, defaultText: 'climb' },
  { name: 'dense-select', type: 'boolean', description: 'keep the iterate whose height on the dense grid is lowest (guards against paths slipping over narrow ridges between points)' },
  { name: 'spring', type: 'number', description: 'NEB spring constant', defaultText: 'from the problem\'s scales' },
  { name: 'batch', type: 'int', description: 'mini-batch size for the path optimisation (heights stay full-batch)', defaultText: 'full batch' },
  { name: 'dataset', type: 'string', description: 'measure the loss on this dataset instead of the one in the metadata', metavar: 'name|path' },
  SUBSET_FLAG,
  { name: 'model', type: 'string', description: 'model spec, for checkpoints without Landscape metadata (e.g. PyTorch safetensors)', metavar: 'spec' },
  TENSOR_MAP_FLAG,
  { name: 'backend', type: 'string', description: 'tfjs backend (also LANDSCAPE_BACKEND)', choices: BACKEND_CHOICES, defaultText: 'auto' },
  { name: 'coefficients', type: 'boolean', description: 'include the N_F × P path coefficients (and NEB images, a curve\'s bend) in the JSON output' },
];

const flags: FlagSpec[] = [
  ...PATH_FLAGS,
  { name: 'landscape', type: 'string', description: 'instead of two checkpoints: an analytic landscape with known barriers, between its two named minima', choices: ANALYTIC_LANDSCAPES },
  {
    name: 'pairs',
    type: 'string',
    description:
      'instead of A and B: a text file of pairs, one per line, two checkpoint paths separated by spaces (a path with spaces in double quotes; blank lines and lines starting with # are skipped); relative paths are read from the file\'s folder. All must be one network on one dataset. Needs --out folder/ or --json',
    metavar: 'file',
  },
  { name: 'jobs', type: 'int', description: 'with --pairs: worker threads (1: compute on the main thread)', defaultText: 'one per core' },
  QUEUE_FLAG,
  { name: 'json', type: 'boolean', description: 'print the result as one JSON object on stdout (with --pairs: {"pairs": [result or null, …], "reused", "errors"}, in file order)' },
  {
    name: 'out',
    type: 'string',
    description:
      'write the full result JSON (with coefficients) to this file, or into this folder as <A>__<B>.path.json; with --pairs, a folder: one <A>__<B>.path.json per pair (paths from the checkpoints\' common folder, / as _), written as each finishes; a re-run reuses those computed from the same checkpoints and options',
    metavar: 'file|folder/',
  },
];

type Flags = Record<string, string | number | boolean | undefined>;

/** Path options from the shared flags, defaults left to the engine. */
export function pathTaskOptions(f: Flags): PathTaskOptions {
  const o: PathTaskOptions = {};
  if (f.method !== undefined) o.method = f.method as PathMethod;
  if (f.objective !== undefined) o.objective = f.objective as PathObjective;
  if (f.refine !== undefined) o.refine = f.refine as PathRefine;
  for (const k of ['modes', 'points', 'lambda', 'steps', 'lr', 'seed', 'noise', 'spring'] as const) {
    if (f[k] !== undefined) o[k] = f[k] as number;
  }
  if (f.denseSelect !== undefined) o.denseSelect = Boolean(f.denseSelect);
  return o;
}

export function checkBatchFlag(f: Flags): number | undefined {
  const b = f.batch as number | undefined;
  if (b !== undefined && b < 1) throw inputError(`--batch must be a whole number ≥ 1, got ${b}`);
  return b;
}

/** A checkpoint's stem: its file name without .safetensors (a tfjs model: its folder's name). */
export function checkpointStem(file: string): string {
  const base = path.basename(file);
  if (base.toLowerCase() === 'model.json') return path.basename(path.dirname(path.resolve(file))) || 'model';
  return base.replace(/\.(safetensors|json)$/i, '');
}

/** Compact JSON, written atomically; the parent folder is created. Coefficients make indented JSON many times larger. */
export function writeResultJson(file: string, value: unknown): void {
  try {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  } catch (e) {
    throw inputError(`cannot create the folder for --out (${(e as NodeJS.ErrnoException).code ?? String(e)}); choose another --out`, file);
  }
  writeFileAtomicSync(file, JSON.stringify(value) + '\n');
}

/** The iteration status line both commands draw on a terminal. */
export function iterationStatus(it: PathIteration, steps: number): string {
  return `${progressBar(it.iteration, steps, 20)} iteration ${it.iteration}/${steps}  height ${fmt(it.height)}  best ${fmt(it.bestHeight)}`;
}

/** Turns a failure on the path into one naming both checkpoints; bad input and cancels pass through. */
export function withPair(e: unknown, a: string, b: string): unknown {
  if (e instanceof LandscapeError && e.kind === 'compute') return computeError(`path from ${a} to ${b}: ${e.message}`);
  return e;
}

async function openCheckpoint(file: string, model: string | undefined, mapped: { tensorMap?: Record<string, string> }): Promise<OpenedCheckpoint> {
  return loadAnyCheckpoint(file, model, mapped);
}

export function without<T extends object>(o: T, keys: readonly string[]): Partial<T> {
  const r: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (!keys.includes(k)) r[k] = v;
  return r as Partial<T>;
}

function sameWeights(x: Float32Array, y: Float32Array): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** Lines describing the refinement and the saddle's certificate, for the text output. */
export function refinementLines(r: PathResult): string[] {
  const ref = r.refinement;
  if (!ref) return r.method === 'fourier' ? ['refinement: none (the plain FourierPathFinder)'] : r.bend ? ['refinement: none (the trained curve)'] : [];
  const lines = [
    `refinement: climbing-image band, ${ref.iterations} steps; optimized path ${fmt(ref.optimizedHeight)} → refined ${fmt(ref.refinedHeight)}` +
      (ref.kept ? ` (lowered by ${fmt(ref.lowered)})` : ' (not kept: it came out higher)'),
  ];
  const s = ref.saddle;
  if (s) {
    const second = s.secondEigenvalue !== undefined ? `, next ${fmt(s.secondEigenvalue)}` : '';
    const verdict = s.negativeEigenvalues === 1 ? 'an index-1 saddle' : s.negativeEigenvalues === 0 ? 'no negative curvature: not a saddle' : `${s.negativeEigenvalues} negative eigenvalues: a higher-order saddle`;
    lines.push(`saddle: height ${fmt(s.height)} at t = ${fmt(s.t)}, ‖∇f‖ ${fmt(s.gradNorm)}, lowest Hessian eigenvalue ${fmt(s.lowestEigenvalue)}${second} (${s.hvp} products): ${verdict}`);
  }
  return lines;
}

function summaryRows(r: PathResult): string[][] {
  // With a refinement: straight line, the optimised path before it, and the reported (refined) path.
  const cols: [string, HeightSummary][] = [['straight', r.linear]];
  if (r.optimized) cols.push(['optimized', r.optimized], [r.refinement?.kept ? 'refined' : 'kept', r]);
  else cols.push([r.method === 'linear' ? 'straight' : 'optimized', r]);
  const row = (label: string, pick: (h: HeightSummary) => number) => [label, ...cols.map(([, h]) => fmt(pick(h)))];
  return [
    ['', ...cols.map(([name]) => name)],
    row('height H', (h) => h.height),
    row('t at max', (h) => h.tAtMax),
    row('barrier from A', (h) => h.barrierFromA),
    row('barrier from B', (h) => h.barrierFromB),
    row('barrier from mean', (h) => h.barrierFromMean),
  ];
}

/** The text report of one path: the ends, how it was found, the heights table, the refinement. */
export function printPath(io: Io, result: PathResult, labelA: string, labelB: string, samePoint: boolean): void {
  io.out(table([
    ['A', labelA, `loss ${fmt(result.lossA)}`],
    ['B', labelB, `loss ${fmt(result.lossB)}`],
  ]));
  const o = result.options;
  const how =
    result.method === 'fourier'
      ? `fourier/${o.objective}, ${result.iterations} steps (kept ${result.bestIteration}), M = ${o.points}, N_F = ${o.modes}, λ = ${o.lambda}, lr ${o.lr}${o.noise ? `, noise ${o.noise}` : ''}${o.denseSelect ? ', dense select' : ''}`
      : result.method === 'neb'
        ? `neb (climbing image from ${o.climbFrom}), ${result.iterations} steps, ${o.points} images, spring ${fmt(o.spring)}`
        : result.method === 'linear'
          ? 'straight line'
          : `${result.method} curve, one bend trained for ${result.iterations} steps (lr ${o.lr}, seed ${o.seed}), M = ${o.points}`;
  io.out(`${how}; heights on ${o.densePoints} points`);
  if (samePoint) io.out('A and B are the same point: the height is its loss');
  io.out(table(summaryRows(result)));
  for (const line of refinementLines(result)) io.out(line);
}

/** --out of one path: the file, or <A>__<B>.path.json in the folder it names; the file written. */
function writeOnePath(out: string, doc: BarrierPath, fileA: string, fileB: string): string {
  let file = out;
  if (out.endsWith('/') || out.endsWith(path.sep) || (fs.existsSync(out) && fs.statSync(out).isDirectory())) {
    file = path.join(out, `${checkpointStem(fileA)}__${checkpointStem(fileB)}.path.json`);
  }
  writeResultJson(file, doc);
  return file;
}

/** The flags of many pairs, refused for one path (LANDSCAPE_QUEUE is for pair commands and ignored here). */
function refusePairsFlags(f: Flags): void {
  for (const flag of ['jobs', 'queue'] as const) {
    if (f[flag] !== undefined) throw inputError(`--${flag} applies to --pairs (many pairs); one path runs on this thread, so remove --${flag}`);
  }
}

export const pathCommand: CommandDef = {
  name: 'path',
  usage:
    'A.safetensors B.safetensors [--method fourier|linear|neb|bezier|polychain] [--objective minimax|sum|squared] [--modes 10] [--points 50] [--lambda 1e-4] [--steps 300] [--lr 0.01] [--seed 0] [--refine climb|none] [--json] [--out file]\n' +
    '       landscape path --pairs pairs.txt [--jobs n] [--queue redis://host:port] [path options] [--json] [--out folder/]',
  summary: 'Find a low path between two minima and report its barrier height next to the straight line\'s.',
  flags,
  fileArgs: {
    slots: [
      { at: 0, kind: 'checkpoint', required: true },
      { at: 1, kind: 'checkpoint', required: true },
      { at: '--dataset', kind: 'dataset' },
      { at: '--out', kind: 'outFile' },
    ],
    quick: ['--steps', '2', '--points', '5', '--modes', '2'],
  },
  async run(argv: string[], io: Io, signal: AbortSignal): Promise<number> {
    const { flags: f, positionals } = parseArgs(argv, flags, 'path');
    checkOutputPath(f.out as string | undefined, true);
    if (f.pairs !== undefined) return runPairs(f, positionals, io, signal);
    refusePairsFlags(f);
    if (f.landscape !== undefined) return runOnLandscape(f.landscape as AnalyticLandscapeName, positionals, f, io, signal);
    if (positionals.length !== 2) {
      throw inputError(`"landscape path" needs two checkpoint files A and B (got ${positionals.length}), e.g. landscape path runs/a/final.safetensors runs/b/final.safetensors`);
    }
    const [fileA, fileB] = positionals;
    const options = pathTaskOptions(f);
    // Bad option values are usage errors before any data is loaded.
    const steps = progressSteps(resolvePathOptions(options));
    const batch = checkBatchFlag(f);
    const json = Boolean(f.json);
    const dataset = f.dataset as string | undefined;
    const model = f.model as string | undefined;
    // Fail on a missing or unreadable B before spending time on A's data.
    for (const file of [fileA, fileB]) if (!fs.existsSync(file)) throw inputError('file not found; check the path', file);
    const backend: BackendInfo = await initBackend(f.backend as string | undefined);
    const mapped = tensorMapOption(f);
    const a = await openCheckpoint(fileA, model, mapped);
    const b = await openCheckpoint(fileB, model, mapped);
    checkSameSurface(a, b, { datasetOverride: dataset !== undefined });
    const surface = await objectiveForCheckpoint(a, { dataset, subset: subsetFlag(f.subset), batch, seed: options.seed });
    const started = Date.now();
    let result: PathResult;
    try {
      if (!json) {
        io.err(
          `landscape path: ${options.method ?? 'fourier'}${(options.method ?? 'fourier') === 'fourier' ? `/${options.objective ?? 'minimax'}` : ''} from ${fileA} to ${fileB}; ` +
            `training loss of ${a.specString} on ${surface.recipe.dataset} (${surface.trainSize} rows${surface.batches ? `, batches of ${batch}` : ''}); ${describeBackend(backend)}`,
        );
      }
      try {
        result = await findPath(surface.objective, a.theta, b.theta, {
          ...options,
          signal,
          batches: surface.batches,
          onIteration: io.tty ? (it) => io.status(iterationStatus(it, steps)) : undefined,
        });
      } catch (e) {
        throw withPair(e, fileA, fileB);
      } finally {
        if (io.tty) io.status('');
      }
    } finally {
      surface.dispose();
    }
    const seconds = (Date.now() - started) / 1000;
    const doc = pathResult(result, {
      a: fileA,
      b: fileB,
      labelA: checkpointLabel(fileA),
      labelB: checkpointLabel(fileB),
      model: a.specString,
      dataset: datasetRecord(surface.recipe, surface.trainSize, batch),
      backend: backend.name,
      seconds,
      inputs: pathInputs(a.theta, b.theta, resolvePathOptions(options)),
    });
    const written = f.out !== undefined ? writeOnePath(f.out as string, doc, fileA, fileB) : undefined;
    if (json) {
      io.out(JSON.stringify(f.coefficients ? doc : without(doc, ['coefficients', 'images', 'bend'])));
      return 0;
    }
    printPath(io, result, fileA, fileB, sameWeights(a.theta, b.theta));
    if (written) io.out(`wrote ${written}`);
    return 0;
  },
};
