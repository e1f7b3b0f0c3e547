/**
 * The CLI on image datasets: train on an IDX folder with --subset, the
 * checkpoint's info and hessian rebuild the same subset and normalisation
 * (or the one --subset asks for), and a named dataset that is nowhere exits
 * 2 saying where it looked.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { runCli } from '../../support/cli';
import { initBackend } from '../../../src/engine/backend';
import { tinyImages, writeIdxFolder } from '../../support/dataFiles';
import { makeTempDir, removeTempDir } from '../../support/tmp';

let tmp: string;
before(async () => {
  tmp = makeTempDir('cli-data');
  await initBackend('cpu', { force: true });
});
after(() => removeTempDir(tmp));

test('train --subset on an IDX folder; info and hessian reload the same data', async () => {
  const data = path.join(tmp, 'idx');
  writeIdxFolder(data, tinyImages(200, 3, 4, 3), tinyImages(50, 3, 4, 3, 1), { gz: true });
  const out = path.join(tmp, 'run');
  const r = await runCli(['train', '--dataset', data, '--subset', '50', '--model', '12-6-3', '--optimizer', 'adam', '--lr', '0.01', '--epochs', '2', '--out', out, '--json', '--backend', 'cpu']);
  assert.equal(r.code, 0, r.stderr);
  const start = JSON.parse(r.stdout.split('\n')[0]);
  assert.equal(start.trainSize, 40);
  assert.equal(start.testSize, 10);
  const ck = path.join(out, 'final.safetensors');
  const info = await runCli(['info', ck, '--json', '--backend', 'cpu']);
  assert.equal(info.code, 0, info.stderr);
  const j = JSON.parse(info.stdout);
  assert.equal(j.metadata.dataset, data);
  assert.equal(JSON.parse(j.metadata.datasetOptions).subset, 50);
  assert.ok(Math.abs(j.evaluation.trainLoss - Number(j.metadata.trainLoss)) < 1e-5, `${j.evaluation.trainLoss} vs ${j.metadata.trainLoss}`);
  const h = await runCli(['hessian', ck, '--k', '1', '--json', '--backend', 'cpu']);
  assert.equal(h.code, 0, h.stderr);
  assert.equal(JSON.parse(h.stdout).objective.samples, 40);
  const wider = await runCli(['hessian', ck, '--k', '1', '--subset', '100', '--json', '--backend', 'cpu']);
  assert.equal(wider.code, 0, wider.stderr);
  assert.equal(JSON.parse(wider.stdout).objective.samples, 80);
  const bad = await runCli(['hessian', ck, '--subset', '1']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--subset must be a whole number ≥ 2, got 1/);
});

test('a named dataset that is nowhere exits 2 and says where it looked and how to get it', async () => {
  const saved = process.env.LANDSCAPE_DATA;
  process.env.LANDSCAPE_DATA = path.join(tmp, 'no-data-here');
  try {
    const r = await runCli(['train', '--dataset', 'kmnist', '--model', '784-10', '--epochs', '1', '--out', path.join(tmp, 'k')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /dataset kmnist not found: looked in .*no-data-here\/kmnist \(no such folder\), .*no-data-here\/KMNIST\/raw \(no such folder\), \/usr\/share\/datasets\/kmnist/);
    assert.match(r.stderr, /train-images-idx3-ubyte\.gz/);
  } finally {
    if (saved === undefined) delete process.env.LANDSCAPE_DATA;
    else process.env.LANDSCAPE_DATA = saved;
  }
});
