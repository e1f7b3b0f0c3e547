import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { runCli } from '../../support/cli';
import { initBackend, tf } from '../../../src/engine/backend';
import { trainToEnd } from '../../../src/engine/train';
import { loadAnyCheckpoint } from '../../../src/engine/evaluate';
import { objectiveForCheckpoint } from '../../../src/engine/checkpointObjective';
import { findPath } from '../../../src/engine/path/find';
import { makeTempDir, removeTempDir } from '../../support/tmp';
import { validate } from '../../../src/schema';
import { ResultDataSchema } from '../../../src/results';
import { readBarrierResult } from '../../../src/results/barrierFiles';

/** The CLI's JSON is the result kind's one shape: what the panels read. */
function assertResult(doc: unknown, kind: string): void {
  const v = validate(ResultDataSchema, doc, 'result');
  assert.ok(v.ok, v.ok ? '' : v.error);
  assert.equal((doc as { kind: string }).kind, kind);
  assert.equal((doc as { formatVersion: number }).formatVersion, 2);
}

const tmp = makeTempDir('cli-path');
const minima = path.join(tmp, 'minima');
const ck = (name: string) => path.join(minima, name, 'final.safetensors');
// Small and quick: the point is the plumbing, not the landscape.
const FAST = ['--steps', '12', '--points', '8', '--modes', '3'];

async function trainRun(out: string, seed: number, model = '2-8-2', dataSeed = 0) {
  await trainToEnd({
    dataset: 'moons', n: 120, model, optimizer: 'adam', lr: 0.05, epochs: 3, seed, dataSeed, checkpointEvery: 0, out,
  });
}

/** B with every weight at ±3e38: finite numbers whose products overflow, so losses turn NaN along the line. */
function overflowCopy(src: string, dst: string) {
  const bytes = Buffer.from(fs.readFileSync(src));
  const headerLen = Number(bytes.readBigUInt64LE(0));
  const start = 8 + headerLen;
  for (let k = 0; start + 4 * k + 4 <= bytes.length; k++) bytes.writeFloatLE(k % 2 ? -3e38 : 3e38, start + 4 * k);
  fs.writeFileSync(dst, bytes);
}

before(async () => {
  await initBackend('cpu', { force: true });
  for (const s of [1, 2, 3]) await trainRun(path.join(minima, `r${s}`), s);
  // Keep only the final checkpoints in the folder that `barriers` scans.
  for (const s of [1, 2, 3]) fs.rmSync(path.join(minima, `r${s}`, 'best.safetensors'));
  await trainRun(path.join(tmp, 'wide'), 1, '2-6-2');
  await trainRun(path.join(tmp, 'otherdata'), 1, '2-8-2', 7);
  await trainRun(path.join(tmp, 'r4'), 4);
  fs.copyFileSync(ck('r1'), path.join(tmp, 'copy-of-r1.safetensors'));
  overflowCopy(ck('r2'), path.join(tmp, 'overflow.safetensors'));
  fs.writeFileSync(path.join(tmp, 'notes.safetensors'), 'not a checkpoint at all\n');
});

after(() => removeTempDir(tmp));

test('path --json prints the result fields on one line, coefficients only when asked; --out writes the full result', async () => {
  const out = path.join(tmp, 'r1__r2.path.json');
  const r = await runCli(['path', ck('r1'), ck('r2'), ...FAST, '--json', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.split('\n').length, 1);
  const j = JSON.parse(r.stdout);
  for (const k of ['method', 'objective', 'height', 'tAtMax', 'barrierFromA', 'barrierFromB', 'barrierFromMean', 'profile', 'linear', 'iterations', 'lossA', 'lossB', 'options', 'a', 'b', 'dataset', 'backend']) {
    assert.ok(k in j, `missing ${k}`);
  }
  assert.equal(j.method, 'fourier');
  assert.equal(j.objective, 'minimax', 'minimax is the default objective');
  assert.equal(j.iterations, 12);
  assert.equal(j.profile.t.length, 10 * (8 - 1) + 1, 'heights on the dense grid');
  assert.equal(j.profile.loss.length, j.profile.t.length);
  assert.equal(j.height, Math.max(...j.profile.loss));
  assert.ok(Math.abs(j.barrierFromMean - (j.height - (j.lossA + j.lossB) / 2)) < 1e-9);
  assert.equal(j.dataset.name, 'moons');
  assert.equal(j.dataset.trainSize, 96);
  assert.equal(j.backend, 'cpu');
  assert.equal('coefficients' in j, false, 'N_F × P numbers stay out of stdout');
  const saved = JSON.parse(fs.readFileSync(out, 'utf8'));
  assert.equal(saved.a, ck('r1'));
  assertResult(j, 'barrierPath');
  assertResult(saved, 'barrierPath');
  assert.deepEqual([j.labelA, j.labelB], ['r1/final', 'r2/final']);
  assert.ok(Array.isArray(saved.coefficients) && saved.coefficients.length === 3, '--out keeps the N_F coefficient vectors');
  // The file opens as the extension reads it, the same numbers.
  const opened = readBarrierResult(out, 'barrierPath').data;
  assert.equal(opened.height, saved.height);
  assert.deepEqual(opened.heightHistory, saved.heightHistory);
  assert.equal(saved.coefficients.length, 3);
  assert.equal(saved.coefficients[0].length, 2 * 8 + 8 + 8 * 2 + 2);
  assert.equal(saved.height, j.height);
  const c = await runCli(['path', ck('r1'), ck('r2'), ...FAST, '--json', '--coefficients']);
  assert.equal(JSON.parse(c.stdout).coefficients.length, 3);
  // The objective is the recorded training loss: the ends match what training wrote.
  const meta = (await loadAnyCheckpoint(ck('r1'))).meta;
  assert.ok(Math.abs(j.lossA - Number(meta.trainLoss)) < 1e-5, `${j.lossA} vs ${meta.trainLoss}`);
});

test('linear gives the straight line; fourier with --dense-select never ends above it; the human table has both', async () => {
  const lin = JSON.parse((await runCli(['path', ck('r1'), ck('r3'), '--points', '10', '--method', 'linear', '--json'])).stdout);
  assert.equal(lin.method, 'linear');
  assert.equal(lin.iterations, 0);
  assert.equal(lin.height, lin.linear.height);
  const four = JSON.parse((await runCli(['path', ck('r1'), ck('r3'), '--steps', '30', '--points', '10', '--lr', '0.05', '--dense-select', '--json'])).stdout);
  assert.equal(four.linear.height, lin.height, 'the same straight line whatever the method');
  assert.ok(four.height <= four.linear.height + 1e-7, `optimized ${four.height} > straight ${four.linear.height}`);
  assert.ok(four.height >= Math.max(four.lossA, four.lossB) - 1e-7);
  const human = await runCli(['path', ck('r1'), ck('r3'), ...FAST]);
  assert.equal(human.code, 0, human.stderr);
  for (const re of [/straight\s+optimized/, /height H/, /t at max/, /barrier from A/, /barrier from B/, /barrier from mean/]) assert.match(human.stdout, re);
});

test('A equal to B (same file or identical weights) has height loss(A) and exits 0', async () => {
  for (const b of [ck('r1'), path.join(tmp, 'copy-of-r1.safetensors')]) {
    const r = await runCli(['path', ck('r1'), b, ...FAST, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.height, j.lossA);
    assert.equal(j.barrierFromA, 0);
    assert.equal(j.iterations, 0);
  }
  const human = await runCli(['path', ck('r1'), ck('r1'), ...FAST]);
  assert.match(human.stdout, /same point/);
});

test('bad input exits 2 with one line: different models or data name both files; missing, folder, not a checkpoint', async () => {
  const wide = path.join(tmp, 'wide', 'final.safetensors');
  const other = path.join(tmp, 'otherdata', 'final.safetensors');
  const cases: [string[], RegExp][] = [
    [['path', ck('r1'), wide], new RegExp(`${escape(ck('r1'))} and ${escape(wide)} are from different models: layers 2-8-2 vs 2-6-2`)],
    [['path', ck('r1'), other], new RegExp(`${escape(ck('r1'))} and ${escape(other)} were trained on different data \\(datasetSeed 0 vs 7\\)`)],
    [['barriers', ck('r1'), ck('r2'), wide], /are from different models/],
    [['path', ck('r1'), path.join(tmp, 'nope.safetensors')], /nope\.safetensors: file not found/],
    [['path', ck('r1'), minima], /is a folder, not a checkpoint/],
    [['path', ck('r1'), path.join(tmp, 'notes.safetensors')], /notes\.safetensors: /],
    [['path', ck('r1')], /needs two checkpoint files/],
    [['path', ck('r1'), ck('r2'), '--objective', 'max'], /--objective must be one of minimax, sum, squared/],
    [['path', ck('r1'), ck('r2'), '--points', '1'], /"points" must be a whole number ≥ 2/],
    [['barriers', ck('r1')], /at least two minima/],
    [['barriers', minima, '--pairs', 'some'], /--pairs "some" is not understood/],
    [['barriers', path.join(tmp, 'wide', 'checkpoints')], /without any \.safetensors|file not found/],
  ];
  for (const [args, re] of cases) {
    // Flags given later win, so the case's own options override FAST.
    const r = await runCli([args[0], ...FAST, ...args.slice(1)]);
    assert.equal(r.code, 2, `${args.join(' ')} -> ${r.code}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.split('\n').length, 1, `one line for ${args.join(' ')}: ${r.stderr}`);
  }
  // With --dataset both are measured on the named data, so the recorded difference no longer matters.
  const ok = await runCli(['path', ck('r1'), other, ...FAST, '--dataset', 'moons', '--json']);
  assert.equal(ok.code, 0, ok.stderr);
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

test('non-finite losses on the path exit 1 naming the pair and the t where they occur', async () => {
  const r = await runCli(['path', ck('r2'), path.join(tmp, 'overflow.safetensors'), ...FAST]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /path from .*r2.*final\.safetensors to .*overflow\.safetensors: loss is (NaN|Infinity|-Infinity) on the straight line at t = [0-9.e-]+/);
  assert.equal(r.stderr.split('\n').length, 2, 'the start line and the error');
});

function stripTiming(j: Record<string, unknown>) {
  const { seconds: _s, settings, ...rest } = j;
  // The settings table shows the time too.
  return { ...rest, settings: (settings as [string, string][]).filter(([k]) => k !== 'time') };
}

test('barriers over a folder on 2 worker threads: symmetric matrix, MST of n − 1 edges, a tree of every minimum, equal to --jobs 1', async () => {
  const args = ['barriers', minima, ...FAST, '--batch', '40', '--json'];
  const two = await runCli([...args, '--jobs', '2']);
  assert.equal(two.code, 0, two.stderr);
  const one = await runCli([...args, '--jobs', '1']);
  assert.equal(one.code, 0, one.stderr);
  const j = JSON.parse(two.stdout);
  assertResult(j, 'barrierMatrix');
  assert.equal(j.pairs[0].profile, undefined, '--json leaves the profiles out');
  const n = 3;
  assert.deepEqual(j.files, [ck('r1'), ck('r2'), ck('r3')], 'the folder is scanned recursively, sorted');
  assert.equal(j.pairs.length, 3);
  assert.equal(j.errors.length, 0);
  assert.equal(j.dataset.batch, 40);
  for (let a = 0; a < n; a++) {
    assert.equal(j.heights[a][a], j.losses[a]);
    assert.equal(j.barriers[a][a], 0);
    for (let b = 0; b < n; b++) {
      assert.equal(j.heights[a][b], j.heights[b][a]);
      assert.equal(j.barriers[a][b], j.barriers[b][a]);
      if (a !== b) {
        assert.ok(j.heights[a][b] >= Math.max(j.losses[a], j.losses[b]) - 1e-6);
        assert.ok(Math.abs(j.barriers[a][b] - (j.heights[a][b] - (j.losses[a] + j.losses[b]) / 2)) < 1e-9);
      }
    }
  }
  assert.equal(j.mst.edges.length, n - 1);
  assert.equal(j.mst.components.length, 1);
  assert.deepEqual(j.tree.minima, [0, 1, 2]);
  assert.equal(j.tree.height, Math.max(...j.mst.edges.map((e: { height: number }) => e.height)), 'the root joins at the highest MST edge');
  // Worker threads compute exactly what one thread computes, pair by pair.
  assert.deepEqual(stripTiming(JSON.parse(one.stdout)), stripTiming(j));
});

test('random:N picks N seeded pairs; minima outside them still get their loss; a failing pair is null and listed, exit 1', async () => {
  const extra = path.join(tmp, 'r4', 'final.safetensors');
  const r = await runCli(['barriers', minima, extra, '--pairs', 'random:2', '--seed', '5', ...FAST, '--method', 'linear', '--jobs', '1', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.selection, 'random:2');
  assert.equal(j.pairs.length, 2);
  let offDiagonal = 0;
  for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) if (a !== b && j.heights[a][b] !== null) offDiagonal++;
  assert.equal(offDiagonal, 4);
  for (const l of j.losses) assert.ok(Number.isFinite(l));
  const again = JSON.parse((await runCli(['barriers', minima, extra, '--pairs', 'random:2', '--seed', '5', ...FAST, '--method', 'linear', '--jobs', '1', '--json'])).stdout);
  assert.deepEqual(again.pairs.map((p: { i: number; j: number }) => [p.i, p.j]), j.pairs.map((p: { i: number; j: number }) => [p.i, p.j]));

  const out = path.join(tmp, 'with-failure.json');
  const bad = await runCli(['barriers', ck('r1'), ck('r2'), path.join(tmp, 'overflow.safetensors'), ...FAST, '--jobs', '2', '--out', out]);
  assert.equal(bad.code, 1, bad.stderr);
  assert.match(bad.stderr, /2 of 3 pairs failed/);
  assert.match(bad.stderr, /overflow\.safetensors failed: .*at t = /);
  const saved = JSON.parse(fs.readFileSync(out, 'utf8'));
  assertResult(saved, 'barrierMatrix');
  assert.equal(readBarrierResult(out, 'barrierMatrix').data.errors.length, 2);
  assert.equal(saved.errors.length, 2);
  assert.equal(saved.heights[0][2], null);
  assert.equal(saved.heights[1][2], null);
  assert.equal(typeof saved.heights[0][1], 'number');
  assert.equal(saved.losses[2], null, 'a minimum with a non-finite loss');
  assert.ok(Array.isArray(saved.pairs[0].profile.t), '--out keeps each pair\'s profile');
  assert.match(bad.stdout, /disconnectivity graph/);
});

test('cancelling stops the worker threads and exits as cancelled', async () => {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 1500);
  const r = await runCli(['barriers', minima, '--steps', '1000000', '--points', '8', '--jobs', '2', '--json'], ac.signal);
  clearTimeout(timer);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cancelled/);
});

test('mini-batch objectives draw a fixed stream per seed and leave no tensors behind', async () => {
  const a = await loadAnyCheckpoint(ck('r1'));
  const b = await loadAnyCheckpoint(ck('r2'));
  const before = tf.memory().numTensors;
  const surface = await objectiveForCheckpoint(a, { batch: 40, seed: 3 });
  assert.ok(surface.batches);
  const losses = (k: number) => {
    const v = tf.tidy(() => surface.batches!(k).evaluate(tf.tensor2d(a.theta, [1, a.theta.length])));
    const x = v.dataSync()[0];
    v.dispose();
    return x;
  };
  const first = [0, 1, 2, 3, 4].map(losses);
  assert.deepEqual([0, 1, 2, 3, 4].map(losses), first, 'going back replays the same batches');
  assert.notEqual(first[0], first[1]);
  const r = await findPath(surface.objective, a.theta, b.theta, { steps: 10, points: 6, modes: 2, batches: surface.batches });
  assert.equal(r.iterations, 10);
  surface.dispose();
  assert.equal(tf.memory().numTensors, before);
});
