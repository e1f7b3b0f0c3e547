/**
 * One workload's rounds: each round times our side in a fresh process and
 * then the PyTorch reference (the better of its thread counts), so the two
 * see the same machine state; then the report, and the extras printed beside
 * some workloads (W4b, W5's agreement, W8b, the W7–W10 agreement).
 *
 * A workload's rounds stop once another would take it past CAP_BUDGETS
 * budgets (2 minutes at the default 15 s): every run inside a round already
 * stops at the budget once it has its minimum of timed runs, so on a slow
 * engine the heavy convolutional workloads get one round instead of three.
 * For the same reason, once a round took longer than the budget, later rounds
 * time PyTorch only at the thread count that won the first.
 */
import { spawnSync } from 'child_process';
import { RESULT_MARK, type ChildConfig, type ChildResult } from './child';
import { TITLES, isCnnWorkload, type WorkloadId } from './workloads';
import { cnnScript, runTorch, type BlasVariant, type TorchResult, type TorchRuntime } from './torch';
import { median } from './stats';
import { compareHessianNumbers, type Agreement, type HessianNumbers } from './agreement';
import { compareCnnNumbers, type CnnAgreement } from './cnnReport';

export const CAP_BUDGETS = 8;

export interface RunContext {
  rounds: number;
  repeats: number;
  warmup: number;
  budgetS: number;
  compareTfjs: boolean;
  base: Omit<ChildConfig, 'task'>;
  rt?: TorchRuntime;
  blas: BlasVariant[];
  /** The reference's inputs: W1–W6 (bench/fixture.ts) and W7–W10 (bench/cnnFixture.ts). */
  dataFile?: string;
  cnnFile?: string;
  log: (s: string) => void;
  /** Set by the first CNN workload: the agreement check runs once. */
  cnnAgreementDone?: boolean;
  /** Of the last successful child: the backend it ran and our thread count, for the report's header. */
  backendName?: string;
  threads?: number;
}

/** Runs one measurement in a fresh Node process (this same script with --child). */
export function child(cfg: ChildConfig, env: NodeJS.ProcessEnv = {}): ChildResult | { error: string } {
  const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1], '--child', JSON.stringify(cfg)], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 64 * 2 ** 20,
    timeout: 30 * 60_000,
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith(RESULT_MARK));
  if (!line) {
    const lines = (r.stderr || r.stdout || String(r.error ?? '')).split('\n').filter((l) => l.trim());
    // A line naming an error, else the last one (bench's own "bench: <message>"), else the exit status.
    const err = lines.find((l) => /error/i.test(l)) ?? lines[lines.length - 1] ?? `exit ${r.status}`;
    return { error: `${cfg.task}: ${err.slice(0, 300)}` };
  }
  return JSON.parse(line.slice(RESULT_MARK.length)) as ChildResult;
}

export function isError<T>(r: T | { error: string }): r is { error: string } {
  return typeof (r as { error?: string }).error === 'string';
}

/** The reference for a workload (reference.py, or reference_cnn.py for W7–W10 and their extras). */
function reference(ctx: RunContext, workload: string, o: { threads: number; repeats?: number; warmup?: number; blas: BlasVariant }): TorchResult | { error: string } {
  const cnn = isCnnWorkload(workload) || workload === 'W8b' || workload === 'CNNcheck';
  const data = cnn ? ctx.cnnFile : ctx.dataFile;
  if (!ctx.rt || !data) return { error: `reference ${workload}: no exported input` };
  const opts = { threads: o.threads, repeats: o.repeats ?? ctx.repeats, warmup: o.warmup ?? ctx.warmup, budgetS: ctx.budgetS, blas: o.blas };
  return runTorch(ctx.rt, data, workload, cnn ? { ...opts, script: cnnScript(ctx.rt) } : opts);
}

interface Series {
  /** Per-round medians. */
  rounds: number[];
  all: number[];
}

function series(): Series {
  return { rounds: [], all: [] };
}

function addRound(s: Series, times: number[]): void {
  s.rounds.push(median(times));
  s.all.push(...times);
}

export interface TorchReport {
  medianMs: number;
  roundsMs: number[];
  threads: number[];
  gflops: number;
  rssPeakMb: number;
  rssBaseMb: number;
  blas: string;
  ratio: number;
  ratioRounds: number[];
  info: TorchResult['info'];
}

export interface WorkloadReport {
  id: WorkloadId;
  title: string;
  flops: number;
  ours: {
    medianMs: number;
    roundsMs: number[];
    gflops: number;
    threads: number;
    fast: boolean;
    simd?: string;
    rssPeakMb: number;
    rssBaseMb: number;
    arrayBuffersPeakMb: number;
    tfBytesPeakMb: number;
    fastMemoryMb: number;
    info: ChildResult['info'];
  } | null;
  /** Rounds run (fewer than asked when the workload reached its time cap). */
  rounds: number;
  roundsAsked: number;
  tfjs?: { medianMs: number; roundsMs: number[]; gflops: number } | null;
  torch: Record<string, TorchReport>;
  /** W4: PyTorch batched with torch.bmm; W8: with functorch.vmap. */
  torchBatched?: { medianMs: number; ratio: number } | null;
  /** W5 only: λmax and the exact trace against PyTorch's double backward. */
  agreement?: Agreement;
  /** The first of W7–W10 measured: loss and gradient of both networks at their initial weights. */
  cnnAgreement?: CnnAgreement;
  errors: string[];
}

/** Everything the rounds collect, summarised into a WorkloadReport at the end. */
interface Collected {
  ours: Series;
  tfjs: Series;
  torch: Map<string, { s: Series; threads: number[]; res?: TorchResult }>;
  ratios: Map<string, number[]>;
  last?: ChildResult;
  peak: { rss: number; ab: number; tf: number; fast: number };
  /** Per BLAS label, the thread count later rounds use once rounds are long. */
  fixedThreads: Map<string, number>;
}

/** PyTorch for one round: the better of our thread count and one thread (or the count fixed earlier). */
function torchRound(ctx: RunContext, id: WorkloadId, round: number, ours: ChildResult, c: Collected, errors: string[]): void {
  for (const b of ctx.blas) {
    const counts = c.fixedThreads.has(b.label) ? [c.fixedThreads.get(b.label)!] : [...new Set([ours.threads, 1])];
    let best: TorchResult | undefined;
    for (const th of counts) {
      ctx.log(`${id} round ${round + 1}/${ctx.rounds}: PyTorch (${b.label} BLAS, ${th} thread${th > 1 ? 's' : ''})…`);
      const tr = reference(ctx, id, { threads: th, blas: b });
      if (isError(tr)) {
        errors.push(tr.error);
        continue;
      }
      if (!best || median(tr.timesMs) < median(best.timesMs)) best = tr;
    }
    if (!best) continue;
    const entry = c.torch.get(b.label) ?? { s: series(), threads: [] };
    addRound(entry.s, best.timesMs);
    entry.threads.push(best.threads);
    entry.res = entry.res && entry.res.rssPeakMb > best.rssPeakMb ? entry.res : best;
    c.torch.set(b.label, entry);
    c.ratios.set(b.label, [...(c.ratios.get(b.label) ?? []), median(ours.timesMs) / median(best.timesMs)]);
  }
}

/** Rounds of one workload until done, failed, or the time cap; returns the rounds run. */
function runRounds(ctx: RunContext, id: WorkloadId, c: Collected, errors: string[]): number {
  const started = Date.now();
  const capMs = CAP_BUDGETS * ctx.budgetS * 1000;
  let round = 0;
  for (; round < ctx.rounds; round++) {
    const elapsed = Date.now() - started;
    if (round > 0 && elapsed + elapsed / round > capMs) {
      ctx.log(`${id}: stopping after ${round} round${round > 1 ? 's' : ''}: another would take it past ${capMs / 1000} s`);
      break;
    }
    ctx.log(`${id} round ${round + 1}/${ctx.rounds}: ours…`);
    const r = child({ ...ctx.base, task: id });
    if (isError(r)) {
      errors.push(r.error);
      break;
    }
    c.last = r;
    ctx.backendName = r.backend;
    ctx.threads = r.threads;
    addRound(c.ours, r.timesMs);
    c.peak = { rss: Math.max(c.peak.rss, r.rssPeakMb), ab: Math.max(c.peak.ab, r.arrayBuffersPeakMb), tf: Math.max(c.peak.tf, r.tfBytesPeakMb), fast: Math.max(c.peak.fast, r.fastMemoryMb) };
    if (ctx.compareTfjs) {
      const t = child({ ...ctx.base, task: id }, { LANDSCAPE_FAST: '0' });
      if (isError(t)) errors.push(t.error);
      else addRound(c.tfjs, t.timesMs);
    }
    if (ctx.rt) torchRound(ctx, id, round, r, c, errors);
    if (round === 0 && Date.now() - started > ctx.budgetS * 1000) for (const [label, e] of c.torch) c.fixedThreads.set(label, e.threads[0]);
  }
  return round;
}

function ourReport(c: Collected, last: ChildResult): NonNullable<WorkloadReport['ours']> {
  const med = median(c.ours.all);
  return {
    medianMs: med,
    roundsMs: c.ours.rounds,
    gflops: last.flops / med / 1e6,
    threads: last.threads,
    fast: last.fast,
    simd: last.simd,
    rssPeakMb: c.peak.rss,
    rssBaseMb: last.rssBaseMb,
    arrayBuffersPeakMb: c.peak.ab,
    tfBytesPeakMb: c.peak.tf,
    fastMemoryMb: c.peak.fast,
    info: last.info,
  };
}

function torchReports(id: WorkloadId, c: Collected, last: ChildResult): Record<string, TorchReport> {
  const out: Record<string, TorchReport> = {};
  for (const [label, e] of c.torch) {
    const med = median(e.s.all);
    // W2's line search may take a different number of evaluations in torch: count its own.
    const tflops = id === 'W2' && e.res?.info.evaluations !== undefined ? last.flops + (Number(e.res.info.evaluations) - Number(last.info.evaluations ?? 0)) * (last.flops / (3 + Number(last.info.evaluations ?? 0))) : last.flops;
    const rr = c.ratios.get(label) ?? [];
    out[label] = {
      medianMs: med,
      roundsMs: e.s.rounds,
      threads: e.threads,
      gflops: tflops / med / 1e6,
      rssPeakMb: e.res?.rssPeakMb ?? NaN,
      rssBaseMb: e.res?.rssBaseMb ?? NaN,
      blas: e.res?.blas ?? 'unknown',
      ratio: median(rr),
      ratioRounds: rr,
      info: e.res?.info ?? {},
    };
  }
  return out;
}

/** The untimed checks and batched variants beside some workloads, once their rounds are done. */
function extras(ctx: RunContext, rep: WorkloadReport, threads: number): void {
  if (!ctx.rt || ctx.blas.length === 0) return;
  const id = rep.id;
  const blas = ctx.blas[0];
  const oursMs = rep.ours!.medianMs;
  if (id === 'W5') {
    ctx.log('W5 agreement: λmax and exact trace, ours and PyTorch…');
    const mine = child({ ...ctx.base, task: 'hessian-agreement', warmup: 0, repeats: 1 });
    const theirs = reference(ctx, 'W5check', { threads, repeats: 1, warmup: 0, blas });
    if (isError(mine)) rep.errors.push(mine.error);
    else if (isError(theirs)) rep.errors.push(theirs.error);
    else rep.agreement = compareHessianNumbers(mine.info as unknown as HessianNumbers, theirs.info as unknown as HessianNumbers);
  }
  if (id === 'W4' || id === 'W8') {
    if (id === 'W8') ctx.log('W8b: PyTorch batched with functorch.vmap…');
    const tb = reference(ctx, id === 'W4' ? 'W4b' : 'W8b', { threads, blas });
    if (!isError(tb)) rep.torchBatched = { medianMs: median(tb.timesMs), ratio: oursMs / median(tb.timesMs) };
    else if (id === 'W8') rep.errors.push(tb.error);
  }
  if (isCnnWorkload(id) && !ctx.cnnAgreementDone) {
    ctx.cnnAgreementDone = true;
    ctx.log('W7–W10 agreement: loss and gradient at the initial weights, ours and PyTorch…');
    // The reference first: it leaves its gradients beside its input, and our side compares with them.
    const theirs = reference(ctx, 'CNNcheck', { threads, repeats: 1, warmup: 0, blas });
    const mine = child({ ...ctx.base, task: 'cnn-agreement', warmup: 0, repeats: 1, cnnFile: ctx.cnnFile });
    if (isError(mine)) rep.errors.push(mine.error);
    else if (isError(theirs)) rep.errors.push(theirs.error);
    else rep.cnnAgreement = compareCnnNumbers(mine.info, theirs.info);
  }
}

export function measureWorkload(ctx: RunContext, id: WorkloadId): WorkloadReport {
  const rep: WorkloadReport = { id, title: TITLES[id], flops: 0, ours: null, rounds: 0, roundsAsked: ctx.rounds, torch: {}, errors: [] };
  const c: Collected = { ours: series(), tfjs: series(), torch: new Map(), ratios: new Map(), peak: { rss: 0, ab: 0, tf: 0, fast: 0 }, fixedThreads: new Map() };
  rep.rounds = runRounds(ctx, id, c, rep.errors);
  const last = c.last;
  if (!last) return rep;
  rep.flops = last.flops;
  rep.ours = ourReport(c, last);
  if (ctx.compareTfjs && c.tfjs.all.length) rep.tfjs = { medianMs: median(c.tfjs.all), roundsMs: c.tfjs.rounds, gflops: last.flops / median(c.tfjs.all) / 1e6 };
  rep.torch = torchReports(id, c, last);
  extras(ctx, rep, last.threads);
  return rep;
}
