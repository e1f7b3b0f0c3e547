/**
 * The analysis jobs of the compute worker (src/worker/main.ts run as a real
 * worker thread) on tiny trained checkpoints: kernel PCA and both overlays
 * (a run's trajectory, points along a saved path), the Hessian spectrum and
 * stability verdict, the gradient check and slices of each dimension; cancel
 * through the shared flag; and the CLI's --out files of the same commands
 * opening as the same panel data. The saved files must be ones the panels
 * can show.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AnalysisJobEvent } from '../../../src/worker/protocol';
import { runWorkerJob } from '../../support/worker';
import {
  gradcheckResultFile,
  hessianResultFile,
  kpcaResultFile,
  readAnalysisResult,
  sliceResultFile,
} from '../../../src/host/analysisFiles';
import { pathResultFile, readBarrierResult } from '../../../src/results/barrierFiles';
import { readJsonResult, resultKindOf } from '../../../src/results/resultKind';
import { ResultDataSchema, validateHostMessage } from '../../../src/protocol';
import { validate } from '../../../src/schema';
import { RunStore } from '../../../src/host/runStore';
import type { TrainEvent } from '../../../src/engine/train';
import { main as cliMain } from '../../../src/cli/main';
import { silentIo } from '../../support/cli';
import { initBackend } from '../../../src/engine/backend';
import { loadAnyCheckpoint } from '../../../src/engine/evaluate';
import { kernelPCA } from '../../../src/engine/analysis';
import { instabilityKind } from '../../../src/host/results/instability';
import { makeTempDir, removeTempDir } from '../../support/tmp';

const close = (a: number, b: number, tol: number) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

describe('analysis jobs in the compute worker', () => {
  let dir: string;
  let runs: string[];
  let finals: string[];
  let trainEvents: unknown[] = [];
  before(async () => {
    dir = makeTempDir('analysis-jobs');
    runs = [];
    for (const seed of [1, 2]) {
      const out = path.join(dir, 'runs', `r${seed}`);
      const r = await runWorkerJob({
        kind: 'train',
        config: { dataset: 'moons', n: 120, model: '2-6-2', optimizer: 'sgd', lr: 0.3, epochs: 3, batch: 30, seed, dataSeed: 0, backend: 'cpu', checkpointEvery: 1, out, ...(seed === 1 ? { stabilityEvery: 2 } : {}) },
      });
      assert.equal(r.error, undefined, r.error?.message);
      if (seed === 1) trainEvents = r.events;
      runs.push(out);
    }
    finals = runs.map((r) => path.join(r, 'final.safetensors'));
  });
  after(() => removeTempDir(dir));

  it('streams stability checks from a run with stabilityEvery into the run store, as the side view draws them', () => {
    const store = new RunStore();
    store.begin('r1', runs[0], 'moons', 3);
    for (const e of trainEvents) store.apply(e as TrainEvent);
    const st = store.snapshot()!.stability!;
    // Every 2 epochs, the initial point included: epochs 0 and 2.
    assert.deepEqual(st.map((p) => p.epoch), [0, 2]);
    for (const p of st) {
      assert.ok(p.lambdaMax > 0 && Number.isFinite(p.lambdaMax));
      assert.ok(close(p.threshold!, 2 / 0.3, 1e-12), 'the 2/η line of SGD with η = 0.3');
      assert.equal(p.verdict, (0.3 * p.lambdaMax) / 2 < 0.9 ? 'stable' : (0.3 * p.lambdaMax) / 2 > 1.1 ? 'unstable' : 'edge');
    }
    assert.ok(validateHostMessage({ type: 'runDelta', runId: 'r1', from: 0, points: [], checkpoints: [], stability: { from: 0, points: st } }).ok);
  });

  it('kernel PCA of checkpoints equals kernelPCA on their vectors, saved beside them; overlays project a trajectory and a path', async () => {
    const files = [...finals, path.join(runs[0], 'checkpoints', 'epoch-0001.safetensors'), path.join(runs[1], 'checkpoints', 'epoch-0001.safetensors')];
    const out = kpcaResultFile(files);
    assert.equal(path.dirname(out), path.join(dir, 'runs'));
    const r = await runWorkerJob({ kind: 'kpca', files, out, settings: { kernel: 'rbf', components: 2 } });
    assert.equal(r.error, undefined, r.error?.message);
    assert.match(r.result!.summary, /4 checkpoints, rbf kernel; explained variance PC1 [\d.]+%, PC2/);
    assert.deepEqual((r.events as AnalysisJobEvent[])[0].type, 'setup');
    const saved = readAnalysisResult(out, 'kpca').data;
    assert.ok(validate(ResultDataSchema, saved).ok);
    assert.deepEqual(saved.points.map((p) => p.file), files, 'paths absolute again when read');
    const raw = JSON.parse(fs.readFileSync(out, 'utf8'));
    assert.equal(raw.points[0].file, 'r1/final.safetensors', 'relative on disk');
    await initBackend('cpu', { force: true });
    const cks = await Promise.all(files.map((f) => loadAnyCheckpoint(f)));
    const direct = await kernelPCA(cks.map((c) => c.theta));
    saved.points.forEach((p, i) => p.coords.forEach((c, k) => assert.ok(close(c, direct.projections[i][k], 1e-12), `${c} vs ${direct.projections[i][k]}`)));
    assert.equal(saved.points[0].run, 'r1');
    assert.equal(saved.points[0].optimizer, 'sgd');
    assert.equal(saved.points[2].epoch, 1);
    assert.ok(saved.points.every((p) => p.loss !== undefined && p.testAccuracy !== undefined), 'loss and accuracy for the hover');

    // The trajectory of r1: its periodic checkpoints in epoch order; epoch 1 is in the map, so it lands on its own point.
    const tr = await runWorkerJob({ kind: 'kpcaOverlay', file: out, source: 'trajectory', input: runs[0], roots: [] });
    assert.equal(tr.error, undefined, tr.error?.message);
    let withOverlay = readAnalysisResult(out, 'kpca').data;
    assert.equal(withOverlay.overlays.length, 1);
    const traj = withOverlay.overlays[0];
    assert.equal(traj.kind, 'trajectory');
    assert.equal(traj.source, runs[0]);
    assert.deepEqual(traj.points.map((p) => p.epoch), [1, 2, 3]);
    traj.points[0].coords.forEach((c, k) => assert.ok(close(c, saved.points[2].coords[k], 1e-9), `epoch 1: ${c} vs ${saved.points[2].coords[k]}`));

    // A path between the two finals: its ends are the finals' points, whatever the bend between.
    const pathFile = pathResultFile(finals[0], finals[1]);
    const p = await runWorkerJob({ kind: 'path', a: finals[0], b: finals[1], out: pathFile, settings: { points: 5, steps: 4, planeGrid: 0 } });
    assert.equal(p.error, undefined, p.error?.message);
    const pathData = readBarrierResult(pathFile).data;
    assert.ok(pathData.kind === 'barrierPath' && pathData.coefficients && pathData.coefficients.length > 0, 'the path file keeps its coefficients');
    const po = await runWorkerJob({ kind: 'kpcaOverlay', file: out, source: 'path', input: pathFile, roots: [] });
    assert.equal(po.error, undefined, po.error?.message);
    withOverlay = readAnalysisResult(out, 'kpca').data;
    assert.equal(withOverlay.overlays.length, 2);
    const pathOverlay = withOverlay.overlays[1];
    assert.equal(pathOverlay.kind, 'path');
    assert.equal(pathOverlay.points.length, 21);
    assert.deepEqual([pathOverlay.points[0].t, pathOverlay.points[20].t], [0, 1]);
    pathOverlay.points[0].coords.forEach((c, k) => assert.ok(close(c, saved.points[0].coords[k], 1e-6), `t = 0: ${c} vs A ${saved.points[0].coords[k]}`));
    pathOverlay.points[20].coords.forEach((c, k) => assert.ok(close(c, saved.points[1].coords[k], 1e-6), `t = 1: ${c} vs B ${saved.points[1].coords[k]}`));
    assert.ok(pathOverlay.points.every((q) => q.loss !== undefined && Number.isFinite(q.loss)), 'losses read off the path profile');
    // Adding the same source again replaces it rather than piling up.
    await runWorkerJob({ kind: 'kpcaOverlay', file: out, source: 'trajectory', input: runs[0], roots: [] });
    assert.equal(readAnalysisResult(out, 'kpca').data.overlays.length, 2);

    // A run folder without a trajectory says what to do, in VS Code's words.
    const bare = path.join(dir, 'bare');
    fs.mkdirSync(bare);
    const bad = await runWorkerJob({ kind: 'kpcaOverlay', file: out, source: 'trajectory', input: bare, roots: [] });
    assert.equal(bad.error?.kind, 'input');
    assert.match(bad.error!.message, /has no checkpoints to project; set "checkpointEvery" in landscape\.json/);
  });

  it('Hessian spectrum: top-k with errors, the trace with its standard error, the verdict against 2/η from the metadata or as given', async () => {
    const out = hessianResultFile(finals[0]);
    assert.equal(out, path.join(runs[0], 'final.hessian.json'));
    const r = await runWorkerJob({ kind: 'hessian', file: finals[0], out, k: 2, traceSamples: 8 });
    assert.equal(r.error, undefined, r.error?.message);
    assert.ok((r.events as AnalysisJobEvent[]).some((e) => e.type === 'progress' && /Lanczos step/.test(e.text)));
    const d = readAnalysisResult(out, 'hessian').data;
    assert.equal(d.eigenvalues.length, 2);
    assert.ok(d.eigenvalues[0] >= d.eigenvalues[1]);
    assert.equal(d.errorEstimates.length, 2);
    assert.equal(d.trace?.samples, 8);
    assert.ok(d.trace!.standardError > 0);
    assert.equal(d.file, finals[0]);
    assert.equal(d.label, 'r1/final');
    assert.equal(d.stability.lr, 0.3);
    assert.equal(d.stability.lrSource, 'metadata');
    assert.ok(close(d.stability.threshold!, 2 / 0.3, 1e-12));
    const ratio = (0.3 * d.eigenvalues[0]) / 2;
    assert.equal(d.stability.verdict, ratio < 0.9 ? 'stable' : ratio > 1.1 ? 'unstable' : 'edge');
    // The panel's settings table says how the products were formed: exactly, by the kernels' R-operator.
    assert.equal(d.hvp, 'exact');
    assert.deepEqual(d.settings.find(([k]) => k === 'Hessian-vector products'), ['Hessian-vector products', 'exact']);
    assert.equal(d.settings.find(([k]) => k === 'step-halving check'), undefined);

    // η given (as VS Code asks when the checkpoint records none): plain gradient descent with that rate.
    const high = 10 / d.eigenvalues[0];
    const given = await runWorkerJob({ kind: 'hessian', file: finals[0], out, k: 1, traceSamples: 0, lr: high });
    assert.equal(given.error, undefined, given.error?.message);
    const g = readAnalysisResult(out, 'hessian').data;
    assert.equal(g.stability.lrSource, 'asked');
    assert.equal(g.stability.verdict, 'unstable');
    assert.equal(g.trace, undefined);
    assert.ok(close(g.eigenvalues[0], d.eigenvalues[0], 1e-9), 'the same seed gives the same λmax');
    assert.equal(g.density, undefined);

    // With the density and per-layer settings on (their default): the panel's extra numbers, consistent with the spectrum.
    const full = await runWorkerJob({ kind: 'hessian', file: finals[0], out, k: 1, traceSamples: 0, density: true, perLayer: true });
    assert.equal(full.error, undefined, full.error?.message);
    const f = readAnalysisResult(out, 'hessian').data;
    assert.ok(f.density && f.perLayer, 'density and per-layer curvature are in the result');
    const ritzMax = Math.max(...f.density.quadratures.flatMap((q) => q.values));
    assert.ok(Math.abs(ritzMax - f.eigenvalues[0]) <= 1e-3 * Math.abs(f.eigenvalues[0]), `the largest Ritz value ${ritzMax} is λmax ${f.eigenvalues[0]}`);
    const blockMax = Math.max(...f.perLayer.layers.map((l) => l.topEigenvalue));
    assert.ok(blockMax <= f.eigenvalues[0] * (1 + 1e-6), 'no diagonal block has a larger top eigenvalue than the whole Hessian');
  });

  it('gradient check: PASS with the relative error of every probe, kinks found exactly for ReLU', async () => {
    const out = gradcheckResultFile(finals[1]);
    const r = await runWorkerJob({ kind: 'gradcheck', file: finals[1], out });
    assert.equal(r.error, undefined, r.error?.message);
    const d = readAnalysisResult(out, 'gradcheck').data;
    assert.equal(d.passed, true, r.result!.summary);
    assert.match(r.result!.summary, /^PASS: max relative error/);
    assert.equal(d.kinkMethod, 'detector');
    assert.equal(d.activation, 'relu');
    assert.ok(d.probes.length >= 10);
    assert.ok(d.probes.every((p) => p.relError >= 0 && Number.isFinite(p.relError)));
    assert.ok(d.worst >= 0);
    assert.equal(d.maxRelError, d.probes[d.worst].relError, 'the worst probe is the one with the largest relative error');
  });

  it('slices: a random direction (1D), the line through two checkpoints, the plane through three, with the grid asked for', async () => {
    const random = sliceResultFile('random', [finals[0]]);
    assert.equal(random, path.join(runs[0], 'final.random.slice.json'));
    const r = await runWorkerJob({ kind: 'slice', slice: 'random', files: [finals[0]], out: random, points: 9 });
    assert.equal(r.error, undefined, r.error?.message);
    const d = readAnalysisResult(random, 'slice').data;
    assert.ok(d.dims === '1d');
    assert.equal(d.values.length, 9);
    assert.deepEqual(d.axes.x.range, [-1, 1]);
    assert.equal(d.axes.x.direction.seed, 1);
    assert.equal(d.axes.x.direction.normalization, 'filter');
    assert.equal('y' in d.axes, false);
    assert.equal(d.meta.markers.length, 1);
    // The centre is a grid point (α = 0) and its marker carries the same loss.
    assert.ok(close(d.values[4], d.meta.markers[0].loss, 1e-5), `${d.values[4]} vs ${d.meta.markers[0].loss}`);
    assert.ok((r.events as AnalysisJobEvent[]).some((e) => e.type === 'progress'));

    const lineFile = sliceResultFile('line', finals);
    assert.equal(path.basename(lineFile), 'final__r2-final.line.slice.json');
    const l = await runWorkerJob({ kind: 'slice', slice: 'line', files: finals, out: lineFile, points: 5 });
    assert.equal(l.error, undefined, l.error?.message);
    const ld = readAnalysisResult(lineFile, 'slice').data;
    assert.deepEqual(ld.axes.x.values, [-0.5, 0, 0.5, 1, 1.5]);
    assert.deepEqual(ld.meta.markers.map((m) => m.x), [0, 1]);

    const three = [...finals, path.join(runs[0], 'checkpoints', 'epoch-0001.safetensors')];
    const planeFile = sliceResultFile('plane', three);
    const p = await runWorkerJob({ kind: 'slice', slice: 'plane', files: three, out: planeFile, points: 4 });
    assert.equal(p.error, undefined, p.error?.message);
    const pd = readAnalysisResult(planeFile, 'slice').data;
    assert.ok(pd.dims === '2d');
    assert.equal(pd.values.length, 4);
    assert.ok(pd.values.every((row) => row.length === 4));
    assert.equal(pd.meta.markers.length, 3);
    assert.equal(pd.axes.y.points, 4);
  });

  it('stops at once when cancelled, and saves nothing', async () => {
    const out = path.join(dir, 'cancelled.random-plane.slice.json');
    const r = await runWorkerJob({ kind: 'slice', slice: 'random-plane', files: [finals[0]], out, points: 400 }, (e, cancel) => {
      if ((e as AnalysisJobEvent).type === 'progress') cancel();
    });
    assert.equal(r.error?.kind, 'cancelled');
    assert.ok(!fs.existsSync(out), 'nothing saved');
  });

  it("trajectory plane of a run (Plot Slice's last choice): the CLI's grid and the run's checkpoints on it", async () => {
    const out = path.join(runs[0], 'r1.trajectory.slice.json');
    const r = await runWorkerJob({ kind: 'trajectorySlice', run: runs[0], out, points: 5 });
    assert.equal(r.error, undefined, r.error?.message);
    const d = readAnalysisResult(out, 'slice').data;
    assert.ok(d.dims === '2d' && d.trajectory, 'a 2D slice with the trajectory');
    assert.deepEqual(d.trajectory.points.map((p) => p.epoch), [1, 2, 3]);
    const [v1, v2] = d.trajectory.explainedVariance;
    assert.ok(v1 >= v2 && v2 >= 0 && v1 + v2 <= 1 + 1e-9);
    await initBackend('cpu', { force: true });
    const cliFile = path.join(dir, 'cli-trajectory.slice.json');
    assert.equal(await cliMain(['slice', '--plane', 'trajectory', runs[0], '--points', '5', '--backend', 'cpu', '--out', cliFile], silentIo()), 0);
    const c = readAnalysisResult(cliFile, 'slice').data;
    assert.ok(c.dims === '2d');
    assert.deepEqual(d.values, c.values, 'the worker job and the CLI compute the same grid');
  });

  it('Instability Analysis: the worker job runs landscape instability and its result opens in the panel', async () => {
    const out = path.join(dir, 'instability-job');
    const train = { dataset: 'moons', n: 120, model: '2-6-2', optimizer: 'sgd', lr: 0.3, epochs: 3, batch: 30, seed: 4, dataSeed: 0, backend: 'cpu' };
    const r = await runWorkerJob({ kind: 'instability', train, spawnEpochs: [0, 3], children: 2, out });
    assert.equal(r.error, undefined, r.error?.message);
    assert.equal(r.result!.file, path.join(out, 'instability.json'));
    const loaded = await instabilityKind.load(r.result!.file);
    const d = loaded.data;
    assert.ok(validate(ResultDataSchema, d).ok);
    assert.deepEqual(d.spawns.map((s) => s.epoch), [0, 3]);
    // Copies spawned at the last epoch take no step: they are the parent, and their barrier is 0.
    assert.equal(d.spawns[1].straight.max, 0);
    assert.match(r.result!.summary, /stable|no spawn epoch/);
    fs.writeFileSync(path.join(dir, 'not-instability.json'), JSON.stringify({ kind: 'instability', formatVersion: 1 }));
    await assert.rejects(instabilityKind.load(path.join(dir, 'not-instability.json')), /not an instability analysis/);
  });

  it('opens what the CLI wrote with --out as the same panel data', async () => {
    await initBackend('cpu', { force: true });
    const io = silentIo();
    const cli = path.join(dir, 'cli');
    fs.mkdirSync(cli, { recursive: true });
    const cases: [string, string[]][] = [
      ['kpca', ['kpca', ...finals, '--trajectory', runs[1]]],
      ['hessian', ['hessian', finals[0], '--k', '2', '--trace', '--samples', '8']],
      ['gradcheck', ['gradcheck', finals[1]]],
      ['slice', ['slice', finals[0], '--kind', 'random-plane', '--points', '3']],
    ];
    const ours = readAnalysisResult(hessianResultFile(finals[0]), 'hessian').data;
    for (const [kind, args] of cases) {
      const file = path.join(cli, `x.${kind}.json`);
      assert.equal(await cliMain([...args, '--backend', 'cpu', '--out', file], io), 0, args.join(' '));
      const doc = readJsonResult(file);
      assert.equal(resultKindOf(doc, file), kind);
      const d = readAnalysisResult(file, undefined, []).data;
      assert.ok(validate(ResultDataSchema, d).ok);
      assert.equal(d.kind, kind);
      if (d.kind === 'kpca') {
        assert.deepEqual(d.points.map((q) => q.file), finals);
        assert.equal(d.overlays[0].kind, 'trajectory');
        assert.deepEqual(d.overlays[0].points.map((q) => q.epoch), [1, 2, 3]);
      }
      if (d.kind === 'hessian') {
        assert.equal(d.file, finals[0]);
        // The worker runs the same computation: the same seed gives the same spectrum.
        assert.equal(d.eigenvalues.length, 2);
        assert.ok(close(d.eigenvalues[0], ours.eigenvalues[0], 1e-4), `${d.eigenvalues[0]} vs ${ours.eigenvalues[0]}`);
        assert.equal(d.stability.lrSource, 'metadata');
      }
      if (d.kind === 'slice') {
        assert.equal(d.request.kind, 'random-plane');
        assert.ok(d.dims === '2d');
        assert.equal(d.values.length, 3);
        assert.deepEqual([d.axes.x.direction.seed, d.axes.y.direction.seed], [1, 2]);
      }
    }
    const junk = path.join(cli, 'junk.hessian.json');
    fs.writeFileSync(junk, JSON.stringify({ command: 'hessian', file: finals[0], eigenvalues: 'many' }));
    assert.throws(
      () => readAnalysisResult(junk),
      (e: Error) => e.message.startsWith(junk) && /is not/.test(e.message),
    );
  });
});
