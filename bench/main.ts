/**
 * `npm run bench`: the workloads W1–W6 on the digits 64-32-32-10 network
 * (no biases), each timed in fresh processes over several rounds, with
 * GFLOP/s and peak memory, side by side with a PyTorch reference timed in
 * the same run where python3 + torch is installed; then the W3 scaling curve
 * and the path search's memory. See the README's Performance section.
 *
 *   node dist/bench.js [--json] [--workloads W1,W3] [--repeats 5] [--rounds 3]
 *                      [--backend wasm] [--no-torch] [--torch-blas installed|all]
 *                      [--no-scale] [--scale-only] [--no-memory] [--compare-tfjs] [--python path]
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { RESULT_MARK, runChild, type ChildConfig, type ChildResult } from './child';
import { exportFixture, makeFixture, type FixtureOptions } from './fixture';
import { SETTINGS, TITLES, WORKLOAD_IDS, type WorkloadId } from './workloads';
import { NO_TORCH, blasVariants, findTorch, runTorch, type BlasVariant, type TorchResult, type TorchRuntime } from './torch';
import { fmtMs, fmtNum, median, minMax, powerFit, table } from './stats';
import { AGREEMENT_LANCZOS_STEPS, compareHessianNumbers, describeAgreement, type Agreement, type HessianNumbers } from './agreement';

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
  python?: string;
}

const USAGE = `usage: node dist/bench.js [--json] [--workloads W1,W3] [--repeats n] [--rounds n] [--warmup n]
       [--backend wasm|cpu|tensorflow|auto] [--budget seconds] [--no-torch] [--torch-blas installed|all]
       [--no-scale] [--scale-only] [--no-memory] [--compare-tfjs] [--python path]`;

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

/** Runs one measurement in a fresh Node process (this same script with --child). */
function child(cfg: ChildConfig, env: NodeJS.ProcessEnv = {}): ChildResult | { error: string } {
  const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1], '--child', JSON.stringify(cfg)], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 64 * 2 ** 20,
    timeout: 30 * 60_000,
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith(RESULT_MARK));
  if (!line) {
    const err = (r.stderr || r.stdout || String(r.error ?? '')).split('\n').find((l) => /error/i.test(l)) ?? `exit ${r.status}`;
    return { error: `${cfg.task}: ${err.slice(0, 300)}` };
  }
  return JSON.parse(line.slice(RESULT_MARK.length)) as ChildResult;
}

function isError<T>(r: T | { error: string }): r is { error: string } {
  return typeof (r as { error?: string }).error === 'string';
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

interface WorkloadReport {
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
  tfjs?: { medianMs: number; roundsMs: number[]; gflops: number } | null;
  torch: Record<string, {
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
  }>;
  torchBatched?: { medianMs: number; ratio: number } | null;
  /** W5 only: λmax and the exact trace against PyTorch's double backward. */
  agreement?: Agreement;
  errors: string[];
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
  let dataFile: string | undefined;
  const fx = await makeFixture();
  if (rt) {
    dataFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'landscape-bench-')), 'fixture.bin');
    exportFixture(fx, dataFile, { ...SETTINGS, agreementLanczosSteps: AGREEMENT_LANCZOS_STEPS });
  }
  const budgetMs = args.budgetS * 1000;
  const base: Omit<ChildConfig, 'task'> = { backend: args.backend, warmup: args.warmup, repeats: args.repeats, budgetMs, fixture: {} };
  const reports: WorkloadReport[] = [];
  let threads = 1;
  let backendName = args.backend;
  for (const id of args.workloads) {
    const rep: WorkloadReport = { id, title: TITLES[id], flops: 0, ours: null, torch: {}, errors: [] };
    const ours = series();
    const tfjs = series();
    const torchSeries = new Map<string, { s: Series; threads: number[]; res?: TorchResult }>();
    const ratioRounds = new Map<string, number[]>();
    let last: ChildResult | undefined;
    let peak = { rss: 0, ab: 0, tf: 0, fast: 0 };
    for (let round = 0; round < args.rounds; round++) {
      log(`${id} round ${round + 1}/${args.rounds}: ours…`);
      const r = child({ ...base, task: id });
      if (isError(r)) {
        rep.errors.push(r.error);
        break;
      }
      last = r;
      threads = r.threads;
      backendName = r.backend;
      addRound(ours, r.timesMs);
      peak = { rss: Math.max(peak.rss, r.rssPeakMb), ab: Math.max(peak.ab, r.arrayBuffersPeakMb), tf: Math.max(peak.tf, r.tfBytesPeakMb), fast: Math.max(peak.fast, r.fastMemoryMb) };
      if (args.compareTfjs) {
        const t = child({ ...base, task: id }, { LANDSCAPE_FAST: '0' });
        if (isError(t)) rep.errors.push(t.error);
        else addRound(tfjs, t.timesMs);
      }
      if (rt && dataFile) {
        for (const b of blas) {
          // Torch gets our thread count, and also one thread when that is faster: the better of the two counts.
          const counts = [...new Set([threads, 1])];
          let best: TorchResult | undefined;
          for (const th of counts) {
            log(`${id} round ${round + 1}/${args.rounds}: PyTorch (${b.label} BLAS, ${th} thread${th > 1 ? 's' : ''})…`);
            const tr = runTorch(rt, dataFile, id, { threads: th, repeats: args.repeats, warmup: args.warmup, budgetS: args.budgetS, blas: b });
            if (isError(tr)) {
              rep.errors.push(tr.error);
              continue;
            }
            if (!best || median(tr.timesMs) < median(best.timesMs)) best = tr;
          }
          if (!best) continue;
          const entry = torchSeries.get(b.label) ?? { s: series(), threads: [] };
          addRound(entry.s, best.timesMs);
          entry.threads.push(best.threads);
          entry.res = entry.res && entry.res.rssPeakMb > best.rssPeakMb ? entry.res : best;
          torchSeries.set(b.label, entry);
          const rr = ratioRounds.get(b.label) ?? [];
          rr.push(median(r.timesMs) / median(best.timesMs));
          ratioRounds.set(b.label, rr);
        }
      }
    }
    if (last) {
      rep.flops = last.flops;
      const med = median(ours.all);
      rep.ours = {
        medianMs: med,
        roundsMs: ours.rounds,
        gflops: last.flops / med / 1e6,
        threads: last.threads,
        fast: last.fast,
        simd: last.simd,
        rssPeakMb: peak.rss,
        rssBaseMb: last.rssBaseMb,
        arrayBuffersPeakMb: peak.ab,
        tfBytesPeakMb: peak.tf,
        fastMemoryMb: peak.fast,
        info: last.info,
      };
      if (args.compareTfjs && tfjs.all.length) rep.tfjs = { medianMs: median(tfjs.all), roundsMs: tfjs.rounds, gflops: last.flops / median(tfjs.all) / 1e6 };
      for (const [label, e] of torchSeries) {
        const med2 = median(e.s.all);
        // W2's line search may take a different number of evaluations in torch: count its own.
        const tflops = id === 'W2' && e.res?.info.evaluations !== undefined ? last.flops + (Number(e.res.info.evaluations) - Number(last.info.evaluations ?? 0)) * (last.flops / (3 + Number(last.info.evaluations ?? 0))) : last.flops;
        const rr = ratioRounds.get(label) ?? [];
        rep.torch[label] = {
          medianMs: med2,
          roundsMs: e.s.rounds,
          threads: e.threads,
          gflops: tflops / med2 / 1e6,
          rssPeakMb: e.res?.rssPeakMb ?? NaN,
          rssBaseMb: e.res?.rssBaseMb ?? NaN,
          blas: e.res?.blas ?? 'unknown',
          ratio: median(rr),
          ratioRounds: rr,
          info: e.res?.info ?? {},
        };
      }
      if (id === 'W5' && rt && dataFile) {
        log('W5 agreement: λmax and exact trace, ours and PyTorch…');
        const mine = child({ ...base, task: 'hessian-agreement', warmup: 0, repeats: 1 });
        const theirs = runTorch(rt, dataFile, 'W5check', { threads, repeats: 1, warmup: 0, budgetS: args.budgetS, blas: blas[0] });
        if (isError(mine)) rep.errors.push(mine.error);
        else if (isError(theirs)) rep.errors.push(theirs.error);
        else rep.agreement = compareHessianNumbers(mine.info as unknown as HessianNumbers, theirs.info as unknown as HessianNumbers);
      }
      if (id === 'W4' && rt && dataFile) {
        const tb = runTorch(rt, dataFile, 'W4b', { threads, repeats: args.repeats, warmup: args.warmup, budgetS: args.budgetS, blas: blas[0] });
        if (!isError(tb)) rep.torchBatched = { medianMs: median(tb.timesMs), ratio: med / median(tb.timesMs) };
      }
    }
    reports.push(rep);
  }

  // The scaling curve: W3 at P ≈ 3k, 12k, 48k and N = 500, 1797, and M = 25, 50, 100 at the smallest.
  const scale: { hidden: number[]; n: number; points: number; dim: number; pnm: number; medianMs: number; gflops: number; rssPeakMb: number }[] = [];
  let fit: { exponent: number; r2: number } | undefined;
  if (args.scale) {
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
    if (scale.length >= 2) fit = powerFit(scale.map((s) => s.pnm), scale.map((s) => s.medianMs));
  }

  // Memory of a path search, against the size of the M×P path itself.
  let memory: { pathMb: number; tfProfilePeakMb: number; fastMemoryMb: number; rssPeakMb: number; rssBaseMb: number; copies: number } | undefined;
  if (args.memory) {
    log('memory: path search (W3) with tf.profile…');
    const r = child({ ...base, task: 'memory', repeats: 2, warmup: 0 });
    if (!isError(r)) {
      const pathMb = (SETTINGS.points * r.dim * 4) / 2 ** 20;
      const peakMb = (r.tfProfilePeakMb ?? 0) + r.fastMemoryMb;
      memory = { pathMb, tfProfilePeakMb: r.tfProfilePeakMb ?? NaN, fastMemoryMb: r.fastMemoryMb, rssPeakMb: r.rssPeakMb, rssBaseMb: r.rssBaseMb, copies: peakMb / pathMb };
    } else log(r.error);
  }

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
    workloads: reports,
    scale: { points: scale, fit },
    memory,
  };
  if (dataFile) fs.rmSync(path.dirname(dataFile), { recursive: true, force: true });
  if (args.json) {
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    return;
  }
  printText(out, rt, args.torch ? NO_TORCH : 'n/a (--no-torch)');
}

function printText(out: {
  machine: Record<string, string | number>;
  backend: string;
  threads: number;
  rows: number;
  dim: number;
  torch: { python: string; version: string; blas: string[] } | null;
  workloads: WorkloadReport[];
  scale: { points: { hidden: number[]; n: number; points: number; dim: number; pnm: number; medianMs: number; gflops: number; rssPeakMb: number }[]; fit?: { exponent: number; r2: number } };
  memory?: { pathMb: number; tfProfilePeakMb: number; fastMemoryMb: number; rssPeakMb: number; rssBaseMb: number; copies: number };
}, rt: TorchRuntime | undefined, noTorch: string): void {
  const p = (s = '') => process.stdout.write(s + '\n');
  const m = out.machine;
  p(`Landscape benchmark: digits 64-32-32-10, no biases, N = ${out.rows} rows, P = ${out.dim} parameters`);
  p(`machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB, ${m.platform}, Node ${m.node}`);
  const simd = out.workloads.find((w) => w.ours?.simd)?.ours?.simd;
  p(`ours: tfjs backend ${out.backend}, ${out.threads} thread${out.threads > 1 ? 's' : ''}` + (simd ? ` (fast dense-network kernels: WebAssembly ${simd === 'relaxed-simd' ? 'relaxed SIMD, fused multiply-add' : 'SIMD'})` : ''));
  p(rt ? `PyTorch ${rt.version} (${rt.python}), threads: the faster of 1 and ours` : `PyTorch: ${noTorch}`);
  p('times: median over all timed runs; [min–max] of the per-round medians');
  p();
  const showTfjs = out.workloads.some((w) => w.tfjs);
  const header = ['', 'workload', 'ours', '[spread]', 'GFLOP/s', 'peak RSS MB'];
  if (showTfjs) header.push('tfjs path');
  const rows = out.workloads.map((w) => {
    const o = w.ours;
    if (!o) return [w.id, w.title, 'failed', '', '', ''];
    const [lo, hi] = minMax(o.roundsMs);
    const row = [w.id, w.title, fmtMs(o.medianMs), `[${fmtMs(lo)}–${fmtMs(hi)}]`, fmtNum(o.gflops), fmtNum(o.rssPeakMb, 0)];
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
  }
  const agreement = out.workloads.find((w) => w.agreement)?.agreement;
  if (agreement) {
    p();
    p(describeAgreement(agreement));
  }
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

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}\n`);
  process.exit(1);
});
