/**
 * Issue 17's items as the extension computes them (the compute worker's
 * jobs, src/worker/main.ts on a real worker thread), on LeNet-5 and
 * Fashion-MNIST: the Hessian panel's density and per-layer curvature, the
 * trajectory plane, a Bezier curve between two minima and the instability
 * analysis. analysis-jobs.test.ts runs the same jobs on an MLP; the e2e test
 * clicks through the first two on LeNet in VS Code. Each result must be one
 * the panels open, with numbers that hold whatever the network: the density
 * integrates to one, no layer's block is stiffer than the whole Hessian,
 * copies spawned at the last epoch have barrier 0.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runWorkerJob } from '../../support/worker';
import { hessianResultFile, readAnalysisResult } from '../../../src/host/analysisFiles';
import { pathResultFile, readBarrierResult } from '../../../src/results/barrierFiles';
import { instabilityKind } from '../../../src/host/results/instability';
import { makeTempDir, removeTempDir } from '../../support/tmp';

/** LeNet-5 has five layers with parameters: two convolutions and three dense layers. */
const LENET_LAYERS = 5;
const LENET_PARAMETERS = 61_706;
const TRAIN = { dataset: 'fashion-mnist', subset: 120, model: 'lenet', optimizer: 'sgd' as const, lr: 0.05, epochs: 3, batch: 32, dataSeed: 0, backend: 'wasm' };

describe('LeNet-5 on Fashion-MNIST through the extension\'s compute jobs', () => {
  let dir: string;
  let runs: string[];
  let finals: string[];
  before(async () => {
    dir = makeTempDir('lenet-jobs');
    runs = [];
    for (const seed of [1, 2]) {
      const out = path.join(dir, 'runs', `r${seed}`);
      const r = await runWorkerJob({ kind: 'train', config: { ...TRAIN, seed, checkpointEvery: 1, out } }, undefined, { backend: 'wasm' });
      assert.equal(r.error, undefined, r.error?.message);
      runs.push(out);
    }
    finals = runs.map((r) => path.join(r, 'final.safetensors'));
  });
  after(() => removeTempDir(dir));

  it('Hessian panel: the eigenvalue density integrates to one, and each layer has a row no stiffer than the whole', async () => {
    const out = hessianResultFile(finals[0]);
    const r = await runWorkerJob({ kind: 'hessian', file: finals[0], out, k: 1, traceSamples: 0, density: true, perLayer: true }, undefined, { backend: 'wasm' });
    assert.equal(r.error, undefined, r.error?.message);
    const d = readAnalysisResult(out, 'hessian').data;
    assert.ok(d.density && d.perLayer, 'density and per-layer curvature are in the result');
    const { x, density } = d.density;
    let area = 0;
    for (let i = 1; i < x.length; i++) area += ((density[i] + density[i - 1]) / 2) * (x[i] - x[i - 1]);
    assert.ok(Math.abs(area - 1) < 0.02, `the density integrates to ${area}`);
    assert.equal(d.perLayer.layers.length, LENET_LAYERS);
    assert.equal(d.perLayer.layers.reduce((n, l) => n + l.size, 0), LENET_PARAMETERS, 'the blocks cover every parameter once');
    const blockMax = Math.max(...d.perLayer.layers.map((l) => l.topEigenvalue));
    assert.ok(blockMax <= d.eigenvalues[0] * (1 + 1e-4), `a block's λmax ${blockMax} exceeds the Hessian's ${d.eigenvalues[0]}`);
  });

  it('trajectory plane: the run\'s three epochs on the plane, the final weights at its centre', async () => {
    const out = path.join(runs[0], 'run.trajectory.slice.json');
    const r = await runWorkerJob({ kind: 'trajectorySlice', run: runs[0], out, points: 5 }, undefined, { backend: 'wasm' });
    assert.equal(r.error, undefined, r.error?.message);
    const d = readAnalysisResult(out, 'slice').data;
    assert.ok(d.dims === '2d' && d.trajectory, 'a 2D slice with the trajectory');
    const last = d.trajectory.points[d.trajectory.points.length - 1];
    assert.deepEqual([last.x, last.y], [0, 0], 'the final weights are the plane\'s origin');
    const [v1, v2] = d.trajectory.explainedVariance;
    assert.ok(v1 >= v2 && v2 >= 0 && v1 + v2 <= 1 + 1e-9);
  });

  it('a Bezier curve (landscape.path.method): saved beside the Fourier path with its bend of every parameter', async () => {
    const out = pathResultFile(finals[0], finals[1], 'bezier');
    const r = await runWorkerJob({ kind: 'path', a: finals[0], b: finals[1], out, settings: { points: 6, steps: 10, planeGrid: 0, method: 'bezier' } }, undefined, { backend: 'wasm' });
    assert.equal(r.error, undefined, r.error?.message);
    assert.match(out, /\.bezier\.path\.json$/);
    const d = readBarrierResult(out, 'barrierPath').data;
    assert.equal(d.method, 'bezier');
    assert.equal(d.bend?.length, LENET_PARAMETERS);
    assert.ok(d.height <= d.linear.height * (1 + 1e-6), `the reported H ${d.height} is above the straight line's ${d.linear.height}`);
  });

  it('Instability Analysis: copies spawned at the last epoch are the parent, so their barrier is 0', async () => {
    const out = path.join(dir, 'instability');
    const r = await runWorkerJob({ kind: 'instability', train: { ...TRAIN, seed: 3 }, spawnEpochs: [2, 3], children: 2, out }, undefined, { backend: 'wasm' });
    assert.equal(r.error, undefined, r.error?.message);
    const d = (await instabilityKind.load(r.result!.file)).data;
    assert.deepEqual(d.spawns.map((s) => s.epoch), [2, 3]);
    assert.equal(d.spawns[1].straight.max, 0);
    assert.ok(d.spawns[0].straight.max >= 0 && Number.isFinite(d.spawns[0].straight.max));
    assert.ok(fs.existsSync(path.join(out, 'instability.json')));
  });
});
