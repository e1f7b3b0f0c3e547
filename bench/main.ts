/**
 * `npm run bench`: the workloads W1–W6 on the digits 64-32-32-10 network
 * (no biases) and W7–W10 on convolutional networks (LeNet-5 on Fashion-MNIST,
 * ResNet-20; bench/cnnWorkloads.ts), each timed in fresh processes over
 * several rounds, with GFLOP/s, the share of the machine's nominal
 * WebAssembly SIMD peak and peak memory, side by side with a PyTorch
 * reference timed in the same run where python3 + torch is installed; then
 * the W3 scaling curve and the path search's memory. See the README's
 * Performance section. `--workloads W7,W8,W9,W10` runs the CNN workloads alone.
 *
 *   node dist/bench.js [--json] [--workloads W1,W3] [--repeats 5] [--rounds 3]
 *                      [--backend wasm] [--no-torch] [--torch-blas installed|all]
 *                      [--no-scale] [--scale-only] [--no-memory] [--compare-tfjs] [--python path]
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runInOwnProcessGroup } from './processGroup';
import { RESULT_MARK, runChild, type ChildConfig, type ChildResult } from './child';
import { exportFixture, makeFixture, type Fixture, type FixtureOptions } from './fixture';
import { SETTINGS, WORKLOAD_IDS, isCnnWorkload, type WorkloadId } from './workloads';
import { NO_TORCH, blasVariants, findTorch, type BlasVariant, type TorchRuntime } from './torch';
import { fmtMs, fmtNum, median, minMax, powerFit, table } from './stats';
import { AGREEMENT_LANCZOS_STEPS, describeAgreement } from './agreement';
import { CAP_BUDGETS, child, isError, measureWorkload, type RunContext, type WorkloadReport } from './rounds';
import { exportCnnFixture, makeLenetFixture, makeResnetFixture, cnnModel, CNN_SETTINGS } from './cnnFixture';
import { describeCnnAgreement, describeW10, describeW8b } from './cnnReport';
import { fmtPeakShare, simdPeak, type SimdPeak } from './peak';
import { CNN_SCALE_WIDTHS } from './cnnScaling';
import { measureQueue, printQueue, type QueueBenchReport } from './queueBench';

interface Args {
  json: boolean;
  workloads: WorkloadId[];
  repeats: number;
  rounds: number;
  warmup: number;
  backend: string;
  budgetS: number;
  torch: boolean;
  torchBlas: 'installed' | 'all';
  scale: boolean;
  memory: boolean;
  compareTfjs: boolean;
  queue: boolean;
  python?: string;
}

const USAGE = `usage: node dist/bench.js [--json] [--workloads W1,W3] [--repeats n] [--rounds n] [--warmup n]
       [--backend wasm|cpu|tensorflow|auto] [--budget seconds] [--no-torch] [--torch-blas installed|all]
       [--no-scale] [--scale-only] [--no-queue] [--queue-only] [--no-memory] [--compare-tfjs] [--python path]`;

function parseArgs(argv: string[]): Args {
  const a: Args = {
    json: false,
    workloads: [...WORKLOAD_IDS],
    repeats: 5,
    rounds: 3,
    warmup: 1,
    backend: 'wasm',
    budgetS: 15,
    torch: true,
    torchBlas: 'installed',
    scale: true,
    memory: true,
    compareTfjs: false,
    queue: true,
  };
  const num = (flag: string, v: string | undefined, min: number): number => {
    const x = Number(v);
    if (v === undefined || !Number.isFinite(x) || x < min) fail(`${flag} needs a number ≥ ${min}, got ${v ?? 'nothing'}`);
    return x;
  };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i];
    const next = () => argv[++i];
    switch (f) {
      case '--json':
        a.json = true;
        break;
      case '--workloads': {
        const v = next();
        const ids = (v ?? '').split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
        for (const id of ids) if (!(WORKLOAD_IDS as readonly string[]).includes(id)) fail(`unknown workload "${id}"; choose from ${WORKLOAD_IDS.join(', ')}`);
        if (ids.length === 0) fail('--workloads needs a list such as W1,W3');
        a.workloads = ids as WorkloadId[];
        break;
      }
      case '--repeats':
        a.repeats = Math.round(num(f, next(), 1));
        break;
      case '--rounds':
        a.rounds = Math.round(num(f, next(), 1));
        break;
      case '--warmup':
        a.warmup = Math.round(num(f, next(), 0));
        break;
      case '--budget':
        a.budgetS = num(f, next(), 0.1);
        break;
      case '--backend':
        a.backend = next() ?? fail('--backend needs a value');
        break;
      case '--no-torch':
        a.torch = false;
        break;
      case '--torch-blas': {
        const v = next();
        if (v !== 'installed' && v !== 'all') fail(`--torch-blas is "installed" or "all", got ${v}`);
        a.torchBlas = v;
        break;
      }
      case '--no-scale':
        a.scale = false;
        break;
      case '--scale-only':
        a.workloads = [];
        a.memory = false;
        a.torch = false;
        a.queue = false;
        break;
      case '--queue-only':
        a.workloads = [];
        a.memory = false;
        a.torch = false;
        a.scale = false;
        break;
      case '--no-queue':
        a.queue = false;
        break;
      case '--no-memory':
        a.memory = false;
        break;
      case '--compare-tfjs':
        a.compareTfjs = true;
        break;
      case '--python':
        a.python = next() ?? fail('--python needs a path');
        break;
      case '-h':
      case '--help':
        process.stdout.write(USAGE + '\n');
        process.exit(0);
        break;
      default:
        fail(`unknown option ${f}`);
    }
  }
  return a;
}

function fail(msg: string): never {
  process.stderr.write(`bench: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

type ScalePoint = { hidden: number[]; n: number; points: number; dim: number; pnm: number; medianMs: number; gflops: number; rssPeakMb: number };
type MemoryReport = { pathMb: number; tfProfilePeakMb: number; fastMemoryMb: number; rssPeakMb: number; rssBaseMb: number; copies: number };

/** The scaling curve: W3 at P ≈ 3k, 12k, 48k and N = 500, 1797, and M = 25, 50, 100 at the smallest. */
function measureScaling(args: Args, base: Omit<ChildConfig, 'task'>, log: (s: string) => void): { scale: ScalePoint[]; fit?: { exponent: number; r2: number } } {
  const scale: ScalePoint[] = [];
  const configs: { fixture: FixtureOptions; points: number }[] = [];
  for (const hidden of [[32, 32], [80, 80], [184, 184]]) for (const n of [500, 1797]) configs.push({ fixture: { hidden, n }, points: SETTINGS.points });
  configs.push({ fixture: { hidden: [32, 32], n: 1797 }, points: 25 }, { fixture: { hidden: [32, 32], n: 1797 }, points: 100 });
  // Rounds interleave the configurations, so a burst of load elsewhere does not bend one point of the curve.
  const perConfig = configs.map(() => ({ times: [] as number[], last: undefined as ChildResult | undefined }));
  for (let round = 0; round < args.rounds; round++) {
    configs.forEach((c, i) => {
      log(`scale round ${round + 1}/${args.rounds}: 64-${c.fixture.hidden!.join('-')}-10, N = ${c.fixture.n}, M = ${c.points}…`);
      const r = child({ ...base, task: 'scale', fixture: c.fixture, points: c.points, repeats: Math.max(3, args.repeats), warmup: 1 });
      if (isError(r)) {
        log(r.error);
        return;
      }
      perConfig[i].times.push(median(r.timesMs));
      perConfig[i].last = r;
    });
  }
  configs.forEach((c, i) => {
    const r = perConfig[i].last;
    if (!r) return;
    const med = median(perConfig[i].times);
    scale.push({ hidden: c.fixture.hidden!, n: r.n, points: c.points, dim: r.dim, pnm: r.dim * r.n * c.points, medianMs: med, gflops: r.flops / med / 1e6, rssPeakMb: r.rssPeakMb });
  });
  return { scale, fit: scale.length >= 2 ? powerFit(scale.map((s) => s.pnm), scale.map((s) => s.medianMs)) : undefined };
}

type CnnScalePoint = { width: number; dim: number; n: number; points: number; pnm: number; medianMs: number; gflops: number; rssPeakMb: number };

/** The CNN rows: W8's iteration on LeNet at three widths, rounds interleaved as for the dense rows. */
function measureCnnScaling(args: Args, base: Omit<ChildConfig, 'task'>, log: (s: string) => void): { points: CnnScalePoint[]; fit?: { exponent: number; r2: number } } {
  const times = CNN_SCALE_WIDTHS.map(() => [] as number[]);
  const last: (ChildResult | undefined)[] = CNN_SCALE_WIDTHS.map(() => undefined);
  for (let round = 0; round < args.rounds; round++) {
    CNN_SCALE_WIDTHS.forEach((width, i) => {
      log(`cnn scale round ${round + 1}/${args.rounds}: LeNet × ${width}…`);
      const r = child({ ...base, task: 'cnn-scale', width, repeats: 3, warmup: 1 });
      if (isError(r)) return log(r.error);
      times[i].push(median(r.timesMs));
      last[i] = r;
    });
  }
  const points: CnnScalePoint[] = [];
  CNN_SCALE_WIDTHS.forEach((width, i) => {
    const r = last[i];
    if (!r) return;
    const med = median(times[i]);
    const M = CNN_SETTINGS.points;
    points.push({ width, dim: r.dim, n: r.n, points: M, pnm: r.dim * r.n * M, medianMs: med, gflops: r.flops / med / 1e6, rssPeakMb: r.rssPeakMb });
  });
  return { points, fit: points.length >= 2 ? powerFit(points.map((s) => s.pnm), points.map((s) => s.medianMs)) : undefined };
}

function printCnnScaling(cnn: { points: CnnScalePoint[]; fit?: { exponent: number; r2: number } }, p: (s?: string) => void): void {
  if (!cnn.points.length) return;
  p();
  p(`CNN scaling (one FourierPathFinder iteration, M = ${CNN_SETTINGS.points}, N_F = ${CNN_SETTINGS.modes}, LeNet's channels and units × width):`);
  p(
    table(
      ['width', 'P', 'N', 'M', 'P·N·M', 'median', 'GFLOP/s', 'ms per 1e9 P·N·M', 'peak RSS MB'],
      cnn.points.map((s) => [`× ${s.width}`, String(s.dim), String(s.n), String(s.points), s.pnm.toExponential(2), fmtMs(s.medianMs), fmtNum(s.gflops), fmtNum((s.medianMs / s.pnm) * 1e9, 1), fmtNum(s.rssPeakMb, 0)]),
    ),
  );
  if (cnn.fit) p(`fitted time ∝ (P·N·M)^${cnn.fit.exponent.toFixed(3)} (R² = ${cnn.fit.r2.toFixed(4)})`);
}

/** Memory of a path search, against the size of the M×P path itself. */
function measureMemory(base: Omit<ChildConfig, 'task'>, log: (s: string) => void): MemoryReport | undefined {
  log('memory: path search (W3) with tf.profile…');
  const r = child({ ...base, task: 'memory', repeats: 2, warmup: 0 });
  if (isError(r)) {
    log(r.error);
    return undefined;
  }
  const pathMb = (SETTINGS.points * r.dim * 4) / 2 ** 20;
  const peakMb = (r.tfProfilePeakMb ?? 0) + r.fastMemoryMb;
  return { pathMb, tfProfilePeakMb: r.tfProfilePeakMb ?? NaN, fastMemoryMb: r.fastMemoryMb, rssPeakMb: r.rssPeakMb, rssBaseMb: r.rssBaseMb, copies: peakMb / pathMb };
}

/** The reference's inputs in one temporary folder: W1–W6's fixture, and W7–W10's when one of them is asked for. */
async function exportReferenceInputs(fx: Fixture, workloads: readonly WorkloadId[], log: (s: string) => void): Promise<{ dataFile: string; cnnFile?: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'landscape-bench-'));
  const dataFile = path.join(dir, 'fixture.bin');
  exportFixture(fx, dataFile, { ...SETTINGS, agreementLanczosSteps: AGREEMENT_LANCZOS_STEPS });
  if (!workloads.some(isCnnWorkload)) return { dataFile };
  const cnnFile = path.join(dir, 'cnn-fixture.bin');
  const lenet = await makeLenetFixture().catch((e: unknown) => {
    // Both sides then fail W7, W8 and W10 with the loader's message; W9 needs no dataset.
    log(`W7, W8, W10: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  });
  exportCnnFixture(cnnFile, lenet, makeResnetFixture());
  return { dataFile, cnnFile };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    const res = await runChild(JSON.parse(argv[1]) as ChildConfig);
    process.stdout.write(RESULT_MARK + JSON.stringify(res) + '\n');
    return;
  }
  const args = parseArgs(argv);
  const log = (s: string) => {
    if (!args.json) process.stderr.write(s + '\n');
  };
  const rt: TorchRuntime | undefined = args.torch ? findTorch(args.python) : undefined;
  const blas: BlasVariant[] = rt ? blasVariants(args.torchBlas) : [];
  const fx = await makeFixture();
  const files = rt ? await exportReferenceInputs(fx, args.workloads, log) : undefined;
  const budgetMs = args.budgetS * 1000;
  const base: Omit<ChildConfig, 'task'> = { backend: args.backend, warmup: args.warmup, repeats: args.repeats, budgetMs, fixture: {} };
  const ctx: RunContext = { ...args, base, rt, blas, ...files, log };
  const reports: WorkloadReport[] = args.workloads.map((id) => measureWorkload(ctx, id));
  const threads = ctx.threads ?? 1;
  const backendName = ctx.backendName ?? args.backend;

  const { scale, fit } = args.scale ? measureScaling(args, base, log) : { scale: [], fit: undefined };
  const cnnScale = args.scale ? measureCnnScaling(args, base, log) : { points: [] };
  const memory = args.memory ? measureMemory(base, log) : undefined;
  const queue: QueueBenchReport | undefined = args.queue ? await measureQueue(log) : undefined;

  const machine = {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
  };
  const out = {
    machine,
    backend: backendName,
    threads,
    settings: SETTINGS,
    rows: fx.data.n,
    dim: fx.dim,
    torch: rt ? { python: rt.python, version: rt.version, blas: blas.map((b) => b.label) } : null,
    cnn: reports.some((r) => isCnnWorkload(r.id)) ? { settings: CNN_SETTINGS } : undefined,
    peak: simdPeak(),
    workloads: reports,
    scale: { points: scale, fit, cnn: cnnScale },
    memory,
    queue,
  };
  if (files) fs.rmSync(path.dirname(files.dataFile), { recursive: true, force: true });
  if (args.json) {
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    return;
  }
  printText(out, rt, args.torch ? NO_TORCH : 'n/a (--no-torch)');
  if (queue) printQueue(queue, (s = '') => process.stdout.write(s + '\n'));
}

/** The W7–W10 agreement, W10's eigenvalues, and workloads that stopped at their time cap. */
function printCnnNotes(workloads: WorkloadReport[], p: (s?: string) => void): void {
  const a = workloads.find((w) => w.cnnAgreement)?.cnnAgreement;
  if (a) {
    p();
    for (const line of describeCnnAgreement(a)) p(line);
  }
  const w10 = workloads.find((w) => w.id === 'W10' && w.ours);
  if (w10) p(describeW10(w10.ours!.info, Object.values(w10.torch)[0]?.info));
  for (const w of workloads) {
    if (w.ours && w.rounds < w.roundsAsked) p(`${w.id}: ${w.rounds} of ${w.roundsAsked} rounds (each workload stops at ${CAP_BUDGETS} × the budget)`);
  }
}

function printText(out: {
  machine: Record<string, string | number>;
  backend: string;
  threads: number;
  rows: number;
  dim: number;
  torch: { python: string; version: string; blas: string[] } | null;
  peak: SimdPeak;
  workloads: WorkloadReport[];
  scale: { points: ScalePoint[]; fit?: { exponent: number; r2: number }; cnn: { points: CnnScalePoint[]; fit?: { exponent: number; r2: number } } };
  memory?: MemoryReport;
}, rt: TorchRuntime | undefined, noTorch: string): void {
  const p = (s = '') => process.stdout.write(s + '\n');
  const m = out.machine;
  p(`Landscape benchmark: digits 64-32-32-10, no biases, N = ${out.rows} rows, P = ${out.dim} parameters`);
  const cnn = out.workloads.filter((w) => isCnnWorkload(w.id) && w.ours);
  if (cnn.length) p(`W7–W10: LeNet-5 (P = ${cnnModel('lenet').dim}) on ${CNN_SETTINGS.trainRows} Fashion-MNIST images (W8, W10: the first ${CNN_SETTINGS.pathRows}); ResNet-20 on ${CNN_SETTINGS.resnetBatch} synthetic 3×32×32 images`);
  p(`machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB, ${m.platform}, Node ${m.node}`);
  const simd = out.workloads.find((w) => w.ours?.simd)?.ours?.simd;
  p(`ours: tfjs backend ${out.backend}, ${out.threads} thread${out.threads > 1 ? 's' : ''}` + (simd ? ` (fast kernels: WebAssembly ${simd === 'relaxed-simd' ? 'relaxed SIMD, fused multiply-add' : 'SIMD'})` : ''));
  p(rt ? `PyTorch ${rt.version} (${rt.python}), threads: the faster of 1 and ours` : `PyTorch: ${noTorch}`);
  p('times: median over all timed runs; [min–max] of the per-round medians');
  const pk = out.peak;
  p(`SIMD peak: nominal WebAssembly SIMD, 16 FLOP/cycle/core (two 128-bit FMAs) × ${pk.ghz.toFixed(2)} GHz × ${pk.cores} cores = ${fmtNum(pk.gflops, 0)} GFLOP/s`);
  p('  (shares use the nominal FLOP counts: a workload that skips counted work, as W4 shares its first layer, can pass 100 %)');
  p();
  const showTfjs = out.workloads.some((w) => w.tfjs);
  const header = ['', 'workload', 'ours', '[spread]', 'GFLOP/s', 'SIMD peak', 'peak RSS MB'];
  if (showTfjs) header.push('tfjs path');
  const rows = out.workloads.map((w) => {
    const o = w.ours;
    if (!o) return [w.id, w.title, 'failed', '', '', '', ''];
    const [lo, hi] = minMax(o.roundsMs);
    const row = [w.id, w.title, fmtMs(o.medianMs), `[${fmtMs(lo)}–${fmtMs(hi)}]`, fmtNum(o.gflops), fmtPeakShare(o.gflops, out.peak), fmtNum(o.rssPeakMb, 0)];
    if (showTfjs) row.push(w.tfjs ? fmtMs(w.tfjs.medianMs) : 'n/a');
    return row;
  });
  p(table(header, rows));
  const labels = [...new Set(out.workloads.flatMap((w) => Object.keys(w.torch)))];
  if (!rt || labels.length === 0) {
    p();
    p(`ratio ours/PyTorch: ${noTorch}`);
  }
  for (const label of labels) {
    p();
    const anyBlas = out.workloads.map((w) => w.torch[label]?.blas).find(Boolean) ?? 'unknown';
    p(`PyTorch, BLAS ${label === 'installed' ? 'as installed' : label} (${anyBlas}):`);
    const trows = out.workloads.map((w) => {
      const t = w.torch[label];
      if (!t) return [w.id, w.title, 'n/a', '', '', '', 'n/a', ''];
      const [lo, hi] = minMax(t.ratioRounds);
      return [w.id, w.title, fmtMs(t.medianMs), fmtNum(t.gflops), fmtNum(t.rssPeakMb, 0), t.threads.join('/'), fmtNum(t.ratio), `[${fmtNum(lo)}–${fmtNum(hi)}]`];
    });
    p(table(['', 'workload', 'PyTorch', 'GFLOP/s', 'peak RSS MB', 'threads', 'ours/PyTorch', '[spread]'], trows));
    const b = out.workloads.find((w) => w.id === 'W4' && w.torchBatched);
    if (b && label === labels[0]) p(`W4 against PyTorch batched with torch.bmm (256 grid points per call): ${fmtMs(b.torchBatched!.medianMs)}, ours/PyTorch ${fmtNum(b.torchBatched!.ratio)}`);
    const b8 = out.workloads.find((w) => w.id === 'W8' && w.torchBatched);
    if (b8 && label === labels[0]) p(describeW8b(b8.torchBatched!));
  }
  const agreement = out.workloads.find((w) => w.agreement)?.agreement;
  if (agreement) {
    p();
    p(describeAgreement(agreement));
  }
  printCnnNotes(out.workloads, p);
  for (const w of out.workloads) for (const e of w.errors) p(`! ${e}`);
  if (out.scale.points.length) {
    p();
    p('W3 scaling (one FourierPathFinder iteration, N_F = 10):');
    p(
      table(
        ['model', 'P', 'N', 'M', 'P·N·M', 'median', 'GFLOP/s', 'ms per 1e9 P·N·M'],
        out.scale.points.map((s) => [
          `64-${s.hidden.join('-')}-10`,
          String(s.dim),
          String(s.n),
          String(s.points),
          s.pnm.toExponential(2),
          fmtMs(s.medianMs),
          fmtNum(s.gflops),
          fmtNum((s.medianMs / s.pnm) * 1e9, 1),
        ]),
      ),
    );
    if (out.scale.fit) p(`fitted time ∝ (P·N·M)^${out.scale.fit.exponent.toFixed(3)} (R² = ${out.scale.fit.r2.toFixed(4)})`);
  }
  printCnnScaling(out.scale.cnn, p);
  if (out.memory) {
    const mm = out.memory;
    p();
    p(
      `memory of a path search (M = ${SETTINGS.points}, P = ${out.dim}): the M×P path is ${mm.pathMb.toFixed(2)} MB; ` +
        `peak tensors ${mm.tfProfilePeakMb.toFixed(2)} MB + our kernels' memory ${mm.fastMemoryMb.toFixed(2)} MB = ${mm.copies.toFixed(1)} path copies; ` +
        `process RSS ${mm.rssBaseMb.toFixed(0)} MB after setup, peak ${mm.rssPeakMb.toFixed(0)} MB`,
    );
  }
}

// A round's child process is already inside the bench's group; the bench itself leads one of its own.
if (process.argv[2] === '--child' || runInOwnProcessGroup()) {
  main().catch((e: unknown) => {
    process.stderr.write(`bench: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}\n`);
    process.exit(1);
  });
}
