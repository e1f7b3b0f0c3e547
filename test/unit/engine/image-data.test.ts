/**
 * Image and array datasets: IDX folders (plain, .gz, torchvision's raw
 * layout), CIFAR-10 binary batches, .npy and .npz (written here by
 * test/support/dataFiles.ts, and by numpy itself when it is installed), the
 * named lookup (LANDSCAPE_DATA, /usr/share/datasets), --subset, per-channel
 * normalisation, and checkpoints of image data reloading the same data.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { initBackend } from '../../../src/engine/backend';
import { loadDataset, loadRawDataset, locateNamedDataset, type Split } from '../../../src/engine/data';
import { parseIdx } from '../../../src/engine/data/idx';
import { parseNpy } from '../../../src/engine/data/npy';
import { parseCifarBatch } from '../../../src/engine/data/cifar';
import { trainToEnd } from '../../../src/engine/train';
import { loadAnyCheckpoint, reevaluateCheckpoint } from '../../../src/engine/evaluate';
import { objectiveForCheckpoint } from '../../../src/engine/checkpointObjective';
import { cifarBytes, idxBytes, npyBytes, npzBytes, tinyImages, writeIdxFolder } from '../../support/dataFiles';
import { assertInputError, errorFrom, errorFromAsync } from '../../support/errors';
import { makeTempDir, removeTempDir } from '../../support/tmp';

let tmp: string;
before(() => {
  tmp = makeTempDir('imagedata');
});
after(() => removeTempDir(tmp));

/** Per-channel mean and population std in float64, straight from the definition. */
function referenceStats(values: number[][]): { mean: number; std: number }[] {
  return values.map((v) => {
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    return { mean, std: Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length) };
  });
}

function classCounts(labels: Int32Array, k: number): number[] {
  const c = new Array(k).fill(0);
  for (const l of labels) c[l]++;
  return c;
}

describe('IDX folders', () => {
  it('reads the four files, scales to [0, 1] and normalises with the training part only', async () => {
    const dir = path.join(tmp, 'idx-plain');
    const train = tinyImages(30, 4, 3, 3);
    const test = tinyImages(9, 4, 3, 3, 5);
    writeIdxFolder(dir, train, test);
    const s = await loadDataset(dir);
    assert.equal(s.train.n, 30);
    assert.equal(s.test.n, 9);
    assert.equal(s.train.features, 12);
    assert.deepEqual(s.train.image, { channels: 1, height: 4, width: 3 });
    assert.equal(s.train.outputs, 3);
    assert.deepEqual([...s.train.labels!], [...train.labels]);
    // The rows are float32, so the statistics are of the float32 values.
    const [ref] = referenceStats([[...train.pixels].map((p) => Math.fround(p / 255))]);
    assert.ok(Math.abs(s.normalization!.mean[0] - ref.mean) < 1e-12);
    assert.ok(Math.abs(s.normalization!.std[0] - ref.std) < 1e-12);
    // Row 2, pixel (1, 2) = index 2·12 + 1·3 + 2 of the test images, normalised by the training statistics.
    const i = 2 * 12 + 5;
    assert.ok(Math.abs(s.test.x[i] - (test.pixels[i] / 255 - ref.mean) / ref.std) < 1e-6);
  });

  it('reads .gz files, dotted names and torchvision MNIST/raw the same as plain files', async () => {
    const train = tinyImages(20, 3, 3, 2);
    const test = tinyImages(6, 3, 3, 2, 1);
    writeIdxFolder(path.join(tmp, 'plain2'), train, test);
    writeIdxFolder(path.join(tmp, 'gz'), train, test, { gz: true });
    writeIdxFolder(path.join(tmp, 'dotted'), train, test, { dotted: true });
    writeIdxFolder(path.join(tmp, 'tv', 'MNIST', 'raw'), train, test, { gz: true });
    const a = await loadDataset(path.join(tmp, 'plain2'));
    for (const other of ['gz', 'dotted', 'tv']) {
      const b = await loadDataset(path.join(tmp, other));
      assert.deepEqual(b.train.x, a.train.x, other);
      assert.deepEqual(b.test.y, a.test.y, other);
    }
  });

  it('refuses a wrong magic number, a wrong size and mismatched counts, naming the file', () => {
    const good = idxBytes([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    const f = '/x/train-images-idx3-ubyte';
    assert.deepEqual(parseIdx(good, f).dims, [2, 2, 2]);
    const magic = Buffer.from(good);
    magic[2] = 0x0d;
    assertInputError(errorFrom(() => parseIdx(magic, f)), /train-images-idx3-ubyte: holds float32 data \(magic 0x00000d03\)/);
    const zero = Buffer.from(good);
    zero[0] = 1;
    assertInputError(errorFrom(() => parseIdx(zero, f)), /wrong magic number 0x01000803/);
    assertInputError(errorFrom(() => parseIdx(good.subarray(0, good.length - 1), f)), /is truncated: 23 bytes, but its header \(2×2×2\) needs 24/);
    assertInputError(errorFrom(() => parseIdx(Buffer.concat([good, Buffer.from([0])]), f)), /has extra bytes/);
    assertInputError(errorFrom(() => parseIdx(Buffer.from([0x1f, 0x8b, 8, 0]), f)), /gzip-compressed: name it \.gz/);
  });

  it('refuses label and image counts that differ, and a partial folder', async () => {
    const dir = path.join(tmp, 'idx-bad');
    writeIdxFolder(dir, tinyImages(10, 2, 2, 2), tinyImages(4, 2, 2, 2));
    fs.writeFileSync(path.join(dir, 'train-labels-idx1-ubyte'), idxBytes([9], new Array(9).fill(0)));
    assertInputError(await errorFromAsync(() => loadDataset(dir)), /train-labels-idx1-ubyte: has 9 labels but .*train-images-idx3-ubyte has 10 images/);
    fs.rmSync(path.join(dir, 't10k-labels-idx1-ubyte'));
    assertInputError(await errorFromAsync(() => loadDataset(dir)), /idx-bad: is missing IDX file\(s\) t10k-labels-idx1-ubyte/);
    const gz = path.join(tmp, 'idx-badgz');
    writeIdxFolder(gz, tinyImages(10, 2, 2, 2), tinyImages(4, 2, 2, 2), { gz: true });
    fs.writeFileSync(path.join(gz, 't10k-images-idx3-ubyte.gz'), Buffer.from('not gzip at all'));
    assertInputError(await errorFromAsync(() => loadDataset(gz)), /t10k-images-idx3-ubyte\.gz: is not a valid gzip file/);
  });

  it('an empty folder says what it expected', async () => {
    const dir = path.join(tmp, 'empty');
    fs.mkdirSync(dir);
    assertInputError(await errorFromAsync(() => loadDataset(dir)), /empty: holds no dataset Landscape reads: expected the IDX files train-images-idx3-ubyte/);
  });
});

describe('named datasets', () => {
  it('finds fashion-mnist under a LANDSCAPE_DATA root, checks its labels are 0..9, and names the classes', async () => {
    const root = path.join(tmp, 'root');
    writeIdxFolder(path.join(root, 'FashionMNIST', 'raw'), tinyImages(20, 2, 2, 10), tinyImages(10, 2, 2, 10), { gz: true });
    const found = locateNamedDataset('fashion-mnist', [root]);
    assert.equal(found.format, 'idx');
    const saved = process.env.LANDSCAPE_DATA;
    process.env.LANDSCAPE_DATA = root;
    try {
      // LANDSCAPE_DATA comes before /usr/share/datasets, so this is the 20-image set even where Debian's package is installed.
      const s = await loadDataset('fashion-mnist');
      assert.equal(s.train.n, 20);
      assert.equal(s.train.classNames![9], 'Ankle boot');
      writeIdxFolder(path.join(root, 'mnist'), tinyImages(20, 2, 2, 12), tinyImages(10, 2, 2, 10));
      assertInputError(await errorFromAsync(() => loadDataset('mnist')), /train-labels-idx1-ubyte: label 10 of item 10 is outside 0\.\.9/);
    } finally {
      if (saved === undefined) delete process.env.LANDSCAPE_DATA;
      else process.env.LANDSCAPE_DATA = saved;
    }
  });

  it('when not found, says where it looked and how to get it', () => {
    const root = path.join(tmp, 'nothing-here');
    fs.mkdirSync(path.join(root, 'fashion-mnist'), { recursive: true });
    fs.writeFileSync(path.join(root, 'fashion-mnist', 'train-images-idx3-ubyte.gz'), '');
    const e = errorFrom(() => locateNamedDataset('fashion-mnist', [root]));
    assertInputError(e, /dataset fashion-mnist not found: looked in .*nothing-here\/fashion-mnist \(missing train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte\)/);
    assert.match(e.message, /FashionMNIST\/raw \(no such folder\)/);
    assert.match(e.message, /apt-get install dataset-fashion-mnist/);
    assert.match(e.message, /t10k-labels-idx1-ubyte\.gz/);
    assertInputError(errorFrom(() => locateNamedDataset('cifar10', [root])), /cifar-10-batches-bin \(no such folder\).*data_batch_1\.bin/);
  });
});

describe('CIFAR-10 binary', () => {
  function writeCifar(dir: string, perBatch: number): void {
    fs.mkdirSync(dir, { recursive: true });
    for (let k = 1; k <= 5; k++) fs.writeFileSync(path.join(dir, `data_batch_${k}.bin`), cifarBytes(Array.from({ length: perBatch }, (_, i) => (i + k) % 10), k));
    fs.writeFileSync(path.join(dir, 'test_batch.bin'), cifarBytes(Array.from({ length: perBatch }, (_, i) => i % 10), 9));
  }

  it('reads 3073-byte records as 3×32×32 images in C×H×W order, normalised per channel', async () => {
    const dir = path.join(tmp, 'cifar', 'cifar-10-batches-bin');
    writeCifar(dir, 4);
    const s = await loadDataset(path.dirname(dir), { standardize: false });
    assert.equal(s.train.n, 20);
    assert.equal(s.test.n, 4);
    assert.deepEqual(s.train.image, { channels: 3, height: 32, width: 32 });
    assert.equal(s.train.classNames![0], 'airplane');
    // Record 1 of batch 1: green plane (channel 1), row 3, column 5 = byte 1 + 1024 + 3·32 + 5 of the record.
    const raw = cifarBytes([1, 2, 3, 4], 1);
    const j = 1024 + 3 * 32 + 5;
    assert.equal(s.train.x[1 * 3072 + j], Math.fround(raw[3073 + 1 + j] / 255));
    assert.equal(s.train.labels![1], 2);
    const n = await loadDataset(path.dirname(dir));
    const perChannel = [0, 1, 2].map((c) => {
      const v: number[] = [];
      for (let i = 0; i < 20; i++) for (let p = 0; p < 1024; p++) v.push(s.train.x[i * 3072 + c * 1024 + p]);
      return v;
    });
    referenceStats(perChannel).forEach((r, c) => {
      assert.ok(Math.abs(n.normalization!.mean[c] - r.mean) < 1e-9);
      assert.ok(Math.abs(n.normalization!.std[c] - r.std) < 1e-9);
    });
  });

  it('refuses records of the wrong size, labels over 9 and missing batches', async () => {
    const f = '/c/data_batch_1.bin';
    assertInputError(errorFrom(() => parseCifarBatch(cifarBytes([1, 2]).subarray(0, 5000), f)), /data_batch_1\.bin: has 5000 bytes, not a whole number of 3073-byte/);
    assertInputError(errorFrom(() => parseCifarBatch(cifarBytes([1, 10]), f)), /record 1 has label 10; CIFAR-10 labels are 0\.\.9/);
    const dir = path.join(tmp, 'cifar-missing');
    writeCifar(dir, 1);
    fs.rmSync(path.join(dir, 'data_batch_4.bin'));
    assertInputError(await errorFromAsync(() => loadDataset(dir)), /cifar-missing: is missing CIFAR-10 batch file\(s\) data_batch_4\.bin/);
  });
});

describe('.npy and .npz', () => {
  const x = Float32Array.from({ length: 40 }, (_, i) => Math.sin(i));
  const y = BigInt64Array.from({ length: 10 }, (_, i) => BigInt(i % 2));

  it('parses headers strictly: dtypes, byte order, versions, fortran order', () => {
    const f = '/n/a.npy';
    const a = parseNpy(npyBytes([10, 4], x), f);
    assert.deepEqual(a.shape, [10, 4]);
    assert.deepEqual(a.data, x);
    const big = Buffer.alloc(8);
    big.writeDoubleBE(2.5, 0);
    const be = npyBytes([1], new Float64Array(1), { descr: '>f8' });
    big.copy(be, be.length - 8);
    assert.deepEqual([...parseNpy(be, f).data], [2.5]);
    assert.deepEqual([...parseNpy(npyBytes([3], BigInt64Array.from([0n, 7n, -2n])), f).data], [0, 7, -2]);
    assertInputError(errorFrom(() => parseNpy(npyBytes([10, 4], x, { fortran: true }), f)), /a\.npy: is stored in Fortran/);
    assertInputError(errorFrom(() => parseNpy(npyBytes([10, 4], x, { descr: '<c8' }), f)), /holds dtype "<c8"/);
    assertInputError(errorFrom(() => parseNpy(npyBytes([10, 5], x), f)), /is truncated: shape \(10, 5\) of <f4 needs 200 data bytes, the file has 160/);
    assertInputError(errorFrom(() => parseNpy(Buffer.from('\x93NUMPZ\x01\x00'), f)), /not a \.npy file/);
    const v2 = npyBytes([10, 4], x);
    v2[6] = 4;
    assertInputError(errorFrom(() => parseNpy(v2, f)), /format version 4\.0/);
  });

  it('an .npz with x and y, stored or deflated, is a classification or regression dataset', async () => {
    for (const compressed of [false, true]) {
      const file = path.join(tmp, `xy-${compressed}.npz`);
      fs.writeFileSync(file, npzBytes({ x: npyBytes([10, 4], x), y: npyBytes([10], y) }, compressed));
      const ds = loadRawDataset(file);
      assert.equal(ds.task, 'classification');
      assert.equal(ds.n, 10);
      assert.equal(ds.features, 4);
      assert.equal(ds.image, undefined);
      assert.deepEqual(ds.x, x);
      assert.deepEqual([...ds.labels!], [...y].map(Number));
    }
    const reg = path.join(tmp, 'reg.npz');
    fs.writeFileSync(reg, npzBytes({ x: npyBytes([10, 4], x), y: npyBytes([10], Float64Array.from({ length: 10 }, (_, i) => i / 4)) }));
    const r = loadRawDataset(reg);
    assert.equal(r.task, 'regression');
    assert.equal(r.y[3], 0.75);
  });

  it('uint8 images [N, H, W] scale to [0, 1]; Keras x_train/x_test keep their split', async () => {
    const img = tinyImages(12, 3, 2, 3);
    const file = path.join(tmp, 'keras.npz');
    const lab = (l: Uint8Array) => BigInt64Array.from(l, (v) => BigInt(v));
    fs.writeFileSync(
      file,
      npzBytes({
        x_train: npyBytes([12, 3, 2], img.pixels),
        y_train: npyBytes([12], lab(img.labels)),
        x_test: npyBytes([3, 3, 2], img.pixels.subarray(0, 18)),
        y_test: npyBytes([3], lab(img.labels.subarray(0, 3))),
      }),
    );
    const s = await loadDataset(file, { standardize: false });
    assert.equal(s.train.n, 12);
    assert.equal(s.test.n, 3);
    assert.deepEqual(s.train.image, { channels: 1, height: 3, width: 2 });
    assert.equal(s.train.x[7], Math.fround(img.pixels[7] / 255));
  });

  it('x.npy and y.npy in a folder', async () => {
    const dir = path.join(tmp, 'npyfolder');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'x.npy'), npyBytes([10, 1, 2, 2], x));
    fs.writeFileSync(path.join(dir, 'y.npy'), npyBytes([10], Int32Array.from({ length: 10 }, (_, i) => i % 3)));
    const s = await loadDataset(dir);
    assert.deepEqual(s.train.image, { channels: 1, height: 2, width: 2 });
    assert.equal(s.train.n + s.test.n, 10);
    assert.equal(s.train.outputs, 3);
    const viaX = await loadDataset(path.join(dir, 'x.npy'));
    assert.deepEqual(viaX.train.x, s.train.x);
  });

  it('refuses an .npz without x or y, channels-last images, bad labels and unequal lengths', () => {
    const write = (name: string, arrays: Record<string, Buffer>) => {
      const f = path.join(tmp, name);
      fs.writeFileSync(f, npzBytes(arrays));
      return f;
    };
    assertInputError(errorFrom(() => loadRawDataset(write('nox.npz', { y: npyBytes([10], y) }))), /nox\.npz: has "y"; a dataset \.npz needs arrays x and y/);
    assertInputError(errorFrom(() => loadRawDataset(write('nhwc.npz', { x: npyBytes([2, 8, 8, 3], new Uint8Array(384)), y: npyBytes([2], y.subarray(0, 2)) }))), /looks channels-last/);
    const neg = BigInt64Array.from([0n, 1n, -1n, 0n, 1n, 0n, 1n, 0n, 1n, 0n]);
    assertInputError(errorFrom(() => loadRawDataset(write('neg.npz', { x: npyBytes([10, 4], x), y: npyBytes([10], neg) }))), /neg\.npz: y holds label -1 at item 2/);
    assertInputError(errorFrom(() => loadRawDataset(write('len.npz', { x: npyBytes([10, 4], x), y: npyBytes([9], y.subarray(0, 9)) }))), /y has shape \(9\) but x has 10 rows/);
    const nan = Float32Array.from(x);
    nan[5] = NaN;
    assertInputError(errorFrom(() => loadRawDataset(write('nan.npz', { x: npyBytes([10, 4], nan), y: npyBytes([10], y) }))), /x holds NaN at item 5/);
    assertInputError(errorFrom(() => loadRawDataset(write('garbage.npz', { x: Buffer.from('hello'), y: npyBytes([10], y) }))), /garbage\.npz:x\.npy: is not a \.npy file/);
  });

  const python = '/usr/bin/python3';
  const hasNumpy = fs.existsSync(python) && spawnSync(python, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
  it('reads .npz files written by numpy.savez and numpy.savez_compressed', { skip: hasNumpy ? false : 'numpy is not installed (apt-get install python3-numpy)' }, async () => {
    const script = [
      'import numpy as np, sys',
      'rng = np.random.default_rng(0)',
      'x = rng.integers(0, 256, size=(50, 1, 5, 4), dtype=np.uint8)',
      'y = np.arange(50) % 5',
      'np.savez(sys.argv[1], x=x, y=y)',
      'np.savez_compressed(sys.argv[2], x=x.astype(np.float64) / 255, y=y)',
      'print(float(x[7, 0, 2, 3]), int(y[7]), float((x / 255).mean()))',
    ].join('\n');
    const a = path.join(tmp, 'np-savez.npz');
    const b = path.join(tmp, 'np-compressed.npz');
    const r = spawnSync(python, ['-c', script, a, b], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const [pixel, label, mean] = r.stdout.trim().split(' ').map(Number);
    const da = loadRawDataset(a);
    const db = loadRawDataset(b);
    assert.deepEqual(da.image, { channels: 1, height: 5, width: 4 });
    assert.equal(da.outputs, 5);
    assert.equal(da.x[7 * 20 + 2 * 4 + 3], Math.fround(pixel / 255));
    assert.equal(da.labels![7], label);
    assert.deepEqual(db.x, da.x);
    assert.ok(Math.abs(da.x.reduce((s, v) => s + v, 0) / da.x.length - mean) < 1e-6);
  });
});

describe('--subset', () => {
  it('is seeded and stratified, and divides between a dataset\'s own parts in their proportion', async () => {
    const dir = path.join(tmp, 'idx-subset');
    writeIdxFolder(dir, tinyImages(600, 2, 2, 3), tinyImages(100, 2, 2, 3, 1));
    const a = await loadDataset(dir, { subset: 140, seed: 4 });
    const b = await loadDataset(dir, { subset: 140, seed: 4 });
    const c = await loadDataset(dir, { subset: 140, seed: 5 });
    assert.equal(a.train.n, 120);
    assert.equal(a.test.n, 20);
    assert.deepEqual(classCounts(a.train.labels!, 3), [40, 40, 40]);
    assert.deepEqual(a.train.x, b.train.x);
    assert.notDeepEqual(a.train.x, c.train.x);
    const all = await loadDataset(dir, { subset: 5000 });
    assert.equal(all.train.n, 600);
  });

  it('applies to CSV and built-in data before the split, and refuses n < 2', async () => {
    const s = await loadDataset('digits', { subset: 500, seed: 1 });
    assert.equal(s.train.n + s.test.n, 500);
    assertInputError(await errorFromAsync(() => loadDataset('digits', { subset: 1 })), /subset must be a whole number >= 2 \(got 1\)/);
  });
});

describe('checkpoints of image data', () => {
  before(async () => {
    await initBackend('cpu', { force: true });
  });

  it('reload the same subset and normalisation: info, hessian and path see the training loss the run saw', async () => {
    const dir = path.join(tmp, 'idx-run');
    writeIdxFolder(dir, tinyImages(300, 4, 4, 3), tinyImages(60, 4, 4, 3, 2), { gz: true });
    const out = path.join(tmp, 'run');
    await trainToEnd({ dataset: dir, subset: 90, model: '16-8-3', optimizer: 'adam', lr: 0.01, epochs: 2, seed: 2, checkpointEvery: 0, out });
    const ck = await loadAnyCheckpoint(path.join(out, 'final.safetensors'));
    const options = JSON.parse(ck.meta.datasetOptions!);
    assert.equal(options.subset, 90);
    assert.equal(options.normalization.mean.length, 1);
    const expected: Split = await loadDataset(dir, { subset: 90, seed: 2 });
    assert.deepEqual(options.normalization, expected.normalization);
    const re = await reevaluateCheckpoint(ck);
    const recorded = Number(ck.meta.trainLoss);
    assert.ok(Math.abs(re.trainLoss - recorded) <= 1e-6 * recorded, `${re.trainLoss} vs ${recorded}`);
    const obj = await objectiveForCheckpoint(ck);
    try {
      assert.equal(obj.trainSize, expected.train.n);
      assert.deepEqual(obj.recipe.options.normalization, expected.normalization);
    } finally {
      obj.dispose();
    }
    // --subset on the command line replaces the recorded one.
    const wider = await objectiveForCheckpoint(ck, { subset: 180 });
    try {
      assert.equal(wider.trainSize, 150);
    } finally {
      wider.dispose();
    }
  });
});

const DEBIAN = '/usr/share/datasets/fashion-mnist';
const haveDebian = fs.existsSync(path.join(DEBIAN, 'train-images-idx3-ubyte.gz'));
it('reads Debian\'s Fashion-MNIST: 60,000 / 10,000 images of 784 pixels, 6,000 of each class in training', { skip: haveDebian ? false : 'dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)', timeout: 120_000 }, async () => {
  const saved = process.env.LANDSCAPE_DATA;
  delete process.env.LANDSCAPE_DATA;
  try {
    const s = await loadDataset('fashion-mnist');
    assert.equal(s.train.n, 60000);
    assert.equal(s.test.n, 10000);
    assert.equal(s.train.features, 784);
    assert.deepEqual(classCounts(s.train.labels!, 10), new Array(10).fill(6000));
    assert.deepEqual(classCounts(s.test.labels!, 10), new Array(10).fill(1000));
    // The statistics published with the data set (and used in torchvision examples): 0.2860 and 0.3530.
    assert.ok(Math.abs(s.normalization!.mean[0] - 0.286) < 5e-4, String(s.normalization!.mean[0]));
    assert.ok(Math.abs(s.normalization!.std[0] - 0.353) < 5e-4, String(s.normalization!.std[0]));
  } finally {
    if (saved !== undefined) process.env.LANDSCAPE_DATA = saved;
  }
});
