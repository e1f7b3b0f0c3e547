import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { runCli } from '../../support/cli';
import { initBackend } from '../../../src/engine/backend';
import { trainToEnd, TrainConfig } from '../../../src/engine/train';
import { loadAnyCheckpoint } from '../../../src/engine/evaluate';
import { kernelPCA } from '../../../src/engine/analysis';
import { shortLabels } from '../../../src/cli/commands/common-analysis';
import { makeTempDir } from '../../support/tmp';

const tmp = makeTempDir('cli-analysis');
const runs = path.join(tmp, 'runs');
const A = path.join(runs, 'a');
const B = path.join(runs, 'b');
const R = path.join(tmp, 'relu');
const SMALL = path.join(tmp, 'small');

async function json(args: string[]) {
  const r = await runCli([...args, '--json']);
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  assert.doesNotMatch(r.stdout, /NaN|Infinity/);
  return JSON.parse(r.stdout);
}

const base = (out: string, extra: Partial<TrainConfig> = {}): TrainConfig => ({
  dataset: 'moons',
  n: 200,
  model: '2-8-2',
  activation: 'tanh',
  optimizer: 'sgd',
  lr: 0.5,
  epochs: 6,
  batch: 32,
  seed: 1,
  checkpointEvery: 2,
  out,
  ...extra,
});

before(async () => {
  await initBackend('cpu', { force: true });
  await trainToEnd(base(A));
  await trainToEnd(base(B, { optimizer: 'momentum', lr: 0.1, seed: 2 }));
  await trainToEnd(base(R, { activation: 'relu', seed: 3 }));
  await trainToEnd(base(SMALL, { model: '2-4-2', epochs: 1, checkpointEvery: 0 }));
});

const ck = (dir: string, name: string) => path.join(dir, name.startsWith('epoch') ? `checkpoints/${name}.safetensors` : `${name}.safetensors`);

test('kpca of a folder equals kernelPCA called directly, with metadata per point; --trajectory projects a run; --out matches stdout', async () => {
  const out = path.join(tmp, 'out', 'kpca.json');
  const j = await json(['kpca', runs, '--trajectory', B, '--out', out]);
  const files = ['a', 'b'].flatMap((r) => ['best', 'checkpoints/epoch-0002', 'checkpoints/epoch-0004', 'checkpoints/epoch-0006', 'final'].map((n) => path.join(runs, r, `${n}.safetensors`)));
  assert.deepEqual(j.points.map((p: { file: string }) => p.file), files);
  const thetas = await Promise.all(files.map(async (f) => (await loadAnyCheckpoint(f)).theta));
  const direct = await kernelPCA(thetas, { kernel: 'rbf', components: 2 });
  assert.deepEqual(j.points.map((p: { coords: number[] }) => p.coords), direct.projections);
  assert.deepEqual(j.explainedVariance, direct.explainedVariance);
  assert.deepEqual(j.eigenvalues, direct.eigenvalues);
  assert.equal(j.kernel.kernel, 'rbf');
  assert.equal(j.kernel.gamma, 1 / 42);
  assert.equal(j.dim, 42);
  const p = j.points[1];
  assert.equal(p.run, 'a');
  assert.equal(p.optimizer, 'sgd');
  assert.equal(p.epoch, 2);
  assert.equal(p.label, 'a/checkpoints/epoch-0002.safetensors');
  const meta = (await loadAnyCheckpoint(files[1])).meta;
  assert.equal(p.loss, Number(meta.trainLoss));
  assert.equal(p.testAccuracy, Number(meta.testAccuracy));
  // The trajectory is B's periodic checkpoints in epoch order, projected with the fitted centring: the map's first overlay.
  assert.equal(j.overlays.length, 1);
  const trajectory = j.overlays[0];
  assert.deepEqual([trajectory.kind, trajectory.run, trajectory.source], ['trajectory', path.basename(B), B]);
  assert.deepEqual(trajectory.points.map((q: { epoch: number }) => q.epoch), [2, 4, 6]);
  const projected = direct.transform(await Promise.all([2, 4, 6].map(async (e) => (await loadAnyCheckpoint(ck(B, `epoch-000${e}`))).theta)));
  trajectory.points.forEach((q: { coords: number[] }, i: number) => q.coords.forEach((c, k) => assert.ok(Math.abs(c - projected[i][k]) < 1e-12)));
  // A trajectory point that was also fitted lands on its fitted coordinates.
  trajectory.points[2].coords.forEach((c: number, k: number) => assert.ok(Math.abs(c - j.points[8].coords[k]) < 1e-9));
  const saved = JSON.parse(fs.readFileSync(out, 'utf8'));
  assert.deepEqual(saved, j);
  // Explicit files and kernel options pass through.
  const lin = await json(['kpca', ck(A, 'final'), ck(B, 'final'), ck(A, 'epoch-0002'), ck(B, 'epoch-0002'), '--kernel', 'polynomial', '--gamma', '0.5', '--degree', '2', '--coef0', '0', '--components', '3']);
  assert.deepEqual(lin.kernel, { kernel: 'polynomial', gamma: 0.5, degree: 2, coef0: 0 });
  assert.equal(lin.points[0].coords.length, 3);
  const table = await runCli(['kpca', runs]);
  assert.equal(table.code, 0);
  assert.match(table.stdout, /kernel PCA of 10 checkpoints \(42 parameters\), rbf kernel/);
  assert.match(table.stdout, /explained variance: PC1 [\d.]+ %, PC2 [\d.]+ %/);
});

test('hessian: finite top eigenvalues with errors, trace with standard error, and the verdict against 2/η', async () => {
  const out = path.join(tmp, 'hessian.json');
  const j = await json(['hessian', ck(R, 'final'), '--k', '2', '--trace', '--samples', '12', '--seed', '3', '--out', out]);
  assert.equal(j.eigenvalues.length, 2);
  assert.ok(j.eigenvalues.every(Number.isFinite) && j.eigenvalues[0] >= j.eigenvalues[1]);
  assert.equal(j.errorEstimates.length, 2);
  assert.ok(j.iterations >= 2);
  assert.equal(j.trace.samples, 12);
  assert.ok(Number.isFinite(j.trace.estimate) && j.trace.standardError > 0);
  assert.equal(j.seed, 3);
  assert.equal(j.objective.dataset, 'moons');
  assert.equal(j.objective.samples, 160);
  // η from the checkpoint's hyperparameters: plain SGD at 0.5.
  assert.equal(j.stability.lr, 0.5);
  assert.equal(j.stability.lrSource, 'metadata');
  assert.equal(j.stability.threshold, 4);
  assert.ok(['stable', 'edge', 'unstable'].includes(j.stability.verdict));
  assert.equal(j.stability.verdict, j.eigenvalues[0] * 0.5 < 1.8 ? 'stable' : j.eigenvalues[0] * 0.5 > 2.2 ? 'unstable' : 'edge');
  assert.deepEqual(JSON.parse(fs.readFileSync(out, 'utf8')), j);
  // λmax against the loss itself: along the top eigenvector (from the hessian slice, whose grid
  // evaluates losses, not products) the second difference of the loss is λmax. tanh: smooth.
  const hA = await json(['hessian', ck(A, 'final'), '--seed', '3']);
  const h = 0.05;
  const s = await json(['slice', ck(A, 'final'), '--kind', 'hessian', '--points', '3', '--range', `${-h},${h}`, '--seed', '3']);
  const curvature = (s.values[0] - 2 * s.values[1] + s.values[2]) / (h * h);
  assert.ok(Math.abs(curvature - hA.eigenvalues[0]) <= 2e-2 * hA.eigenvalues[0], `second difference ${curvature} vs λmax ${hA.eigenvalues[0]}`);
  assert.ok(Math.abs(s.axes.x.direction.eigenvalue - hA.eigenvalues[0]) <= 1e-3 * hA.eigenvalues[0]);
  // --lr overrides: a huge rate is unstable, a tiny one stable.
  const lam = j.eigenvalues[0];
  assert.equal((await json(['hessian', ck(R, 'final'), '--lr', String(10 / lam)])).stability.verdict, 'unstable');
  const tiny = await json(['hessian', ck(R, 'final'), '--lr', String(0.1 / lam)]);
  assert.equal(tiny.stability.verdict, 'stable');
  assert.equal(tiny.stability.lrSource, 'flag');
  // Momentum runs use the heavy-ball bound 2(1 + β)/η.
  const mom = await json(['hessian', ck(B, 'final')]);
  assert.equal(mom.stability.momentum, 0.9);
  assert.ok(Math.abs(mom.stability.threshold - (2 * 1.9) / 0.1) < 1e-9);
  const t = await runCli(['hessian', ck(A, 'final')]);
  assert.equal(t.code, 0);
  assert.match(t.stdout, /λ1\s+[\d.e+-]+/);
  assert.match(t.stdout, /stability \(η = 0\.5000 \(sgd, from the metadata\)\): (stable|unstable|at the edge)/);
  // By default the products are exact (the kernels' R-operator): no step, so no step-halving check.
  assert.equal(hA.hvp, 'exact');
  assert.equal(hA.hvpCheck, undefined);
  assert.doesNotMatch(t.stdout, /step-halving check/);
  // Central differences on request print their step-halving check; tanh is smooth, so it is small and not called rough.
  const fdA = await json(['hessian', ck(A, 'final'), '--seed', '3', '--hvp', 'finite-difference']);
  assert.equal(fdA.hvp, 'finite-difference');
  assert.ok(fdA.hvpCheck.finiteDifferenceStepDependence < 0.01, `tanh step dependence ${fdA.hvpCheck.finiteDifferenceStepDependence}`);
  assert.ok(Math.abs(fdA.eigenvalues[0] - hA.eigenvalues[0]) <= 1e-2 * hA.eigenvalues[0], `FD ${fdA.eigenvalues[0]} vs exact ${hA.eigenvalues[0]}`);
  const tf = await runCli(['hessian', ck(A, 'final'), '--hvp', 'finite-difference']);
  assert.match(tf.stdout, /step-halving check: the first product changed by [\d.e+-]+ \(relative\) when the step was halved\n/);
  assert.equal(fdA.hvpCheckNote, `the first product changed by ${fdA.hvpCheck.finiteDifferenceStepDependence.toExponential(1)} (relative) when the step was halved`);
  // On the ReLU network the text blames the kinks exactly when the check is large.
  const fdR = await json(['hessian', ck(R, 'final'), '--k', '2', '--seed', '3', '--hvp', 'finite-difference']);
  const dependence = fdR.hvpCheck.finiteDifferenceStepDependence;
  assert.ok(Number.isFinite(dependence));
  const tr = await runCli(['hessian', ck(R, 'final'), '--k', '2', '--seed', '3', '--hvp', 'finite-difference']);
  assert.equal(/cross ReLU kinks, so single products are rough/.test(tr.stdout), dependence > 0.1, tr.stdout);
});

test('gradcheck: a tanh net passes with a small relative error; a ReLU net uses the exact kink detector', async () => {
  const j = await json(['gradcheck', ck(A, 'final'), '--coordinates', '10', '--directions', '4', '--seed', '2']);
  assert.equal(j.verdict, 'PASS');
  assert.equal(j.passed, true);
  assert.equal(j.failures, 0);
  assert.ok(j.maxRelError < 1e-2, `max relative error ${j.maxRelError}`);
  assert.equal(j.probes.filter((p: { kind: string }) => p.kind === 'coordinate').length, 10);
  assert.equal(j.probes.filter((p: { kind: string }) => p.kind === 'direction').length, 4);
  assert.equal(j.kinkMethod, 'step-dependence');
  assert.equal(j.seed, 2);
  const relu = await json(['gradcheck', ck(R, 'final'), '--coordinates', '6', '--directions', '2']);
  assert.equal(relu.kinkMethod, 'detector');
  assert.equal(relu.activation, 'relu');
  const t = await runCli(['gradcheck', ck(A, 'final'), '--coordinates', '4', '--directions', '2']);
  assert.equal(t.code, 0);
  assert.match(t.stdout, /^PASS: /m);
});

test('slice line: t from −0.5 to 1.5 with the two checkpoints\' recorded losses at t = 0 and 1', async () => {
  const a = ck(A, 'epoch-0002');
  const b = ck(A, 'final');
  const j = await json(['slice', a, b, '--kind', 'line']);
  assert.equal(j.dims, '1d');
  assert.equal(j.meta.method, 'checkpoints-line');
  const t: number[] = j.axes.x.values;
  assert.equal(t.length, 41);
  assert.equal(t[0], -0.5);
  assert.equal(t[40], 1.5);
  const [ma, mb] = await Promise.all([a, b].map(async (f) => Number((await loadAnyCheckpoint(f)).meta.trainLoss)));
  assert.ok(Math.abs(j.values[t.indexOf(0)] - ma) < 1e-5, `${j.values[t.indexOf(0)]} vs ${ma}`);
  assert.ok(Math.abs(j.values[t.indexOf(1)] - mb) < 1e-5, `${j.values[t.indexOf(1)]} vs ${mb}`);
  assert.deepEqual(j.meta.markers.map((m: { x: number }) => m.x), [0, 1]);
  assert.equal(j.meta.source.A, a);
  assert.equal(j.meta.source.dataset, 'moons');
  // Defaults by count: two checkpoints make a line.
  const d = await json(['slice', a, b, '--points', '5', '--range', '0,1']);
  assert.deepEqual(d.axes.x.values, [0, 0.25, 0.5, 0.75, 1]);
  assert.equal(d.request.kind, 'line');
});

test('slice random, hessian, random-plane and plane record seeds, normalisation and grid', async () => {
  const c = ck(A, 'final');
  const r = await json(['slice', c, '--kind', 'random', '--points', '7', '--seed', '5']);
  assert.equal(r.axes.x.direction.seed, 5);
  assert.equal(r.axes.x.direction.normalization, 'filter');
  assert.match(r.axes.x.direction.model, /^2-8-2\b/);
  assert.equal(r.values.length, 7);
  const again = await json(['slice', c, '--kind', 'random', '--points', '7', '--seed', '5']);
  assert.deepEqual(again.values, r.values, 'the seed reproduces the slice');
  const h = await json(['slice', c, '--kind', 'hessian', '--points', '5', '--iterations', '12']);
  assert.equal(h.meta.method, 'hessian-eigenvector');
  assert.ok(Number.isFinite(h.axes.x.direction.eigenvalue));
  assert.equal(h.axes.x.direction.lanczos.iterations <= 12, true);
  const p = await json(['slice', c, '--kind', 'random-plane', '--points', '4', '--normalization', 'layer', '--range', '-0.5,0.5']);
  assert.equal(p.dims, '2d');
  assert.equal(p.values.length, 4);
  assert.ok(p.values.every((row: number[]) => row.length === 4 && row.every(Number.isFinite)));
  assert.deepEqual([p.axes.x.direction.seed, p.axes.y.direction.seed], [1, 2]);
  assert.equal(p.axes.y.direction.normalization, 'layer');
  assert.deepEqual(p.axes.y.range, [-0.5, 0.5]);
  const three = await json(['slice', ck(A, 'epoch-0002'), ck(A, 'epoch-0004'), c, '--points', '5']);
  assert.equal(three.meta.method, 'checkpoints-plane');
  assert.equal(three.meta.markers.length, 3);
  const t = await runCli(['slice', c, '--kind', 'random-plane', '--points', '3']);
  assert.equal(t.code, 0);
  assert.match(t.stdout, /3×3 grid \(its values are in the JSON result/);
});

test('bad input exits 2 with one line that says what to do; a non-finite loss or kernel exits 1', async () => {
  const missing = path.join(tmp, 'missing.safetensors');
  const junk = path.join(tmp, 'junk.safetensors');
  fs.writeFileSync(junk, 'not a checkpoint at all');
  const empty = path.join(tmp, 'empty');
  fs.mkdirSync(empty, { recursive: true });
  const cases: [string[], RegExp][] = [
    [['kpca'], /needs checkpoint files or a folder/],
    [['kpca', ck(A, 'final')], /needs at least 2 vectors, got 1/],
    [['kpca', ck(A, 'final'), ck(B, 'final'), '--components', '3'], /with 3 components needs at least 3 vectors, got 2; pass fewer components or more checkpoints/],
    [['kpca', ck(A, 'final'), ck(SMALL, 'final')], new RegExp(`${ck(SMALL, 'final').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: has 22 values but .* has 42; all vectors must come from the same model`)],
    [['kpca', missing], /missing\.safetensors: file or folder not found/],
    [['kpca', empty], /is a folder without any \.safetensors checkpoints/],
    [['kpca', runs, '--trajectory', empty], /has no checkpoints to project; train with --checkpoint-every/],
    [['kpca', runs, '--kernel', 'laplace'], /--kernel must be one of rbf, polynomial, sigmoid, cosine, linear/],
    [['hessian', A], /is a folder, not a checkpoint/],
    [['hessian', missing], /file not found/],
    [['hessian', junk], /junk\.safetensors/],
    [['hessian', ck(A, 'final'), ck(B, 'final')], /needs exactly one checkpoint file/],
    [['hessian', ck(A, 'final'), '--samples', '1', '--trace'], /--samples must be a whole number ≥ 2/],
    [['gradcheck', ck(A, 'final'), '--directions', '-1'], /--directions must be a whole number ≥ 0/],
    [['gradcheck', ck(A, 'final'), '--dataset', 'digits'], /takes 2 inputs/],
    [['slice', ck(A, 'final'), '--kind', 'line'], /--kind line takes 2 checkpoints, got 1/],
    [['slice', ck(A, 'final'), ck(R, 'final')], /different models: activation tanh vs relu/],
    [['slice', ck(A, 'final'), ck(B, 'final')], /trained on different data \(datasetSeed 1 vs 2\)/],
    [['slice', ck(A, 'final'), ck(B, 'final'), '--range', '1,0'], /--range must go from low to high/],
    [['slice', ck(A, 'final'), ck(B, 'final'), '--range', 'wide'], /--range needs two numbers "from,to"/],
    [['slice', ck(A, 'final'), ck(B, 'final'), '--normalization', 'filter'], /apply to random directions/],
    [['slice', ck(A, 'final'), ck(A, 'final')], /the same checkpoint is given twice/],
    [['slice', ck(A, 'final'), '--points', '1'], /--points must be a whole number ≥ 2/],
  ];
  for (const [args, re] of cases) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')} -> ${r.code}: ${r.stderr}`);
    assert.match(r.stderr, re, args.join(' '));
    assert.equal(r.stderr.split('\n').length, 1, `one line for ${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '');
  }
  const computeFailures: [string[], RegExp][] = [
    [['kpca', ck(A, 'final'), ck(B, 'final'), '--kernel', 'polynomial', '--gamma', '1e30', '--degree', '40', '--json'], /kernel value between .* is not finite/],
    [['slice', ck(A, 'epoch-0002'), ck(A, 'final'), '--range', '-1e39,1e39', '--points', '3', '--json'], /loss is not finite .* narrow the range/],
  ];
  for (const [args, re] of computeFailures) {
    const r = await runCli(args);
    assert.equal(r.code, 1, `${args.join(' ')} -> ${r.code}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(r.stdout, '', 'no partial output, so never a NaN');
  }
});

test('labels are the shortest distinguishing path suffixes', () => {
  assert.deepEqual(shortLabels(['/r/a/final.safetensors', '/r/b/final.safetensors', '/r/a/best.safetensors']), ['a/final.safetensors', 'b/final.safetensors', 'best.safetensors']);
  assert.deepEqual(shortLabels(['/x/run/checkpoints/e.safetensors', '/y/run/checkpoints/e.safetensors']), ['x/run/checkpoints/e.safetensors', 'y/run/checkpoints/e.safetensors']);
});
