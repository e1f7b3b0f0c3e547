/**
 * The optimizer study (Yu & Morozov 2026 at laptop scale): train S seeds
 * with mini-batch SGD and S with full-batch L-BFGS on the built-in digits,
 * measure barriers between minima of the same optimizer with
 * FourierPathFinder (straight line alongside), map every solution with RBF
 * kernel PCA, and state whether each of the paper's findings reproduces.
 *
 * Layout of <out>:
 *   runs/<optimizer>-s<seed>/   ordinary run folders (reused when complete)
 *   paths/<a>__<b>.json         one finished path each (reused when the options match)
 *   study.json                  every number
 *   report.html                 self-contained report (Plotly inlined)
 */
import * as fs from 'fs';
import * as path from 'path';
import { initBackend, BackendInfo } from '../backend';
import { inputError, computeError, throwIfAborted } from '../errors';
import { Rng } from '../rng';
import { LANDSCAPE_VERSION } from '../version';
import { paramCount } from '../model/spec';
import { isLayerSpec, modelSpecFromText } from '../model/archModel';
import { train, TrainConfig, TrainEvent, RunJson, readRunJson } from '../train';
import { loadCheckpoint } from '../checkpoint';
import { writeJsonAtomic, writeFileAtomicSync } from '../checkpoint/atomic';
import { renderReport } from './report';
import type { PathProblem } from '../pool';
import { barrierMatrix, type BarrierMatrixOptions, type PairHeights } from '../barriers';
import { eventStream } from '../eventStream';
import type { ModelSpec } from '../model/spec';
import { kernelPCA } from '../analysis/kpca';
import { PATH_DEFAULTS, progressSteps, resolvePathOptions } from '../path/find';
import { PATH_REFINES, type PathRefine, type PathResult, type RefinementSummary } from '../path/types';
import { fastInfo } from '../fast';
import type { LocalCompute, RunRunner } from './runRunner';

export const STUDY_PRESETS = ['quick', 'default'] as const;
export type StudyPreset = (typeof STUDY_PRESETS)[number];

export interface StudyConfig {
  preset: StudyPreset;
  dataset: string;
  /** Rows kept of the dataset (seeded, stratified), when set. */
  subset?: number;
  model: string;
  bias: boolean;
  /** Seeds per optimizer: 1..seeds. */
  seeds: number;
  sgd: { epochs: number; lr: number; batch: number };
  lbfgs: { epochs: number };
  /** Random pairs per optimizer group (all pairs when larger than the number of pairs). */
  pairsPerGroup: number;
  path: { points: number; modes: number; steps: number; lr: number; lambda: number; objective: 'minimax'; refine: PathRefine };
  /** Seed of the pair choice and of everything not tied to a run's own seed. */
  seed: number;
}

export function presetConfig(preset: StudyPreset): StudyConfig {
  const common = { preset, dataset: 'digits', model: '64-32-32-10', bias: false, seed: 0 } as const;
  if (preset === 'quick') {
    return {
      ...common,
      seeds: 3,
      sgd: { epochs: 20, lr: 0.1, batch: 64 },
      lbfgs: { epochs: 20 },
      pairsPerGroup: 2,
      path: { points: 20, modes: 6, steps: 80, lr: 0.01, lambda: 1e-4, objective: 'minimax', refine: PATH_DEFAULTS.refine },
    };
  }
  // The paper's path settings (N_F = 10, M = 50, λ = 1e-4, 300 Adam steps).
  return {
    ...common,
    seeds: 6,
    sgd: { epochs: 50, lr: 0.1, batch: 64 },
    lbfgs: { epochs: 50 },
    pairsPerGroup: 10,
    path: { points: 50, modes: 10, steps: 300, lr: 0.01, lambda: 1e-4, objective: 'minimax', refine: PATH_DEFAULTS.refine },
  };
}

export type OptimizerGroup = 'sgd' | 'lbfgs';
export const GROUPS: readonly OptimizerGroup[] = ['sgd', 'lbfgs'];

export interface StudySolution {
  /** e.g. "sgd-s1/final", "lbfgs-s2/early". */
  id: string;
  optimizer: OptimizerGroup;
  seed: number;
  kind: 'final' | 'early';
  /** Relative to the study folder. */
  file: string;
  epoch: number;
  trainLoss: number;
  testLoss: number;
  trainAccuracy?: number;
  testAccuracy?: number;
}

export interface BarrierNumbers {
  height: number;
  tAtMax: number;
  barrierFromA: number;
  barrierFromB: number;
  barrierFromMean: number;
}

export interface StudyBarrier {
  optimizer: OptimizerGroup;
  a: string;
  b: string;
  lossA: number;
  lossB: number;
  straight: BarrierNumbers;
  /** The reported path's numbers: the refined band's when the refinement was kept. */
  optimized: BarrierNumbers & { iterations: number };
  /** With refinement: the heights before and after it, and the saddle's certificate. */
  refinement?: Omit<RefinementSummary, 'forceHistory'>;
  profile: { t: number[]; straight: number[]; optimized: number[] };
  /** Relative to the study folder. */
  file: string;
}

export interface Verdict {
  id: 'deeper-minima' | 'lower-sgd-barriers' | 'kpca-separates';
  claim: string;
  reproduced: boolean;
  evidence: string;
  numbers: Record<string, number>;
}

export interface StudyResult {
  formatVersion: 1;
  config: StudyConfig;
  backend: string;
  versions: { landscape: string; tfjs: string; node: string };
  paramCount: number;
  solutions: StudySolution[];
  barriers: StudyBarrier[];
  kpca: {
    kernel: string;
    gamma: number;
    ids: string[];
    projections: number[][];
    explainedVariance: number[];
  };
  verdicts: Verdict[];
  timing: { trainSeconds: number; pathSeconds: number; totalSeconds: number };
  reused: { runs: number; paths: number };
}

export type StudyEvent =
  | { type: 'phase'; phase: 'train' | 'barriers' | 'kpca' | 'report'; message: string; total?: number }
  | { type: 'run-start'; run: string; index: number; total: number; reused: boolean }
  | { type: 'train'; run: string; event: TrainEvent }
  | { type: 'path-start'; pair: string; index: number; total: number; reused: boolean }
  | { type: 'path-iteration'; pair: string; iteration: number; steps: number; height: number; bestHeight: number }
  | { type: 'path-done'; pair: string; barrier: StudyBarrier }
  | { type: 'done'; result: StudyResult; studyJson: string; reportHtml: string };

export interface StudyOptions {
  out: string;
  preset?: StudyPreset;
  /** Overrides of the preset. */
  seeds?: number;
  epochs?: number;
  pathSteps?: number;
  /** Refinement of each path (default: the path finder's, 'climb'). */
  refine?: PathRefine;
  /** Model spec (default the paper's 64-32-32-10 without biases): a dense form, a layer spec or a built-in name. */
  model?: string;
  dataset?: string;
  subset?: number;
  pairsPerGroup?: number;
  /** Worker threads for the path searches (default: one per core). */
  jobs?: number;
  /** Who computes the path searches instead of the local threads, e.g. the job queue (src/queue/pairRunner.ts). */
  pairRunner?: BarrierMatrixOptions<PairHeights>['runner'];
  /** Who trains the runs instead of this thread, all at once, e.g. the job queue (src/queue/trainRunner.ts). */
  runRunner?: RunRunner;
  backend?: string;
  signal?: AbortSignal;
}

export function resolveStudyConfig(o: StudyOptions): StudyConfig {
  const preset = o.preset ?? 'default';
  if (!STUDY_PRESETS.includes(preset)) throw inputError(`unknown preset "${preset}"; choose one of ${STUDY_PRESETS.join(', ')}`);
  const c = presetConfig(preset);
  const posInt = (v: number | undefined, name: string, min = 1) => {
    if (v === undefined) return undefined;
    if (!Number.isInteger(v) || v < min) throw inputError(`${name} must be a whole number ≥ ${min}, got ${v}`);
    return v;
  };
  c.seeds = posInt(o.seeds, '--seeds', 2) ?? c.seeds;
  const epochs = posInt(o.epochs, '--epochs');
  if (epochs) {
    c.sgd.epochs = epochs;
    c.lbfgs.epochs = epochs;
  }
  c.path.steps = posInt(o.pathSteps, '--path-steps') ?? c.path.steps;
  if (o.refine !== undefined) {
    if (!(PATH_REFINES as readonly string[]).includes(o.refine)) throw inputError(`--refine must be one of ${PATH_REFINES.join(', ')}, got "${o.refine}"`);
    c.path.refine = o.refine;
  }
  c.pairsPerGroup = posInt(o.pairsPerGroup, '--pairs') ?? c.pairsPerGroup;
  if (o.model !== undefined) {
    // Parsed now: a spec that does not parse is a usage error before any run starts.
    modelSpecFromText(o.model, { bias: c.bias });
    c.model = o.model;
  }
  if (o.dataset !== undefined) c.dataset = o.dataset;
  c.subset = posInt(o.subset, '--subset') ?? c.subset;
  return c;
}

function runName(opt: OptimizerGroup, seed: number): string {
  return `${opt}-s${seed}`;
}

function runConfig(c: StudyConfig, opt: OptimizerGroup, seed: number, out: string, backend?: string): TrainConfig {
  // One data split for every run (dataSeed), so losses and barriers are measured on the same data;
  // the run's own seed drives only the initial weights and the batch order.
  const base = { dataset: c.dataset, ...(c.subset !== undefined ? { subset: c.subset } : {}), model: c.model, bias: c.bias, seed, dataSeed: c.seed, out, backend, checkpointEvery: 0 };
  return opt === 'sgd'
    ? { ...base, optimizer: 'sgd', lr: c.sgd.lr, batch: c.sgd.batch, epochs: c.sgd.epochs }
    : { ...base, optimizer: 'lbfgs', epochs: c.lbfgs.epochs };
}

/** A finished run is reused only when it was trained with exactly this configuration. */
function reusableRun(dir: string, cfg: TrainConfig): RunJson | undefined {
  if (!fs.existsSync(path.join(dir, 'run.json'))) return undefined;
  try {
    const rj = readRunJson(dir);
    const same =
      rj.status === 'completed' &&
      rj.config.optimizer === cfg.optimizer &&
      rj.config.epochs === cfg.epochs &&
      rj.config.seed === cfg.seed &&
      rj.config.model === cfg.model &&
      rj.config.dataset === cfg.dataset &&
      rj.config.subset === cfg.subset &&
      rj.config.bias === cfg.bias &&
      (cfg.lr === undefined || rj.config.lr === cfg.lr) &&
      rj.config.dataSeed === cfg.dataSeed &&
      (cfg.optimizer !== 'sgd' || rj.config.batch === cfg.batch);
    return same && fs.existsSync(path.join(dir, 'final.safetensors')) && fs.existsSync(path.join(dir, 'best.safetensors')) ? rj : undefined;
  } catch {
    return undefined;
  }
}

function withoutForces(r: RefinementSummary): Omit<RefinementSummary, 'forceHistory'> {
  const { forceHistory: _unused, ...rest } = r;
  return rest;
}

function numbers(h: { height: number; tAtMax: number; barrierFromA: number; barrierFromB: number; barrierFromMean: number }): BarrierNumbers {
  return { height: h.height, tAtMax: h.tAtMax, barrierFromA: h.barrierFromA, barrierFromB: h.barrierFromB, barrierFromMean: h.barrierFromMean };
}

/** Seeded choice of up to k distinct pairs among n items. */
export function choosePairs(n: number, k: number, rng: Rng): [number, number][] {
  const all: [number, number][] = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) all.push([i, j]);
  if (k >= all.length) return all;
  const perm = rng.permutation(all.length);
  return Array.from(perm.subarray(0, k))
    .sort((x, y) => x - y)
    .map((p) => all[p]);
}

function mean(xs: number[]): number {
  return xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : NaN;
}

/** Best threshold accuracy of a 1-D score separating two labelled groups. */
export function separation(scores: number[], labels: boolean[]): { accuracy: number; gap: number } {
  const order = scores.map((s, i) => [s, labels[i]] as const).sort((a, b) => a[0] - b[0]);
  const n = order.length;
  const positives = labels.filter(Boolean).length;
  let best = 0;
  let gap = -Infinity;
  let posLeft = 0;
  for (let cut = 0; cut <= n; cut++) {
    if (cut > 0 && order[cut - 1][1]) posLeft++;
    const negLeft = cut - posLeft;
    // Either side may hold the positives.
    const accA = (negLeft + (positives - posLeft)) / n;
    const accB = (posLeft + (n - positives - negLeft)) / n;
    const acc = Math.max(accA, accB);
    if (acc > best || (acc === best && cut > 0 && cut < n && order[cut][0] - order[cut - 1][0] > gap)) {
      best = acc;
      gap = cut > 0 && cut < n ? order[cut][0] - order[cut - 1][0] : gap;
    }
  }
  return { accuracy: best, gap };
}

export function verdicts(solutions: StudySolution[], barriers: StudyBarrier[], pc1: number[]): Verdict[] {
  const finals = (opt: OptimizerGroup) => solutions.filter((s) => s.optimizer === opt && s.kind === 'final');
  const sgdTrain = finals('sgd').map((s) => s.trainLoss);
  const lbTrain = finals('lbfgs').map((s) => s.trainLoss);
  const deeper = mean(lbTrain) < mean(sgdTrain);
  const bSgd = barriers.filter((b) => b.optimizer === 'sgd').map((b) => b.optimized.barrierFromMean);
  const bLb = barriers.filter((b) => b.optimizer === 'lbfgs').map((b) => b.optimized.barrierFromMean);
  const sSgd = barriers.filter((b) => b.optimizer === 'sgd').map((b) => b.straight.barrierFromMean);
  const sLb = barriers.filter((b) => b.optimizer === 'lbfgs').map((b) => b.straight.barrierFromMean);
  const lower = bSgd.length > 0 && bLb.length > 0 && mean(bSgd) < mean(bLb);
  const sep = separation(
    pc1,
    solutions.map((s) => s.optimizer === 'sgd'),
  );
  const f = (x: number) => (Number.isFinite(x) ? x.toPrecision(3) : String(x));
  return [
    {
      id: 'deeper-minima',
      claim: 'L-BFGS reaches lower training loss than SGD',
      reproduced: deeper,
      evidence: `mean final train loss: L-BFGS ${f(mean(lbTrain))}, SGD ${f(mean(sgdTrain))} (${lbTrain.length} + ${sgdTrain.length} runs, same number of epochs)`,
      numbers: { lbfgsMeanTrainLoss: mean(lbTrain), sgdMeanTrainLoss: mean(sgdTrain) },
    },
    {
      id: 'lower-sgd-barriers',
      claim: 'SGD minima are separated by lower barriers than L-BFGS minima',
      reproduced: lower,
      evidence:
        `mean optimized barrier (height above the mean of the two endpoint losses): SGD ${f(mean(bSgd))} over ${bSgd.length} pairs, ` +
        `L-BFGS ${f(mean(bLb))} over ${bLb.length} pairs; straight line: SGD ${f(mean(sSgd))}, L-BFGS ${f(mean(sLb))}`,
      numbers: { sgdMeanBarrier: mean(bSgd), lbfgsMeanBarrier: mean(bLb), sgdMeanStraight: mean(sSgd), lbfgsMeanStraight: mean(sLb) },
    },
    {
      id: 'kpca-separates',
      claim: 'RBF kernel PCA separates the two groups along its first component',
      reproduced: sep.accuracy === 1,
      evidence: `the best threshold on component 1 classifies ${(sep.accuracy * 100).toFixed(0)}% of the ${pc1.length} solutions by optimizer` + (sep.accuracy === 1 ? ` (gap ${f(sep.gap)})` : ''),
      numbers: { thresholdAccuracy: sep.accuracy },
    },
  ];
}

function solutionsOf(name: string, opt: OptimizerGroup, seed: number, rj: RunJson): StudySolution[] {
  const final = rj.checkpoints.find((c) => c.kind === 'final')!;
  const best = rj.best!;
  return (
    [
      ['final', final, 'final.safetensors'],
      ['early', best, 'best.safetensors'],
    ] as const
  ).map(([kind, ck, file]) => ({
    id: `${name}/${kind}`,
    optimizer: opt,
    seed,
    kind,
    file: path.join('runs', name, file),
    epoch: ck.epoch,
    trainLoss: ck.trainLoss,
    testLoss: ck.testLoss,
    trainAccuracy: ck.accuracy,
    testAccuracy: ck.testAccuracy,
  }));
}

interface PlannedRun {
  name: string;
  opt: OptimizerGroup;
  seed: number;
  /** Place in the plan. */
  index: number;
  dir: string;
  tc: TrainConfig;
  /** run.json of the finished run: found reusable, or once trained. */
  rj?: RunJson;
}

function planRuns(cfg: StudyConfig, out: string, o: StudyOptions): PlannedRun[] {
  const plan: PlannedRun[] = [];
  for (const opt of GROUPS) {
    for (let seed = 1; seed <= cfg.seeds; seed++) {
      const name = runName(opt, seed);
      const dir = path.join(out, 'runs', name);
      const tc = runConfig(cfg, opt, seed, dir, o.backend);
      plan.push({ name, opt, seed, index: plan.length, dir, tc, rj: reusableRun(dir, tc) });
    }
  }
  return plan;
}

/** Phase 1: every run of the plan, reused when finished with the same configuration; here, or all at once on `o.runRunner`. */
async function* trainPhase(cfg: StudyConfig, out: string, o: StudyOptions, backend: BackendInfo, reused: { runs: number }): AsyncGenerator<StudyEvent, StudySolution[]> {
  const plan = planRuns(cfg, out, o);
  yield { type: 'phase', phase: 'train', message: `training ${cfg.seeds} seeds each of SGD and L-BFGS on ${cfg.dataset} (${cfg.model}${isLayerSpec(cfg.model) ? '' : ', no biases'})`, total: plan.length };
  if (o.runRunner) yield* trainOnRunner(plan, o.runRunner, o, backend, reused);
  else yield* trainHere(plan, o, reused);
  return plan.flatMap((r) => solutionsOf(r.name, r.opt, r.seed, r.rj!));
}

/** The runs one after the other on this thread. */
async function* trainHere(plan: PlannedRun[], o: StudyOptions, reused: { runs: number }): AsyncGenerator<StudyEvent, void> {
  for (const r of plan) {
    throwIfAborted(o.signal);
    yield { type: 'run-start', run: r.name, index: r.index, total: plan.length, reused: Boolean(r.rj) };
    if (r.rj) {
      reused.runs++;
      continue;
    }
    fs.rmSync(r.dir, { recursive: true, force: true });
    const it = train(r.tc, { signal: o.signal });
    for (;;) {
      const step = await it.next();
      if (step.done) {
        r.rj = step.value;
        break;
      }
      yield { type: 'train', run: r.name, event: step.value };
    }
  }
}

/** How a run on this thread would compute: what a runner elsewhere must reproduce for the same bytes. */
function localCompute(backend: BackendInfo): LocalCompute {
  const f = fastInfo();
  return { backend: backend.name, threads: f.threads, kernels: f.enabled ? (f.simd ?? 'simd') : 'off' };
}

/** The runs not reused, handed to `runner` all at once; its progress becomes the events a local run yields. */
async function* trainOnRunner(plan: PlannedRun[], runner: RunRunner, o: StudyOptions, backend: BackendInfo, reused: { runs: number }): AsyncGenerator<StudyEvent, void> {
  const total = plan.length;
  for (const r of plan.filter((p) => p.rj)) {
    reused.runs++;
    yield { type: 'run-start', run: r.name, index: r.index, total, reused: true };
  }
  const pending = plan.filter((p) => !p.rj);
  if (!pending.length) return;
  throwIfAborted(o.signal);
  for (const r of pending) fs.rmSync(r.dir, { recursive: true, force: true });
  yield* eventStream<StudyEvent, void>((emit) =>
    runner(
      pending.map((r) => ({ name: r.name, config: r.tc })),
      {
        compute: localCompute(backend),
        signal: o.signal,
        onStart: (k) => emit({ type: 'run-start', run: pending[k].name, index: pending[k].index, total, reused: false }),
        onEpoch: (k, event) => emit({ type: 'train', run: pending[k].name, event }),
        onDone: (k) => emit({ type: 'train', run: pending[k].name, event: doneEvent(pending[k]) }),
      },
    ),
  );
  for (const r of pending) if (!r.rj) throw computeError(`run ${r.name} did not come back from its runner`);
}

/** The 'done' event of a run another runner trained into r.dir, from its run.json (which it records on r). */
function doneEvent(r: PlannedRun): TrainEvent {
  const rj = readRunJson(r.dir);
  if (rj.status !== 'completed') throw computeError(`run ${r.name} came back ${rj.status}`);
  r.rj = rj;
  return { type: 'done', status: rj.status, runDir: r.dir, epochs: rj.config.epochs, finalPath: path.join(r.dir, 'final.safetensors'), bestPath: rj.best ? path.join(r.dir, rj.best.file) : undefined, best: rj.best };
}

interface StudyPair {
  opt: OptimizerGroup;
  a: string;
  b: string;
}

const pairLabel = (p: StudyPair) => `${p.a} ↔ ${p.b}`;
const pairFile = (p: StudyPair) => path.join('paths', `${p.a.replace(/\//g, '_')}__${p.b.replace(/\//g, '_')}.json`);

/** A path saved by an earlier call, when it was found with exactly these options. */
function savedBarrier(file: string, wantOptions: unknown): StudyBarrier | undefined {
  if (!fs.existsSync(file)) return undefined;
  try {
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { options: unknown; barrier: StudyBarrier };
    return JSON.stringify(saved.options) === JSON.stringify(wantOptions) ? saved.barrier : undefined;
  } catch {
    return undefined;
  }
}

function studyBarrier(p: StudyPair, r: PathResult): StudyBarrier {
  return {
    optimizer: p.opt,
    a: p.a,
    b: p.b,
    lossA: r.lossA,
    lossB: r.lossB,
    straight: numbers(r.linear),
    optimized: { ...numbers(r), iterations: r.iterations },
    ...(r.refinement ? { refinement: withoutForces(r.refinement) } : {}),
    profile: { t: r.profile.t, straight: r.linear.profile.loss, optimized: r.profile.loss },
    file: pairFile(p),
  };
}

/** A saved barrier as the matrices see a pair. */
function savedHeights(b: StudyBarrier): PairHeights {
  return { height: b.optimized.height, lossA: b.lossA, lossB: b.lossB, linear: { height: b.straight.height } };
}

interface BarrierInputs {
  cfg: StudyConfig;
  out: string;
  backend: BackendInfo;
  spec: ModelSpec;
  solutions: StudySolution[];
  thetas: Map<string, Float32Array>;
  options: StudyOptions;
}

/** Phase 2: barriers within each group, between final solutions; finished paths are reused. */
async function* barrierPhase(x: BarrierInputs, reused: { paths: number }): AsyncGenerator<StudyEvent, StudyBarrier[]> {
  const { cfg, out } = x;
  const rng = new Rng(cfg.seed);
  const ids = GROUPS.flatMap((opt) => x.solutions.filter((s) => s.optimizer === opt && s.kind === 'final').map((s) => s.id));
  const pairs: StudyPair[] = [];
  for (const opt of GROUPS) {
    const group = x.solutions.filter((s) => s.optimizer === opt && s.kind === 'final').map((s) => s.id);
    for (const [i, j] of choosePairs(group.length, cfg.pairsPerGroup, rng.fork())) pairs.push({ opt, a: group[i], b: group[j] });
  }
  yield { type: 'phase', phase: 'barriers', message: `FourierPathFinder (${cfg.path.objective}) on ${pairs.length} pairs, straight line alongside`, total: pairs.length };
  // Barriers are heights of the full-batch training loss on the split every run trained on.
  const wantOptions = { ...cfg.path, dataSeed: cfg.seed };
  const found = new Map<number, StudyBarrier>();
  for (let k = 0; k < pairs.length; k++) {
    const barrier = savedBarrier(path.join(out, pairFile(pairs[k])), wantOptions);
    yield { type: 'path-start', pair: pairLabel(pairs[k]), index: k, total: pairs.length, reused: Boolean(barrier) };
    if (!barrier) continue;
    reused.paths++;
    found.set(k, barrier);
    yield { type: 'path-done', pair: pairLabel(pairs[k]), barrier };
  }
  if (found.size < pairs.length) yield* eventStream<StudyEvent, void>((emit) => computeBarriers(x, ids, pairs, found, wantOptions, emit));
  return pairs.map((_, k) => found.get(k)!);
}

/** The pairs not in `found`, on the worker pool (a path's numbers do not depend on which thread computes it). */
async function computeBarriers(x: BarrierInputs, ids: string[], pairs: StudyPair[], found: Map<number, StudyBarrier>, wantOptions: unknown, emit: (e: StudyEvent) => void): Promise<void> {
  const { cfg, out } = x;
  const index = new Map(ids.map((id, i) => [id, i]));
  const byIndices = new Map(pairs.map((p, k) => [`${index.get(p.a)},${index.get(p.b)}`, k]));
  const problem: PathProblem = {
    backend: x.backend.name,
    spec: x.spec,
    recipe: { dataset: cfg.dataset, seed: cfg.seed, testFraction: 0.2, options: cfg.subset !== undefined ? { subset: cfg.subset } : {} },
    thetas: ids.map((id) => x.thetas.get(id)!),
    // The preset's path settings as they are, so a setting added there reaches the path finder.
    path: { method: 'fourier', ...cfg.path, seed: cfg.seed },
  };
  let failure: unknown;
  await barrierMatrix<PairHeights>(problem, {
    pairs: pairs.map((p) => [index.get(p.a)!, index.get(p.b)!] as [number, number]),
    finished: (i, j) => {
      const b = found.get(byIndices.get(`${i},${j}`)!);
      return b && savedHeights(b);
    },
    jobs: x.options.jobs,
    runner: x.options.pairRunner,
    signal: x.options.signal,
    onProgress: (pr) => emit({ type: 'path-iteration', pair: pairLabel(pairs[pr.k]), iteration: pr.iteration, steps: progressSteps(resolvePathOptions(problem.path)), height: pr.height, bestHeight: pr.bestHeight }),
    onPairDone: (res) => {
      const p = pairs[res.k];
      if (!res.result) {
        failure ??= computeError(`path ${pairLabel(p)} failed: ${res.error?.message ?? 'unknown error'}`);
        return;
      }
      const barrier = studyBarrier(p, res.result);
      // Saved as soon as it is done, so an interrupted study keeps it.
      writeJsonAtomic(path.join(out, barrier.file), { options: wantOptions, barrier });
      found.set(res.k, barrier);
      emit({ type: 'path-done', pair: pairLabel(p), barrier });
    },
  });
  if (failure) throw failure;
}

/** Phase 3: kernel PCA of every solution, RBF with γ = 1/P; then the verdicts. */
async function studyResult(cfg: StudyConfig, backend: BackendInfo, spec: ModelSpec, solutions: StudySolution[], thetas: Map<string, Float32Array>, barriers: StudyBarrier[]) {
  const P = paramCount(spec);
  const kp = await kernelPCA(
    solutions.map((s) => thetas.get(s.id)!),
    { kernel: 'rbf', gamma: 1 / P, components: 2, names: solutions.map((s) => s.file) },
  );
  return {
    formatVersion: 1 as const,
    config: cfg,
    backend: backend.name,
    versions: { landscape: LANDSCAPE_VERSION, tfjs: backend.tfjsVersion, node: process.versions.node },
    paramCount: P,
    solutions,
    barriers,
    kpca: {
      kernel: 'rbf',
      gamma: 1 / P,
      ids: solutions.map((s) => s.id),
      projections: kp.projections,
      explainedVariance: kp.explainedVariance,
    },
    verdicts: verdicts(
      solutions,
      barriers,
      kp.projections.map((p) => p[0]),
    ),
  };
}

/**
 * Run the study. Yields progress events and returns the result; finished
 * runs and paths from an interrupted earlier call are reused.
 */
export async function* runStudy(o: StudyOptions): AsyncGenerator<StudyEvent, StudyResult> {
  if (!o.out) throw inputError('no output folder given (--out <dir>)');
  const cfg = resolveStudyConfig(o);
  const out = path.resolve(o.out);
  const backend: BackendInfo = await initBackend(o.backend);
  fs.mkdirSync(path.join(out, 'runs'), { recursive: true });
  fs.mkdirSync(path.join(out, 'paths'), { recursive: true });
  const t0 = Date.now();
  const reused = { runs: 0, paths: 0 };

  const solutions = yield* trainPhase(cfg, out, o, backend, reused);
  const trainSeconds = (Date.now() - t0) / 1000;
  // Load every solution's parameters once.
  const thetas = new Map<string, Float32Array>();
  for (const s of solutions) thetas.set(s.id, (await loadCheckpoint(path.join(out, s.file))).theta);
  const spec = modelSpecFromText(cfg.model, { bias: cfg.bias, loss: 'cross-entropy' });

  const tPaths = Date.now();
  const barriers = yield* barrierPhase({ cfg, out, backend, spec, solutions, thetas, options: o }, reused);
  const pathSeconds = (Date.now() - tPaths) / 1000;

  yield { type: 'phase', phase: 'kpca', message: `kernel PCA (RBF, γ = 1/P) of ${solutions.length} solutions` };
  const computed = await studyResult(cfg, backend, spec, solutions, thetas, barriers);
  const result: StudyResult = { ...computed, timing: { trainSeconds, pathSeconds, totalSeconds: (Date.now() - t0) / 1000 }, reused };
  yield { type: 'phase', phase: 'report', message: 'writing study.json and report.html' };
  const studyJson = path.join(out, 'study.json');
  writeJsonAtomic(studyJson, result);
  const reportHtml = path.join(out, 'report.html');
  writeFileAtomicSync(reportHtml, renderReport(result));
  yield { type: 'done', result, studyJson, reportHtml };
  return result;
}
