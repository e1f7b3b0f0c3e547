import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import fc from 'fast-check';
import { spawnSync } from 'child_process';
import { initBackend, tf } from '../../../src/engine/backend';
import { LandscapeError } from '../../../src/engine/errors';
import { Rng } from '../../../src/engine/rng';
import { makeSpec, paramLayout, paramCount, initParams, ModelSpec } from '../../../src/engine/model/spec';
import { networkObjective, forwardBatched } from '../../../src/engine/model/network';
import { evaluateValues } from '../../../src/engine/objective';
import {
  encodeSafetensors,
  decodeSafetensors,
  readSafetensors,
  readSafetensorsHeader,
  writeFileAtomic,
  writeFileAtomicSync,
  writeJsonAtomic,
  removeStaleTempFiles,
  isAtomicTempFile,
  saveCheckpoint,
  encodeCheckpoint,
  loadCheckpoint,
  loadCheckpointSync,
  loadModelFile,
  readCheckpointSummary,
  importTorchSafetensors,
  importTfjsModel,
  CheckpointMeta,
  MAX_CHECKPOINT_BYTES_ENV,
  TensorIn,
} from '../../../src/engine/checkpoint';
import { assertInputError, errorFrom, errorFromAsync } from '../../support/errors';
import { tfjsDenseModel } from '../../support/tfjsModel';
import { makeTempDir, removeTempDir } from '../../support/tmp';

let tmp: string;
const F = 'test.safetensors';

function fullMeta(over: Partial<CheckpointMeta> = {}): CheckpointMeta {
  return {
    formatVersion: '1',
    model: '4-5-3',
    activation: 'tanh',
    bias: 'true',
    loss: 'cross-entropy',
    dataset: 'spirals',
    datasetSeed: '7',
    testFraction: '0.2',
    optimizer: 'adam',
    hyperparameters: JSON.stringify({ lr: 0.01, beta1: 0.9 }),
    seed: '42',
    step: '120',
    epoch: '12',
    trainLoss: '0.5',
    testLoss: '0.625',
    trainAccuracy: '0.75',
    testAccuracy: '',
    backend: 'cpu',
    time: '2026-01-02T03:04:05.000Z',
    ...over,
  };
}

function randomTheta(spec: ModelSpec, seed: number): Float32Array {
  const r = new Rng(seed);
  const t = new Float32Array(paramCount(spec));
  for (let i = 0; i < t.length; i++) t[i] = r.normal();
  return t;
}

function bytesOf(a: Float32Array | Float64Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** A safetensors file from a header (object or raw text) and data bytes, with an optional forged length. */
function raw(header: unknown, data: Buffer | number[] = [], n?: bigint): Buffer {
  const h = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(n ?? BigInt(h.length));
  return Buffer.concat([len, h, Buffer.from(data as number[])]);
}

function f32(...v: number[]): Buffer {
  return bytesOf(Float32Array.from(v));
}

/** Assert an input error naming the file and matching the fault. */
function assertInput(fn: () => unknown, re: RegExp, file = F): LandscapeError {
  return namesFile(errorFrom(fn), re, file);
}

async function assertInputAsync(p: Promise<unknown>, re: RegExp, file: string): Promise<LandscapeError> {
  return namesFile(await errorFromAsync(() => p), re, file);
}

function namesFile(caught: unknown, re: RegExp, file: string): LandscapeError {
  assertInputError(caught, re);
  assert.ok(caught.message.includes(file), `message should name the file: ${caught.message}`);
  return caught;
}

const decode = (b: Buffer, opts = {}) => decodeSafetensors(b, F, { maxBytes: 1 << 20, ...opts });

before(async () => {
  await initBackend('cpu', { force: true });
  tmp = makeTempDir('ckpt');
});

after(() => {
  removeTempDir(tmp);
});

describe('safetensors encoding', () => {
  it('writes the exact bytes of the reference layout', () => {
    const buf = encodeSafetensors([{ name: 'a', dtype: 'F32', shape: [1], data: Float32Array.of(1) }], {});
    const header = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    assert.equal(header.length, 54);
    const expected = Buffer.concat([Buffer.from([56, 0, 0, 0, 0, 0, 0, 0]), Buffer.from(header + '  '), Buffer.from([0, 0, 0x80, 0x3f])]);
    assert.deepEqual(buf, expected);
  });

  it('orders tensors by dtype size then name, metadata first with sorted keys, header padded to 8', () => {
    const buf = encodeSafetensors(
      [
        { name: 'b', dtype: 'F32', shape: [2], data: Float32Array.of(1, 2) },
        { name: 'a', dtype: 'F32', shape: [1], data: Float32Array.of(3) },
        { name: 'z', dtype: 'F64', shape: [1], data: Float64Array.of(4) },
      ],
      { zeta: '1', alpha: '2' },
    );
    const n = Number(buf.readBigUInt64LE(0));
    assert.equal(n % 8, 0);
    const text = buf.subarray(8, 8 + n).toString('utf8');
    assert.match(text, /^\{"__metadata__":\{"alpha":"2","zeta":"1"\},"z":.*"data_offsets":\[0,8\]\},"a":.*\[8,12\]\},"b":.*\[12,20\]\}\}\s*$/);
    const h = JSON.parse(text);
    assert.deepEqual(Object.keys(h), ['__metadata__', 'z', 'a', 'b']);
  });

  it('round-trips F32 and F64 bit for bit, including -0, subnormals and extremes', () => {
    const a = Float32Array.of(-0, 1.401298464324817e-45, 3.4028234663852886e38, -1.5, 0.1);
    const b = Float64Array.of(-0, 5e-324, 1.7976931348623157e308, Math.PI);
    const tensors: TensorIn[] = [
      { name: 'a', dtype: 'F32', shape: [5], data: a },
      { name: 'b', dtype: 'F64', shape: [2, 2], data: b },
      { name: 'empty', dtype: 'F32', shape: [0, 3], data: new Float32Array(0) },
    ];
    const out = decode(encodeSafetensors(tensors, { note: 'héllo "quoted" \n' }));
    assert.deepEqual(bytesOf(out.tensors.get('a')!.data), bytesOf(a));
    assert.deepEqual(bytesOf(out.tensors.get('b')!.data), bytesOf(b));
    assert.deepEqual(out.tensors.get('b')!.shape, [2, 2]);
    assert.equal(out.tensors.get('empty')!.data.length, 0);
    assert.ok(out.tensors.get('b')!.data instanceof Float64Array);
    assert.deepEqual(out.metadata, { note: 'héllo "quoted" \n' });
  });

  it('refuses inconsistent input', () => {
    assert.throws(() => encodeSafetensors([{ name: 'a', dtype: 'F32', shape: [3], data: new Float32Array(2) }]), /holds 3 values but 2/);
    assert.throws(() => encodeSafetensors([{ name: 'a', dtype: 'F64', shape: [2], data: new Float32Array(2) }]), /needs a Float64Array/);
    const t = { name: 'a', dtype: 'F32' as const, shape: [1], data: new Float32Array(1) };
    assert.throws(() => encodeSafetensors([t, t]), /given twice/);
  });
});

describe('safetensors validation: each fault has its own message', () => {
  const ok = () => raw({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, f32(1, 2));

  it('accepts the hand-built baseline', () => {
    assert.deepEqual([...decode(ok()).tensors.get('w')!.data], [1, 2]);
  });

  it('too short for the length prefix', () => {
    assertInput(() => decode(Buffer.alloc(0)), /file is 0 bytes, shorter than the 8-byte/);
    assertInput(() => decode(Buffer.alloc(7)), /file is 7 bytes, shorter than the 8-byte/);
  });

  it('header length beyond the file', () => {
    const b = ok();
    b.writeBigUInt64LE(BigInt(b.length), 0);
    assertInput(() => decode(b), /header length \d+ is larger than the rest of the file/);
  });

  it('header-length bomb (2^60, 2^64-1) is refused without allocating', () => {
    const before = process.memoryUsage().arrayBuffers;
    for (const n of [1n << 60n, (1n << 64n) - 1n]) {
      const e = assertInput(() => decode(raw('{}', [], n)), /header length \d+ is larger than the rest of the file \(2 bytes/);
      assert.ok(e.message.includes(String(n)));
    }
    assert.ok(process.memoryUsage().arrayBuffers - before < 50e6);
  });

  it('header longer than the header cap', () => {
    const b = raw({ w: { dtype: 'F32', shape: [0], data_offsets: [0, 0] }, __metadata__: { pad: 'x'.repeat(100) } });
    assertInput(() => decode(b, { maxHeaderBytes: 64 }), /header is too large: \d+ bytes exceeds the limit of 64/);
  });

  it('header too short to be an object', () => {
    assertInput(() => decode(raw('', [])), /header length 0 is too short/);
  });

  it('invalid UTF-8', () => {
    const b = Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from([0x7b, 0xff, 0xfe, 0x7d])]);
    assertInput(() => decode(b), /header is not valid UTF-8/);
  });

  it('invalid JSON', () => {
    assertInput(() => decode(raw('{"w": {', [])), /header is not valid JSON/);
  });

  it('header not an object', () => {
    assertInput(() => decode(raw('[1,2]')), /must be a JSON object, found an array/);
    assertInput(() => decode(raw('null')), /must be a JSON object, found null/);
    assertInput(() => decode(raw('42')), /must be a JSON object, found number 42/);
  });

  it('metadata not string -> string', () => {
    assertInput(() => decode(raw({ __metadata__: [] })), /"__metadata__" must be an object of string values, found an array/);
    assertInput(() => decode(raw({ __metadata__: { step: 3 } })), /"__metadata__" values must be strings, but "step" holds number 3/);
    assertInput(() => decode(raw({ __metadata__: { a: null } })), /but "a" holds null/);
  });

  it('tensor entry not an object / missing fields', () => {
    assertInput(() => decode(raw({ w: 5 })), /tensor "w": header entry must be an object with dtype, shape and data_offsets/);
    assertInput(() => decode(raw({ w: { shape: [0], data_offsets: [0, 0] } })), /tensor "w": header entry has no "dtype"/);
    assertInput(() => decode(raw({ w: { dtype: 'F32', data_offsets: [0, 0] } })), /tensor "w": header entry has no "shape"/);
    assertInput(() => decode(raw({ w: { dtype: 'F32', shape: [0] } })), /tensor "w": header entry has no "data_offsets"/);
  });

  it('unsupported dtype names the tensor and the dtype', () => {
    assertInput(() => decode(raw({ w: { dtype: 'F16', shape: [2], data_offsets: [0, 4] } }, [0, 0, 0, 0])), /tensor "w" has dtype F16; only F32 and F64 are supported/);
    assertInput(() => decode(raw({ w: { dtype: 'BF16', shape: [2], data_offsets: [0, 4] } }, [0, 0, 0, 0])), /tensor "w" has dtype BF16/);
    assertInput(() => decode(raw({ w: { dtype: 'Q4', shape: [1], data_offsets: [0, 4] } }, f32(1))), /tensor "w" has unknown dtype "Q4"/);
    assertInput(() => decode(raw({ w: { dtype: 7, shape: [1], data_offsets: [0, 4] } }, f32(1))), /tensor "w": dtype must be a string/);
  });

  it('bad shapes', () => {
    for (const shape of [5, [-1], [1.5], ['2'], [2 ** 53], [2 ** 30, 2 ** 30, 2 ** 30], null]) {
      assertInput(() => decode(raw({ w: { dtype: 'F32', shape, data_offsets: [0, 4] } }, f32(1))), /tensor "w": shape must be a list of whole numbers/);
    }
  });

  it('bad offsets', () => {
    for (const o of [[0], [0, 4, 8], [0, 4.5], [-4, 0], '0,4', [0, '4']]) {
      assertInput(() => decode(raw({ w: { dtype: 'F32', shape: [1], data_offsets: o } }, f32(1))), /tensor "w": data_offsets must be two whole numbers/);
    }
    assertInput(() => decode(raw({ w: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, f32(1))), /data_offsets \[4, 0\] begin after they end/);
    assertInput(() => decode(raw({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, f32(1))), /data_offsets \[0, 8\] reach outside the data section \(4 bytes/);
  });

  it('shape and offsets disagree', () => {
    assertInput(
      () => decode(raw({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 12] } }, f32(1, 2, 3))),
      /tensor "w": shape \[2\] of F32 needs 8 bytes but data_offsets \[0, 12\] span 12/,
    );
    assertInput(
      () => decode(raw({ w: { dtype: 'F64', shape: [2], data_offsets: [0, 8] } }, f32(1, 2))),
      /shape \[2\] of F64 needs 16 bytes but data_offsets \[0, 8\] span 8/,
    );
  });

  it('overlapping tensors', () => {
    const h = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } };
    assertInput(() => decode(raw(h, f32(1, 2, 3))), /tensors "a" and "b" overlap/);
    const same = { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } };
    assertInput(() => decode(raw(same, f32(1))), /tensors "a" and "b" overlap/);
  });

  it('holes and trailing bytes are not covered', () => {
    const hole = { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } };
    assertInput(() => decode(raw(hole, f32(1, 2, 3))), /data bytes 4\.\.8 are not covered by any tensor \(a hole before "b"\)/);
    const late = { a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } };
    assertInput(() => decode(raw(late, f32(1, 2))), /data bytes 0\.\.4 are not covered .*hole before "a"/);
    assertInput(() => decode(raw({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32(1, 2))), /data bytes 4\.\.8 are not covered by any tensor \(4 trailing bytes/);
  });

  it('non-finite values name the tensor and the index', () => {
    const h = { w: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] } };
    assertInput(() => decode(raw(h, f32(1, 2, 3, NaN))), /tensor "w" holds a non-finite value \(NaN\) at flat index 3 \(position \[1, 1\]\)/);
    assertInput(() => decode(raw(h, f32(1, -Infinity, 3, 4))), /non-finite value \(-Infinity\) at flat index 1 \(position \[0, 1\]\)/);
    const d = { w: { dtype: 'F64', shape: [1], data_offsets: [0, 8] } };
    assertInput(() => decode(raw(d, bytesOf(Float64Array.of(Infinity)))), /tensor "w" holds a non-finite value \(Infinity\) at flat index 0/);
    // ...unless explicitly allowed
    assert.ok(Number.isNaN(decode(raw(h, f32(1, 2, 3, NaN)), { allowNonFinite: true }).tensors.get('w')!.data[3]));
  });

  it('names from the file cannot inject control characters or unbounded text into messages', () => {
    const name = '\u001b[31mred\nnext\u202e' + 'x'.repeat(5000);
    const e = assertInput(() => decode(raw({ [name]: { dtype: 'F16', shape: [1], data_offsets: [0, 2] } }, [0, 0])), /has dtype F16/);
    assert.doesNotMatch(e.message, /[\u0000-\u001f\u202e]/);
    assert.match(e.message, /\\u001b\[31mred\\u000anext\\u202e/);
    assert.ok(e.message.length < 1200);
    const j = assertInput(() => decode(raw('{"a\u0007": \u0001}')), /not valid JSON/);
    assert.doesNotMatch(j.message, /[\u0000-\u001f]/);
  });

  it('file over the size cap says "too large", from stat, before reading', async () => {
    const file = path.join(tmp, 'big.safetensors');
    fs.writeFileSync(file, ok());
    assertInput(() => decodeSafetensors(ok(), F, { maxBytes: 8 }), /checkpoint is too large: 70 bytes .* exceeds the limit of 8 bytes/);
    await assertInputAsync(readSafetensors(file, { maxBytes: 10 }), /too large: 70 bytes/, file);
    const old = process.env[MAX_CHECKPOINT_BYTES_ENV];
    try {
      process.env[MAX_CHECKPOINT_BYTES_ENV] = '16';
      await assertInputAsync(readSafetensors(file), /too large: 70 bytes.*LANDSCAPE_MAX_CHECKPOINT_BYTES/, file);
      process.env[MAX_CHECKPOINT_BYTES_ENV] = '1K';
      assert.equal((await readSafetensors(file)).tensors.size, 1);
      process.env[MAX_CHECKPOINT_BYTES_ENV] = 'lots';
      await assert.rejects(readSafetensors(file), (e: unknown) => e instanceof LandscapeError && e.kind === 'input' && /LANDSCAPE_MAX_CHECKPOINT_BYTES="lots" is not a size/.test(e.message));
    } finally {
      if (old === undefined) delete process.env[MAX_CHECKPOINT_BYTES_ENV];
      else process.env[MAX_CHECKPOINT_BYTES_ENV] = old;
    }
  });

  it('missing file and directory give clear input errors', async () => {
    const missing = path.join(tmp, 'nope.safetensors');
    await assertInputAsync(readSafetensors(missing), /checkpoint file not found/, missing);
    await assertInputAsync(readSafetensors(tmp), /is a directory, not a checkpoint file/, tmp);
    await assertInputAsync(loadCheckpoint(missing), /not found/, missing);
    await assertInputAsync(readSafetensorsHeader(missing), /not found/, missing);
  });

  it('reads the header alone and validates it against the file size', async () => {
    const file = path.join(tmp, 'hdr.safetensors');
    fs.writeFileSync(file, ok());
    const h = await readSafetensorsHeader(file);
    assert.deepEqual(h.tensors.get('w'), { dtype: 'F32', shape: [2], begin: 0, end: 8 });
    fs.writeFileSync(file, ok().subarray(0, ok().length - 4));
    await assertInputAsync(readSafetensorsHeader(file), /reach outside the data section/, file);
    fs.writeFileSync(file, Buffer.alloc(5));
    await assertInputAsync(readSafetensorsHeader(file), /file is 5 bytes/, file);
  });
});

describe('model checkpoints', () => {
  const spec = makeSpec('4-5-3', { activation: 'tanh' });

  it('save then load returns the same parameters bit for bit, the spec and the metadata', async () => {
    const theta = randomTheta(spec, 1);
    theta[0] = -0;
    const file = path.join(tmp, 'a.safetensors');
    saveCheckpoint(file, spec, theta, fullMeta(), { note: 'kept' });
    const ck = await loadCheckpoint(file);
    assert.equal(ck.format, 'landscape');
    assert.deepEqual(ck.spec, spec);
    assert.deepEqual(bytesOf(ck.theta), bytesOf(theta));
    assert.deepEqual([...ck.tensors.keys()].sort(), paramLayout(spec).map((e) => e.name).sort());
    for (const e of paramLayout(spec)) assert.deepEqual(ck.tensors.get(e.name)!.shape, e.shape);
    const m = ck.meta!;
    assert.equal(m.model, '4-5-3');
    assert.equal(m.bias, true);
    assert.equal(m.step, 120);
    assert.equal(m.epoch, 12);
    assert.equal(m.datasetSeed, 7);
    assert.equal(m.testFraction, 0.2);
    assert.equal(m.trainLoss, 0.5);
    assert.equal(m.testAccuracy, undefined);
    assert.deepEqual(m.hyperparameters, { lr: 0.01, beta1: 0.9 });
    assert.equal(m.time, '2026-01-02T03:04:05.000Z');
    assert.deepEqual(m.extra, { note: 'kept' });
    assert.equal(ck.rawMetadata.trainAccuracy, '0.75');
    const sync = loadCheckpointSync(file);
    assert.deepEqual(bytesOf(sync.theta), bytesOf(theta));
    const summary = await readCheckpointSummary(file);
    assert.equal(summary.meta!.epoch, 12);
    assert.deepEqual(summary.tensors.get('layers.0.weight')!.shape, [4, 5]);
  });

  it('no-bias models round-trip and the metadata takes the model fields from the spec', async () => {
    const nb = makeSpec('3-2', { bias: false, loss: 'mse', activation: 'linear' });
    const theta = randomTheta(nb, 2);
    const file = path.join(tmp, 'nb.safetensors');
    saveCheckpoint(file, nb, theta, { time: 't' });
    const ck = await loadCheckpoint(file);
    assert.deepEqual(ck.spec, nb);
    assert.deepEqual(ck.rawMetadata, { activation: 'linear', bias: 'false', formatVersion: '1', loss: 'mse', model: '3-2', time: 't' });
    assert.deepEqual(bytesOf(ck.theta), bytesOf(theta));
    assert.throws(() => encodeCheckpoint(nb, theta, { model: '3-3' }), /"model" is "3-3" but the model spec says "3-2"/);
  });

  it('same inputs give byte-identical files', () => {
    const theta = initParams(spec, new Rng(5));
    const a = path.join(tmp, 'd1.safetensors');
    const b = path.join(tmp, 'd2.safetensors');
    saveCheckpoint(a, spec, theta, fullMeta());
    saveCheckpoint(b, spec, Float32Array.from(theta), { ...fullMeta() });
    assert.deepEqual(fs.readFileSync(a), fs.readFileSync(b));
    assert.ok(fs.readFileSync(a).equals(encodeCheckpoint(spec, theta, fullMeta())));
  });

  it('refuses to save non-finite parameters or a vector of the wrong length', () => {
    const theta = randomTheta(spec, 3);
    theta[7] = NaN;
    assert.throws(() => encodeCheckpoint(spec, theta, {}), (e: unknown) => e instanceof LandscapeError && e.kind === 'compute' && /NaN at index 7/.test(e.message));
    assert.throws(() => encodeCheckpoint(spec, new Float32Array(3), {}), /has 3 values but model 4-5-3 needs 43/);
  });

  it('converts F64 tensors to float32 and refuses values beyond float32', async () => {
    const small = makeSpec('2-1', { activation: 'linear', loss: 'mse' });
    const w = Float64Array.of(0.1, -2.5);
    const b = Float64Array.of(1 / 3);
    const meta = { formatVersion: '1', model: '2-1', activation: 'linear', bias: 'true', loss: 'mse' };
    const file = path.join(tmp, 'f64.safetensors');
    fs.writeFileSync(
      file,
      encodeSafetensors(
        [
          { name: 'layers.0.weight', dtype: 'F64', shape: [2, 1], data: w },
          { name: 'layers.0.bias', dtype: 'F64', shape: [1], data: b },
        ],
        meta,
      ),
    );
    const ck = await loadCheckpoint(file);
    assert.deepEqual(ck.spec, small);
    assert.deepEqual([...ck.theta], [Math.fround(0.1), -2.5, Math.fround(1 / 3)]);
    fs.writeFileSync(
      file,
      encodeSafetensors(
        [
          { name: 'layers.0.weight', dtype: 'F64', shape: [2, 1], data: Float64Array.of(1e300, 0) },
          { name: 'layers.0.bias', dtype: 'F64', shape: [1], data: b },
        ],
        meta,
      ),
    );
    await assertInputAsync(loadCheckpoint(file), /tensor "layers.0.weight" value 1e\+300 at flat index 0 does not fit in float32/, file);
  });

  describe('tensor set against the spec', () => {
    const theta = randomTheta(spec, 4);
    const tensorsOf = (s: ModelSpec, t: Float32Array): TensorIn[] =>
      paramLayout(s).map((e) => ({ name: e.name, dtype: 'F32' as const, shape: e.shape, data: t.subarray(e.offset, e.offset + e.size) }));
    const meta = fullMeta() as unknown as Record<string, string>;
    const write = (name: string, tensors: TensorIn[], m: Record<string, string> = meta): string => {
      const file = path.join(tmp, name);
      fs.writeFileSync(file, encodeSafetensors(tensors, m));
      return file;
    };

    it('missing tensor', async () => {
      const file = write('miss.safetensors', tensorsOf(spec, theta).filter((t) => t.name !== 'layers.1.bias'));
      await assertInputAsync(loadCheckpoint(file), /missing tensor "layers.1.bias" \[3\] needed by model 4-5-3/, file);
    });

    it('unexpected tensor', async () => {
      const file = write('extra.safetensors', [...tensorsOf(spec, theta), { name: 'head.scale', dtype: 'F32', shape: [1], data: Float32Array.of(1) }]);
      await assertInputAsync(loadCheckpoint(file), /unexpected tensor "head.scale" not part of model 4-5-3/, file);
    });

    it('wrong shape', async () => {
      const t = tensorsOf(spec, theta).map((x) => (x.name === 'layers.0.weight' ? { ...x, shape: [5, 4] } : x));
      const file = write('shape.safetensors', t);
      await assertInputAsync(loadCheckpoint(file), /tensor "layers.0.weight" has shape \[5, 4\] but model 4-5-3 needs \[4, 5\]/, file);
    });

    it('biases present but no-bias requested, and the reverse', async () => {
      const nb = makeSpec('4-5-3', { bias: false });
      const withBias = write('wb.safetensors', tensorsOf(spec, theta), {});
      await assertInputAsync(loadCheckpoint(withBias, { spec: nb, format: 'landscape' }), /unexpected tensor .*the file has biases: load it without --no-bias/, withBias);
      const noBias = write('nob.safetensors', tensorsOf(nb, randomTheta(nb, 1)), {});
      await assertInputAsync(loadCheckpoint(noBias, { spec, format: 'landscape' }), /missing tensor "layers.0.bias".*load it with --no-bias/, noBias);
    });

    it('a file without our metadata needs a spec, and loads with one', async () => {
      const file = write('nometa.safetensors', tensorsOf(spec, theta), {});
      await assertInputAsync(loadCheckpoint(file), /has no Landscape metadata.*pass a model spec/, file);
      const ck = await loadCheckpoint(file, { spec });
      assert.equal(ck.format, 'landscape');
      assert.deepEqual(bytesOf(ck.theta), bytesOf(theta));
    });

    it('spec that disagrees with the metadata', async () => {
      const file = write('meta.safetensors', tensorsOf(spec, theta));
      await assertInputAsync(loadCheckpoint(file, { spec: makeSpec('4-6-3') }), /checkpoint holds model 4-5-3 but model 4-6-3 was requested/, file);
    });

    it('a spec too large for the size limit is refused before reading', async () => {
      const file = write('ok.safetensors', tensorsOf(spec, theta));
      await assertInputAsync(loadCheckpoint(file, { spec: makeSpec('1000-1000-10'), maxBytes: 1_000_000 }), /model 1000-1000-10 \(1011010 float32 parameters\) is too large/, file);
    });

    it('malformed metadata values', async () => {
      const cases: [Record<string, string>, RegExp][] = [
        [{ formatVersion: '2' }, /format version "2" is not supported/],
        [{ step: 'abc' }, /metadata "step" must be a whole number, found "abc"/],
        [{ epoch: '1.5' }, /metadata "epoch" must be a whole number/],
        [{ trainLoss: 'low' }, /metadata "trainLoss" must be a number, found "low"/],
        [{ bias: 'maybe' }, /metadata "bias" must be "true" or "false"/],
        [{ model: '4-x' }, /metadata "model": model spec "4-x"/],
        [{ activation: 'swish' }, /metadata "activation": unknown activation "swish"/],
        [{ loss: 'hinge' }, /metadata "loss": unknown loss "hinge"/],
        [{ hyperparameters: '{oops' }, /"hyperparameters" is not valid JSON/],
        [{ hyperparameters: '[1]' }, /"hyperparameters" must be a JSON object/],
        [{ model: '' }, /checkpoint metadata has no "model"/],
      ];
      for (const [over, re] of cases) {
        const file = write('badmeta.safetensors', tensorsOf(spec, theta), { ...meta, ...over });
        await assertInputAsync(loadCheckpoint(file), re, file);
      }
      // A diverged metric is representable.
      const file = write('nanmeta.safetensors', tensorsOf(spec, theta), { ...meta, testLoss: 'NaN', trainLoss: 'Infinity' });
      const ck = await loadCheckpoint(file);
      assert.ok(Number.isNaN(ck.meta!.testLoss));
      assert.equal(ck.meta!.trainLoss, Infinity);
    });
  });
});

describe('atomic writes', () => {
  const tempsIn = (dir: string) => fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'));

  it('replaces the file and leaves no temporary files', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'atomic-'));
    const file = path.join(dir, 'x.bin');
    writeFileAtomicSync(file, 'one');
    writeFileAtomicSync(file, Buffer.from('two'));
    assert.equal(fs.readFileSync(file, 'utf8'), 'two');
    await writeFileAtomic(file, [Buffer.from('thr'), Buffer.from('ee')]);
    assert.equal(fs.readFileSync(file, 'utf8'), 'three');
    writeJsonAtomic(path.join(dir, 'run.json'), { a: [1, 2] });
    assert.equal(fs.readFileSync(path.join(dir, 'run.json'), 'utf8'), '{\n  "a": [\n    1,\n    2\n  ]\n}\n');
    assert.deepEqual(fs.readdirSync(dir).sort(), ['run.json', 'x.bin']);
  });

  it('a write that fails midway keeps the old file and cleans up', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'atomic-'));
    const file = path.join(dir, 'x.bin');
    writeFileAtomicSync(file, 'old');
    function* failing(): Generator<Uint8Array> {
      yield Buffer.from('new-partial');
      throw new Error('disk on fire');
    }
    assert.throws(() => writeFileAtomicSync(file, failing()), (e: unknown) => e instanceof LandscapeError && /disk on fire/.test(e.message) && e.message.includes(file));
    await assert.rejects(writeFileAtomic(file, failing()), /disk on fire/);
    assert.equal(fs.readFileSync(file, 'utf8'), 'old');
    assert.deepEqual(tempsIn(dir), []);
  });

  it('a failed rename (a directory in the way) cleans the temporary file', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'atomic-'));
    const target = path.join(dir, 'busy');
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'inside'), 'x');
    assert.throws(() => writeFileAtomicSync(target, 'data'), (e: unknown) => e instanceof LandscapeError && e.kind === 'input' && /a directory is in the way/.test(e.message));
    await assert.rejects(writeFileAtomic(target, 'data'), /a directory is in the way/);
    assert.deepEqual(tempsIn(dir), []);
    assert.ok(fs.statSync(target).isDirectory());
  });

  it('stale temporary files of dead writers are removed, live ones kept', () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'atomic-'));
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    const stale = `.run.json.${dead}.0123456789ab.tmp`;
    const live = `.run.json.${process.pid}.0123456789ab.tmp`;
    for (const n of [stale, live, 'keep.tmp', 'run.json']) fs.writeFileSync(path.join(dir, n), 'x');
    assert.ok(isAtomicTempFile(stale) && !isAtomicTempFile('keep.tmp'));
    assert.deepEqual(removeStaleTempFiles(dir), [stale]);
    assert.deepEqual(fs.readdirSync(dir).sort(), [live, 'keep.tmp', 'run.json'].sort());
  });

  it('a missing folder is an input error naming the file', () => {
    const file = path.join(tmp, 'no-such-dir', 'x.safetensors');
    assert.throws(() => saveCheckpoint(file, makeSpec('2-1'), new Float32Array(3), {}), (e: unknown) => e instanceof LandscapeError && e.kind === 'input' && /does not exist/.test(e.message) && e.message.includes(file));
  });

  it('a failed checkpoint save keeps the previous checkpoint loadable', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'atomic-'));
    const s = makeSpec('3-2');
    const file = path.join(dir, 'best.safetensors');
    const good = randomTheta(s, 9);
    saveCheckpoint(file, s, good, {});
    const bad = randomTheta(s, 10);
    bad[2] = Infinity;
    assert.throws(() => saveCheckpoint(file, s, bad, {}), /non-finite/);
    assert.deepEqual(bytesOf((await loadCheckpoint(file)).theta), bytesOf(good));
    assert.deepEqual(fs.readdirSync(dir), ['best.safetensors']);
  });
});

/** Cross-entropy of a network evaluated the way PyTorch does it (x·Wᵀ + b), in float64. */
function torchStyleLoss(layers: { w: number[][]; b?: number[] }[], act: (v: number) => number, x: number[][], labels: number[]): number {
  let total = 0;
  x.forEach((row, n) => {
    let h = row;
    layers.forEach((l, i) => {
      const out = l.w.map((wo, o) => wo.reduce((s, wv, k) => s + wv * h[k], l.b ? l.b[o] : 0));
      h = i < layers.length - 1 ? out.map(act) : out;
    });
    const m = Math.max(...h);
    const lse = m + Math.log(h.reduce((s, v) => s + Math.exp(v - m), 0));
    total += lse - h[labels[n]];
  });
  return total / x.length;
}

describe('PyTorch import', () => {
  const spec = makeSpec('3-4-2', { activation: 'tanh' });
  const r = new Rng(11);
  const mat = (rows: number, cols: number) => Array.from({ length: rows }, () => Array.from({ length: cols }, () => r.normal()));
  const vec = (n: number) => Array.from({ length: n }, () => r.normal());
  // PyTorch layout: weight [out, in].
  const W0 = mat(4, 3).map((row) => row.map(Math.fround));
  const b0 = vec(4).map(Math.fround);
  const W1 = mat(2, 4).map((row) => row.map(Math.fround));
  const b1 = vec(2).map(Math.fround);
  const torchTensors = (names: [string, string, string, string]): TensorIn[] => [
    { name: names[0], dtype: 'F32', shape: [4, 3], data: Float32Array.from(W0.flat()) },
    { name: names[1], dtype: 'F32', shape: [4], data: Float32Array.from(b0) },
    { name: names[2], dtype: 'F32', shape: [2, 4], data: Float32Array.from(W1.flat()) },
    { name: names[3], dtype: 'F32', shape: [2], data: Float32Array.from(b1) },
  ];
  const expected = (): Float32Array => {
    // Our layout: layers.0.weight [3,4] = W0ᵀ, bias, layers.1.weight [4,2] = W1ᵀ, bias.
    const t: number[] = [];
    for (let k = 0; k < 3; k++) for (let o = 0; o < 4; o++) t.push(W0[o][k]);
    t.push(...b0);
    for (let k = 0; k < 4; k++) for (let o = 0; o < 2; o++) t.push(W1[o][k]);
    t.push(...b1);
    return Float32Array.from(t);
  };
  const writeTorch = (name: string, tensors: TensorIn[], meta: Record<string, string> = { format: 'pt' }) => {
    const file = path.join(tmp, name);
    fs.writeFileSync(file, encodeSafetensors(tensors, meta));
    return file;
  };

  it('transposes nn.Sequential Linear weights into our layout', async () => {
    const file = writeTorch('torch.safetensors', torchTensors(['0.weight', '0.bias', '2.weight', '2.bias']));
    const imp = await importTorchSafetensors(file, spec);
    assert.deepEqual([...imp.theta], [...expected()]);
    const ck = await loadCheckpoint(file, { spec });
    assert.equal(ck.format, 'torch');
    assert.deepEqual([...ck.theta], [...expected()]);
    assert.equal(ck.meta, undefined);
  });

  it('the imported network gives the same loss as the PyTorch-convention forward pass', async () => {
    const file = writeTorch('torch-loss.safetensors', torchTensors(['0.weight', '0.bias', '2.weight', '2.bias']));
    const imported = (await importTorchSafetensors(file, spec)).theta;
    const x = mat(6, 3);
    const labels = [0, 1, 1, 0, 1, 0];
    const want = torchStyleLoss([{ w: W0, b: b0 }, { w: W1, b: b1 }], Math.tanh, x, labels);
    const xs = tf.tensor2d(x.flat(), [6, 3]);
    const ys = tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), 2), 'float32') as tf.Tensor2D;
    try {
      const got = evaluateValues(networkObjective(spec, { x: xs, y: ys }), [imported])[0];
      assert.ok(Math.abs(got - want) < 1e-5, `loss ${got} vs ${want}`);
    } finally {
      xs.dispose();
      ys.dispose();
    }
  });

  it('accepts other module names, ordering layers by the numbers in them', async () => {
    for (const names of [
      ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias'],
      ['net.layers.2.weight', 'net.layers.2.bias', 'net.layers.10.weight', 'net.layers.10.bias'],
      ['layers.0.weight', 'layers.0.bias', 'layers.2.weight', 'layers.2.bias'],
      ['hidden.weight', 'hidden.bias', 'output.weight', 'output.bias'],
    ] as [string, string, string, string][]) {
      const file = writeTorch('names.safetensors', torchTensors(names), {});
      const ck = await loadCheckpoint(file, { spec });
      assert.equal(ck.format, 'torch', names.join());
      assert.deepEqual([...ck.theta], [...expected()], names.join());
    }
  });

  it('tells a PyTorch "layers.0/layers.1" file from ours by the transposed shapes', async () => {
    const file = writeTorch('amb.safetensors', torchTensors(['layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias']), {});
    const ck = await loadCheckpoint(file, { spec });
    assert.equal(ck.format, 'torch');
    assert.deepEqual([...ck.theta], [...expected()]);
  });

  it('names the tensor, expected [out, in] and the found shape on a mismatch', async () => {
    const bad = torchTensors(['0.weight', '0.bias', '2.weight', '2.bias']);
    bad[2] = { name: '2.weight', dtype: 'F32', shape: [4, 2], data: Float32Array.from(W1.flat()) };
    const file = writeTorch('torchbad.safetensors', bad);
    await assertInputAsync(
      importTorchSafetensors(file, spec),
      /tensor "2.weight" has shape \[4, 2\], but layer 1 of model 3-4-2 needs a PyTorch Linear weight \[out, in\] = \[2, 4\]/,
      file,
    );
  });

  it('other faults: layer count, foreign tensors, biases', async () => {
    const t = torchTensors(['0.weight', '0.bias', '2.weight', '2.bias']);
    let file = writeTorch('t1.safetensors', t);
    await assertInputAsync(importTorchSafetensors(file, makeSpec('3-4-4-2')), /holds 2 Linear layer\(s\) \(0.weight, 2.weight\) but model 3-4-4-2 has 3/, file);
    file = writeTorch('t2.safetensors', [...t, { name: '1.running_mean', dtype: 'F32', shape: [4], data: new Float32Array(4) }]);
    await assertInputAsync(importTorchSafetensors(file, spec), /tensor "1.running_mean" is not a Linear layer's weight or bias/, file);
    file = writeTorch('t3.safetensors', [...t, { name: '4.weight', dtype: 'F32', shape: [2, 2, 2], data: new Float32Array(8) }]);
    await assertInputAsync(importTorchSafetensors(file, spec), /tensor "4.weight" has shape \[2, 2, 2\]; a Linear weight is 2-D/, file);
    file = writeTorch('t4.safetensors', t.filter((x) => x.name !== '2.bias'));
    await assertInputAsync(importTorchSafetensors(file, spec), /missing tensor "2.bias".*bias=False/, file);
    file = writeTorch('t5.safetensors', t);
    await assertInputAsync(importTorchSafetensors(file, makeSpec('3-4-2', { bias: false })), /holds bias tensor "0.bias" but the model spec has no biases/, file);
    file = writeTorch('t6.safetensors', [...t, { name: '9.bias', dtype: 'F32', shape: [2], data: new Float32Array(2) }]);
    await assertInputAsync(importTorchSafetensors(file, spec), /tensor "9.bias" is a bias without a matching "9.weight"/, file);
  });
});

describe('tfjs LayersModel import', () => {
  // 3 inputs -> Dense(5, relu) -> Dropout -> Dense(2, softmax)
  const r = new Rng(21);
  const k1 = Float32Array.from({ length: 15 }, () => r.normal());
  const b1 = Float32Array.from({ length: 5 }, () => r.normal());
  const k2 = Float32Array.from({ length: 10 }, () => r.normal());
  const b2 = Float32Array.from({ length: 2 }, () => r.normal());

  function modelJson(over: { layers?: unknown[]; weights?: unknown[]; paths?: string[]; format?: string } = {}) {
    const { paths, ...rest } = over;
    return tfjsDenseModel({ names: ['dense_Dense1', 'dropout_Dropout1', 'dense_Dense2'], shards: paths ?? ['group1-shard1of2.bin', 'group1-shard2of2.bin'], ...rest });
  }

  function writeModel(json: unknown, data: Buffer = Buffer.concat([bytesOf(k1), bytesOf(b1), bytesOf(k2), bytesOf(b2)])): string {
    const dir = fs.mkdtempSync(path.join(tmp, 'tfjs-'));
    // Split inside a float so the reader must really concatenate the shards.
    fs.writeFileSync(path.join(dir, 'group1-shard1of2.bin'), data.subarray(0, 37));
    fs.writeFileSync(path.join(dir, 'group1-shard2of2.bin'), data.subarray(37));
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
    return path.join(dir, 'model.json');
  }

  it('imports a two-shard Dense model and matches a hand-computed forward pass', async () => {
    const file = writeModel(modelJson());
    const m = importTfjsModel(file);
    assert.deepEqual(m.spec, { layers: [3, 5, 2], activation: 'relu', bias: true, loss: 'cross-entropy' });
    assert.deepEqual(m.layerNames, ['dense_Dense1', 'dense_Dense2']);
    assert.deepEqual(bytesOf(m.theta), Buffer.concat([bytesOf(k1), bytesOf(b1), bytesOf(k2), bytesOf(b2)]));

    const x = [[0.5, -1, 2], [1, 0, -0.5], [-2, 1.5, 0.25]];
    const want = x.map((row) => {
      const h = Array.from({ length: 5 }, (_, o) => Math.max(0, row.reduce((s, v, k) => s + v * k1[k * 5 + o], b1[o])));
      return Array.from({ length: 2 }, (_, o) => h.reduce((s, v, k) => s + v * k2[k * 2 + o], b2[o]));
    });
    const xs = tf.tensor2d(x.flat(), [3, 3]);
    const th = tf.tensor2d(m.theta, [1, m.theta.length]);
    const out = forwardBatched(m.spec, th, xs);
    const got = Array.from(out.dataSync());
    tf.dispose([xs, th, out]);
    want.flat().forEach((w, i) => assert.ok(Math.abs(got[i] - w) < 1e-5, `output ${i}: ${got[i]} vs ${w}`));

    // The folder works too, and loadModelFile dispatches to the importer.
    assert.deepEqual(importTfjsModel(path.dirname(file)).spec, m.spec);
    const any = await loadModelFile(path.dirname(file));
    assert.equal(any.format, 'tfjs');
    assert.deepEqual(bytesOf(any.theta), bytesOf(m.theta));
  });

  it('matches weights by name when the manifest lists them out of order', () => {
    const weights = [
      { name: 'dense_Dense2/bias', shape: [2], dtype: 'float32' },
      { name: 'dense_Dense1/kernel', shape: [3, 5], dtype: 'float32' },
      { name: 'dense_Dense2/kernel', shape: [5, 2], dtype: 'float32' },
      { name: 'dense_Dense1/bias', shape: [5], dtype: 'float32' },
    ];
    const file = writeModel(modelJson({ weights }), Buffer.concat([bytesOf(b2), bytesOf(k1), bytesOf(k2), bytesOf(b1)]));
    assert.deepEqual(bytesOf(importTfjsModel(file).theta), Buffer.concat([bytesOf(k1), bytesOf(b1), bytesOf(k2), bytesOf(b2)]));
  });

  it('a linear output gives mse, or the loss of the training config', () => {
    const layers = [
      { class_name: 'InputLayer', config: { batch_input_shape: [null, 3], name: 'in' } },
      { class_name: 'Dense', config: { units: 5, activation: 'tanh', use_bias: true, name: 'dense_Dense1' } },
      { class_name: 'Dense', config: { units: 2, activation: 'linear', use_bias: true, name: 'dense_Dense2' } },
    ];
    const file = writeModel(modelJson({ layers }));
    assert.deepEqual(importTfjsModel(file).spec, { layers: [3, 5, 2], activation: 'tanh', bias: true, loss: 'mse' });
    const withCfg = { ...modelJson({ layers }), trainingConfig: { loss: 'categoricalCrossentropy', optimizer_config: {} } };
    assert.equal(importTfjsModel(writeModel(withCfg)).spec.loss, 'cross-entropy');
  });

  it('clear errors for models it cannot import', () => {
    const base = modelJson();
    const layers = base.modelTopology.config.layers as { class_name: string; config: Record<string, unknown> }[];
    const cases: [unknown, RegExp, Buffer?][] = [
      [{ ...base, format: 'graph-model' }, /is a tfjs "graph-model" \(a converted SavedModel graph\), not a "layers-model"/],
      [{ ...base, modelTopology: undefined }, /has no "modelTopology"/],
      [{ ...base, modelTopology: { ...base.modelTopology, class_name: 'Graph' } }, /the model is a "Graph", but only Sequential and functional/],
      [{ ...base, modelTopology: { ...base.modelTopology, class_name: 'Functional' } }, /the model has 0 inputs .*; only models with one input and one output import/],
      [modelJson({ layers: [layers[0], { class_name: 'Conv2D', config: { name: 'conv' } }, layers[2]] }), /layer "conv" \(Conv2D\) needs an image input/],
      [modelJson({ layers: [layers[0], { class_name: 'LSTM', config: { name: 'lstm' } }, layers[2]] }), /layer "lstm" \(LSTM\) is not supported/],
      [
        modelJson({ layers: [layers[0], { class_name: 'Dense', config: { ...layers[2].config, activation: 'tanh', units: 5, name: 'mid' } }, layers[2]] }),
        /hidden Dense layers mix activations \("dense_Dense1" uses relu, "mid" uses tanh\)/,
      ],
      [modelJson({ layers: [{ ...layers[0], config: { ...layers[0].config, activation: 'selu' } }, layers[2]] }), /hidden activation "selu" .* is not supported/],
      [modelJson({ layers: [layers[0], { ...layers[2], config: { ...layers[2].config, activation: 'sigmoid' } }] }), /output layer "dense_Dense2" uses activation sigmoid/],
      [
        modelJson({ weights: [{ name: 'dense_Dense1/kernel', shape: [3, 5], dtype: 'int32' }] }),
        /weight "dense_Dense1\/kernel" has dtype int32; only float32 weights import/,
      ],
      [modelJson({ paths: ['group1-shard1of2.bin', 'missing.bin'] }), /weight shard "missing.bin" listed in model.json is missing/],
      [modelJson({ paths: ['../outside.bin'] }), /weight shard path "..\/outside.bin" points outside the model folder/],
      [modelJson({ paths: ['/etc/passwd'] }), /weight shard path "\/etc\/passwd" is absolute/],
      [modelJson(), /the shard files \(group1-shard1of2.bin, group1-shard2of2.bin\) hold 124 bytes but its weights need 128/, Buffer.alloc(124)],
      [modelJson(), /holds a non-finite value \(NaN\)/, Buffer.concat([f32(NaN), Buffer.alloc(124)])],
      [
        modelJson({ weights: [{ name: 'a', shape: [3, 5] }, { name: 'b', shape: [5] }, { name: 'c', shape: [2, 5] }, { name: 'd', shape: [2] }] }),
        /weight "c" has shape \[2,5\], but Dense layer "dense_Dense2" of model 3-5-2 needs a kernel \[5, 2\]/,
      ],
      [modelJson({ weights: [{ name: 'a', shape: [3, 5] }, { name: 'b', shape: [5] }, { name: 'c', shape: [5, 2] }] }), /lists 3 weights but the 2 Dense layer\(s\) need 4/, Buffer.alloc(120)],
      ['not json', /model.json is not valid JSON/],
    ];
    for (const [json, re, data] of cases) {
      const file = writeModel(json, data);
      if (typeof json === 'string') fs.writeFileSync(file, json);
      assertInput(() => importTfjsModel(file), re, file);
    }
    const missing = path.join(tmp, 'none', 'model.json');
    assertInput(() => importTfjsModel(missing), /model.json file not found/, missing);
  });
});

describe('fuzz (small; the 10,000-case run is in the hardening suite)', () => {
  const isTyped = (e: unknown) => e instanceof LandscapeError && (e.kind === 'input') && e.message.length > 0;
  const tryDecode = (b: Uint8Array): boolean => {
    try {
      decodeSafetensors(b, F, { maxBytes: 1 << 16 });
      return true;
    } catch (e) {
      if (!isTyped(e)) throw e;
      return true;
    }
  };
  const valid = encodeSafetensors(
    [
      { name: 'a', dtype: 'F32', shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) },
      { name: 'b', dtype: 'F64', shape: [2], data: Float64Array.of(0.5, -0.25) },
    ],
    { k: 'v' },
  );

  it('random bytes either decode or give a LandscapeError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), tryDecode), { numRuns: 300, seed: 1 });
  });

  it('random mutations of a valid file either decode or give a LandscapeError', () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(valid.length - 1), v: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat(valid.length) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(valid.length), bytes: fc.uint8Array({ maxLength: 16 }) }),
      fc.record({ kind: fc.constant('len' as const), n: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) }),
    );
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (ms) => {
        let b = Buffer.from(valid);
        for (const m of ms) {
          if (m.kind === 'set') b[m.at % b.length || 0] = m.v;
          else if (m.kind === 'cut') b = b.subarray(0, Math.min(m.at, b.length));
          else if (m.kind === 'insert') b = Buffer.concat([b.subarray(0, m.at), m.bytes, b.subarray(m.at)]);
          else if (b.length >= 8) b.writeBigUInt64LE(m.n, 0);
        }
        return tryDecode(b);
      }),
      { numRuns: 300, seed: 2 },
    );
  });

  it('random JSON headers either decode or give a LandscapeError', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.uint8Array({ maxLength: 64 }), (h, data) => tryDecode(raw(h, Buffer.from(data)))),
      { numRuns: 300, seed: 3 },
    );
    const entry = fc.record({
      dtype: fc.constantFrom('F32', 'F64', 'F16', 'I8'),
      shape: fc.array(fc.integer({ min: -1, max: 5 }), { maxLength: 3 }),
      data_offsets: fc.tuple(fc.integer({ min: -2, max: 40 }), fc.integer({ min: -2, max: 40 })),
    });
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 6 }), entry, { maxKeys: 4 }), fc.uint8Array({ maxLength: 40 }), (h, data) => tryDecode(raw(h, Buffer.from(data)))),
      { numRuns: 300, seed: 4 },
    );
  });
});
