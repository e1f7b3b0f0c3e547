/**
 * `landscape hessian --density --per-layer` end to end on a small trained
 * network: the numbers against the full Hessian of the checkpoint's own
 * training loss (from the float64 reference network, which shares no code
 * with the kernels' exact products the command uses), the saved file reopens through
 * the result reader, the text shows the summary and tables, and misuse of
 * the flags is refused.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { runCli } from '../../support/cli';
import { makeTempDir } from '../../support/tmp';
import { initBackend } from '../../../src/engine/backend';
import { trainToEnd } from '../../../src/engine/train';
import { loadAnyCheckpoint } from '../../../src/engine/evaluate';
import { dataRecipeForCheckpoint } from '../../../src/engine/checkpointObjective';
import { loadDataset } from '../../../src/engine/data';
import { Float64Network } from '../../support/float64Network';
import { symmetricEigen } from '../../../src/engine/analysis/linalg';
import { readAnalysisResult } from '../../../src/results/analysisFiles';

const tmp = makeTempDir('cli-hessian-density');
const RUN = path.join(tmp, 'moons');
const CK = path.join(RUN, 'final.safetensors');

before(async () => {
  await initBackend('cpu', { force: true });
  await trainToEnd({ dataset: 'moons', n: 200, model: '2-8-2', activation: 'tanh', optimizer: 'sgd', lr: 0.5, epochs: 4, batch: 32, seed: 1, checkpointEvery: 0, out: RUN });
});

/** The checkpoint's full Hessian on its own training data, from the float64 reference network. */
async function fullHessian(): Promise<Float64Array[]> {
  const ck = await loadAnyCheckpoint(CK);
  const recipe = dataRecipeForCheckpoint(ck);
  const split = await loadDataset(recipe.dataset, { seed: recipe.seed, testFraction: recipe.testFraction, ...recipe.options });
  return new Float64Network(ck.spec, split.train, ck.theta).hessian(ck.theta);
}

test('hessian --density --per-layer: trace/P within the standard error, exact layer blocks, a file that reopens', async () => {
  const out = path.join(tmp, 'final.hessian.json');
  const r = await runCli(['hessian', CK, '--density', '--runs', '16', '--per-layer', '--seed', '4', '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  const H = await fullHessian();
  const P = H.length;
  assert.equal(j.dim, P);
  const lambda = Array.from(symmetricEigen(H).values);
  const trace = lambda.reduce((s, l) => s + l, 0);
  const d = j.density;
  assert.equal(d.runs, 16);
  assert.equal(d.steps, P, 'the default 60 steps are capped at P');
  assert.equal(d.quadratures.length, 16);
  assert.equal(d.sigmaSource, 'default');
  assert.ok(Math.abs(d.mean - trace / P) <= 4 * d.meanStandardError, `mean ${d.mean} ± ${d.meanStandardError} vs ${trace / P}`);
  assert.equal(d.x.length, d.density.length);
  // Layers: 2-8-2 with biases is two blocks of 24 and 18 parameters, each computed exactly.
  const blocks = [
    { name: 'layers.0', idx: Array.from({ length: 24 }, (_, i) => i) },
    { name: 'layers.1', idx: Array.from({ length: 18 }, (_, i) => 24 + i) },
  ];
  assert.deepEqual(j.perLayer.layers.map((l: { name: string }) => l.name), blocks.map((b) => b.name));
  j.perLayer.layers.forEach((l: { method: string; topEigenvalue: number; trace: number; tensors: string[] }, b: number) => {
    const { idx } = blocks[b];
    const top = symmetricEigen(idx.map((i) => Float64Array.from(idx, (k) => H[i][k]))).values[0];
    const tr = idx.reduce((s, i) => s + H[i][i], 0);
    assert.equal(l.method, 'exact');
    assert.deepEqual(l.tensors, [`${blocks[b].name}.weight`, `${blocks[b].name}.bias`]);
    assert.ok(Math.abs(l.topEigenvalue - top) <= 1e-4 * Math.abs(top), `${blocks[b].name}: λmax ${l.topEigenvalue} vs ${top}`);
    assert.ok(Math.abs(l.trace - tr) <= 1e-4 * idx.reduce((s, i) => s + Math.abs(H[i][i]), 0), `${blocks[b].name}: trace ${l.trace} vs ${tr}`);
  });
  const saved = readAnalysisResult(out, 'hessian').data;
  assert.deepEqual(saved.density, d);
  assert.deepEqual(saved.perLayer, j.perLayer);
  assert.ok(saved.settings.some(([k]) => k === 'eigenvalue density') && saved.settings.some(([k]) => k === 'per-layer curvature'));
});

test('hessian --density prints the support, σ, trace/P and a table; --per-layer a row per layer', async () => {
  const r = await runCli(['hessian', CK, '--density', '--steps', '10', '--sigma', '0.05', '--per-layer']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /eigenvalue density \(stochastic Lanczos quadrature\): 8 Rademacher start vectors × 10 Lanczos steps, seed 0/);
  assert.match(r.stdout, /support: Ritz values in \[-?[\d.e-]+, [\d.e-]+\]; Gaussian broadening σ = 0\.0500 \(--sigma\)/);
  assert.match(r.stdout, /mean eigenvalue \(trace\/P\) ≈ \S+ ± \S+ \(standard error over 8 runs\); trace ≈/);
  assert.match(r.stdout, /λ from\s+to\s+fraction/);
  assert.match(r.stdout, /^layers\.0\s+weight\+bias\s+24\s+\S+\s+-\s+\S+\s+-\s+exact$/m);
  assert.match(r.stdout, /^layers\.1\s+weight\+bias\s+18\s/m);
});

test('hessian: density flags without --density, one run, and a bad σ are refused', async () => {
  for (const [args, message] of [
    [['--runs', '4'], /--runs sets up the eigenvalue density; add --density/],
    [['--sigma', '0.1'], /--sigma sets up the eigenvalue density; add --density/],
    [['--density', '--runs', '1'], /--runs must be a whole number ≥ 2/],
    [['--density', '--sigma', '-1'], /--sigma must be a positive number/],
    [['--density', '--steps', '0'], /--steps must be a whole number ≥ 1/],
  ] as const) {
    const r = await runCli(['hessian', CK, ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}`);
    assert.match(r.stderr, message);
  }
  assert.ok(fs.existsSync(CK));
});
