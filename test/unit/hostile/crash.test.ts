/**
 * Crash safety: `landscape train` is killed with SIGKILL at random (seeded)
 * moments, 20 trials, some of them twice (the resumed run is killed too).
 * After every kill:
 *   - each checkpoint on disk loads (no torn files; the atomic writer's
 *     temporary files ".<name>.<pid>.<hex>.tmp" may exist and are ignored);
 *   - run.json, when there is one, is valid JSON;
 *   - metrics.jsonl holds only whole JSON lines.
 * Then `landscape train … --resume --out <same dir>` must continue from the
 * last checkpoint run.json lists and finish: status completed, the temporary
 * files cleaned, final.safetensors loads, metrics.jsonl has one line per
 * epoch 0..E. Plain SGD keeps no optimizer state and the resume replays the
 * mini-batch order, so the resumed run's final weights and every epoch's
 * losses must equal those of an uninterrupted run, bit for bit.
 *
 * Runs the real CLI: dist/cli.js when it is newer than every source file
 * (npm test builds it), else a fresh bundle built into a temp folder.
 * LANDSCAPE_CRASH_TRIALS and LANDSCAPE_CRASH_SEED override 20 and the seed;
 * LANDSCAPE_CRASH_CLI runs another cli.js (e.g. a deliberately broken build).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { distCliIsCurrent } from '../../support/distCli';
import { spawn } from 'child_process';
import * as esbuild from 'esbuild';
import { loadCheckpointSync } from '../../../src/engine/checkpoint';
import { isAtomicTempFile } from '../../../src/engine/checkpoint/atomic';
import { Rng } from '../../../src/engine/rng';
import { makeTempDir, removeTempDir } from '../../support/tmp';

const repo = path.resolve(__dirname, '../../..');
const TRIALS = Number(process.env.LANDSCAPE_CRASH_TRIALS ?? 20);
const SEED = Number(process.env.LANDSCAPE_CRASH_SEED ?? 8);
const EPOCHS = 20;

let tmp: string;
let cli: string;
let env: NodeJS.ProcessEnv;

/** dist/cli.js if it is current, else a private bundle of src/cli/main.ts built like esbuild.mjs builds it. */
async function resolveCli(): Promise<{ cli: string; note: string }> {
  if (process.env.LANDSCAPE_CRASH_CLI) return { cli: path.resolve(process.env.LANDSCAPE_CRASH_CLI), note: process.env.LANDSCAPE_CRASH_CLI };
  const dist = path.join(repo, 'dist', 'cli.js');
  if (distCliIsCurrent()) return { cli: dist, note: 'dist/cli.js' };
  const out = path.join(tmp, 'cli.js');
  const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string };
  await esbuild.build({
    entryPoints: [path.join(repo, 'src/cli/main.ts')],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', '@tensorflow/tfjs-node', '@tensorflow/tfjs', '@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-backend-wasm'],
    define: { __LANDSCAPE_VERSION__: JSON.stringify(pkg.version) },
    logLevel: 'silent',
  });
  return { cli: out, note: `a fresh bundle (dist/cli.js is ${fs.existsSync(dist) ? 'older than the sources' : 'missing'}; npm run build refreshes it)` };
}

const trainArgs = (out: string, resume: boolean) => [
  'train', '--dataset', 'moons', '--samples', '200', '--model', '2-16-2', '--optimizer', 'sgd', '--lr', '0.2',
  '--epochs', String(EPOCHS), '--checkpoint-every', '1', '--seed', '3', '--backend', 'cpu', '--json', '--out', out,
  ...(resume ? ['--resume'] : []),
];

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** JSON event lines seen before the end. */
  events: { type: string; epoch?: number; kind?: string }[];
  ms: number;
}

/**
 * Run the CLI; with `kill`, send SIGKILL `kill.afterMs` after start, or
 * `kill.delayMs` after the `kill.afterEvent`-th JSON line on stdout.
 */
function runCli(args: string[], kill?: { afterMs?: number; afterEvent?: number; delayMs?: number }): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [cli, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let lines = 0;
    const events: Exit['events'] = [];
    let timer: NodeJS.Timeout | undefined;
    const killNow = () => {
      // Only our own child, by its pid.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    if (kill?.afterMs !== undefined) timer = setTimeout(killNow, kill.afterMs);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const all = stdout.split('\n');
      while (lines < all.length - 1) {
        const l = all[lines++];
        try {
          events.push(JSON.parse(l));
        } catch {
          // not an event line
        }
        if (kill?.afterEvent !== undefined && lines === kill.afterEvent) timer = setTimeout(killNow, kill.delayMs ?? 0);
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, events, ms: Date.now() - t0 });
    });
  });
}

function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

interface RunJsonLike {
  status: string;
  epochsCompleted: number;
  resumedAt?: number[];
  checkpoints: { file: string; kind: string; epoch: number }[];
  best?: { file: string; epoch: number };
}

interface State {
  runJson?: RunJsonLike;
  tempFiles: string[];
  checkpoints: string[];
  /** Metrics lines by epoch, as text. */
  metrics: Map<number, string>;
  /** Where a resume must continue: the newest non-best checkpoint run.json lists that loads (0: start over). */
  resumeEpoch: number;
}

/** Everything that must hold after a kill; returns what a resume has to work with. */
function checkAfterKill(out: string, what: string): State {
  const files = listFiles(out);
  const tempFiles = files.filter((f) => isAtomicTempFile(f));
  const checkpoints = files.filter((f) => f.endsWith('.safetensors') && !isAtomicTempFile(f));
  for (const f of checkpoints) {
    assert.doesNotThrow(() => loadCheckpointSync(f), `${what}: ${path.relative(out, f)} is on disk but does not load (torn write)`);
  }
  let runJson: RunJsonLike | undefined;
  const rj = path.join(out, 'run.json');
  if (fs.existsSync(rj)) {
    const text = fs.readFileSync(rj, 'utf8');
    assert.doesNotThrow(() => (runJson = JSON.parse(text)), `${what}: run.json is not valid JSON: ${text.slice(0, 200)}`);
  }
  const metrics = new Map<number, string>();
  const mp = path.join(out, 'metrics.jsonl');
  if (fs.existsSync(mp)) {
    const text = fs.readFileSync(mp, 'utf8');
    const lines = text.split('\n');
    // Each line is written whole by one append; only an empty remainder may follow the last newline.
    assert.equal(lines[lines.length - 1], '', `${what}: metrics.jsonl ends in a torn line`);
    for (const l of lines.slice(0, -1)) {
      let e: { epoch: number } | undefined;
      assert.doesNotThrow(() => (e = JSON.parse(l)), `${what}: metrics.jsonl holds a broken line: ${l.slice(0, 120)}`);
      metrics.set(e!.epoch, l);
    }
  }
  let resumeEpoch = 0;
  for (const c of runJson?.checkpoints ?? []) {
    if (c.kind === 'best' || c.epoch <= resumeEpoch) continue;
    const f = path.join(out, c.file);
    if (fs.existsSync(f)) resumeEpoch = c.epoch;
  }
  // Every checkpoint run.json lists exists: run.json is written after the file it names.
  for (const c of runJson?.checkpoints ?? []) {
    assert.ok(fs.existsSync(path.join(out, c.file)), `${what}: run.json lists ${c.file}, which is not on disk`);
  }
  return { runJson, tempFiles, checkpoints, metrics, resumeEpoch };
}

interface Reference {
  final: Buffer;
  metrics: Map<number, { trainLoss: number; testLoss: number; gradNorm: number; accuracy?: number }>;
  ms: number;
  lines: number;
}
let ref: Reference;

function thetaBytes(file: string): Buffer {
  const t = loadCheckpointSync(file).theta;
  return Buffer.from(t.buffer, t.byteOffset, t.byteLength);
}

before(async () => {
  tmp = makeTempDir('crash');
  const r = await resolveCli();
  cli = r.cli;
  env = { ...process.env, NODE_PATH: path.join(repo, 'node_modules'), LANDSCAPE_BACKEND: 'cpu' };
  delete env.LANDSCAPE_DEBUG;
  console.log(`# crash trials run ${r.note}`);
});

after(() => {
  removeTempDir(tmp);
});

describe(`SIGKILL during training, ${TRIALS} trials (seed ${SEED})`, { timeout: 600_000 }, () => {
  it('an uninterrupted reference run', async () => {
    const out = path.join(tmp, 'reference');
    const e = await runCli(trainArgs(out, false));
    assert.equal(e.code, 0, e.stderr);
    const metrics = new Map<number, { trainLoss: number; testLoss: number; gradNorm: number; accuracy?: number }>();
    for (const l of fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n')) {
      const m = JSON.parse(l);
      metrics.set(m.epoch, { trainLoss: m.trainLoss, testLoss: m.testLoss, gradNorm: m.gradNorm, accuracy: m.accuracy });
    }
    assert.deepEqual([...metrics.keys()], Array.from({ length: EPOCHS + 1 }, (_, i) => i));
    ref = { final: thetaBytes(path.join(out, 'final.safetensors')), metrics, ms: e.ms, lines: e.stdout.trim().split('\n').length };
  });

  it('every kill leaves loadable checkpoints and valid run.json, and --resume finishes the run exactly', async () => {
    assert.ok(ref, 'the reference run failed');
    const rng = new Rng(SEED);
    const seen = { midRun: 0, withCheckpoints: 0, tempFiles: 0, doubleKills: 0, resumedFromZero: 0, completedBeforeKill: 0 };
    for (let trial = 0; trial < TRIALS; trial++) {
      const out = path.join(tmp, `trial-${trial}`);
      const what = (k: number) => `trial ${trial} (seed ${SEED}), kill ${k}`;
      const kills = rng.uniform() < 0.3 ? 2 : 1;
      let state: State | undefined;
      for (let k = 1; k <= kills; k++) {
        // Half the kills at a random time, half just after a random event (a checkpoint being written, most likely).
        const byEvent = rng.uniform() < 0.5;
        const kill = byEvent
          ? { afterEvent: 1 + rng.int(Math.max(1, ref.lines - 1)), delayMs: rng.int(25) }
          : { afterMs: Math.floor(rng.uniform() * ref.ms * 1.1) };
        const e = await runCli(trainArgs(out, k > 1 || fs.existsSync(path.join(out, 'run.json'))), kill);
        if (e.signal !== 'SIGKILL') {
          // The run ended before the kill landed: it must have succeeded.
          assert.equal(e.code, 0, `${what(k)}: ended with ${e.code} before the kill: ${e.stderr.slice(0, 500)}`);
          seen.completedBeforeKill++;
        } else if (e.events.some((ev) => ev.type === 'start') && !e.events.some((ev) => ev.type === 'done')) seen.midRun++;
        state = checkAfterKill(out, what(k));
        if (state.checkpoints.length) seen.withCheckpoints++;
        if (state.tempFiles.length) seen.tempFiles++;
      }
      if (kills === 2) seen.doubleKills++;
      const before = state!;
      if (before.resumeEpoch === 0) seen.resumedFromZero++;

      const r = await runCli(trainArgs(out, true));
      const tag = `trial ${trial} (seed ${SEED}), resume`;
      assert.equal(r.code, 0, `${tag}: exit ${r.code}: ${r.stderr.slice(0, 800)}`);
      const after = checkAfterKill(out, tag);
      assert.deepEqual(after.tempFiles, [], `${tag}: temporary files left: ${after.tempFiles.join(', ')}`);
      const run = after.runJson!;
      assert.equal(run.status, 'completed', tag);
      assert.equal(run.epochsCompleted, EPOCHS, tag);
      if (before.runJson) {
        assert.equal(run.resumedAt?.at(-1), before.resumeEpoch, `${tag}: continued from epoch ${run.resumedAt?.at(-1)}, expected ${before.resumeEpoch}`);
      }
      assert.deepEqual([...after.metrics.keys()], Array.from({ length: EPOCHS + 1 }, (_, i) => i), `${tag}: metrics.jsonl epochs`);
      for (const [epoch, line] of after.metrics) {
        const m = JSON.parse(line);
        const want = ref.metrics.get(epoch)!;
        assert.deepEqual({ trainLoss: m.trainLoss, testLoss: m.testLoss, gradNorm: m.gradNorm, accuracy: m.accuracy }, want, `${tag}: epoch ${epoch} differs from the uninterrupted run`);
        // Resumed from a checkpoint, the lines up to it are kept as they were (from no checkpoint, the run starts over).
        if (before.resumeEpoch > 0 && epoch <= before.resumeEpoch) assert.equal(line, before.metrics.get(epoch), `${tag}: kept line of epoch ${epoch} changed`);
      }
      assert.ok(thetaBytes(path.join(out, 'final.safetensors')).equals(ref.final), `${tag}: final weights differ from the uninterrupted run`);
      for (const c of run.checkpoints) assert.doesNotThrow(() => loadCheckpointSync(path.join(out, c.file)), `${tag}: ${c.file}`);
      fs.rmSync(out, { recursive: true, force: true });
    }
    console.log(`# crash trials: ${JSON.stringify(seen)}`);
    // The kills must land mid-run often enough for the trials to mean something.
    assert.ok(seen.midRun >= TRIALS / 4, `only ${seen.midRun} of ${TRIALS} kills landed mid-run: ${JSON.stringify(seen)}`);
    assert.ok(seen.withCheckpoints >= TRIALS / 4, `only ${seen.withCheckpoints} kills left checkpoints behind: ${JSON.stringify(seen)}`);
  });
});
