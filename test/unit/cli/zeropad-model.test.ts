/**
 * A model with zeropad through the CLI: the fast kernels decline it, so it
 * trains, evaluates, takes a path and a Hessian on the tfjs path; `hessian`
 * says its products are tfjs autodiff and why (zeropad is not in the
 * kernels), and its top eigenvalue agrees with central differences.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../../support/cli';
import { makeTempDir, removeTempDir } from '../../support/tmp';

const MODEL = 'input(1,8,8) zeropad(1) conv(4,3) relu flatten dense(10)';
let dir: string;
const final = (seed: string) => path.join(dir, `s${seed}`, 'final.safetensors');

before(async () => {
  dir = makeTempDir('zeropad-model');
  for (const seed of ['0', '1']) {
    const r = await runCli(['train', '--dataset', 'digits', '--model', MODEL, '--subset', '400', '--batch', '32', '--epochs', '2', '--seed', seed, '--data-seed', '0', '--out', path.join(dir, `s${seed}`), '--backend', 'wasm']);
    assert.equal(r.code, 0, r.stderr);
  }
});
after(() => removeTempDir(dir));

test('trains on the built-in digits (the loss falls), and eval and path take the checkpoints', async () => {
  const epochs = fs.readFileSync(path.join(dir, 's0', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.type === 'epoch');
  assert.ok(epochs.length >= 2 && epochs[epochs.length - 1].trainLoss < epochs[0].trainLoss, `train losses ${epochs.map((e) => e.trainLoss).join(', ')}`);
  const info = await runCli(['info', final('0'), '--json']);
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stdout, /zeropad\(1\) conv\(4,3\)/);
  const e = await runCli(['eval', final('0'), '--data', 'digits', '--json', '--backend', 'wasm']);
  assert.equal(e.code, 0, e.stderr);
  assert.ok(Number.isFinite(JSON.parse(e.stdout).loss));
  const p = await runCli(['path', final('0'), final('1'), '--steps', '3', '--points', '5', '--json', '--backend', 'wasm']);
  assert.equal(p.code, 0, p.stderr);
  const j = JSON.parse(p.stdout);
  assert.ok(j.height >= Math.max(j.lossA, j.lossB) - 1e-6, `H ${j.height}`);
});

test('hessian: autodiff products, saying zeropad is not in the kernels; the top eigenvalue matches central differences', async () => {
  const h = await runCli(['hessian', final('0'), '--k', '1', '--backend', 'wasm']);
  assert.equal(h.code, 0, h.stderr);
  assert.match(h.stdout, /Hessian-vector products: autodiff \(zeropad layers are not in the fast kernels.*\)/);
  const a = JSON.parse((await runCli(['hessian', final('0'), '--k', '1', '--json', '--backend', 'wasm'])).stdout);
  assert.equal(a.hvp, 'autodiff');
  assert.match(a.hvpFallbackReason, /zeropad/);
  const fd = await runCli(['hessian', final('0'), '--k', '1', '--json', '--backend', 'wasm', '--hvp', 'finite-difference']);
  assert.equal(fd.code, 0, fd.stderr);
  const f = JSON.parse(fd.stdout);
  assert.ok(a.eigenvalues[0] > 0 && Math.abs(a.eigenvalues[0] - f.eigenvalues[0]) <= 1e-2 * a.eigenvalues[0], `autodiff ${a.eigenvalues[0]} vs differences ${f.eigenvalues[0]}`);
  const exact = await runCli(['hessian', final('0'), '--hvp', 'exact', '--backend', 'wasm']);
  assert.equal(exact.code, 2);
  assert.match(exact.stderr, /zeropad layers are not in the fast kernels/);
});
