/**
 * `landscape slice --plane trajectory <run folder>` end to end on tiny runs
 * on the built-in digits (the dense MLP and the layer-grammar cnn-digits):
 * the coordinates against an independent float64 PCA of the saved
 * checkpoints (Jacobi on their Gram matrix), the loss at the final weights
 * against `landscape eval` on the training rows, and the bad-input errors.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../../support/cli';
import { makeTempDir, removeTempDir } from '../../support/tmp';
import { npyBytes, npzBytes } from '../../support/dataFiles';
import { loadAnyCheckpoint } from '../../../src/engine/evaluate';
import { dataRecipeForCheckpoint } from '../../../src/engine/checkpointObjective';
import { loadDataset } from '../../../src/engine/data';
import { jacobiEigen } from '../../../src/engine/analysis/linalg';
import { readAnalysisResult } from '../../../src/results/analysisFiles';

const tmp = makeTempDir('trajectory-plane');
const MLP = path.join(tmp, 'mlp');
const CNN = path.join(tmp, 'cnn');
const SHORT = path.join(tmp, 'short');

async function train(out: string, args: string[]): Promise<void> {
  const r = await runCli(['train', '--dataset', 'digits', '--checkpoint-every', '1', '--seed', '0', '--out', out, ...args]);
  assert.equal(r.code, 0, r.stderr);
}

before(async () => {
  await train(MLP, ['--epochs', '5']);
  await train(CNN, ['--model', 'cnn-digits', '--subset', '400', '--batch', '16', '--epochs', '4']);
  await train(SHORT, ['--epochs', '2']);
});

after(() => removeTempDir(tmp));

async function sliceJson(run: string, extra: string[] = []) {
  const r = await runCli(['slice', '--plane', 'trajectory', run, '--json', ...extra]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** The top two principal directions' coordinates of θ_k − θ_final, from the Gram matrix by Jacobi, oriented as the engine documents (first point ≥ 0). */
function referenceProjection(thetas: Float32Array[], final: Float32Array) {
  const m = thetas.length;
  const G = Array.from({ length: m }, () => new Float64Array(m));
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) for (let p = 0; p < final.length; p++) G[i][j] += (thetas[i][p] - final[p]) * (thetas[j][p] - final[p]);
  const eig = jacobiEigen(G);
  const trace = G.reduce((s, row, i) => s + row[i], 0);
  const coord = (j: number) => {
    const sign = eig.vectors[j][0] < 0 ? -1 : 1;
    return Array.from(eig.vectors[j], (u) => sign * Math.sqrt(eig.values[j]) * u);
  };
  return { x: coord(0), y: coord(1), explained: [eig.values[0] / trace, eig.values[1] / trace] };
}

/** The training rows of the checkpoint's recorded split as an .npz, exactly as the objective sees them. */
async function trainingRowsNpz(finalFile: string, file: string): Promise<void> {
  const ck = await loadAnyCheckpoint(finalFile);
  const recipe = dataRecipeForCheckpoint(ck);
  const { train } = await loadDataset(recipe.dataset, { seed: recipe.seed, testFraction: recipe.testFraction, ...recipe.options });
  const labels = new Int32Array(train.n);
  for (let r = 0; r < train.n; r++) {
    const row = train.y.subarray(r * train.outputs, (r + 1) * train.outputs);
    labels[r] = row.indexOf(Math.max(...row));
  }
  fs.writeFileSync(file, npzBytes({ x: npyBytes([train.n, train.features], Float32Array.from(train.x)), y: npyBytes([train.n], labels) }));
}

async function checkRun(run: string, points: number): Promise<void> {
  const j = await sliceJson(run, ['--points', String(points)]);
  assert.equal(j.kind, 'slice');
  assert.equal(j.dims, '2d');
  assert.equal(j.request.kind, 'trajectory');
  const t = j.trajectory;
  const files = fs.readdirSync(path.join(run, 'checkpoints')).map((f) => path.join(run, 'checkpoints', f));
  const cks = await Promise.all(files.map((f) => loadAnyCheckpoint(f)));
  const final = await loadAnyCheckpoint(path.join(run, 'final.safetensors'));
  // The last epoch checkpoint is the final weights and is counted once, as the final point.
  const earlier = cks.filter((c) => c.theta.some((v, i) => v !== final.theta[i]));
  assert.equal(earlier.length, cks.length - 1);
  assert.deepEqual(t.points.map((p: { file: string }) => p.file), [...earlier.map((c) => c.file), path.join(run, 'final.safetensors')]);
  assert.deepEqual(t.points.map((p: { epoch: number }) => p.epoch), [...earlier.map((_, i) => i + 1), earlier.length + 1]);
  const last = t.points.at(-1);
  assert.equal(last.x, 0);
  assert.equal(last.y, 0);
  const ref = referenceProjection(earlier.map((c) => c.theta), final.theta);
  const scale = Math.max(...ref.x.map(Math.abs));
  earlier.forEach((_, k) => {
    assert.ok(Math.abs(t.points[k].x - ref.x[k]) < 1e-6 * scale, `x of epoch ${k + 1}: ${t.points[k].x} vs ${ref.x[k]}`);
    assert.ok(Math.abs(t.points[k].y - ref.y[k]) < 1e-6 * scale, `y of epoch ${k + 1}: ${t.points[k].y} vs ${ref.y[k]}`);
  });
  for (let i = 0; i < 2; i++) assert.ok(Math.abs(t.explainedVariance[i] - ref.explained[i]) < 1e-9, `explained variance ${i + 1}`);
  // The grid covers every projection and has the final weights on a grid point.
  for (const p of t.points) assert.ok(p.x > j.axes.x.range[0] && p.x < j.axes.x.range[1] && p.y > j.axes.y.range[0] && p.y < j.axes.y.range[1]);
  const ix = j.axes.x.values.indexOf(0);
  const iy = j.axes.y.values.indexOf(0);
  assert.ok(ix >= 0 && iy >= 0, 'the grid point nearest the final weights is the final weights');
  const npz = path.join(run, 'train-rows.npz');
  await trainingRowsNpz(path.join(run, 'final.safetensors'), npz);
  const e = await runCli(['eval', path.join(run, 'final.safetensors'), '--data', npz, '--json']);
  assert.equal(e.code, 0, e.stderr);
  const evalLoss = JSON.parse(e.stdout).loss;
  assert.equal(JSON.parse(e.stdout).samples, j.objective.samples);
  assert.ok(Math.abs(j.values[iy][ix] - evalLoss) < 1e-5 * Math.max(1, evalLoss), `grid at the final weights ${j.values[iy][ix]} vs eval ${evalLoss}`);
}

test('the digits MLP: coordinates, explained variance and the loss at the final weights against independent references', async () => {
  await checkRun(MLP, 13);
});

test('the layer-grammar cnn-digits: the same checks', async () => {
  await checkRun(CNN, 9);
});

test('the text states the explained variance; --out writes a slice result that opens as one', async () => {
  const out = path.join(tmp, 'out', 'mlp.trajectory.slice.json');
  const r = await runCli(['slice', '--plane', 'trajectory', MLP, '--points', '5', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /explained variance: x \d+\.\d%, y \d+\.\d%, together \d+\.\d% of the trajectory's/);
  assert.match(r.stdout, /x \(PC1, \d+\.\d% of the trajectory's variance\)/);
  assert.match(r.stdout, /\n5 +final +0\.0+ +0\.0+ +0\.0+ /);
  const { data } = readAnalysisResult(out, 'slice');
  assert.ok(data.dims === '2d' && data.trajectory, 'the trajectory survives the round trip');
  assert.equal(data.trajectory.points.length, 5);
  assert.ok(data.settings.some(([k, v]) => k === 'explained variance' && /%/.test(v)));
});

test('bad input: too few checkpoints, not a run folder, a file, flags that do not apply — each error names what is wrong', async () => {
  const empty = path.join(tmp, 'empty');
  fs.mkdirSync(empty, { recursive: true });
  const cases: [string[], RegExp][] = [
    [[SHORT], new RegExp(`${SHORT}: has 2 checkpoints on its trajectory \\(final.safetensors, checkpoints/epoch-0001.safetensors\\); the trajectory plane needs at least 3`)],
    [[empty], new RegExp(`${empty}: is not a Landscape run folder \\(it has no run.json\\)`)],
    [[path.join(tmp, 'nowhere')], /nowhere: run folder not found/],
    [[path.join(MLP, 'final.safetensors')], /final.safetensors: is a file; --plane trajectory takes a run folder/],
    [[MLP, '--kind', 'plane'], /--kind does not apply to --plane trajectory/],
    [[MLP, '--seed', '2', '--normalization', 'filter'], /--seed, --normalization do not apply to --plane trajectory/],
    [[MLP, MLP], /takes one run folder \(got 2 arguments\)/],
  ];
  for (const [args, re] of cases) {
    const r = await runCli(['slice', '--plane', 'trajectory', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}`);
    assert.match(r.stderr, re);
  }
  const wrong = await runCli(['slice', '--plane', 'sideways', MLP]);
  assert.equal(wrong.code, 2);
});
