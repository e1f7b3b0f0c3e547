/**
 * The job queue's rows of `npm run bench` (`--queue-only` runs them alone):
 * `landscape barriers` over 10 digits-MLP minima locally (`--jobs 2`) and on
 * a BullMQ queue with 1 and 2 `landscape worker` processes, and one LeNet
 * path pair locally against the queue with one worker, whose difference is
 * the queue's overhead per job. Each queue run gets a fresh redis-server and
 * fresh workers, so that no run reuses another's finished jobs (job ids are
 * hashes of their inputs) or a worker's cached minima. Results are checked
 * against the local run's matrix.
 */
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import IORedis from 'ioredis';
import { startRedis } from '../test/support/redis';
import { fmtNum, table } from './stats';

/** Modest path settings: 45 digits pairs in about a minute on two cores. */
const MLP_PATH = ['--steps', '100', '--points', '9', '--modes', '3'];
/**
 * One LeNet path job: the default path options (M = 50, N_F = 10, climbing refinement) but 20
 * Adam steps instead of 300, so the row takes minutes, not the hour a default job takes here.
 */
const LENET_PATH = ['--steps', '20'];
const MLP_MINIMA = 10;

export interface QueueRow {
  what: string;
  where: string;
  pairs: number;
  wallS: number;
  /** The run's own `seconds`: from the pairs' setup to the last result. */
  pairsS: number;
  sameAsLocal?: boolean;
  /** Queue runs: the bytes of every blob the run left in Redis (problem, minima, results). */
  blobBytes?: number;
  /** Queue runs: the largest blob, which for a pair is its result (the path's coefficients as JSON). */
  largestBlob?: number;
}

export interface QueueBenchReport {
  rows: QueueRow[];
  overhead?: { localS: number; queueS: number; percent: number };
  bytes: { mlpTheta: number; lenetTheta: number };
}

const cli = () => path.join(__dirname, 'cli.js');

/** Runs the CLI in its own process (asynchronously, so the workers' pipes keep draining). */
function runCli(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [cli(), ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code: code ?? 1, stdout, stderr, ms: performance.now() - t0 }));
  });
}

/** A `landscape worker` process, resolved once it says it is waiting for jobs; `died` rejects if it exits before being killed. */
function startWorker(url: string): Promise<{ child: ChildProcess; died: Promise<never> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli(), 'worker', '--queue', url], { stdio: ['ignore', 'ignore', 'pipe'] });
    let seen = '';
    const died = new Promise<never>((_, fail) => child.once('exit', (code, sig) => fail(new Error(`a landscape worker exited (${code ?? sig}) mid-run: ${seen.trim().split('\n').slice(-3).join(' | ')}`))));
    died.catch(() => undefined);
    child.stderr!.on('data', (d: Buffer) => {
      seen = (seen + d.toString()).slice(-4096);
      if (/waiting for jobs/.test(seen)) resolve({ child, died });
    });
    died.catch(reject);
  });
}

function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** A `barriers --json` document without its timings, the only numbers allowed to differ between local and queue. */
function matrices(json: string): string {
  const doc = JSON.parse(json) as { seconds?: number; settings?: [string, string][] };
  delete doc.seconds;
  doc.settings = doc.settings?.filter(([k]) => k !== 'time');
  return JSON.stringify(doc);
}

async function trainMinima(parent: string, count: number, train: string[], log: (s: string) => void): Promise<string[]> {
  const dir = fs.mkdtempSync(path.join(parent, 'minima-'));
  const files: string[] = [];
  for (let seed = 1; seed <= count; seed++) {
    const out = path.join(dir, `s${seed}`);
    const r = await runCli(['train', ...train, '--seed', String(seed), '--data-seed', '0', '--out', out], dir);
    if (r.code !== 0) throw new Error(`training minimum ${seed} failed: ${r.stderr.trim().split('\n').pop()}`);
    files.push(path.join(out, 'final.safetensors'));
  }
  log(`queue bench: trained ${count} minima (${train.join(' ')})`);
  return files;
}

type Timed = { wallS: number; pairsS: number; json: string; blobs?: { total: number; largest: number } };

/** What a queue run moved through Redis: every content-addressed blob it stored. */
async function blobSizes(port: number): Promise<{ total: number; largest: number }> {
  const redis = new IORedis({ host: '127.0.0.1', port, lazyConnect: true });
  await redis.connect();
  try {
    let total = 0;
    let largest = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', 'landscape:blob:*', 'COUNT', 1000);
      cursor = next;
      for (const k of keys) {
        const n = await redis.strlen(k);
        total += n;
        largest = Math.max(largest, n);
      }
    } while (cursor !== '0');
    return { total, largest };
  } finally {
    redis.disconnect();
  }
}

async function timedBarriers(args: string[], dir: string): Promise<Timed> {
  const r = await runCli(['barriers', ...args, '--json'], dir);
  if (r.code !== 0) throw new Error(`landscape barriers failed: ${r.stderr.trim().split('\n').pop()}`);
  return { wallS: r.ms / 1000, pairsS: (JSON.parse(r.stdout) as { seconds: number }).seconds, json: r.stdout };
}

/** One run through a fresh Redis and `workers` fresh worker processes (their start-up is not timed). */
async function onQueue(args: string[], workers: number, dir: string): Promise<Timed> {
  const redis = await startRedis();
  const procs: { child: ChildProcess; died: Promise<never> }[] = [];
  try {
    procs.push(...(await Promise.all(Array.from({ length: workers }, () => startWorker(redis.url)))));
    // A worker that dies (or is killed from outside) would leave the client waiting forever: stop the run instead.
    const t = await Promise.race([timedBarriers([...args, '--queue', redis.url], dir), ...procs.map((w) => w.died)]);
    return { ...t, blobs: await blobSizes(redis.port) };
  } finally {
    await Promise.all(procs.map((w) => kill(w.child)));
    await redis.stop();
  }
}

function row(what: string, where: string, pairs: number, t: Timed, local?: Timed): QueueRow {
  // Logged as it comes, since a full run takes minutes.
  process.stderr.write(`queue bench: ${where}: wall ${t.wallS.toFixed(1)} s, pairs part ${t.pairsS.toFixed(1)} s${t.blobs ? `, Redis blobs ${t.blobs.total} B (largest ${t.blobs.largest} B)` : ''}\n`);
  return { what, where, pairs, wallS: t.wallS, pairsS: t.pairsS, sameAsLocal: local ? matrices(t.json) === matrices(local.json) : undefined, blobBytes: t.blobs?.total, largestBlob: t.blobs?.largest };
}

async function mlpRows(dir: string, log: (s: string) => void): Promise<{ rows: QueueRow[]; thetaBytes: number }> {
  const minima = await trainMinima(dir, MLP_MINIMA, ['--dataset', 'digits', '--model', '64-32-32-10', '--epochs', '3'], log);
  const args = [...minima, ...MLP_PATH];
  const pairs = (MLP_MINIMA * (MLP_MINIMA - 1)) / 2;
  const what = `barriers, ${MLP_MINIMA} digits 64-32-32-10 minima`;
  log(`queue bench: ${what}, local --jobs 2…`);
  const local = await timedBarriers([...args, '--jobs', '2'], dir);
  const rows = [row(what, 'local, --jobs 2', pairs, local)];
  for (const workers of [1, 2]) {
    log(`queue bench: ${what}, queue with ${workers} worker${workers > 1 ? 's' : ''}…`);
    rows.push(row(what, `queue, ${workers} worker${workers > 1 ? 's' : ''}`, pairs, await onQueue(args, workers, dir), local));
  }
  return { rows, thetaBytes: thetaBytes(minima[0]) };
}

async function lenetRows(dir: string, log: (s: string) => void): Promise<{ rows: QueueRow[]; overhead: QueueBenchReport['overhead']; thetaBytes: number }> {
  const minima = await trainMinima(dir, 2, ['--dataset', 'fashion-mnist', '--model', 'lenet', '--subset', '500', '--epochs', '1'], log);
  const args = [...minima, ...LENET_PATH];
  const what = 'one LeNet pair, Fashion-MNIST subset 500';
  log(`queue bench: ${what}, local --jobs 2…`);
  const local = await timedBarriers([...args, '--jobs', '2'], dir);
  log(`queue bench: ${what}, queue with 1 worker…`);
  const queued = await onQueue(args, 1, dir);
  const overhead = { localS: local.wallS, queueS: queued.wallS, percent: ((queued.wallS - local.wallS) / local.wallS) * 100 };
  return { rows: [row(what, 'local, --jobs 2', 1, local), row(what, 'queue, 1 worker', 1, queued, local)], overhead, thetaBytes: thetaBytes(minima[0]) };
}

function thetaBytes(file: string): number {
  // The safetensors header is small; the float32 parameters are what a job moves.
  return fs.statSync(file).size;
}

export async function measureQueue(log: (s: string) => void): Promise<QueueBenchReport> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'landscape-queue-bench-'));
  try {
    const rows = await mlpRows(dir, log);
    const lenet = await lenetRows(dir, log).catch((e: unknown) => {
      log(`queue bench: LeNet overhead not measured: ${e instanceof Error ? e.message : String(e)}`);
      return { rows: [], overhead: undefined, thetaBytes: NaN };
    });
    return { rows: [...rows.rows, ...lenet.rows], overhead: lenet.overhead, bytes: { mlpTheta: rows.thetaBytes, lenetTheta: lenet.thetaBytes } };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function printQueue(q: QueueBenchReport, p: (s?: string) => void): void {
  p();
  p(`Job queue (BullMQ on a local redis-server; ${os.cpus().length} cores shared by the client, Redis and the workers):`);
  p(
    table(
      ['workload', 'where', 'pairs', 'wall', 'pairs part', 'pairs/s', 'matrix = local', 'Redis blobs MB', 'largest MB'],
      q.rows.map((r) => [
        r.what,
        r.where,
        String(r.pairs),
        `${fmtNum(r.wallS, 1)} s`,
        `${fmtNum(r.pairsS, 1)} s`,
        fmtNum(r.pairs / r.pairsS, 3),
        r.sameAsLocal === undefined ? '' : r.sameAsLocal ? 'yes' : 'NO',
        r.blobBytes === undefined ? '' : fmtNum(r.blobBytes / 1e6, 3),
        r.largestBlob === undefined ? '' : fmtNum(r.largestBlob / 1e6, 3),
      ]),
    ),
  );
  const o = q.overhead;
  p(`minimum's file: digits MLP ${fmtNum(q.bytes.mlpTheta / 1e3, 1)} kB, LeNet ${fmtNum(q.bytes.lenetTheta / 1e3, 1)} kB`);
  if (o) p(`queue overhead per LeNet job: ${fmtNum(o.queueS - o.localS, 2)} s of ${fmtNum(o.localS, 1)} s = ${fmtNum(o.percent, 1)} % (target < 5 %: ${o.percent < 5 ? 'met' : 'not met'})`);
}
