/**
 * The pure parts of the analysis panels and of stability streaming, with
 * known answers: result file names, the result-file round trip (relative
 * paths on disk), points along a path and their projection into a linear
 * kernel PCA map (an affine map, so the answer is known exactly), the
 * stability chart's series, the kernel PCA groups and the gradient check's
 * log-axis series, the run store's stability deltas, metrics.jsonl's
 * stability lines, landscape.json's stabilityEvery, and the wording of
 * engine errors in VS Code.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  ANALYSIS_SUFFIXES,
  SLICE_CHOICES,
  analysisKindOfName,
  checkLearningRateInput,
  checkpointLabel,
  gradcheckResultFile,
  hessianResultFile,
  kpcaResultFile,
  mergeKpcaSet,
  readAnalysisResult,
  saveAnalysisResult,
  sliceResultFile,
  vscodeWording,
  type KpcaData,
} from '../../../src/host/analysisFiles';
import { interpolate, overlayT, pathVectors } from '../../../src/worker/kpcaOverlay';
import { fourierPointSource } from '../../../src/worker/pathPlane';
import { RunStore, mergeDeltas, type RunDelta, type StoreEvent } from '../../../src/host/runStore';
import { parseMetrics, toStabilityPoint } from '../../../src/engine/train/runFolderView';
import { applyForm, experimentToTrainConfig, formFromExperiment, parseExperiment } from '../../../src/host/experiment';
import { stabilitySeries } from '../../../webview/stabilitySeries';
import { groupPoints, kpcaHover, probeSeries } from '../../../webview/analysisSeries';
import { validateHostMessage, type GradProbe, type KpcaPoint, type StabilityPoint } from '../../../src/protocol';
import { kernelPCA } from '../../../src/engine/analysis';
import { SLICE_ARITY } from '../../../src/engine/checkpointAnalysis';
import { needsLearningRate, recordedHyperparameters } from '../../../src/engine/hyperparameters';
import type { TrainEvent } from '../../../src/engine/train';
import { makeTempDir, removeTempDir } from '../../support/tmp';

const close = (a: number, b: number, tol = 1e-9) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

describe('analysis result files', () => {
  let dir: string;
  before(() => (dir = makeTempDir('analysis-files')));
  after(() => removeTempDir(dir));

  it('names results after their checkpoints, so kinds and partners never collide', () => {
    assert.equal(hessianResultFile('/w/runs/r1/final.safetensors'), '/w/runs/r1/final.hessian.json');
    assert.equal(gradcheckResultFile('/w/runs/r1/checkpoints/epoch-0010.safetensors'), '/w/runs/r1/checkpoints/epoch-0010.gradcheck.json');
    assert.equal(hessianResultFile('/w/models/mlp/model.json'), '/w/models/mlp/mlp.hessian.json', 'a tfjs model is named by its folder');
    assert.equal(sliceResultFile('random', ['/w/runs/r1/final.safetensors']), '/w/runs/r1/final.random.slice.json');
    assert.equal(sliceResultFile('hessian', ['/w/runs/r1/final.safetensors']), '/w/runs/r1/final.hessian.slice.json');
    assert.equal(sliceResultFile('line', ['/w/runs/r1/final.safetensors', '/w/runs/r2/final.safetensors']), '/w/runs/r1/final__r2-final.line.slice.json');
    assert.equal(
      sliceResultFile('plane', ['/w/runs/r1/final.safetensors', '/w/runs/r2/final.safetensors', '/w/runs/r1/best.safetensors']),
      '/w/runs/r1/final__r2-final__best.plane.slice.json',
    );
    // Every saved name opens in the result editor (its patterns are the suffixes) with the right kind.
    assert.equal(analysisKindOfName(sliceResultFile('hessian', ['/w/a.safetensors'])), 'slice');
    assert.equal(analysisKindOfName(hessianResultFile('/w/a.safetensors')), 'hessian');
    assert.equal(analysisKindOfName('/w/runs/barriers.json'), undefined);
    assert.deepEqual(Object.values(ANALYSIS_SUFFIXES), ['.kpca.json', '.hessian.json', '.gradcheck.json', '.slice.json']);

    assert.equal(kpcaResultFile([], '/w/runs'), '/w/runs/runs.kpca.json');
    const set = ['/w/runs/r2/final.safetensors', '/w/runs/r1/final.safetensors'];
    const f1 = kpcaResultFile(set);
    assert.match(f1, /^\/w\/runs\/kpca-2-[0-9a-f]{8}\.kpca\.json$/);
    assert.equal(kpcaResultFile([...set].reverse()), f1, 'one set, one file, whatever the order');
    assert.notEqual(kpcaResultFile([...set, '/w/runs/r3/final.safetensors']), f1, 'another set, another file');

    assert.equal(checkpointLabel('/w/runs/r1/final.safetensors'), 'r1/final');
    assert.equal(checkpointLabel('/w/runs/r1/checkpoints/epoch-0010.safetensors'), 'r1/epoch-0010');
    assert.equal(checkpointLabel('/w/models/mlp/model.json'), 'models/mlp');
  });

  it('round-trips a kernel PCA result: paths relative on disk, absolute when read; damage is refused naming the file', () => {
    const file = path.join(dir, 'runs', 'runs.kpca.json');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const data: KpcaData = {
      kind: 'kpca',
      formatVersion: 2,
      command: 'kpca',
      kernel: { kernel: 'linear' },
      components: 2,
      n: 2,
      dim: 3,
      eigenvalues: [1, 0],
      explainedVariance: [1, 0],
      spectrum: [1, 0],
      warnings: [],
      points: [
        { file: path.join(dir, 'runs', 'r1', 'final.safetensors'), label: 'r1/final.safetensors', coords: [1, 0] },
        { file: path.join(dir, 'elsewhere', 'x.safetensors'), label: 'x.safetensors', coords: [-1, 0] },
      ],
      overlays: [
        {
          kind: 'trajectory',
          label: 'trajectory of r1',
          source: path.join(dir, 'runs', 'r1'),
          points: [{ file: path.join(dir, 'runs', 'r1', 'checkpoints', 'epoch-0001.safetensors'), label: 'epoch-0001', coords: [0, 0], epoch: 1 }],
        },
      ],
      backend: 'cpu',
      label: '2 checkpoints',
      seconds: 0,
      landscapeVersion: '0.2.0',
      settings: [],
    };
    saveAnalysisResult(file, data);
    const raw = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.equal(raw.formatVersion, 2, 'the file is the result itself');
    assert.equal(raw.kind, 'kpca');
    assert.deepEqual(raw.points.map((p: { file: string }) => p.file), ['r1/final.safetensors', '../elsewhere/x.safetensors']);
    assert.equal(raw.overlays[0].source, 'r1');
    assert.equal(raw.overlays[0].points[0].file, 'r1/checkpoints/epoch-0001.safetensors');
    assert.deepEqual(readAnalysisResult(file, 'kpca').data, data);
    assert.throws(() => readAnalysisResult(file, 'hessian'), (e: Error) => e.message.startsWith(file) && /holds a kpca result, not hessian/.test(e.message));
    fs.writeFileSync(file, JSON.stringify({ ...raw, points: [{ ...raw.points[0], coords: ['x'] }] }));
    assert.throws(() => readAnalysisResult(file), (e: Error) => e.message.startsWith(file) && /points\[0\]\.coords\[0\]/.test(e.message));
  });

  it('keeps the kernel PCA set free of duplicates and bounded, newest kept', () => {
    assert.deepEqual(mergeKpcaSet(['a', 'b'], ['b', 'c', 'c']), ['a', 'b', 'c']);
    assert.deepEqual(mergeKpcaSet(['a', 'a'], []), ['a']);
    assert.deepEqual(mergeKpcaSet(['a', 'b', 'c'], ['d'], 3), ['b', 'c', 'd']);
  });

  it('offers every slice kind the engine has, with its number of checkpoints', () => {
    assert.deepEqual(SLICE_CHOICES.map((c) => c.kind).sort(), Object.keys(SLICE_ARITY).sort());
    for (const c of SLICE_CHOICES) {
      assert.equal(c.checkpoints, SLICE_ARITY[c.kind], c.kind);
      assert.equal(c.twoD, c.kind === 'plane' || c.kind === 'random-plane', c.kind);
    }
    assert.equal(new Set(SLICE_CHOICES.map((c) => c.label)).size, SLICE_CHOICES.length, 'labels tell the kinds apart');
  });

  it('asks for η only when a verdict needs it, and accepts only a positive number or nothing', () => {
    const f = '/w/x.safetensors';
    assert.equal(needsLearningRate({ optimizer: 'sgd', hyperparameters: '{"lr":0.1}' }, f), false);
    assert.equal(needsLearningRate({ optimizer: 'sgd', hyperparameters: '{"momentum":0.9}' }, f), true);
    assert.equal(needsLearningRate({}, f), true, 'no metadata (a foreign file)');
    assert.equal(needsLearningRate({ optimizer: 'adam' }, f), false, 'no verdict for Adam whatever η is');
    assert.equal(needsLearningRate({ optimizer: 'lbfgs' }, f), false);
    assert.equal(needsLearningRate({ optimizer: 'momentum', hyperparameters: 'not json' }, f), true);
    assert.deepEqual(recordedHyperparameters({ hyperparameters: '{"lr":0.1,"momentum":0.9,"l2":"x"}' }, f), { lr: 0.1, momentum: 0.9 });
    assert.equal(checkLearningRateInput(''), null);
    assert.equal(checkLearningRateInput(' 0.05 '), null);
    assert.match(checkLearningRateInput('-1') ?? '', /positive number/);
    assert.match(checkLearningRateInput('fast') ?? '', /positive number/);
    assert.match(checkLearningRateInput('Infinity') ?? '', /positive number/);
  });

  it('rewords terminal advice for VS Code', () => {
    assert.equal(
      vscodeWording('/w/a.safetensors and /w/b.safetensors were trained on different data (datasetSeed 1 vs 2), so their losses are not one surface; pass --dataset to compare them on one dataset'),
      '/w/a.safetensors and /w/b.safetensors were trained on different data (datasetSeed 1 vs 2), so their losses are not one surface. Train the runs you compare with the same "dataSeed" in landscape.json (it defaults to "seed").',
    );
    assert.match(vscodeWording('/w/x.safetensors: has no dataset in its metadata; pass one with --dataset'), /cannot be rebuilt; analyses need a checkpoint trained by Landscape/);
    assert.equal(vscodeWording('something else'), 'something else');
  });
});

describe('points along a path for a kernel PCA overlay', () => {
  it('spaces t evenly and interpolates the profile linearly, clamped at the ends', () => {
    assert.deepEqual(overlayT(5), [0, 0.25, 0.5, 0.75, 1]);
    assert.equal(overlayT().length, 21);
    assert.throws(() => overlayT(1), /at least 2/);
    const grid = [0, 0.5, 1];
    const vals = [1, 3, 2];
    assert.equal(interpolate(grid, vals, 0.25), 2);
    assert.equal(interpolate(grid, vals, 0.75), 2.5);
    assert.equal(interpolate(grid, vals, -1), 1);
    assert.equal(interpolate(grid, vals, 2), 2);
    assert.equal(interpolate(grid, vals, 0.5), 3);
    assert.equal(interpolate([], [], 0.5), undefined);
    assert.equal(interpolate(grid, [1], 0.5), undefined);
  });

  it('builds ω(t) = A + t(B − A) + Σ sin(nπt) b_n', () => {
    const a = [1, 0, 0];
    const b = [3, 2, 0];
    const coeffs = [
      [0, 0, 1],
      [0, 1, 0],
    ];
    const t = [0, 0.5, 1];
    const v = pathVectors(fourierPointSource(a, b, coeffs, t), 3, t);
    assert.deepEqual(Array.from(v[0]), a);
    // sin(π/2) = 1, sin(π) = 0 (to rounding).
    assert.ok(close(v[1][0], 2) && close(v[1][1], 1) && close(v[1][2], 1));
    v[2].forEach((x, i) => assert.ok(close(x, b[i]), `ω(1)[${i}] = ${x}`));
  });

  it('projects into a linear kernel PCA map as the affine image of the path (known answer)', async () => {
    // Linear kernel PCA is PCA: x ↦ L(x − mean), affine. So the map of ω(t) is
    // (1 − t)·P(A) + t·P(B) + Σ sin(nπt)·(P(A + b_n) − P(A)).
    const vecs = [
      [1, 0, 0, 0.5],
      [0, 2, 0, -1],
      [0, 0, 3, 0.2],
      [1, 1, 1, 1],
      [-1, 0.5, 0, 2],
    ];
    const fit = await kernelPCA(vecs, { kernel: 'linear', components: 2 });
    const a = vecs[0];
    const b = vecs[1];
    const coeffs = [
      [0.3, -0.2, 0.5, 0],
      [0, 0.1, 0, -0.4],
    ];
    const t = overlayT(11);
    const got = fit.transform(pathVectors(fourierPointSource(a, b, coeffs, t), 4, t));
    const [pa, pb] = fit.transform([a, b]);
    const lin = coeffs.map((c) => {
      const [q] = fit.transform([a.map((x, i) => x + c[i])]);
      return q.map((x, k) => x - pa[k]);
    });
    t.forEach((tk, i) => {
      for (let k = 0; k < 2; k++) {
        const want = (1 - tk) * pa[k] + tk * pb[k] + lin.reduce((s, l, n) => s + Math.sin((n + 1) * Math.PI * tk) * l[k], 0);
        assert.ok(close(got[i][k], want, 1e-9), `t = ${tk}, PC${k + 1}: ${got[i][k]} vs ${want}`);
      }
    });
    // The ends land on the fitted points themselves.
    assert.ok(close(got[0][0], fit.projections[0][0]) && close(got[10][1], fit.projections[1][1]));
  });
});

describe('the stability chart', () => {
  const p = (epoch: number, lambdaMax: number, extra: Partial<StabilityPoint> = {}): StabilityPoint => ({
    epoch,
    step: epoch * 10,
    lambdaMax,
    verdict: 'stable',
    message: 'stable',
    ...extra,
  });

  it('draws a constant 2/η as one horizontal line to the last epoch, sorted by epoch, with the verdict in the hover', () => {
    const s = stabilitySeries([p(4, 8, { threshold: 20, lr: 0.1 }), p(0, 2, { threshold: 20, lr: 0.1, errorEstimate: 0.5 }), p(2, 21, { threshold: 20, lr: 0.1, verdict: 'edge', message: 'at the <b>edge</b>' })], 10);
    assert.deepEqual(s.epochs, [0, 2, 4]);
    assert.deepEqual(s.lambda, [2, 21, 8]);
    assert.deepEqual(s.errors, [0.5, 0, 0]);
    assert.deepEqual(s.verdicts, ['stable', 'edge', 'stable']);
    assert.deepEqual(s.threshold, { x: [0, 10], y: [20, 20], constant: true });
    assert.match(s.hover[1], /at the edge of stability: at the &lt;b&gt;edge&lt;\/b&gt;/);
    assert.match(s.hover[0], /epoch 0: λmax 2 ± 0\.5<br>2\/η line 20 \(η = 0\.1\)/);
  });

  it('steps through a changing threshold, and draws none without a learning rate', () => {
    const s = stabilitySeries([p(0, 1, { threshold: 20 }), p(1, 1, { threshold: 10 }), p(2, 1)]);
    assert.deepEqual(s.threshold, { x: [0, 1], y: [20, 10], constant: false });
    assert.equal(stabilitySeries([p(0, 1, { verdict: 'not-applicable', message: 'adam' })]).threshold, null);
    const one = stabilitySeries([p(3, 1, { threshold: 5 })]);
    assert.deepEqual(one.threshold, { x: [3, 4], y: [5, 5], constant: true }, 'a single check still gets a visible line');
  });
});

describe('the kernel PCA and gradient check charts', () => {
  const pt = (label: string, run?: string, optimizer?: string): KpcaPoint => ({ file: `/w/${label}`, label, run, optimizer, coords: [0, 0] });

  it('groups points by run or by optimizer, the unnamed group last', () => {
    const pts = [pt('a', 'r2', 'sgd'), pt('b', 'r10', 'lbfgs'), pt('c', undefined, 'sgd'), pt('d', 'r2')];
    assert.deepEqual(groupPoints(pts, 'run'), [
      { name: 'r2', indices: [0, 3] },
      { name: 'r10', indices: [1] },
      { name: '(no run)', indices: [2] },
    ]);
    assert.deepEqual(groupPoints(pts, 'optimizer'), [
      { name: 'lbfgs', indices: [1] },
      { name: 'sgd', indices: [0, 2] },
      { name: '(optimizer not recorded)', indices: [3] },
    ]);
    const hover = kpcaHover({ ...pt('<b>x</b>', 'r1', 'sgd'), loss: 0.25, testAccuracy: 0.9 });
    assert.match(hover, /^&lt;b&gt;x&lt;\/b&gt;<br>/);
    assert.match(hover, /train loss 0\.25 · accuracy –<br>test loss – · accuracy 90\.0%/);
  });

  it('puts exact matches at the log axis floor, a decade below the smallest error, one series per status', () => {
    const probe = (relError: number, status: GradProbe['status']): GradProbe => ({ kind: 'coordinate', index: 1, h: 0.005, analytic: 1, numeric: 1, absError: relError, relError, noise: 0, kink: status === 'kink', stepDependence: 0, status });
    const acrossKink = { ...probe(3e-3, 'ok'), kink: true, crossings: 2 };
    const { floor, series } = probeSeries([probe(1e-4, 'ok'), probe(0, 'ok'), probe(0.3, 'kink'), probe(2e-5, 'ok'), acrossKink]);
    assert.ok(close(floor, 2e-6, 1e-12));
    assert.deepEqual(series.map((s) => s.status), ['ok', 'ok-kink', 'kink']);
    assert.deepEqual(series[0].x, [1, 2, 4]);
    assert.deepEqual(series[0].y, [1e-4, floor, 2e-5]);
    assert.match(series[0].hover[1], /relative error 0 \(exact\)/);
    assert.deepEqual(series[1].x, [5]);
    assert.match(series[1].hover[0], /straddles a ReLU kink \(2 sign changes\)/);
    assert.match(series[2].hover[0], /^θ\[1\]: kink/);
  });
});

describe('stability streaming through the run store', () => {
  const epoch = (e: number): TrainEvent => ({ type: 'epoch', epoch: e, step: e * 10, trainLoss: 1, testLoss: 1, gradNorm: 1, lr: 0.1, time: e }) as TrainEvent;
  const stab = (e: number, lambdaMax: number): TrainEvent =>
    ({ type: 'stability', epoch: e, step: e * 10, lambdaMax, errorEstimate: 1e-3, threshold: 20, lr: 0.1, verdict: 'stable', message: 'stable', hvp: 'autodiff', iterations: 10, seed: 0, time: e }) as TrainEvent;

  it('carries stability events as deltas with their own index, into snapshots, and valid on the wire', () => {
    const store = new RunStore();
    const events: StoreEvent[] = [];
    store.onEvent((e) => events.push(e));
    store.begin('r', '/w/runs/r', 'digits', 4);
    store.apply(epoch(0));
    store.apply(stab(0, 3));
    store.apply(epoch(1));
    store.apply(epoch(2));
    store.apply(stab(2, 5));
    const deltas = events.filter((e): e is Extract<StoreEvent, { kind: 'delta' }> => e.kind === 'delta').map((e) => e.delta);
    const withStab = deltas.filter((d) => d.stability);
    assert.deepEqual(withStab.map((d) => [d.from, d.stability!.from, d.stability!.points.map((p) => p.lambdaMax)]), [
      [1, 0, [3]],
      [3, 1, [5]],
    ]);
    for (const d of deltas) assert.ok(validateHostMessage({ type: 'runDelta', ...d }).ok);
    const snap = store.snapshot()!;
    assert.deepEqual(snap.stability!.map((p) => [p.epoch, p.lambdaMax, p.threshold, p.verdict]), [
      [0, 3, 20, 'stable'],
      [2, 5, 20, 'stable'],
    ]);
    // The engine's extra fields (hvp, iterations, seed, time) stay behind: the protocol refuses unknown keys.
    assert.deepEqual(Object.keys(snap.stability![0]).sort(), ['epoch', 'errorEstimate', 'lambdaMax', 'lr', 'message', 'step', 'threshold', 'verdict']);
  });

  it('merges contiguous stability deltas and keeps the newer one across a gap', () => {
    const p = (lambdaMax: number) => ({ epoch: 0, step: 0, lambdaMax, verdict: 'stable' as const, message: '' });
    const a: RunDelta = { runId: 'r', from: 0, points: [], checkpoints: [], stability: { from: 0, points: [p(1)] } };
    const b: RunDelta = { runId: 'r', from: 0, points: [], checkpoints: [], stability: { from: 1, points: [p(2)] } };
    assert.deepEqual(mergeDeltas(a, b).stability, { from: 0, points: [p(1), p(2)] });
    const gap: RunDelta = { ...b, stability: { from: 3, points: [p(9)] } };
    assert.equal(mergeDeltas(a, gap), gap);
    const plain: RunDelta = { runId: 'r', from: 0, points: [], checkpoints: [] };
    assert.deepEqual(mergeDeltas(a, plain).stability, a.stability);
    assert.deepEqual(mergeDeltas(plain, b).stability, b.stability);
  });

  it('reads stability lines of metrics.jsonl and refuses malformed ones', () => {
    assert.equal(toStabilityPoint({ epoch: 1, step: 1, lambdaMax: NaN, verdict: 'stable', message: '' }), undefined);
    assert.equal(toStabilityPoint({ epoch: 1, step: 1, lambdaMax: 1, verdict: 'great', message: '' }), undefined);
    assert.equal(toStabilityPoint('x'), undefined);
    const lines = [
      JSON.stringify({ type: 'epoch', epoch: 0, step: 0, trainLoss: 1, testLoss: 1, gradNorm: 1, lr: 0.1, time: 0 }),
      JSON.stringify({ type: 'stability', epoch: 0, step: 0, lambdaMax: 4, errorEstimate: null, threshold: 20, lr: 0.1, verdict: 'stable', message: 'ok', hvp: 'autodiff' }),
      JSON.stringify({ type: 'stability', epoch: 1, step: 5, lambdaMax: 'big', verdict: 'stable', message: '' }),
    ].join('\n');
    const r = parseMetrics(lines);
    assert.equal(r.points.length, 1);
    assert.deepEqual(r.stability, [{ epoch: 0, step: 0, lambdaMax: 4, threshold: 20, lr: 0.1, verdict: 'stable', message: 'ok' }]);
    assert.equal(r.skipped, 1);
  });

  it('takes stabilityEvery from landscape.json and the form (empty: off) into the training config', () => {
    const exp = parseExperiment('{"stabilityEvery": 3}', '/w/landscape.json');
    assert.equal(exp.stabilityEvery, 3);
    assert.equal(experimentToTrainConfig(exp, { root: '/w', out: '/w/runs/x' }).stabilityEvery, 3);
    assert.equal(formFromExperiment(exp).stabilityEvery, 3);
    assert.equal(experimentToTrainConfig(parseExperiment('{}', '/w/landscape.json'), { root: '/w', out: '/w/runs/x' }).stabilityEvery, undefined, 'off by default');
    assert.throws(() => parseExperiment('{"stabilityEvery": -1}', '/w/landscape.json'), /field "stabilityEvery" must be a whole number from 0 \(off\)/);
    assert.throws(() => parseExperiment('{"stabilityEvery": 1.5}', '/w/landscape.json'), /stabilityEvery/);
    const form = formFromExperiment(exp);
    assert.equal(applyForm(exp, { ...form, stabilityEvery: 0 }).stabilityEvery, undefined, 'the form cleared it');
    assert.equal(applyForm(exp, { ...form, stabilityEvery: 5 }).stabilityEvery, 5);
    assert.equal(applyForm(exp, { dataset: 'digits', model: '64-32-32-10', optimizer: 'sgd', epochs: 3 }).stabilityEvery, 3, 'a form without the field keeps the file’s value');
  });
});
