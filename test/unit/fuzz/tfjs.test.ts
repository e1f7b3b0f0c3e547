/**
 * Hardening fuzzer for the tfjs model.json importer: random JSON, random
 * text, and structural mutations of a valid Sequential/Dense model.json and
 * of a functional conv/BatchNorm/Add one (tfjsConvModel), each
 * with weight shards of the right or the wrong size, written into one reused
 * temp folder. 10,000 cases per property; every case must end quickly, stay
 * within the memory bound stated in src/engine/checkpoint/tfjs-import.ts, and
 * either import or give a readable input error naming the model's folder.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import fc from 'fast-check';
import { importTfjsModel } from '../../../src/engine/checkpoint';
import { FUZZ_RUNS, Tally, anyText, applyByteMutations, byteMutation, fuzzParams, runCase, type CaseContext } from '../../support/fuzz-harness';
import { makeFastTempDir, removeTempDir } from '../../support/tmp';
import { TFJS_CONV_FLOATS, tfjsConvModel, tfjsDenseModel } from '../../support/tfjsModel';

const TIMEOUT = { timeout: 180_000 };

let dir: string;
let modelFile: string;

before(() => {
  dir = makeFastTempDir('fuzz-tfjs');
  modelFile = path.join(dir, 'model.json');
  // A folder where a shard might be named, and a shard in a subfolder.
  fs.mkdirSync(path.join(dir, 'sub'));
  fs.writeFileSync(path.join(dir, 'sub', 's3.bin'), Buffer.alloc(8));
});
after(() => {
  removeTempDir(dir);
});

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function baseModel(): { [k: string]: Json } {
  return tfjsDenseModel({ names: ['d1', 'drop', 'd2'], shards: ['s1.bin', 's2.bin'] }) as { [k: string]: Json };
}
const BASE_FLOATS = 15 + 5 + 10 + 2;

/** Every path (list of keys) into a JSON value, the root included. */
function paths(v: Json, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v !== null && typeof v === 'object') for (const k of Object.keys(v)) paths(v[k], [...at, k], out);
  return out;
}

function getAt(v: Json, p: (string | number)[]): Json {
  let cur: Json = v;
  for (const k of p) cur = (cur as Record<string, Json>)[k as string];
  return cur;
}

const nasty: fc.Arbitrary<Json> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<Json>(null, true, false, 0, -1, 1.5, 1e308, -0, 2 ** 53, 2 ** 31, 1 << 20, (1 << 20) + 1, '', 'Dense', 'InputLayer', 'Conv2D', 'Sequential', 'linear', 'softmax', 'tanh', 'float16', 'int32', 'graph-model', 'Add', 'Flatten', 'BatchNormalization', 'Functional', 'ZeroPadding2D', [[0, 1], [0, 1]], [[1, 1], [2, 2]], 'same', 'valid', 'channels_first', [3, 3], [null, 4, 4, 2], [[['in', 0, 0, {}]]], [['c1', 0, 0]], '../x.bin', '/etc/passwd', 'http://example.com/w.bin', 'sub', 'sub/s3.bin', 'model.json', '.', 's1.bin', 's2.bin', [], {}, [null, 3], [null, 3, 3], [3, 5], [5], [100000, 100000], [2 ** 40, 2 ** 40]) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json> },
  { weight: 1, arbitrary: anyText(40) },
);

const jsonMutation = fc.record({
  at: fc.nat(),
  op: fc.constantFrom('replace', 'delete', 'dup', 'addKey', 'wrap'),
  key: fc.constantFrom('units', 'use_bias', 'useBias', 'activation', 'batch_input_shape', 'input_shape', 'name', 'quantization', 'dtype', 'shape', 'paths', 'weights', 'model_config', 'trainingConfig', 'training_config', 'loss', 'format', '__proto__', 'constructor', 'class_name', 'config', 'layers', 'filters', 'kernel_size', 'strides', 'padding', 'epsilon', 'axis', 'data_format', 'inbound_nodes', 'input_layers', 'output_layers', 'center', 'scale'),
  value: nasty,
});
type JsonMutation = typeof jsonMutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(root: { [k: string]: Json }, ms: readonly JsonMutation[]): Json {
  let v: Json = structuredClone(root);
  for (const m of ms) {
    const all = paths(v);
    const p = all[m.at % all.length];
    if (p.length === 0) {
      if (m.op === 'replace') v = m.value;
      continue;
    }
    const parent = getAt(v, p.slice(0, -1)) as Record<string, Json> | Json[];
    const k = p[p.length - 1];
    const cur = (parent as Record<string, Json>)[k as string];
    switch (m.op) {
      case 'replace':
        (parent as Record<string, Json>)[k as string] = m.value;
        break;
      case 'delete':
        if (Array.isArray(parent)) parent.splice(k as number, 1);
        else delete parent[k as string];
        break;
      case 'dup':
        if (Array.isArray(parent)) parent.splice(k as number, 0, structuredClone(cur));
        else if (Array.isArray(cur)) cur.push(...structuredClone(cur));
        break;
      case 'addKey':
        if (cur !== null && typeof cur === 'object' && !Array.isArray(cur)) Object.defineProperty(cur, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
        break;
      case 'wrap':
        (parent as Record<string, Json>)[k as string] = [cur];
        break;
    }
  }
  return v;
}

/** Little-endian float32 bytes of small finite values. */
function floats(n: number, seed: number): Buffer {
  const b = Buffer.alloc(4 * n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    b.writeFloatLE((s / 2 ** 32) * 2 - 1, 4 * i);
  }
  return b;
}

const shardsArb = fc.oneof(
  // Right total size, split anywhere (also inside a float).
  { weight: 4, arbitrary: fc.tuple(fc.integer({ min: 0, max: 4 * BASE_FLOATS }), fc.integer()).map(([cut, seed]) => { const b = floats(BASE_FLOATS, seed); return [b.subarray(0, cut), b.subarray(cut)]; }) },
  { weight: 2, arbitrary: fc.tuple(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 200 })).map(([a, b]) => [Buffer.from(a), Buffer.from(b)]) },
  { weight: 1, arbitrary: fc.tuple(fc.integer(), fc.array(byteMutation(4 * BASE_FLOATS), { maxLength: 3 })).map(([seed, ms]) => { const b = applyByteMutations(floats(BASE_FLOATS, seed), ms); return [b.subarray(0, 37), b.subarray(37)]; }) },
);

function writeCase(modelJson: string | Buffer, shards: Buffer[]): number {
  fs.writeFileSync(modelFile, modelJson);
  fs.writeFileSync(path.join(dir, 's1.bin'), shards[0]);
  fs.writeFileSync(path.join(dir, 's2.bin'), shards[1]);
  return Buffer.byteLength(modelJson) + shards[0].length + shards[1].length;
}

/** The documented bound: a few copies of the shard bytes plus the JSON text. */
function ctx(inputBytes: number, input: string): CaseContext {
  return { file: dir, input, bounds: { arrayBufferBytes: (1 << 20) + 8 * inputBytes } };
}

const importIt = () => importTfjsModel(modelFile, { maxBytes: 1 << 20 });

describe(`tfjs model.json importer fuzz (${FUZZ_RUNS} cases per property)`, () => {
  it('the unmutated model imports', () => {
    writeCase(JSON.stringify(baseModel()), [floats(BASE_FLOATS, 1).subarray(0, 40), floats(BASE_FLOATS, 1).subarray(40)]);
    assert.equal(runCase(importIt, ctx(1000, '')), 'ok');
    assert.deepEqual(importIt().spec.layers, [3, 5, 2]);
  });

  it('structural mutations of a valid model.json, with right and wrong shards', TIMEOUT, () => {
    const t = new Tally();
    fc.assert(
      fc.property(fc.array(jsonMutation, { maxLength: 4 }), shardsArb, (ms, shards) => {
        const text = JSON.stringify(mutate(baseModel(), ms)) ?? 'null';
        const n = writeCase(text, shards);
        t.add(runCase(importIt, ctx(n, text)));
      }),
      fuzzParams(201),
    );
    assert.ok(t.ok > 0 && t.rejected > 0, String(t));
  });

  it('the unmutated conv model imports as a layer-grammar model', () => {
    const f = floats(TFJS_CONV_FLOATS, 1);
    writeCase(JSON.stringify(tfjsConvModel(['s1.bin', 's2.bin'])), [f.subarray(0, 100), f.subarray(100)]);
    assert.equal(runCase(importIt, ctx(2000, '')), 'ok');
    assert.equal(importIt().spec.arch?.text, 'input(2,4,4) res(conv(2,3,pad=same) relu bn(eps=0.001)) flatten dense(3)');
  });

  it('structural mutations of a valid functional conv model.json, with right and wrong shards', TIMEOUT, () => {
    const t = new Tally();
    const shards = fc.oneof(
      { weight: 4, arbitrary: fc.tuple(fc.integer({ min: 0, max: 4 * TFJS_CONV_FLOATS }), fc.integer()).map(([cut, seed]) => { const b = floats(TFJS_CONV_FLOATS, seed); return [b.subarray(0, cut), b.subarray(cut)]; }) },
      { weight: 1, arbitrary: shardsArb },
    );
    fc.assert(
      fc.property(fc.array(jsonMutation, { maxLength: 4 }), shards, (ms, sh) => {
        const text = JSON.stringify(mutate(tfjsConvModel(['s1.bin', 's2.bin']) as unknown as { [k: string]: Json }, ms)) ?? 'null';
        const n = writeCase(text, sh);
        t.add(runCase(importIt, ctx(n, text)));
      }),
      fuzzParams(205),
    );
    assert.ok(t.ok > 0 && t.rejected > 0, String(t));
  });

  it('random JSON and random text as model.json', TIMEOUT, () => {
    const t = new Tally();
    fc.assert(
      fc.property(
        fc.oneof(
          { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
          { weight: 2, arbitrary: fc.record({ format: nasty, modelTopology: nasty, weightsManifest: nasty }, { requiredKeys: [] }).map((v) => JSON.stringify(v)) },
          { weight: 1, arbitrary: anyText(300) },
          { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1')) },
        ),
        shardsArb,
        (text, shards) => {
          const n = writeCase(text, shards);
          t.add(runCase(importIt, ctx(n, text)));
        },
      ),
      fuzzParams(202),
    );
    assert.ok(t.rejected > 0, String(t));
  });

  it('byte mutations of a valid model.json (broken UTF-8, truncation)', TIMEOUT, () => {
    const valid = Buffer.from(JSON.stringify(baseModel()));
    const t = new Tally();
    fc.assert(
      fc.property(fc.array(byteMutation(valid.length), { minLength: 1, maxLength: 3 }), fc.integer(), (ms, seed) => {
        const b = applyByteMutations(valid, ms);
        const f = floats(BASE_FLOATS, seed);
        const n = writeCase(b, [f.subarray(0, 64), f.subarray(64)]);
        t.add(runCase(importIt, ctx(n, b.toString('latin1'))));
      }),
      fuzzParams(203),
    );
    assert.ok(t.ok > 0 && t.rejected > 0, String(t));
  });

  it('huge declared layers and weights with tiny shards allocate nothing', TIMEOUT, () => {
    const big = fc.constantFrom(1 << 20, (1 << 20) + 1, 2 ** 31, 2 ** 40, 2 ** 53 - 1, 1e308, 100000);
    fc.assert(
      fc.property(big, big, fc.nat(3), fc.boolean(), (a, b, which, claimShape) => {
        const m = baseModel() as { modelTopology: { config: { layers: { config: Record<string, Json> }[] } }; weightsManifest: { weights: { shape: Json }[] }[] };
        const layers = m.modelTopology.config.layers;
        if (which === 0) layers[0].config.units = a;
        else if (which === 1) layers[0].config.batch_input_shape = [null, a];
        else if (which === 2) layers[2].config.units = b;
        else {
          layers[0].config.units = a;
          layers[2].config.units = b;
        }
        if (claimShape) m.weightsManifest[0].weights[0].shape = [a, b];
        const text = JSON.stringify(m);
        const f = floats(BASE_FLOATS, a ^ b);
        const n = writeCase(text, [f.subarray(0, 64), f.subarray(64)]);
        assert.equal(runCase(importIt, ctx(n, text)), 'input-error');
      }),
      fuzzParams(204, Math.min(FUZZ_RUNS, 2000)),
    );
  });
});
