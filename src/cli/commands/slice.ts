import { FlagSpec, parseArgs } from '../args';
import type { Io } from '../output';
import { fmt, table } from '../output';
import { inputError } from '../../engine/errors';
import { describeBackend, initBackend } from '../../engine/backend';
import { loadAnyCheckpoint, OpenedCheckpoint } from '../../engine/evaluate';
import { BiasMode, HVP_MODES, HvpMode, NORMALIZATIONS, Normalization } from '../../engine/analysis';
import { QUEUE_FLAG, withQueue } from './queueOption';
import { queueGridRows } from '../../queue/gridRunner';
import type { CommandDef } from './types';
import type { SliceData } from '../../results/slice';
import { formatPercent } from '../../format';
import { COMMON_FLAGS, DATASET_FLAG, SUBSET_FLAG, subsetFlag, emitResult, parseRange, positiveInt, requireFile, checkOutputPath, checkpointAnalysisFiles, tensorMapOption } from './common-analysis';
import { objectiveForCheckpoint } from '../../engine/checkpointObjective';
import { readRunTrajectory, trajectoryPlaneAnalysis } from '../../engine/trajectoryPlaneAnalysis';
import { SLICE_ARITY as ARITY, SLICE_KINDS, checkSliceInputs, sliceAnalysis, type SliceKind } from '../../engine/checkpointAnalysis';

export { SLICE_KINDS, type SliceKind } from '../../engine/checkpointAnalysis';
const DEFAULT_KIND: Record<number, SliceKind> = { 1: 'random', 2: 'line', 3: 'plane' };

const flags: FlagSpec[] = [
  { name: 'kind', type: 'string', description: 'line (2 checkpoints), random or hessian (1), random-plane (1, 2D), plane (3, 2D)', choices: SLICE_KINDS, defaultText: 'by count: 1 random, 2 line, 3 plane' },
  { name: 'points', type: 'int', description: 'grid points per axis', defaultText: '41 (1D), 31 (2D)' },
  { name: 'range', type: 'string', description: 'coordinate range "from,to" (2D: both axes)', defaultText: 'line -0.5,1.5; random, hessian, random-plane -1,1; plane: around the three points', metavar: 'a,b' },
  { name: 'y-range', type: 'string', description: 'range of the second axis of a 2D slice', defaultText: '--range', metavar: 'a,b' },
  { name: 'seed', type: 'int', description: 'random direction seed (random-plane: seed and seed + 1); hessian: Lanczos start vector seed', defaultText: '1 (hessian: 0)' },
  { name: 'normalization', type: 'string', description: 'normalisation of random directions (Li et al. 2018)', choices: NORMALIZATIONS, defaultText: 'filter' },
  { name: 'bias-direction', type: 'string', description: 'random direction on the biases under filter/layer normalisation', choices: ['zero', 'filter'], defaultText: 'zero' },
  { name: 'iterations', type: 'int', description: 'Lanczos steps for --kind hessian', defaultText: '20' },
  { name: 'hvp', type: 'string', description: 'Hessian-vector products for --kind hessian', choices: [...HVP_MODES], defaultText: 'auto' },
  { name: 'plane', type: 'string', description: "trajectory: the plane of the first two principal directions of a run's checkpoints about its final weights (give the run folder)", choices: ['trajectory'] },
  { ...QUEUE_FLAG, description: 'evaluate the grid as jobs (blocks of rows) on a BullMQ queue in Redis, where `landscape worker --queue` processes take them (also LANDSCAPE_QUEUE)' },
  DATASET_FLAG,
  SUBSET_FLAG,
  ...COMMON_FLAGS,
];

export const sliceCommand: CommandDef = {
  name: 'slice',
  usage: '<checkpoint> [checkpoint2 [checkpoint3]] [--kind line|random|hessian|plane|random-plane] [--points n] [--range a,b] [--seed s] [--json] [--out file.json] | --plane trajectory <run folder>',
  summary: "The training loss on a line or plane of parameter space: between checkpoints, along random filter-normalised or top-Hessian directions, or on a run's trajectory plane.",
  flags,
  fileArgs: checkpointAnalysisFiles(['--points', '3']),
  async run(argv: string[], io: Io, signal: AbortSignal): Promise<number> {
    const { flags: f, positionals } = parseArgs(argv, flags, 'slice');
    checkOutputPath(f.out as string | undefined);
    if (f.plane !== undefined) return runTrajectoryPlane(f, positionals, io, signal);
    if (positionals.length === 0 || positionals.length > 3) {
      throw inputError(`"landscape slice" takes one to three checkpoint files (got ${positionals.length}): one for random/hessian/random-plane, two for line, three for plane, e.g. landscape slice runs/x/final.safetensors`);
    }
    const kind = (f.kind as SliceKind | undefined) ?? DEFAULT_KIND[positionals.length];
    if (ARITY[kind] !== positionals.length) {
      throw inputError(`--kind ${kind} takes ${ARITY[kind]} checkpoint${ARITY[kind] === 1 ? '' : 's'}, got ${positionals.length}`);
    }
    const is2D = kind === 'plane' || kind === 'random-plane';
    const randomKind = kind === 'random' || kind === 'random-plane';
    if (!randomKind && (f.normalization !== undefined || f.biasDirection !== undefined)) {
      throw inputError(`--normalization and --bias-direction apply to random directions (--kind random or random-plane), not --kind ${kind}`);
    }
    if (kind !== 'hessian' && (f.iterations !== undefined || f.hvp !== undefined)) throw inputError(`--iterations and --hvp apply to --kind hessian, not --kind ${kind}`);
    if (!is2D && f.yRange !== undefined) throw inputError(`--y-range applies to 2D slices (--kind plane or random-plane), not --kind ${kind}`);
    if (kind === 'line' || kind === 'plane') {
      if (f.seed !== undefined) throw inputError(`--seed has no effect on --kind ${kind} (its directions come from the checkpoints)`);
    }
    const points = positiveInt(f.points, 'points', 2);
    const range = parseRange(f.range as string | undefined, 'range');
    const yRange = parseRange(f.yRange as string | undefined, 'y-range') ?? range;
    const seed = positiveInt(f.seed, 'seed', 0);
    const iterations = positiveInt(f.iterations, 'iterations');
    const files = positionals.map(requireFile);

    const backend = await initBackend(f.backend as string | undefined);
    const cks: OpenedCheckpoint[] = [];
    const mapped = tensorMapOption(f);
    for (const file of files) cks.push(await loadAnyCheckpoint(file, f.model as string | undefined, mapped));
    checkSliceInputs(kind, cks, { datasetOverride: f.dataset !== undefined });
    const obj = await objectiveForCheckpoint(cks[0], { dataset: f.dataset as string | undefined, subset: subsetFlag(f.subset) });
    try {
      const s = await withQueue(f, io, Boolean(f.json), async (queue) => sliceAnalysis(kind, cks, obj, {
        points,
        range,
        yRange,
        seed,
        normalization: f.normalization as Normalization | undefined,
        bias: f.biasDirection as BiasMode | undefined,
        iterations,
        hvp: f.hvp as HvpMode | undefined,
        datasetOverride: f.dataset !== undefined,
        signal,
        rows: queue && queueGridRows(queue.client, { backend: backend.name, spec: cks[0].spec, recipe: obj.recipe }),
        source: { backend: backend.name },
      }));
      emitResult(io, f, s, () => renderSlice(s, describeBackend(backend)));
      return 0;
    } finally {
      obj.dispose();
    }
  },
};

/** Flags that choose or shape directions, which the trajectory plane takes from the run. */
const NOT_FOR_TRAJECTORY = ['kind', 'seed', 'normalization', 'biasDirection', 'iterations', 'hvp'];

/** `landscape slice --plane trajectory <run folder>`. */
async function runTrajectoryPlane(f: Record<string, unknown>, positionals: string[], io: Io, signal: AbortSignal): Promise<number> {
  if (positionals.length !== 1) {
    throw inputError(`"landscape slice --plane trajectory" takes one run folder (got ${positionals.length} arguments), e.g. landscape slice --plane trajectory runs/digits-sgd-s0`);
  }
  const given = NOT_FOR_TRAJECTORY.filter((k) => f[k] !== undefined).map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
  if (given.length) throw inputError(`${given.join(', ')} ${given.length === 1 ? 'does' : 'do'} not apply to --plane trajectory (its directions come from the run's checkpoints)`);
  const points = positiveInt(f.points, 'points', 2);
  const range = parseRange(f.range as string | undefined, 'range');
  const yRange = parseRange(f.yRange as string | undefined, 'y-range') ?? range;
  const backend = await initBackend(f.backend as string | undefined);
  const run = await readRunTrajectory(positionals[0], { model: f.model as string | undefined, ...tensorMapOption(f), datasetOverride: f.dataset !== undefined });
  const obj = await objectiveForCheckpoint(run.final, { dataset: f.dataset as string | undefined, subset: subsetFlag(f.subset) });
  try {
    const s = await trajectoryPlaneAnalysis(run, obj, { points, range, yRange, signal, source: { backend: backend.name } });
    emitResult(io, f, s, () => [...renderSlice(s, describeBackend(backend)), ...renderTrajectory(s)]);
    return 0;
  } finally {
    obj.dispose();
  }
}

/** The explained variance and the checkpoints' coordinates on the trajectory plane. */
function renderTrajectory(s: SliceData): string[] {
  if (s.dims !== '2d' || !s.trajectory) return [];
  const t = s.trajectory;
  const [v1, v2] = t.explainedVariance;
  return [
    `explained variance: x ${formatPercent(v1)}, y ${formatPercent(v2)}, together ${formatPercent(v1 + v2)} of the trajectory's Σ‖θ_k − θ_final‖² (${t.pca} PCA of ${t.points.length - 1} checkpoints about the final weights)`,
    '',
    table([['epoch', 'checkpoint', 'x', 'y', 'off plane', 'loss'], ...t.points.map((p) => [String(p.epoch), p.label, fmt(p.x), fmt(p.y), fmt(p.offPlane), fmt(p.loss)])]),
  ];
}

function renderSlice(s: SliceData, backend: string): string[] {
  const m = s.meta;
  const kind = s.request.kind;
  const lines = [`${kind} slice of the training loss on ${s.objective.dataset}: ${s.model} (${m.dim} parameters); ${backend}`, m.parameterization];
  const axes = s.dims === '1d' ? [s.axes.x] : [s.axes.x, s.axes.y];
  for (const a of axes) lines.push(`${a.label}: ${a.points} points from ${fmt(a.range[0])} to ${fmt(a.range[1])}`);
  if (m.cosine !== undefined && kind === 'random-plane') lines.push(`cosine between the two directions: ${fmt(m.cosine, 3)}`);
  lines.push(`markers: ${m.markers.map((mk) => `${mk.label} at ${mk.y === undefined ? fmt(mk.x) : `(${fmt(mk.x)}, ${fmt(mk.y)})`} loss ${fmt(mk.loss)}`).join('; ')}`);
  const where = (p: { x: number; y?: number }) => (p.y === undefined ? `${s.axes.x.name} = ${fmt(p.x)}` : `(${fmt(p.x)}, ${fmt(p.y)})`);
  lines.push(`min ${fmt(m.min.loss)} at ${where(m.min)}, max ${fmt(m.max.loss)} at ${where(m.max)}`);
  if (s.dims === '1d') {
    const x = s.axes.x;
    const marks = new Map<number, string>();
    for (const mk of m.markers) {
      // Markers sit on grid points when the grid hits them (t = 0 and 1 of a line with the default 41 points).
      const i = x.values.findIndex((v) => Math.abs(v - mk.x) <= 1e-9 * Math.max(1, Math.abs(mk.x)));
      if (i >= 0) marks.set(i, [marks.get(i), mk.label].filter(Boolean).join(', '));
    }
    lines.push('', table([[x.name, 'loss', ''], ...s.values.map((v, i) => [fmt(x.values[i]), fmt(v), marks.get(i) ?? ''])]));
  } else {
    lines.push(`${s.axes.x.points}×${s.axes.y.points} grid (its values are in the JSON result: --out file.json or --json)`);
  }
  return lines;
}
