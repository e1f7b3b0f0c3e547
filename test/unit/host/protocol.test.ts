import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HostMessageSchema, WebviewMessageSchema, validateHostMessage, validateWebviewMessage, ResultDataSchema, RESULT_KINDS, formatNumber, formatPercent, KERNEL_NAMES, SLICE_KIND_NAMES, STABILITY_VERDICTS, type HostMessage, type WebviewMessage, type EpochPoint, type CheckpointDetails, type ResultData } from '../../../src/protocol';
import { LIMITS, S, previewMessage } from '../../../src/schema';
import { KERNELS } from '../../../src/engine/analysis';
import { SLICE_KINDS } from '../../../src/engine/checkpointAnalysis';
import { samplePath, sampleMatrix } from '../../support/barrierSamples';

const point: EpochPoint = { epoch: 0, step: 0, trainLoss: 2.3, testLoss: 2.31, accuracy: 0.1, testAccuracy: 0.09, gradNorm: 1.5, lr: 0.1, time: 0.2 };
const regressionPoint: EpochPoint = { epoch: 1, step: 10, trainLoss: 0.5, testLoss: 0.6, gradNorm: 0.1, lr: 0.01, time: 1 };
const status = { state: 'running' as const, text: 'epoch 1/8', epoch: 1, epochs: 8 };
const ckpt = { path: '/w/runs/r/best.safetensors', label: 'best.safetensors (epoch 1)', detail: 'test loss 0.3' };
const runs = {
  runs: [{ runDir: '/w/runs/r', runJson: '/w/runs/r/run.json', label: 'r', detail: 'digits · 64-32-32-10', status: 'completed', checkpoints: [ckpt] }],
  others: [{ path: '/w/a.safetensors', label: 'a.safetensors' }],
  truncated: false,
};
const info: CheckpointDetails = {
  format: 'safetensors',
  fileSize: 14272,
  metadata: [
    ['model', '64-32-32-10'],
    ['dataset', '<script>alert(1)</script>'],
  ],
  spec: { text: '64-32-32-10 relu no-bias cross-entropy', layers: [64, 32, 32, 10], activation: 'relu', bias: false, loss: 'cross-entropy', paramCount: 3424 },
  tensors: [{ name: 'layers.0.weight', shape: [64, 32], dtype: 'F32', size: 2048, mean: 0.01, std: 0.2, min: -0.5, max: 0.5, norm: 9 }],
  histograms: [{ name: 'layers.0.weight', min: -0.5, max: 0.5, counts: [1, 2, 3] }],
};

const barrierPath = samplePath('/w/runs/r1/final.safetensors', '/w/runs/r2/final.safetensors');
const barrierMatrix = sampleMatrix('/w/runs');

const stabilityPoint = { epoch: 2, step: 20, lambdaMax: 12.5, errorEstimate: 0.01, threshold: 20, lr: 0.1, verdict: 'stable' as const, message: 'stable: η·λmax = 1.25 < 2' };

const kpca: Extract<ResultData, { kind: 'kpca' }> = {
  kind: 'kpca',
  formatVersion: 2,
  command: 'kpca',
  kernel: { kernel: 'rbf', gamma: 1 / 3392 },
  components: 2,
  n: 2,
  dim: 3392,
  eigenvalues: [0.6, 0],
  explainedVariance: [1, 0],
  spectrum: [0.6, 0],
  warnings: ['component 2 has no variance'],
  points: [
    { file: '/w/runs/r1/final.safetensors', label: 'r1/final.safetensors', model: '64-32-32-10', run: 'r1', optimizer: 'sgd', epoch: 30, loss: 0.1, accuracy: 0.99, testLoss: 0.2, testAccuracy: 0.95, coords: [0.5, 0] },
    { file: '/w/x.safetensors', label: 'x.safetensors', coords: [-0.5, 0] },
  ],
  overlays: [
    { kind: 'trajectory', label: 'trajectory of r1', source: '/w/runs/r1', run: 'r1', points: [{ file: '/w/runs/r1/checkpoints/epoch-0010.safetensors', label: 'epoch-0010', coords: [0.1, 0.2], epoch: 10, loss: 0.5, testAccuracy: 0.8 }] },
    { kind: 'path', label: 'path r1/final ↔ x', source: '/w/runs/r1/final__x.path.json', points: [{ label: 't = 0.5', coords: [0, 0.3], t: 0.5, loss: 1.2 }] },
  ],
  backend: 'wasm',
  label: '2 checkpoints in w',
  seconds: 0.4,
  landscapeVersion: '0.2.0',
  settings: [['kernel', 'rbf']],
};
const hessian: Extract<ResultData, { kind: 'hessian' }> = {
  kind: 'hessian',
  formatVersion: 2,
  command: 'hessian',
  file: '/w/runs/r1/final.safetensors',
  label: 'r1/final',
  model: '64-32-32-10',
  dim: 3392,
  objective: { dataset: 'digits', split: 'train', samples: 1437, loss: 0.01 },
  eigenvalues: [15, 9.5],
  errorEstimates: [1e-4, 0.02],
  residuals: [1e-3, 0.1],
  iterations: 25,
  converged: true,
  restarts: 0,
  hvp: 'autodiff',
  seed: 0,
  k: 2,
  trace: { estimate: 120, standardError: 4, samples: 32 },
  stability: { verdict: 'edge', lambdaMax: 15, lr: 0.14, limit: 2, threshold: 14.3, ratio: 1.05, maxStableLr: 0.133, message: 'at the edge', lrSource: 'metadata', optimizer: 'sgd' },
  backend: 'cpu',
  seconds: 2,
  landscapeVersion: '0.2.0',
  settings: [],
};
const gradcheck: Extract<ResultData, { kind: 'gradcheck' }> = {
  kind: 'gradcheck',
  formatVersion: 2,
  command: 'gradcheck',
  file: '/w/runs/r1/final.safetensors',
  label: 'r1/final',
  model: '64-32-32-10',
  activation: 'relu',
  objective: { dataset: 'digits', split: 'train', samples: 1437, loss: 0.01 },
  loss: 0.01,
  verdict: 'PASS',
  passed: true,
  maxRelError: 1e-4,
  maxRelErrorSmooth: 1e-4,
  maxScaledError: 0.1,
  worst: 0,
  failures: 0,
  kinks: 1,
  unresolved: 0,
  tolerance: 0.01,
  relativeNoise: 1e-7,
  kinkMethod: 'detector',
  gradNorm: 0.02,
  seed: 0,
  dim: 3392,
  stepRule: 'h = ε^(1/3)·max(1, |θ|)',
  evaluations: 200,
  probes: [
    { kind: 'coordinate', index: 7, h: 0.005, analytic: 0.1, numeric: 0.10001, absError: 1e-5, relError: 1e-4, noise: 1e-6, kink: false, stepDependence: 1e-6, status: 'ok' },
    { kind: 'direction', direction: 0, h: 0.005, analytic: 0.1, numeric: 0.2, absError: 0.1, relError: 0.5, noise: 1e-6, kink: true, crossings: 2, stepDependence: 0.1, status: 'kink' },
  ],
  backend: 'cpu',
  seconds: 1,
  landscapeVersion: '0.2.0',
  settings: [],
};
const axis = (name: string) => ({ name, label: `${name} (random)`, values: [-1, 0, 1], range: [-1, 1] as [number, number], points: 3, direction: { kind: 'random', seed: 1, normalization: 'filter', bias: 'zero', norm: 2.5 } });
const sliceMeta = {
  version: 1,
  method: 'random-direction',
  parameterization: 'θ(α) = θ + α·d',
  dim: 3392,
  centre: { label: 'final.safetensors', hash: 'abc', norm: 10, loss: 0.1 },
  markers: [{ label: 'final.safetensors', x: 0, loss: 0.1 }],
  min: { x: 0, loss: 0.1 },
  max: { x: 1, loss: 0.7 },
  evaluations: 4,
  batchSize: 256,
};
const slice1d: Extract<ResultData, { kind: 'slice'; dims: '1d' }> = {
  kind: 'slice',
  formatVersion: 2,
  command: 'slice',
  request: { kind: 'random', files: ['/w/runs/r1/final.safetensors'], points: 3 },
  backend: 'cpu',
  model: '64-32-32-10',
  objective: { dataset: 'digits', split: 'train', samples: 1437 },
  dims: '1d',
  axes: { x: axis('α') },
  values: [0.5, 0.1, 0.7],
  meta: sliceMeta,
  label: 'r1/final',
  seconds: 0.2,
  landscapeVersion: '0.2.0',
  settings: [],
};
const slice2d: Extract<ResultData, { kind: 'slice'; dims: '2d' }> = {
  ...slice1d,
  request: { kind: 'random-plane', files: ['/w/runs/r1/final.safetensors'], points: [3, 3] },
  dims: '2d',
  axes: { x: axis('α'), y: { ...axis('β'), direction: { kind: 'random', seed: 2, norm: 2.4 } } },
  values: [[1, 2, 3], [0.5, 0.1, 0.7], [1, 2, 3]],
  meta: { ...sliceMeta, method: 'random-plane', markers: [{ label: 'final.safetensors', x: 0, y: 0, loss: 0.1 }], min: { x: 0, y: 0, loss: 0.1 }, max: { x: 1, y: 1, loss: 3 }, cosine: 0.01 },
};

/** One valid example of every host message type (the test below checks that none is missing). */
const HOST_EXAMPLES: HostMessage[] = [
  {
    type: 'sideSnapshot',
    live: { runId: 'r', runDir: '/w/runs/r', label: 'digits', points: [point, regressionPoint], checkpoints: [ckpt], status, stability: [stabilityPoint] },
    runs,
    backend: { text: 'wasm · tfjs 4.22.0', detail: 'backend wasm' },
    form: { dataset: 'digits', model: '64-32-32-10', optimizer: 'sgd', epochs: 8, stabilityEvery: 2 },
    datasets: ['digits'],
    optimizers: ['sgd', 'adam'],
    training: true,
    experimentFile: 'landscape.json',
  },
  { type: 'sideSnapshot', live: null, runs: { runs: [], others: [], truncated: true }, backend: { text: 'checking…', detail: '' }, form: { dataset: 'digits', model: '64-10', optimizer: 'sgd', epochs: 1 }, datasets: [], optimizers: [], training: false, experimentFile: null },
  { type: 'runDelta', runId: 'r', from: 2, points: [point], checkpoints: [] },
  { type: 'runDelta', runId: 'r', from: 3, points: [], checkpoints: [ckpt], status: { ...status, state: 'completed', text: 'done' } },
  { type: 'runDelta', runId: 'r', from: 3, points: [], checkpoints: [], stability: { from: 1, points: [stabilityPoint, { epoch: 4, step: 40, lambdaMax: 3, verdict: 'not-applicable', message: 'adam' }] } },
  { type: 'runs', runs },
  { type: 'backend', backend: { text: 'cpu', detail: 'backend cpu' } },
  { type: 'form', form: { dataset: 'data/x.csv', model: '4-8-3', optimizer: 'adam', epochs: 100 }, experimentFile: null },
  { type: 'checkpoint', file: '/w/a.safetensors', name: 'a.safetensors', info, actions: [{ command: 'landscape.setMinimumA', label: 'Set as Minimum A' }] },
  { type: 'checkpoint', file: '/w/m/model.json', name: 'm/model.json', info: { ...info, format: 'tfjs', spec: null, specError: 'no spec', histograms: [] }, actions: [] },
  { type: 'checkpointError', file: '/w/a.safetensors', message: 'file is truncated' },
  { type: 'actions', actions: [{ command: 'landscape.setMinimumA', label: 'Set as Minimum A', detail: 'this checkpoint is Minimum A' }] },
  { type: 'evaluating' },
  { type: 'evaluation', result: { dataset: 'digits', backend: 'wasm', train: { loss: 0.1, accuracy: 0.97 }, test: { loss: null, accuracy: null }, seconds: 0.1 } },
  { type: 'evaluation', result: { dataset: 'teacher', backend: 'cpu', train: { loss: 0.1 }, test: { loss: 0.2 }, seconds: 0 } },
  { type: 'evaluationError', message: 'no dataset in metadata' },
  {
    type: 'result',
    file: '/w/runs/r/run.json',
    title: 'Run r',
    data: { kind: 'trainingRun', runDir: '/w/runs/r', status: 'completed', summary: [['status', 'completed']], points: [point], checkpoints: [ckpt] },
  },
  { type: 'resultError', file: '/w/runs/r/run.json', message: 'cannot read run.json' },
  { type: 'result', file: '/w/runs/r1/final__r2-final.path.json', title: 'Barrier r1/final ↔ r2/final', data: barrierPath },
  { type: 'result', file: '/w/runs/barriers.json', title: 'Barriers in runs', data: barrierMatrix },
  {
    type: 'resultProgress',
    file: '/w/runs/r1/final__r2-final.path.json',
    kind: 'barrierPath',
    title: 'Barrier r1/final ↔ r2/final',
    status: 'iteration 3/100 · path height 1.2',
    series: { id: '0:a:b', from: 3, steps: 100, heights: [1.2], best: [1.2], straight: 2 },
  },
  { type: 'resultProgress', file: '/w/runs/barriers.json', kind: 'barrierMatrix', title: 'Barriers', status: 'starting…', series: null },
  { type: 'result', file: '/w/runs/runs.kpca.json', title: 'Kernel PCA', data: kpca },
  { type: 'result', file: '/w/runs/r1/final.hessian.json', title: 'Hessian r1/final', data: hessian },
  { type: 'result', file: '/w/runs/r1/final.gradcheck.json', title: 'Gradient check', data: gradcheck },
  { type: 'result', file: '/w/runs/r1/final.random.slice.json', title: 'Slice', data: slice1d },
  { type: 'result', file: '/w/runs/r1/final.random-plane.slice.json', title: 'Slice', data: slice2d },
  {
    type: 'result',
    file: '/w/runs/r/run.json',
    title: 'Run r',
    data: { kind: 'trainingRun', runDir: '/w/runs/r', status: 'completed', summary: [], points: [point], checkpoints: [], stability: [stabilityPoint] },
  },
  { type: 'resultStatus', file: '/w/runs/runs.kpca.json', text: 'projecting r1 into the map…', busy: true },
];

const WEBVIEW_EXAMPLES: WebviewMessage[] = [
  { type: 'ready', view: 'side' },
  { type: 'ready', view: 'checkpoint' },
  { type: 'ready', view: 'result' },
  { type: 'train', form: { dataset: 'digits', model: '64-32-32-10', optimizer: 'sgd', epochs: 8 } },
  { type: 'stop' },
  { type: 'inspect', path: '/w/runs/r/best.safetensors' },
  { type: 'openRun', runJson: '/w/runs/r/run.json' },
  { type: 'openExperiment' },
  { type: 'selectBackend' },
  { type: 'evaluate' },
  { type: 'runAction', command: 'landscape.setMinimumA' },
  { type: 'export', format: 'png', dataUrl: 'data:image/png;base64,iVBORw0KGgo=', name: 'training-loss' },
  { type: 'export', format: 'svg', dataUrl: 'data:image/svg+xml,%3Csvg%3E%3C%2Fsvg%3E', name: 'hist' },
  { type: 'log', level: 'error', message: 'boom' },
  { type: 'kpcaOverlay', source: 'trajectory' },
  { type: 'kpcaOverlay', source: 'path' },
  { type: 'removeOverlay', index: 0 },
];

/** Shapes that must be refused, with why. */
function mutations(m: Record<string, unknown>): [string, unknown][] {
  const out: [string, unknown][] = [
    ['extra field', { ...m, evil: 1 }],
    ['unknown type', { ...m, type: 'nope' }],
    ['type missing', Object.fromEntries(Object.entries(m).filter(([k]) => k !== 'type'))],
  ];
  for (const k of Object.keys(m)) {
    if (k === 'type') continue;
    const v = m[k];
    // Optional fields may be absent, so removal is only a mutation for required ones; a wrong type always is.
    out.push([`${k}: wrong type`, { ...m, [k]: typeof v === 'string' ? 42 : typeof v === 'number' ? 'x' : typeof v === 'boolean' ? 'true' : v === null ? 7 : 'x' }]);
  }
  return out;
}

describe('protocol', () => {
  it('has an example of every message type in both directions', () => {
    assert.deepEqual(new Set(HOST_EXAMPLES.map((m) => m.type)), new Set(Object.keys(HostMessageSchema.variants)));
    assert.deepEqual(new Set(WEBVIEW_EXAMPLES.map((m) => m.type)), new Set(Object.keys(WebviewMessageSchema.variants)));
  });

  it('accepts every valid host message, also after a JSON round trip', () => {
    for (const m of HOST_EXAMPLES) {
      const v = validateHostMessage(m);
      assert.ok(v.ok, `${m.type}: ${v.ok ? '' : v.error}`);
      assert.ok(validateHostMessage(JSON.parse(JSON.stringify(m))).ok, m.type);
    }
  });

  it('accepts every valid webview message', () => {
    for (const m of WEBVIEW_EXAMPLES) {
      const v = validateWebviewMessage(m);
      assert.ok(v.ok, `${m.type}: ${v.ok ? '' : v.error}`);
    }
  });

  it('refuses extra fields, unknown types and wrongly typed fields, naming the fault', () => {
    for (const m of [...HOST_EXAMPLES, ...WEBVIEW_EXAMPLES]) {
      const validateFn = HOST_EXAMPLES.includes(m as HostMessage) ? validateHostMessage : validateWebviewMessage;
      for (const [why, bad] of mutations(m as unknown as Record<string, unknown>)) {
        const v = validateFn(bad);
        assert.equal(v.ok, false, `${m.type} with ${why} was accepted`);
        if (!v.ok) assert.match(v.error, /^message/);
      }
    }
  });

  it('refuses non-objects', () => {
    for (const bad of [null, undefined, 1, 'ready', [], [{ type: 'ready', view: 'side' }], true]) {
      assert.equal(validateWebviewMessage(bad).ok, false, String(bad));
      assert.equal(validateHostMessage(bad).ok, false, String(bad));
    }
  });

  it('refuses missing required fields inside nested data', () => {
    const { trainLoss: _drop, ...noLoss } = point;
    const bad = { type: 'runDelta', runId: 'r', from: 0, points: [noLoss], checkpoints: [] };
    const v = validateHostMessage(bad);
    assert.equal(v.ok, false);
    assert.match(v.ok ? '' : v.error, /points\[0\]\.trainLoss: missing/);
  });

  it('refuses values JSON cannot carry and numbers out of range', () => {
    assert.equal(validateHostMessage({ type: 'runDelta', runId: 'r', from: 0, points: [{ ...point, testLoss: NaN }], checkpoints: [] }).ok, false);
    assert.equal(validateHostMessage({ type: 'runDelta', runId: 'r', from: -1, points: [], checkpoints: [] }).ok, false);
    assert.equal(validateHostMessage({ type: 'runDelta', runId: 'r', from: 0.5, points: [], checkpoints: [] }).ok, false);
    assert.equal(validateWebviewMessage({ type: 'train', form: { dataset: 'digits', model: '64-10', optimizer: 'sgd', epochs: 0 } }).ok, false);
    assert.equal(validateWebviewMessage({ type: 'export', format: 'gif', dataUrl: 'data:', name: 'x' }).ok, false);
    assert.equal(validateWebviewMessage({ type: 'ready', view: 'sidebar' }).ok, false);
  });

  it('caps string and array sizes', () => {
    const long = 'x'.repeat(LIMITS.path + 1);
    assert.equal(validateWebviewMessage({ type: 'inspect', path: long }).ok, false);
    assert.equal(validateWebviewMessage({ type: 'inspect', path: long.slice(1) }).ok, true);
    const tooManyBins = { ...info, histograms: [{ name: 'h', min: 0, max: 1, counts: new Array(LIMITS.bins + 1).fill(0) }] };
    assert.equal(validateHostMessage({ type: 'checkpoint', file: '/f', name: 'f', info: tooManyBins, actions: [] }).ok, false);
  });

  it('is not fooled by prototype keys', () => {
    assert.equal(validateWebviewMessage(JSON.parse('{"type":"stop","__proto__":{"x":1}}')).ok, false);
    assert.equal(validateWebviewMessage({ type: 'toString' }).ok, false);
    assert.equal(validateWebviewMessage({ type: 'constructor' }).ok, false);
  });

  it('knows every result kind', () => {
    assert.deepEqual(RESULT_KINDS, Object.keys(ResultDataSchema.variants));
    assert.deepEqual([...RESULT_KINDS].sort(), ['barrierMatrix', 'barrierPath', 'gradcheck', 'hessian', 'instability', 'kpca', 'slice', 'trainingRun']);
  });

  it('names the kernels and slice kinds the engine knows', () => {
    assert.deepEqual([...KERNEL_NAMES], [...KERNELS]);
    assert.deepEqual([...SLICE_KIND_NAMES], [...SLICE_KINDS]);
    assert.deepEqual([...STABILITY_VERDICTS].sort(), ['edge', 'not-applicable', 'stable', 'unstable']);
  });

  it('refuses analysis results and stability points of the wrong shape, naming the field', () => {
    const bad = (data: unknown, re: RegExp) => {
      const v = validateHostMessage({ type: 'result', file: '/w/x.json', title: 't', data });
      assert.equal(v.ok, false, `accepted ${re}`);
      assert.match(v.ok ? '' : v.error, re);
    };
    bad({ ...kpca, kernel: { kernel: 'laplace' } }, /kernel\.kernel/);
    bad({ ...kpca, points: [{ ...kpca.points[0], coords: [NaN, 0] }] }, /points\[0\]\.coords\[0\]/);
    bad({ ...kpca, overlays: [{ ...kpca.overlays[0], kind: 'cloud' }] }, /overlays\[0\]\.kind/);
    bad({ ...kpca, points: [{ ...kpca.points[0], coords: new Array(101).fill(0) }] }, /coords: more than 100/);
    bad({ ...hessian, stability: { ...hessian.stability, verdict: 'fine' } }, /stability\.verdict/);
    bad({ ...hessian, stability: { ...hessian.stability, lrSource: 'guess' } }, /stability\.lrSource/);
    bad({ ...hessian, eigenvalues: [Infinity] }, /eigenvalues\[0\]/);
    bad({ ...gradcheck, worst: -2 }, /worst/);
    bad({ ...gradcheck, probes: [{ ...gradcheck.probes[0], status: 'maybe' }] }, /probes\[0\]\.status/);
    bad({ ...slice1d, request: { ...slice1d.request, kind: 'diagonal' } }, /request\.kind/);
    bad({ ...slice2d, values: [[0.5, 'x']] }, /values\[0\]\[1\]/);
    bad({ ...slice1d, values: [[0.5, 0.1, 0.7]] }, /values\[0\]/);
    bad({ ...slice1d, dims: '3d' }, /dims/);
    bad({ ...slice1d, axes: { x: { ...slice1d.axes.x, range: [0] } } }, /x\.range/);
    bad({ ...slice1d, request: { ...slice1d.request, files: new Array(4).fill('/w/a.safetensors') } }, /files: more than 3/);
    const delta = (st: unknown) => validateHostMessage({ type: 'runDelta', runId: 'r', from: 0, points: [], checkpoints: [], stability: st });
    assert.equal(delta({ from: 0, points: [{ ...stabilityPoint, verdict: 'wobbly' }] }).ok, false);
    assert.equal(delta({ from: 0, points: [{ ...stabilityPoint, lambdaMax: NaN }] }).ok, false);
    assert.equal(delta({ from: -1, points: [] }).ok, false);
    assert.equal(delta({ from: 0, points: [stabilityPoint] }).ok, true);
    assert.equal(validateWebviewMessage({ type: 'kpcaOverlay', source: '/etc/passwd' }).ok, false, 'the page names a kind of overlay, never a path');
    assert.equal(validateWebviewMessage({ type: 'kpcaOverlay', source: 'path', input: '/etc' }).ok, false);
    assert.equal(validateWebviewMessage({ type: 'removeOverlay', index: 100 }).ok, false);
    assert.equal(validateWebviewMessage({ type: 'train', form: { dataset: 'digits', model: '64-10', optimizer: 'sgd', epochs: 1, stabilityEvery: -1 } }).ok, false);
  });

  it('refuses barrier results of the wrong shape, naming the field', () => {
    const bad = (data: unknown, re: RegExp) => {
      const v = validateHostMessage({ type: 'result', file: '/w/x.path.json', title: 't', data });
      assert.equal(v.ok, false, `accepted ${re}`);
      assert.match(v.ok ? '' : v.error, re);
    };
    const plane = barrierPath.plane!;
    bad({ ...barrierPath, plane: { ...plane, x: [0, Infinity] } }, /plane\.x\[1\]/);
    bad({ ...barrierPath, plane: { ...plane, surface: { x: [0], y: [0], z: [['a']] } } }, /surface\.z\[0\]\[0\]/);
    bad({ ...barrierPath, method: 'gradient-descent' }, /method/);
    bad({ ...barrierPath, objective: 'max' }, /objective/);
    bad({ ...barrierPath, linear: (({ tAtMax: _t, ...rest }) => rest)(barrierPath.linear) }, /linear\.tAtMax: missing/);
    bad({ ...barrierPath, heights: { ...barrierPath.heights, extra: 1 } }, /unexpected field "extra"/);
    bad({ ...barrierPath, iterations: -1 }, /iterations/);
    bad({ ...barrierPath, formatVersion: 1 }, /formatVersion/);
    bad({ ...barrierPath, kind: 'barrierMatrix' }, /unexpected field "a"/);
    bad({ ...barrierMatrix, heights: [[0.1, 'x']] }, /heights\[0\]\[1\]/);
    bad({ ...barrierMatrix, tree: { kind: 'merge', height: 1, minima: [0], children: [{ kind: 'leaf', index: -1, label: 'x', loss: null }] } }, /tree\.children\[0\]\.index/);
    bad({ ...barrierMatrix, tree: { kind: 'root' } }, /tree\.kind: unknown kind "root"/);
    bad({ ...barrierMatrix, pairs: [{ ...barrierMatrix.pairs[0], i: 0.5 }] }, /pairs\[0\]\.i/);
    bad({ ...barrierMatrix, files: new Array(501).fill(barrierMatrix.files[0]) }, /files: more than 500/);
    bad({ ...barrierMatrix, heights: [new Array(501).fill(null)] }, /heights\[0\]: more than 500/);
  });

  it('refuses progress messages of the wrong shape', () => {
    const ok = HOST_EXAMPLES.find((m) => m.type === 'resultProgress' && m.series !== null) as Extract<HostMessage, { type: 'resultProgress' }>;
    const series = ok.series!;
    for (const [why, m] of [
      ['unknown kind', { ...ok, kind: 'surface' }],
      ['string height', { ...ok, series: { ...series, heights: ['1.2'] } }],
      ['NaN best', { ...ok, series: { ...series, best: [NaN] } }],
      ['negative from', { ...ok, series: { ...series, from: -1 } }],
      ['series missing', (({ series: _s, ...rest }) => rest)(ok)],
      ['extra series field', { ...ok, series: { ...series, plane: [] } }],
    ] as [string, unknown][]) {
      assert.equal(validateHostMessage(m).ok, false, why);
    }
  });

  it('schema helpers: optional, nullable, tuple', () => {
    const sch = S.object({ a: S.optional(S.int(0, 3)), b: S.nullable(S.string(3)), c: S.tuple(S.string(), S.number()) });
    assert.equal(sch.check({ b: null, c: ['k', 1] }, 'v'), null);
    assert.equal(sch.check({ a: 3, b: 'abc', c: ['k', 1] }, 'v'), null);
    assert.match(sch.check({ a: 4, b: null, c: ['k', 1] }, 'v') ?? '', /v\.a/);
    assert.match(sch.check({ b: 'abcd', c: ['k', 1] }, 'v') ?? '', /longer/);
    assert.match(sch.check({ b: null, c: ['k'] }, 'v') ?? '', /pair/);
  });

  it('formats numbers the same on both sides', () => {
    assert.equal(formatNumber(0.123456), '0.1235');
    assert.equal(formatNumber(2), '2');
    assert.equal(formatNumber(1.5e-5), '1.500e-5');
    assert.equal(formatNumber(null), '–');
    assert.equal(formatPercent(0.9471), '94.7%');
    assert.equal(formatPercent(undefined), '–');
    assert.match(previewMessage({ a: 'x'.repeat(500) }), /… \(\d+ chars\)$/);
  });
});
