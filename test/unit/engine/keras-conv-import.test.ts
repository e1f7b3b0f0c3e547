/**
 * tfjs / Keras LayersModels with convolutions, pooling, BatchNormalization
 * and residual Adds, built and saved by tfjs-layers itself, import as
 * layer-grammar models whose outputs equal tfjs' own model.predict (and
 * model.apply in training mode) on the same images, given to Keras as NHWC
 * and to Landscape as C,H,W rows. tfjs-layers' implementation shares no code
 * with ours, so agreement checks the kernel transposes, the H,W,C → C,H,W
 * reordering of the first Dense after Flatten, Keras' 'same' padding, and
 * BatchNormalization's moving statistics and its epsilon 1e-3 (its moving
 * variances are made small, so 1e-5 in its place is measurably wrong), on
 * both the tfjs forward pass and the WebAssembly kernels.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as tfl from '@tensorflow/tfjs';
import { initBackend, tf } from '../../../src/engine/backend';
import { importTfjsModel } from '../../../src/engine/checkpoint';
import { evaluateModel, forwardBatched, toDevice } from '../../../src/engine/model/network';
import { modelSpecFromText } from '../../../src/engine/model/archModel';
import type { ModelSpec } from '../../../src/engine/model/spec';
import { fastEvaluateLayered, setFastEnabled } from '../../../src/engine/fast';
import { Rng } from '../../../src/engine/rng';
import { LandscapeError } from '../../../src/engine/errors';
import { runCli } from '../../support/cli';
import { makeTempDir, removeTempDir } from '../../support/tmp';
import { npyBytes, npzBytes } from '../../support/dataFiles';
import { TFJS_CONV_FLOATS, tfjsConvModel } from '../../support/tfjsModel';

let tmp: string;
before(async () => {
  await initBackend('cpu', { force: true });
  tmp = makeTempDir('keras-conv');
});
after(() => removeTempDir(tmp));

/** Save with tfjs' own serialisation: model.json and one weights.bin, as model.save('file://…') writes them. */
async function save(model: tfl.LayersModel, name: string): Promise<string> {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  await model.save(
    tfl.io.withSaveHandler(async (a) => {
      const data = a.weightData === undefined ? [] : Array.isArray(a.weightData) ? a.weightData : [a.weightData];
      fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.concat(data.map((b) => Buffer.from(b))));
      const json = { format: 'layers-model', generatedBy: 'tfjs-layers', convertedBy: null, modelTopology: a.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }] };
      fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return path.join(dir, 'model.json');
}

/**
 * Seeded weights. BatchNorm moving variances in [v, 11·v]: v = 0.002 makes
 * eps 1e-3 against 1e-5 change outputs by percents; deep nets get v = 1,
 * or their outputs grow so large that float32 losses lose their digits.
 */
function randomize(model: tfl.LayersModel, seed: number, v = 0.002): void {
  const rng = new Rng(seed);
  for (const layer of model.layers) {
    const ws = layer.getWeights();
    if (ws.length === 0) continue;
    layer.setWeights(
      layer.weights.map((w, i) => {
        const n = ws[i].size;
        const value = () => (w.name.includes('moving_variance') ? v * (1 + 10 * rng.uniform()) : w.name.includes('gamma') ? 1 + 0.3 * rng.normal() : w.name.includes('moving_mean') ? 0.05 * rng.normal() : 0.4 * rng.normal());
        return tfl.tensor(Float32Array.from({ length: n }, value), ws[i].shape);
      }),
    );
  }
}

/** n images H×W×C: NHWC for Keras, and the same as C,H,W rows for Landscape. */
function images(n: number, [H, W, C]: number[], seed: number): { nhwc: Float32Array; rows: Float32Array } {
  const rng = new Rng(seed);
  const nhwc = Float32Array.from({ length: n * H * W * C }, () => rng.normal());
  const rows = new Float32Array(nhwc.length);
  for (let i = 0; i < n; i++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) for (let c = 0; c < C; c++) rows[((i * C + c) * H + h) * W + w] = nhwc[((i * H + h) * W + w) * C + c];
  return { nhwc, rows };
}

function kerasOutputs(model: tfl.LayersModel, nhwc: Float32Array, shape: number[], training = false): Float32Array {
  const x = tfl.tensor(nhwc, [nhwc.length / shape.reduce((a, b) => a * b, 1), ...shape]);
  const out = (training ? model.apply(x, { training: true }) : model.predict(x)) as tfl.Tensor;
  const values = out.dataSync() as Float32Array;
  x.dispose();
  out.dispose();
  return values;
}

/** Landscape's network outputs (logits) through the tfjs forward pass. */
function ourOutputs(spec: ModelSpec, theta: Float32Array, rows: Float32Array, buffers?: Float32Array): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor2d(rows, [rows.length / spec.layers[0], spec.layers[0]]);
    const bn = buffers ? ({ mode: 'running', buffers } as const) : ({ mode: 'batch' } as const);
    return forwardBatched(spec, tf.tensor2d(theta, [1, theta.length]), x, bn).dataSync() as Float32Array;
  });
}

function softmaxRows(logits: Float32Array, k: number): Float64Array {
  const out = new Float64Array(logits.length);
  for (let r = 0; r < logits.length / k; r++) {
    const row = Array.from(logits.subarray(r * k, (r + 1) * k));
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    e.forEach((v, j) => (out[r * k + j] = v / s));
  }
  return out;
}

/** Mean cross-entropy of probabilities against labels, in float64. */
function crossEntropy(probs: ArrayLike<number>, labels: number[], k: number): number {
  return labels.reduce((a, y, r) => a - Math.log(probs[r * k + y]), 0) / labels.length;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function oneHot(labels: number[], k: number): Float32Array {
  const y = new Float32Array(labels.length * k);
  labels.forEach((c, r) => (y[r * k + c] = 1));
  return y;
}

/** Our loss through the WebAssembly kernels (`fast`) or the tfjs path, on targets y [n × k]. */
function ourLoss(spec: ModelSpec, theta: Float32Array, rows: Float32Array, y: Float32Array, buffers: Float32Array | undefined, fast: boolean): number {
  const k = spec.layers[1];
  const n = y.length / k;
  if (fast) {
    const r = fastEvaluateLayered(spec, { x: rows, y, n }, theta, buffers);
    assert.ok(r, 'the WebAssembly kernels load');
    return r.loss;
  }
  const data = toDevice({ x: rows, y, n, features: spec.layers[0], outputs: k });
  setFastEnabled(false);
  try {
    return evaluateModel(spec, theta, data, spec.loss === 'mse' ? 'regression' : 'classification', buffers).loss;
  } finally {
    setFastEnabled(true);
    data.dispose();
  }
}

const SEQ_INPUT = [11, 8, 3];

/** conv 'same' + relu, BatchNorm, maxpool, unbiased 'valid' conv, strided avgpool, Flatten over 5×3×2, Dense tanh, Dense softmax. */
function sequentialModel(): tfl.LayersModel {
  const m = tfl.sequential();
  m.add(tfl.layers.conv2d({ inputShape: SEQ_INPUT, filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }));
  m.add(tfl.layers.batchNormalization());
  m.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tfl.layers.conv2d({ filters: 5, kernelSize: 2, useBias: false }));
  m.add(tfl.layers.averagePooling2d({ poolSize: 2, strides: 1 }));
  m.add(tfl.layers.flatten());
  m.add(tfl.layers.dense({ units: 6, activation: 'tanh' }));
  m.add(tfl.layers.dense({ units: 4, activation: 'softmax' }));
  randomize(m, 11);
  return m;
}

/** A functional model's layer applied to symbolic tensors. */
const apply = (layer: tfl.layers.Layer, x: tfl.SymbolicTensor | tfl.SymbolicTensor[]) => layer.apply(x) as tfl.SymbolicTensor;

const RES_INPUT = [8, 8, 3];

/** A functional ResNet-style net: stem conv+bn+relu, an identity block, a strided block with a 1×1 conv + bn projection, GAP, Dense. */
function residualModel(): tfl.LayersModel {
  const input = tfl.input({ shape: RES_INPUT });
  const convBn = (x: tfl.SymbolicTensor, filters: number, k: number, strides = 1) => apply(tfl.layers.batchNormalization(), apply(tfl.layers.conv2d({ filters, kernelSize: k, strides, padding: 'same', useBias: false }), x));
  const relu = (x: tfl.SymbolicTensor) => apply(tfl.layers.activation({ activation: 'relu' }), x);
  const stem = relu(convBn(input, 4, 3));
  const identity = relu(apply(tfl.layers.add(), [convBn(relu(convBn(stem, 4, 3)), 4, 3), stem]));
  const body = convBn(relu(convBn(identity, 6, 4, 2)), 6, 3);
  const shortcut = apply(tfl.layers.batchNormalization(), apply(tfl.layers.conv2d({ filters: 6, kernelSize: 1, strides: 2, useBias: false }), identity));
  const projected = relu(apply(tfl.layers.add(), [body, shortcut]));
  const out = apply(tfl.layers.dense({ units: 5 }), apply(tfl.layers.globalAveragePooling2d({}), projected));
  const m = tfl.model({ inputs: input, outputs: out });
  randomize(m, 12, 1);
  return m;
}

describe('tfjs / Keras conv models import', () => {
  it('Sequential conv/bn/pool/flatten/dense: the spec, and predictions equal model.predict in inference mode (tfjs path)', async () => {
    const model = sequentialModel();
    const m = importTfjsModel(await save(model, 'seq'));
    assert.equal(m.spec.arch!.text, 'input(3,11,8) conv(4,3,pad=same) relu bn(eps=0.001) maxpool(2) conv(5,2,bias=false) avgpool(2,stride=1) flatten dense(6) tanh dense(4)');
    assert.equal(m.spec.loss, 'cross-entropy');
    assert.equal(m.softmaxStripped, true);
    assert.ok(m.buffers && m.buffers.length === 8);
    const { nhwc, rows } = images(9, SEQ_INPUT, 3);
    const probs = kerasOutputs(model, nhwc, SEQ_INPUT);
    const ours = softmaxRows(ourOutputs(m.spec, m.theta, rows, m.buffers), 4);
    assert.ok(maxAbsDiff(ours, probs) < 2e-6, `max difference ${maxAbsDiff(ours, probs)}`);
  });

  it('the flatten order and BatchNorm eps matter: without the row permutation or with eps 1e-5 the outputs differ', async () => {
    const model = sequentialModel();
    const m = importTfjsModel(await save(model, 'seq-check'));
    const { nhwc, rows } = images(9, SEQ_INPUT, 4);
    const probs = kerasOutputs(model, nhwc, SEQ_INPUT);
    const pytorchEps = modelSpecFromText(m.spec.arch!.text.replace('bn(eps=0.001)', 'bn'), { loss: 'cross-entropy' });
    assert.ok(maxAbsDiff(softmaxRows(ourOutputs(pytorchEps, m.theta, rows, m.buffers), 4), probs) > 1e-3, 'eps 1e-5 would have been caught');
    // The Dense kernel's rows as Keras stores them (H,W,C order) instead of permuted to C,H,W.
    const dense = m.spec.arch!.layout.params.find((t) => t.owner.node.op === 'dense' && t.role === 'weight')!;
    const kernel = model.layers[6].getWeights()[0].dataSync();
    const [out, fin] = dense.shape;
    const unpermuted = Float32Array.from(m.theta);
    for (let o = 0; o < out; o++) for (let f = 0; f < fin; f++) unpermuted[dense.offset + o * fin + f] = kernel[f * out + o];
    assert.ok(maxAbsDiff(softmaxRows(ourOutputs(m.spec, unpermuted, rows, m.buffers), 4), probs) > 1e-3, 'a missing permutation would have been caught');
  });

  it('the kernels and the tfjs path give Keras\' cross-entropy, with moving statistics and with batch statistics (training mode)', async () => {
    const model = sequentialModel();
    const m = importTfjsModel(await save(model, 'seq-loss'));
    const n = 24;
    const { nhwc, rows } = images(n, SEQ_INPUT, 5);
    const labels = Array.from({ length: n }, (_, i) => (i * 7) % 4);
    const inference = crossEntropy(kerasOutputs(model, nhwc, SEQ_INPUT), labels, 4);
    const training = crossEntropy(kerasOutputs(model, nhwc, SEQ_INPUT, true), labels, 4);
    assert.ok(Math.abs(inference - training) > 1e-2, 'the two modes differ, so each is really tested');
    for (const fast of [true, false]) {
      const a = ourLoss(m.spec, m.theta, rows, oneHot(labels, 4), m.buffers, fast);
      const b = ourLoss(m.spec, m.theta, rows, oneHot(labels, 4), undefined, fast);
      assert.ok(Math.abs(a - inference) < 2e-5 * inference, `${fast ? 'kernels' : 'tfjs'}, moving statistics: ${a} vs Keras ${inference}`);
      assert.ok(Math.abs(b - training) < 2e-5 * training, `${fast ? 'kernels' : 'tfjs'}, batch statistics: ${b} vs Keras ${training}`);
    }
  });

  it('functional ResNet blocks: identity and 1×1 conv + bn projection shortcuts become res(...), outputs equal model.predict', async () => {
    const model = residualModel();
    const m = importTfjsModel(await save(model, 'res'));
    const text = m.spec.arch!.text;
    assert.match(text, /^input\(3,8,8\) conv\(4,3,pad=same,bias=false\) bn\(eps=0\.001\) relu res\(conv\(4,3,pad=same,bias=false\) bn\(eps=0\.001\) relu conv\(4,3,pad=same,bias=false\) bn\(eps=0\.001\)\) relu res\(conv\(6,4,stride=2,pad=1,bias=false\) /);
    assert.match(text, / gap dense\(5\)$/);
    const block = m.spec.arch!.shapes.nodes.filter((s) => s.node.op === 'res')[1];
    assert.deepEqual(block.shortcut!.map((s) => s.node), [{ op: 'conv', out: 6, kernel: 1, stride: 2, pad: 'valid', bias: false }, { op: 'bn', eps: 0.001 }]);
    assert.equal(m.spec.loss, 'mse', 'no softmax and no training config: regression, as for dense models');
    const { nhwc, rows } = images(6, RES_INPUT, 6);
    const keras = kerasOutputs(model, nhwc, RES_INPUT);
    const ours = ourOutputs(m.spec, m.theta, rows, m.buffers);
    const scale = Math.max(...Array.from(keras, Math.abs));
    assert.ok(scale > 0.1 && scale < 100, `outputs of order 1 (largest ${scale})`);
    assert.ok(maxAbsDiff(ours, keras) < 1e-5 * scale, `max difference ${maxAbsDiff(ours, keras)} of ${scale}`);
    // Mean squared error against targets away from the outputs, in float64 from Keras' outputs; PyTorch's mean is over every element.
    const targets = Float32Array.from(keras, (v, i) => v + Math.sin(i));
    const want = keras.reduce((a, v, i) => a + (v - targets[i]) ** 2, 0) / keras.length;
    for (const fast of [true, false]) {
      const got = ourLoss(m.spec, m.theta, rows, targets, m.buffers, fast);
      assert.ok(Math.abs(got - want) < 2e-5 * want, `${fast ? 'kernels' : 'tfjs'}: ${got} vs ${want}`);
    }
  });

  it('landscape eval <folder>/model.json --data <npz> prints Keras\' cross-entropy and accuracy', async () => {
    const model = sequentialModel();
    const file = await save(model, 'seq-cli');
    const n = 30;
    const { nhwc, rows } = images(n, SEQ_INPUT, 7);
    const labels = Array.from({ length: n }, (_, i) => (i * 5) % 4);
    const probs = kerasOutputs(model, nhwc, SEQ_INPUT);
    const npz = path.join(tmp, 'seq-cli.npz');
    fs.writeFileSync(npz, npzBytes({ x: npyBytes([n, 3 * 11 * 8], rows), y: npyBytes([n], Int32Array.from(labels)) }));
    const r = await runCli(['eval', file, '--data', npz, '--json', '--backend', 'cpu']);
    assert.equal(r.code, 0, r.stderr);
    const got = JSON.parse(r.stdout);
    const want = crossEntropy(probs, labels, 4);
    assert.ok(Math.abs(got.loss - want) < 2e-5 * want, `${got.loss} vs ${want}`);
    const argmax = (r: number) => [0, 1, 2, 3].reduce((b, j) => (probs[r * 4 + j] > probs[r * 4 + b] ? j : b), 0);
    assert.equal(got.accuracy, labels.filter((y, r) => argmax(r) === y).length / n);
    assert.equal(got.batchNorm, 'running statistics from the checkpoint');
    assert.deepEqual(got.notes, ["the model's output softmax is left out: the cross-entropy loss applies it"]);
  });
});

/** Keras 3 writes each inbound tensor as {class_name: '__keras_tensor__', config: {keras_history: [layer, 0, 0]}} inside a node's args. */
function asKeras3(json: ReturnType<typeof tfjsConvModel>): unknown {
  const tensor = (name: string) => ({ class_name: '__keras_tensor__', config: { shape: [null], dtype: 'float32', keras_history: [name, 0, 0] } });
  const layers = json.modelTopology.model_config.config.layers.map((l) => {
    const names = (l.inbound_nodes as unknown as [string][][]).flat().map((t) => t[0]);
    const args = names.length === 0 ? [] : names.length === 1 ? [tensor(names[0])] : [names.map(tensor)];
    const config = l.class_name === 'InputLayer' ? { batch_shape: [null, 4, 4, 2], dtype: 'float32', name: 'in' } : l.config;
    return { module: 'keras.layers', class_name: l.class_name, name: l.name, config, inbound_nodes: names.length ? [{ args, kwargs: {} }] : [] };
  });
  const model_config = { class_name: 'Functional', config: { ...json.modelTopology.model_config.config, layers, input_layers: [['in', 0, 0]], output_layers: [['d', 0, 0]] } };
  return { ...json, modelTopology: { ...json.modelTopology, keras_version: '3.3.3', model_config } };
}

describe('Keras-converted model.json files', () => {
  it('the Keras 2 and Keras 3 spellings of a functional conv model import to the same spec and weights, kernels transposed', () => {
    const weights = Float32Array.from({ length: TFJS_CONV_FLOATS }, (_, i) => Math.sin(i + 1));
    const write = (name: string, json: unknown) => {
      const dir = path.join(tmp, name);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'w.bin'), Buffer.from(weights.buffer));
      fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
      return importTfjsModel(path.join(dir, 'model.json'));
    };
    const k2 = write('keras2', tfjsConvModel(['w.bin']));
    const k3 = write('keras3', asKeras3(tfjsConvModel(['w.bin'])));
    assert.equal(k2.spec.arch!.text, 'input(2,4,4) res(conv(2,3,pad=same) relu bn(eps=0.001)) flatten dense(3)');
    assert.equal(k3.spec.arch!.text, k2.spec.arch!.text);
    assert.deepEqual(k3.theta, k2.theta);
    assert.deepEqual(k3.buffers, k2.buffers);
    // Conv weight [out, in, y, x] from Keras' kernel [y, x, in, out] (weights 0..35); its bias follows (36, 37).
    const at = (o: number, i: number, y: number, x: number) => k2.theta[((o * 2 + i) * 3 + y) * 3 + x];
    assert.equal(at(1, 0, 2, 1), weights[((2 * 3 + 1) * 2 + 0) * 2 + 1]);
    assert.equal(k2.theta[36], weights[36]);
    // BatchNorm: gamma, beta in θ; moving mean and variance (weights 42..45) as buffers.
    assert.deepEqual(Array.from(k2.buffers!), Array.from(weights.subarray(42, 46)));
  });
});

const PAD_INPUT = [8, 8, 2];

/** Keras' uneven 'same' (3×3 stride 2 on 8×8: no row on top, one below) and a ZeroPadding2D with four different sides, then softmax. */
function unevenPaddingModel(): tfl.LayersModel {
  const m = tfl.sequential();
  m.add(tfl.layers.conv2d({ inputShape: PAD_INPUT, filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }));
  m.add(tfl.layers.zeroPadding2d({ padding: [[1, 0], [2, 1]] }));
  m.add(tfl.layers.conv2d({ filters: 4, kernelSize: 2, padding: 'same' }));
  m.add(tfl.layers.flatten());
  m.add(tfl.layers.dense({ units: 5, activation: 'softmax' }));
  randomize(m, 21);
  return m;
}

/** A ResNet-style downsampling block as Keras writes it: 3×3 stride-2 'same' conv on an even input, 1×1 stride-2 projection. */
function stridedBlockModel(): tfl.LayersModel {
  const input = tfl.input({ shape: PAD_INPUT });
  const convBn = (x: tfl.SymbolicTensor, k: number, strides: number) => apply(tfl.layers.batchNormalization(), apply(tfl.layers.conv2d({ filters: 4, kernelSize: k, strides, padding: 'same', useBias: false }), x));
  const body = convBn(apply(tfl.layers.activation({ activation: 'relu' }), convBn(input, 3, 2)), 3, 1);
  const added = apply(tfl.layers.activation({ activation: 'relu' }), apply(tfl.layers.add(), [body, convBn(input, 1, 2)]));
  const m = tfl.model({ inputs: input, outputs: apply(tfl.layers.dense({ units: 3 }), apply(tfl.layers.globalAveragePooling2d({}), added)) });
  randomize(m, 22, 1);
  return m;
}

describe("Keras' uneven 'same' padding and ZeroPadding2D import as zeropad", () => {
  it("Sequential: the conv's uneven 'same' becomes zeropad(0,1,0,1) + a valid conv, ZeroPadding2D a zeropad; predictions and cross-entropy equal Keras'", async () => {
    const model = unevenPaddingModel();
    const m = importTfjsModel(await save(model, 'uneven'));
    // 8 → zeropad(0,1,0,1) 9 → conv 3/2 → 4; zeropad(1,0,2,1) → 5×7; conv 2 'same' stride 1 pads 1 below and right → 5×7.
    assert.equal(m.spec.arch!.text, 'input(2,8,8) zeropad(0,1,0,1) conv(3,3,stride=2) relu zeropad(1,0,2,1) zeropad(0,1,0,1) conv(4,2) flatten dense(5)');
    const n = 16;
    const { nhwc, rows } = images(n, PAD_INPUT, 8);
    const probs = kerasOutputs(model, nhwc, PAD_INPUT);
    const ours = softmaxRows(ourOutputs(m.spec, m.theta, rows), 5);
    assert.ok(maxAbsDiff(ours, probs) < 2e-6, `max difference ${maxAbsDiff(ours, probs)}`);
    const labels = Array.from({ length: n }, (_, i) => (i * 3) % 5);
    const want = crossEntropy(probs, labels, 5);
    const got = ourLoss(m.spec, m.theta, rows, oneHot(labels, 5), undefined, false);
    assert.ok(Math.abs(got - want) < 2e-5 * want, `${got} vs Keras ${want}`);
    // The kernels have no zeropad: they decline, and evaluation ran on tfjs.
    assert.equal(fastEvaluateLayered(m.spec, { x: rows, y: oneHot(labels, 5), n }, m.theta), null);
    // The symmetric split Landscape used to need would be measurably wrong.
    const symmetric = modelSpecFromText(m.spec.arch!.text.replace('zeropad(0,1,0,1) conv(3,3,stride=2)', 'zeropad(1,0,1,0) conv(3,3,stride=2)'), { loss: 'cross-entropy' });
    assert.ok(maxAbsDiff(softmaxRows(ourOutputs(symmetric, m.theta, rows), 5), probs) > 1e-3, 'padding on the wrong side would have been caught');
  });

  it('a functional block with a stride-2 same conv on an even input: zeropad inside res(...), the 1×1 projection unchanged, outputs equal model.predict', async () => {
    const model = stridedBlockModel();
    const m = importTfjsModel(await save(model, 'strided-block'));
    assert.equal(
      m.spec.arch!.text,
      'input(2,8,8) res(zeropad(0,1,0,1) conv(4,3,stride=2,bias=false) bn(eps=0.001) relu conv(4,3,pad=same,bias=false) bn(eps=0.001)) relu gap dense(3)',
    );
    const { nhwc, rows } = images(6, PAD_INPUT, 9);
    const keras = kerasOutputs(model, nhwc, PAD_INPUT);
    const ours = ourOutputs(m.spec, m.theta, rows, m.buffers);
    const scale = Math.max(...Array.from(keras, Math.abs));
    assert.ok(scale > 0.1 && scale < 100, `outputs of order 1 (largest ${scale})`);
    assert.ok(maxAbsDiff(ours, keras) < 1e-5 * scale, `max difference ${maxAbsDiff(ours, keras)} of ${scale}`);
  });
});

describe('tfjs / Keras conv models that cannot import say why', () => {
  async function refused(model: tfl.LayersModel, name: string, re: RegExp, edit?: (dir: string) => void): Promise<void> {
    const file = await save(model, name);
    edit?.(path.dirname(file));
    assert.throws(() => importTfjsModel(file), (e: unknown) => e instanceof LandscapeError && e.kind === 'input' && re.test(e.message) && e.message.includes(file), String(re));
    const r = await runCli(['eval', path.dirname(file), '--data', 'digits', '--backend', 'cpu']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, re);
  }

  it('an unsupported layer, channels_first, padded pooling, a non-residual Add, missing weights', async () => {
    const up = tfl.sequential({ layers: [tfl.layers.conv2d({ inputShape: [6, 6, 1], filters: 2, kernelSize: 3, name: 'c1' }), tfl.layers.upSampling2d({ name: 'up' }), tfl.layers.flatten(), tfl.layers.dense({ units: 2 })] });
    await refused(up, 'up', /layer "up" \(UpSampling2D\) is not supported/);
    const cf = tfl.sequential({ layers: [tfl.layers.conv2d({ inputShape: [1, 6, 6], filters: 2, kernelSize: 3, dataFormat: 'channelsFirst', name: 'cf' }), tfl.layers.flatten(), tfl.layers.dense({ units: 2 })] });
    await refused(cf, 'cf', /layer "cf" \(Conv2D\) uses data_format channels_first/);
    // TF's padded pooling leaves the padding out (max, average), which no zeropad reproduces.
    const pool = tfl.sequential({ layers: [tfl.layers.maxPooling2d({ inputShape: [8, 8, 1], poolSize: 3, strides: 2, padding: 'same', name: 'mp' }), tfl.layers.flatten(), tfl.layers.dense({ units: 2 })] });
    await refused(pool, 'pool-same', /layer "mp" \(MaxPooling2D\) pads its windows \('same'\), which pooling does without counting the padding/);
    const badPad = tfl.sequential({ layers: [tfl.layers.zeroPadding2d({ inputShape: [4, 4, 1], padding: 1, name: 'zp' }), tfl.layers.flatten(), tfl.layers.dense({ units: 2 })] });
    await refused(badPad, 'bad-pad', /layer "zp" \(ZeroPadding2D\) has padding \[\[1,-1\],\[1,1\]\]; expected p, \[h, w\] or \[\[top, bottom\], \[left, right\]\]/, (dir) => {
      const f = path.join(dir, 'model.json');
      fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('"padding":[[1,1],[1,1]]', '"padding":[[1,-1],[1,1]]'));
    });
    const input = tfl.input({ shape: [5, 5, 2] });
    const a = tfl.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same' }).apply(input) as tfl.SymbolicTensor;
    const b = tfl.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same' }).apply(input) as tfl.SymbolicTensor;
    const sum = tfl.layers.add({ name: 'join' }).apply([a, b]) as tfl.SymbolicTensor;
    const twoBranches = tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 2 }).apply(tfl.layers.flatten().apply(sum)) as tfl.SymbolicTensor });
    await refused(twoBranches, 'two-branches', /Add layer "join" joins two branches neither of which/);
    await refused(sequentialModel(), 'no-shard', /weight shard "weights.bin" listed in model.json is missing/, (dir) => fs.rmSync(path.join(dir, 'weights.bin')));
    await refused(sequentialModel(), 'renamed', /has no weight ".*\/moving_variance" for layer/, (dir) => {
      const f = path.join(dir, 'model.json');
      fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace(/moving_variance"/g, 'moving_var"'));
    });
  });
});
