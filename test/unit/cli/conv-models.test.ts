/**
 * Layer-grammar models through the CLI, as a user runs them: a CNN trains on
 * the built-in digits with nothing to download, its checkpoint reopens as the
 * same network (its recorded training loss is what the objective measures
 * again), `info`, `path` and `hessian` take it, and bad specs and mismatched
 * checkpoints are refused with exit code 2 and a message that names the problem.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../../support/cli';
import { makeTempDir, removeTempDir } from '../../support/tmp';
import { initBackend } from '../../../src/engine/backend';
import { loadAnyCheckpoint } from '../../../src/engine/evaluate';
import { objectiveForCheckpoint } from '../../../src/engine/checkpointObjective';
import { evaluateValues } from '../../../src/engine/objective';

let dir: string;
const run = (name: string) => path.join(dir, name);

before(async () => {
  dir = makeTempDir('conv-models');
  for (const seed of ['0', '1']) {
    const r = await runCli(['train', '--model', 'cnn-digits', '--subset', '400', '--batch', '16', '--epochs', '3', '--seed', seed, '--data-seed', '0', '--out', run(`s${seed}`), '--backend', 'wasm']);
    assert.equal(r.code, 0, r.stderr);
  }
});
after(() => removeTempDir(dir));

test('cnn-digits trains on the built-in digits: the training loss falls and the run says which network it trained', async () => {
  const r = await runCli(['info', path.join(run('s0'), 'final.safetensors'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /conv\(16,3,pad=1\)/);
  const epochs = fs.readFileSync(path.join(run('s0'), 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.type === 'epoch');
  const last = await loadAnyCheckpoint(path.join(run('s0'), 'final.safetensors'));
  assert.equal(epochs[0].epoch, 0);
  assert.ok(Number(last.meta.trainLoss) < 0.8 * epochs[0].trainLoss, `train loss ${epochs[0].trainLoss} → ${last.meta.trainLoss}`);
  assert.match(last.specString, /^input\(1,8,8\) conv\(8,3,pad=1\)/);
  assert.equal(last.theta.length, 9802);
});

test('a reopened CNN checkpoint is the same network: the objective measures its recorded training loss again', async () => {
  await initBackend('wasm', { force: true });
  const ck = await loadAnyCheckpoint(path.join(run('s0'), 'final.safetensors'));
  const surface = await objectiveForCheckpoint(ck);
  try {
    const [loss] = evaluateValues(surface.objective, [ck.theta]);
    const recorded = Number(ck.meta.trainLoss);
    assert.ok(Math.abs(loss - recorded) <= 1e-5 * recorded, `${loss} vs recorded ${recorded}`);
  } finally {
    surface.dispose();
  }
});

test('landscape path between two CNN runs and landscape hessian on one', async () => {
  const a = path.join(run('s0'), 'final.safetensors');
  const b = path.join(run('s1'), 'final.safetensors');
  const p = await runCli(['path', a, b, '--steps', '5', '--points', '6', '--json', '--backend', 'wasm']);
  assert.equal(p.code, 0, p.stderr);
  const j = JSON.parse(p.stdout);
  assert.ok(j.height >= Math.max(j.lossA, j.lossB) - 1e-6 && j.height <= j.linear.height + 1e-6, `H ${j.height}, straight ${j.linear.height}`);
  const h = await runCli(['hessian', b, '--k', '1', '--json', '--backend', 'wasm']);
  assert.equal(h.code, 0, h.stderr);
  const hj = JSON.parse(h.stdout);
  assert.ok(hj.eigenvalues[0] > 0);
  // Exact products by default: the kernels' R-operator, not central differences...
  assert.equal(hj.hvp, 'exact');
  // ...and the same top eigenvalue as tfjs' double backward (conv and pooling differentiate twice; see arch/anyOrder.ts).
  const t = await runCli(['hessian', b, '--k', '1', '--json', '--backend', 'wasm', '--hvp', 'autodiff']);
  assert.equal(t.code, 0, t.stderr);
  const tj = JSON.parse(t.stdout);
  assert.equal(tj.hvp, 'autodiff');
  assert.ok(Math.abs(hj.eigenvalues[0] - tj.eigenvalues[0]) <= 1e-4 * tj.eigenvalues[0], `exact ${hj.eigenvalues[0]} vs autodiff ${tj.eigenvalues[0]}`);
});

test('landscape study --model cnn-digits: the study trains CNNs and measures their barriers', async () => {
  const out = run('study');
  const r = await runCli(['study', '--preset', 'quick', '--model', 'cnn-digits', '--subset', '200', '--seeds', '2', '--epochs', '2', '--pairs', '1', '--path-steps', '3', '--out', out, '--json', '--backend', 'wasm']);
  assert.equal(r.code, 0, r.stderr);
  const study = JSON.parse(fs.readFileSync(path.join(out, 'study.json'), 'utf8'));
  assert.equal(study.config.model, 'cnn-digits');
  assert.equal(study.config.subset, 200);
  assert.equal(study.barriers.length, 2);
  for (const b of study.barriers) assert.ok(b.optimized.height <= b.straight.height + 1e-6, `${b.a} ↔ ${b.b}`);
  const ck = await loadAnyCheckpoint(path.join(out, 'runs', 'sgd-s1', 'final.safetensors'));
  assert.match(ck.specString, /^input\(1,8,8\) conv/);
});

test('a BatchNorm CNN Landscape trains keeps running statistics: info and eval run in eval mode and agree with the recorded metrics', async () => {
  const out = run('bn');
  const spec = 'input(1,8,8) conv(6,3,pad=1,bias=false) bn relu maxpool(2) flatten dense(10)';
  const t = await runCli(['train', '--model', spec, '--subset', '400', '--batch', '16', '--epochs', '2', '--out', out, '--backend', 'wasm']);
  assert.equal(t.code, 0, t.stderr);
  const file = path.join(out, 'final.safetensors');
  const ck = await loadAnyCheckpoint(file);
  assert.ok(ck.buffers, 'running statistics are stored');
  // running_var of a channel is a variance: positive; running_mean not all zero after training.
  assert.ok(Array.from(ck.buffers!.subarray(6, 12)).every((v) => v > 0) && ck.buffers!.subarray(0, 6).some((v) => v !== 0));
  const info = JSON.parse((await runCli(['info', file, '--json', '--backend', 'wasm'])).stdout);
  assert.ok(Math.abs(info.evaluation.trainLoss - Number(ck.meta.trainLoss)) <= 1e-6 * Number(ck.meta.trainLoss), `${info.evaluation.trainLoss} vs ${ck.meta.trainLoss}`);
  const e = JSON.parse((await runCli(['eval', file, '--data', 'digits', '--subset', '400', '--json', '--backend', 'wasm'])).stdout);
  assert.equal(e.batchNorm, 'running statistics from the checkpoint');
  assert.equal(e.preprocessing, 'standardised as in training');
  const n = e.samples;
  const trainRows = Math.round(0.8 * n);
  const pooled = (info.evaluation.trainLoss * trainRows + info.evaluation.testLoss * (n - trainRows)) / n;
  assert.ok(Math.abs(e.loss - pooled) <= 1e-4 * pooled, `eval ${e.loss} vs the pooled train/test loss ${pooled}`);
});

const fashion = fs.existsSync('/usr/share/datasets/fashion-mnist') ? false : 'Debian\'s dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)';

test('lenet trains on Fashion-MNIST from Debian\'s package and evaluates on its rows', { skip: fashion }, async () => {
  const out = run('lenet');
  const r = await runCli(['train', '--model', 'lenet', '--dataset', 'fashion-mnist', '--subset', '1000', '--epochs', '2', '--batch', '16', '--out', out, '--json', '--backend', 'wasm']);
  assert.equal(r.code, 0, r.stderr);
  const epochs = r.stdout.split('\n').map((l) => JSON.parse(l)).filter((e) => e.type === 'epoch');
  const last = epochs[epochs.length - 1];
  assert.ok(last.trainLoss < 0.8 * epochs[0].trainLoss, `${epochs[0].trainLoss} → ${last.trainLoss}`);
  const e = await runCli(['eval', path.join(out, 'final.safetensors'), '--data', 'fashion-mnist', '--subset', '300', '--json', '--backend', 'wasm']);
  assert.equal(e.code, 0, e.stderr);
  const j = JSON.parse(e.stdout);
  assert.equal(j.samples, 300);
  // The recorded normalisation is applied (the network never saw raw pixels): eval agrees with training's accuracy.
  assert.ok(j.preprocessing?.normalization, 'the checkpoint\'s normalisation was applied');
  assert.ok(Math.abs(j.accuracy - last.accuracy) < 0.15, `eval ${j.accuracy} vs training ${last.accuracy}`);
});

test('bad specs and mismatched checkpoints: exit code 2, the layer or tensor named', async () => {
  const tooSmall = await runCli(['train', '--model', 'input(1,8,8) conv(4,9) flatten dense(10)', '--epochs', '1', '--out', run('bad')]);
  assert.equal(tooSmall.code, 2);
  assert.match(tooSmall.stderr, /conv/);
  const wrong = await runCli(['info', path.join(run('s0'), 'final.safetensors'), '--model', 'lenet']);
  assert.equal(wrong.code, 2, wrong.stderr);
  assert.match(wrong.stderr, /lenet|input\(1,28,28\)/);
});
