/**
 * `landscape path --method bezier|polychain` between two networks trained by
 * the CLI: the digits MLP (two seeds, one data split) and the layer-grammar
 * CNN cnn-digits. The result validates as a path result, reopens, and its
 * stored bend redraws the curve: the network's loss at φ(t) rebuilt from the
 * bend is the profile's loss at t.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { runCli } from '../../support/cli';
import { makeTempDir, removeTempDir } from '../../support/tmp';
import { initBackend } from '../../../src/engine/backend';
import { loadAnyCheckpoint } from '../../../src/engine/evaluate';
import { objectiveForCheckpoint } from '../../../src/engine/checkpointObjective';
import { evaluateValues } from '../../../src/engine/objective';
import { curvePoint } from '../../../src/engine/path/curves';
import type { CurveMethod } from '../../../src/engine/path';
import { validate } from '../../../src/schema';
import { ResultDataSchema } from '../../../src/results';
import { readBarrierResult } from '../../../src/results/barrierFiles';

let dir: string;
const final = (run: string) => path.join(dir, run, 'final.safetensors');

async function train(args: string[]): Promise<void> {
  const r = await runCli(['train', ...args, '--data-seed', '0', '--backend', 'wasm']);
  assert.equal(r.code, 0, r.stderr);
}

before(async () => {
  dir = makeTempDir('curves-cli');
  for (const seed of ['1', '2']) {
    await train(['--epochs', '5', '--seed', seed, '--out', path.join(dir, `mlp${seed}`)]);
    await train(['--model', 'cnn-digits', '--subset', '200', '--batch', '16', '--epochs', '2', '--seed', seed, '--out', path.join(dir, `cnn${seed}`)]);
  }
});
after(() => removeTempDir(dir));

/** The network's loss at φ(t) from the stored bend, beside the profile's loss at the same t. */
async function redrawn(method: CurveMethod, bend: number[], t: number[]): Promise<Float64Array> {
  await initBackend('wasm');
  const a = await loadAnyCheckpoint(final('mlp1'));
  const b = await loadAnyCheckpoint(final('mlp2'));
  const surface = await objectiveForCheckpoint(a);
  try {
    return evaluateValues(surface.objective, t.map((ti) => curvePoint(method, { a: a.theta, b: b.theta }, bend, ti)));
  } finally {
    surface.dispose();
  }
}

test('digits MLP: bezier and polychain results validate, reopen, and their bend redraws the curve', async () => {
  for (const method of ['bezier', 'polychain'] as const) {
    const out = path.join(dir, `${method}.path.json`);
    const r = await runCli(['path', final('mlp1'), final('mlp2'), '--method', method, '--steps', '40', '--points', '8', '--batch', '64', '--refine', 'none', '--out', out, '--json', '--backend', 'wasm']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    const v = validate(ResultDataSchema, j, 'result');
    assert.ok(v.ok, v.ok ? '' : v.error);
    assert.equal(j.method, method);
    assert.equal(j.iterations, 40);
    assert.equal(j.dataset.batch, 64);
    assert.equal('bend' in j, false, 'the P numbers of the bend stay out of stdout without --coefficients');
    const saved = readBarrierResult(out, 'barrierPath').data;
    assert.equal(saved.method, method);
    assert.equal(saved.height, j.height);
    assert.equal(saved.bend!.length, 64 * 32 + 32 + 32 * 32 + 32 + 32 * 10 + 10);
    const picks = [3, 35, 50, 70];
    const again = await redrawn(method, saved.bend!, picks.map((i) => saved.profile.t[i]));
    picks.forEach((i, k) => assert.ok(Math.abs(again[k] - saved.profile.loss[i]) < 1e-5 * (1 + saved.profile.loss[i]), `${method} t=${saved.profile.t[i]}: ${again[k]} vs ${saved.profile.loss[i]}`));
    assert.ok(saved.height <= saved.linear.height, `${method}: H ${saved.height} above the straight line's ${saved.linear.height}`);
  }
});

test('digits MLP, default refinement: the band is reported beside the curve, and the text names the curve', async () => {
  const r = await runCli(['path', final('mlp1'), final('mlp2'), '--method', 'bezier', '--steps', '20', '--points', '6', '--batch', '128', '--json', '--coefficients', '--backend', 'wasm']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.options.refine, 'climb');
  assert.ok(j.refinement && j.optimized, 'refined like the Fourier path');
  assert.equal(j.heights.optimized, j.optimized.height);
  assert.ok(j.height <= j.optimized.height);
  assert.ok(Array.isArray(j.bend), '--coefficients includes the bend');
  const text = await runCli(['path', final('mlp1'), final('mlp2'), '--method', 'polychain', '--steps', '10', '--points', '5', '--refine', 'none', '--backend', 'wasm']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /polychain curve, one bend trained for 10 steps \(lr 0\.01, seed 0\), M = 5/);
  assert.match(text.stdout, /refinement: none \(the trained curve\)/);
});

test('a layer-grammar CNN (cnn-digits) takes the same curves', async () => {
  const r = await runCli(['path', final('cnn1'), final('cnn2'), '--method', 'bezier', '--steps', '10', '--points', '5', '--batch', '32', '--json', '--backend', 'wasm']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  const v = validate(ResultDataSchema, j, 'result');
  assert.ok(v.ok, v.ok ? '' : v.error);
  assert.equal(j.method, 'bezier');
  assert.ok(j.refinement && j.height <= j.optimized.height, 'refined, never above the trained curve');
  assert.equal(j.profile.loss[0], j.lossA);
  assert.equal(j.profile.loss[j.profile.loss.length - 1], j.lossB);
});

test('an unknown method is a usage error naming the choices', async () => {
  const r = await runCli(['path', final('mlp1'), final('mlp2'), '--method', 'spline', '--backend', 'wasm']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bezier/);
  assert.match(r.stderr, /polychain/);
});
