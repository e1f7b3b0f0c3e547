/**
 * Hardening fuzzer for the dataset file parsers: IDX (plain and gzipped),
 * CIFAR-10 binary batches, .npy and .npz, on bytes (no disk). Random bytes,
 * mutations of valid files (truncations, bit flips, insertions,
 * duplications), and forged sizes (huge dimensions, shapes and declared zip
 * entry sizes). 10,000 cases per property; every case must end quickly,
 * stay within the memory bound, and either parse or give a readable input
 * error naming the file (test/support/fuzz-harness.ts).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import fc from 'fast-check';
import { idxImages, parseIdx } from '../../../src/engine/data/idx';
import { gunzipBounded } from '../../../src/engine/data/files';
import { parseCifarBatch } from '../../../src/engine/data/cifar';
import { parseNpy } from '../../../src/engine/data/npy';
import { npzDataset } from '../../../src/engine/data/arrays';
import { FUZZ_RUNS, Tally, applyByteMutations, applyTextMutations, byteMutation, fuzzParams, runCase, textMutation, type CaseContext } from '../../support/fuzz-harness';
import { cifarBytes, idxBytes, npyBytes, npzBytes, tinyImages } from '../../support/dataFiles';

const FILE = '/fuzz/case.data';
const TIMEOUT = { timeout: 300_000 };
const MAX = 1 << 20;

/**
 * The bound: a few copies of the input (pixels, floats) plus, for .npz, what
 * deflate can expand it to (≤ 1032×) and one-hot labels (at most 1000 classes
 * of 4 bytes for a label that took 1 byte or more), under a 1 MiB cap on any
 * inflated entry.
 */
const ctx = (input: Uint8Array, perByte = 16): CaseContext => ({ file: FILE, input, bounds: { arrayBufferBytes: (2 << 20) + perByte * input.length } });

const img = tinyImages(3, 4, 3, 3);
const IDX_IMAGES = idxBytes([3, 4, 3], img.pixels);
const IDX_LABELS = idxBytes([3], img.labels);

function parseIdxPair(images: Uint8Array, labels: Uint8Array): unknown {
  return idxImages(parseIdx(images, FILE), FILE, parseIdx(labels, FILE), FILE, 10);
}

const x = Float32Array.from({ length: 12 }, (_, i) => i / 7);
const NPY_VALID = [
  npyBytes([3, 4], x),
  npyBytes([3, 2, 2], Uint8Array.from({ length: 12 }, (_, i) => i * 20)),
  npyBytes([3], BigInt64Array.from([0n, 1n, 2n])),
  npyBytes([2], Float64Array.from([1.5, -2])),
];
const NPZ_VALID = [
  npzBytes({ x: NPY_VALID[0], y: NPY_VALID[2] }),
  npzBytes({ x: NPY_VALID[1], y: NPY_VALID[2] }, true),
  npzBytes({ x_train: NPY_VALID[1], y_train: NPY_VALID[2], x_test: NPY_VALID[1], y_test: NPY_VALID[2] }),
];

const mutations = fc.array(byteMutation(8000), { minLength: 1, maxLength: 6 });

describe(`dataset parsers fuzz (${FUZZ_RUNS} cases per property)`, () => {
  it('the valid fixtures parse', () => {
    assert.equal(runCase(() => parseIdxPair(IDX_IMAGES, IDX_LABELS), ctx(IDX_IMAGES)), 'ok');
    assert.equal(runCase(() => parseCifarBatch(cifarBytes([1, 2]), FILE), ctx(cifarBytes([1, 2]))), 'ok');
    for (const b of NPY_VALID) assert.equal(runCase(() => parseNpy(b, FILE), ctx(b)), 'ok');
    for (const b of NPZ_VALID) assert.equal(runCase(() => npzDataset(b, FILE, { maxBytes: MAX }), ctx(b)), 'ok');
  });

  it('IDX: mutations of valid image and label files, and random bytes', TIMEOUT, () => {
    const t = new Tally();
    fc.assert(
      fc.property(fc.boolean(), mutations, fc.uint8Array({ maxLength: 64 }), (which, ms, random) => {
        const images = which ? applyByteMutations(IDX_IMAGES, ms) : IDX_IMAGES;
        const labels = which ? IDX_LABELS : applyByteMutations(IDX_LABELS, ms);
        t.add(runCase(() => parseIdxPair(images, labels), ctx(Buffer.concat([images, labels]))));
        runCase(() => parseIdx(random, FILE), ctx(random));
      }),
      fuzzParams(1401),
    );
    assert.ok(t.ok > 0 && t.rejected > 0, String(t));
  });

  it('IDX .gz: mutations of a gzipped file inflate under the cap or are refused', TIMEOUT, () => {
    const gz = zlib.gzipSync(IDX_IMAGES);
    const t = new Tally();
    fc.assert(
      fc.property(mutations, (ms) => {
        const b = applyByteMutations(gz, ms);
        t.add(runCase(() => parseIdx(gunzipBounded(b, FILE, { maxBytes: 4096 }), FILE), ctx(b, 64)));
      }),
      fuzzParams(1402),
    );
    assert.ok(t.ok > 0 && t.rejected > 0, String(t));
  });

  it('a gzip bomb is refused at the cap', () => {
    const bomb = zlib.gzipSync(Buffer.alloc(1 << 22));
    assert.equal(runCase(() => gunzipBounded(bomb, FILE, { maxBytes: 1 << 16 }), ctx(bomb, 64)), 'input-error');
  });

  it('forged IDX dimensions, npy shapes and zip sizes are refused before anything is allocated', TIMEOUT, () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: 4 }), fc.nat(64), (dims, extra) => {
        const head = Buffer.alloc(4 + 4 * dims.length + extra);
        head[2] = 8;
        head[3] = dims.length;
        dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
        runCase(() => parseIdx(head, FILE), ctx(head));
        const npy = Buffer.from(npyBytes([1], new Float32Array(1)).toString('latin1').replace("'shape': (1,)", `'shape': (${dims.join(', ')},)`), 'latin1');
        runCase(() => parseNpy(npy, FILE), ctx(npy));
      }),
      fuzzParams(1403),
    );
  });

  it('CIFAR-10: mutations of a two-record batch', TIMEOUT, () => {
    const valid = cifarBytes([3, 9]);
    const t = new Tally();
    fc.assert(
      fc.property(mutations, (ms) => {
        const b = applyByteMutations(valid, ms);
        t.add(runCase(() => parseCifarBatch(b, FILE), ctx(b)));
      }),
      fuzzParams(1404),
    );
    assert.ok(t.ok > 0 && t.rejected > 0, String(t));
  });

  it('.npy: byte mutations of valid files, and text mutations of their headers', TIMEOUT, () => {
    const t = new Tally();
    const headerChars = fc.constantFrom(...`{}()'":, <>|=fiuc12480TrueFalsedescrshapefortran_order\n\u0000\u00ff`.split(''));
    fc.assert(
      fc.property(fc.nat(NPY_VALID.length - 1), mutations, fc.array(textMutation(120, headerChars), { maxLength: 4 }), (k, ms, tms) => {
        const byBytes = applyByteMutations(NPY_VALID[k], ms);
        t.add(runCase(() => parseNpy(byBytes, FILE), ctx(byBytes)));
        const text = NPY_VALID[k].toString('latin1');
        const header = text.slice(10, 10 + NPY_VALID[k].readUInt16LE(8));
        const mutated = applyTextMutations(header, tms);
        const head = Buffer.from(NPY_VALID[k].subarray(0, 10));
        head.writeUInt16LE(Math.min(0xffff, mutated.length), 8);
        const b = Buffer.concat([head, Buffer.from(mutated, 'latin1'), NPY_VALID[k].subarray(10 + header.length)]);
        t.add(runCase(() => parseNpy(b, FILE), ctx(b)));
      }),
      fuzzParams(1405),
    );
    assert.ok(t.ok > 0 && t.rejected > 0, String(t));
  });

  it('.npz: mutations of stored and deflated archives, and random bytes', TIMEOUT, () => {
    const t = new Tally();
    fc.assert(
      fc.property(fc.nat(NPZ_VALID.length - 1), mutations, fc.uint8Array({ maxLength: 200 }), (k, ms, random) => {
        const b = applyByteMutations(NPZ_VALID[k], ms);
        t.add(runCase(() => npzDataset(b, FILE, { maxBytes: MAX }), ctx(b, 8000)));
        runCase(() => npzDataset(random, FILE, { maxBytes: MAX }), ctx(random, 8000));
      }),
      fuzzParams(1406),
    );
    assert.ok(t.ok > 0 && t.rejected > 0, String(t));
  });
});
