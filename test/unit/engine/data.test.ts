import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Rng } from '../../../src/engine/rng';
import {
  DATASET_NAMES,
  DATA_DIR_ENV,
  SYNTHETIC_NAMES,
  blobs,
  circles,
  dataDirCandidates,
  describeDataset,
  describeSplit,
  findDigitsFile,
  generateSynthetic,
  loadCsv,
  loadDataset,
  loadDigits,
  loadRawDataset,
  makeTeacher,
  moons,
  parseCsv,
  splitDataset,
  spirals,
  standardize,
  teacher,
  teacherForward,
  xor,
  type Dataset,
  type Split,
} from '../../../src/engine/data';
import { assertInputError, errorFrom, errorFromAsync } from '../../support/errors';
import { makeTempDir, removeTempDir } from '../../support/tmp';

let tmp: string;
before(() => {
  tmp = makeTempDir('data');
});
after(() => {
  removeTempDir(tmp);
});

function writeCsv(name: string, text: string): string {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, text);
  return f;
}

function counts(labels: Int32Array, k: number): number[] {
  const c = new Array<number>(k).fill(0);
  for (const l of labels) c[l]++;
  return c;
}

function bytesEqual(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Shape invariants every dataset must satisfy. */
function checkShape(ds: Dataset): void {
  assert.equal(ds.x.length, ds.n * ds.features);
  assert.equal(ds.y.length, ds.n * ds.outputs);
  assert.ok(ds.x.every(Number.isFinite), `${ds.id}: finite inputs`);
  assert.ok(ds.y.every(Number.isFinite), `${ds.id}: finite targets`);
  if (ds.task === 'classification') {
    assert.ok(ds.labels, `${ds.id}: labels present`);
    assert.equal(ds.labels!.length, ds.n);
    for (let i = 0; i < ds.n; i++) {
      const l: number = ds.labels![i];
      assert.ok(l >= 0 && l < ds.outputs);
      for (let c = 0; c < ds.outputs; c++) assert.equal(ds.y[i * ds.outputs + c], c === l ? 1 : 0);
    }
    assert.equal(ds.classNames?.length, ds.outputs);
  } else {
    assert.equal(ds.labels, undefined);
  }
  if (ds.featureNames) assert.equal(ds.featureNames.length, ds.features);
}

/** Assert fn throws an input error whose message matches re; returns the message. */
function inputFault(fn: () => unknown, re: RegExp): string {
  const err = errorFrom(fn);
  assertInputError(err, re);
  return err.message;
}

async function inputFaultAsync(fn: () => Promise<unknown>, re: RegExp): Promise<string> {
  const err = await errorFromAsync(fn);
  assertInputError(err, re);
  return err.message;
}

describe('synthetic generators', () => {
  const expected: Record<string, { features: number; outputs: number; task: string }> = {
    spirals: { features: 2, outputs: 2, task: 'classification' },
    moons: { features: 2, outputs: 2, task: 'classification' },
    circles: { features: 2, outputs: 2, task: 'classification' },
    blobs: { features: 2, outputs: 3, task: 'classification' },
    xor: { features: 2, outputs: 2, task: 'classification' },
    teacher: { features: 10, outputs: 1, task: 'regression' },
  };

  it('covers every non-digits dataset name', () => {
    assert.deepEqual([...SYNTHETIC_NAMES].sort(), DATASET_NAMES.filter((n) => n !== 'digits').sort());
  });

  for (const name of SYNTHETIC_NAMES) {
    it(`${name}: shapes, default n, id, determinism per seed, balance`, () => {
      const a = generateSynthetic(name, { seed: 7 });
      const b = generateSynthetic(name, { seed: 7 });
      const c = generateSynthetic(name, { seed: 8 });
      assert.equal(a.id, name);
      assert.equal(a.n, 1000);
      assert.equal(a.task, expected[name].task);
      assert.equal(a.features, expected[name].features);
      assert.equal(a.outputs, expected[name].outputs);
      checkShape(a);
      assert.ok(bytesEqual(a.x, b.x) && bytesEqual(a.y, b.y), 'same seed, same bytes');
      assert.ok(!bytesEqual(a.x, c.x), 'another seed, other inputs');
      assert.ok(!bytesEqual(a.y, c.y) || a.task === 'classification', 'another seed, other targets');
      if (a.labels) {
        const odd = generateSynthetic(name, { seed: 3, n: 301 });
        for (const ds of [a, odd]) {
          const cnt = counts(ds.labels!, ds.outputs);
          assert.ok(Math.max(...cnt) - Math.min(...cnt) <= 1, `${name} balanced: ${cnt.join(',')}`);
          assert.equal(cnt.reduce((s, v) => s + v, 0), ds.n);
        }
        // Rows are shuffled: the first 20 rows are not all one class.
        assert.ok(new Set(a.labels!.slice(0, 20)).size > 1);
      }
    });
  }

  it('n and noise options are honoured', () => {
    const d = moons({ n: 37, noise: 0, seed: 1 });
    assert.equal(d.n, 37);
    checkShape(d);
    const quiet = spirals({ seed: 2, noise: 0 });
    const loud = spirals({ seed: 2, noise: 0.5 });
    assert.ok(!bytesEqual(quiet.x, loud.x));
  });

  it('circles without noise lie exactly on radii 1 (class 0) and factor (class 1)', () => {
    const d = circles({ n: 200, noise: 0, seed: 4, factor: 0.3 });
    for (let i = 0; i < d.n; i++) {
      const r = Math.hypot(d.x[2 * i], d.x[2 * i + 1]);
      assert.ok(Math.abs(r - (d.labels![i] === 0 ? 1 : 0.3)) < 1e-6);
    }
  });

  it('moons without noise lie on their two unit half circles', () => {
    const d = moons({ n: 200, noise: 0, seed: 5 });
    for (let i = 0; i < d.n; i++) {
      const u = d.x[2 * i] + 0.5;
      const v = d.x[2 * i + 1] + 0.25;
      if (d.labels![i] === 0) {
        assert.ok(Math.abs(Math.hypot(u, v) - 1) < 1e-6 && v >= -1e-6);
      } else {
        assert.ok(Math.abs(Math.hypot(u - 1, v - 0.5) - 1) < 1e-6 && v <= 0.5 + 1e-6);
      }
    }
  });

  it('xor without noise: label 0 iff the two inputs share a sign', () => {
    const d = xor({ n: 400, noise: 0, seed: 6 });
    for (let i = 0; i < d.n; i++) {
      const same = d.x[2 * i] * d.x[2 * i + 1] >= 0;
      assert.equal(d.labels![i], same ? 0 : 1);
      assert.ok(Math.abs(d.x[2 * i]) <= 1 && Math.abs(d.x[2 * i + 1]) <= 1);
    }
  });

  it('spirals without noise stay in the unit disc and the two arms are point reflections', () => {
    const d = spirals({ n: 400, noise: 0, seed: 9 });
    for (let i = 0; i < d.n; i++) assert.ok(Math.hypot(d.x[2 * i], d.x[2 * i + 1]) <= 1 + 1e-6);
    // Arm 1 is arm 0 rotated by pi, so the class means mirror each other through the origin.
    const m = [
      [0, 0],
      [0, 0],
    ];
    const cnt = counts(d.labels!, 2);
    for (let i = 0; i < d.n; i++) {
      m[d.labels![i]][0] += d.x[2 * i] / cnt[d.labels![i]];
      m[d.labels![i]][1] += d.x[2 * i + 1] / cnt[d.labels![i]];
    }
    assert.ok(Math.hypot(m[0][0] + m[1][0], m[0][1] + m[1][1]) < 0.15);
  });

  it('blobs: configurable centres and dimension; each class clusters around its own centre', () => {
    const d = blobs({ n: 500, centers: 5, dim: 3, noise: 0.1, seed: 11 });
    assert.equal(d.features, 3);
    assert.equal(d.outputs, 5);
    checkShape(d);
    // With tiny noise each point is within a few std of its class mean.
    const mean = new Float64Array(15);
    const cnt = counts(d.labels!, 5);
    for (let i = 0; i < d.n; i++) for (let j = 0; j < 3; j++) mean[d.labels![i] * 3 + j] += d.x[i * 3 + j] / cnt[d.labels![i]];
    for (let i = 0; i < d.n; i++) {
      const c = d.labels![i];
      const dist = Math.hypot(...[0, 1, 2].map((j) => d.x[i * 3 + j] - mean[c * 3 + j]));
      assert.ok(dist < 0.8, `point ${i} is ${dist} from its centre`);
    }
  });

  it('teacher: noiseless targets are the teacher network of the seed', () => {
    const d = teacher({ n: 50, noise: 0, seed: 12 });
    const net = makeTeacher(10, 16, 1, new Rng(12).fork());
    for (let i = 0; i < d.n; i++) {
      const want = teacherForward(net, d.x.subarray(i * 10, i * 10 + 10))[0];
      assert.ok(Math.abs(d.y[i] - want) < 1e-6);
    }
    // teacherSeed fixes the teacher across data seeds.
    const e = teacher({ n: 20, noise: 0, seed: 99, teacherSeed: 5, inputs: 4, hidden: 3, outputs: 2 });
    assert.equal(e.outputs, 2);
    checkShape(e);
    const net5 = makeTeacher(4, 3, 2, new Rng(5));
    for (let i = 0; i < e.n; i++) {
      const want = teacherForward(net5, e.x.subarray(i * 4, i * 4 + 4));
      assert.ok(Math.abs(e.y[2 * i] - want[0]) < 1e-6 && Math.abs(e.y[2 * i + 1] - want[1]) < 1e-6);
    }
    // Targets vary: the teacher is not degenerate.
    let s = 0;
    let s2 = 0;
    for (const v of d.y) {
      s += v;
      s2 += v * v;
    }
    assert.ok(s2 / d.n - (s / d.n) ** 2 > 0.01);
  });

  it('rejects bad generator options as input errors', () => {
    inputFault(() => moons({ n: 0 }), /moons: n must be a whole number/);
    inputFault(() => spirals({ n: 10.5 }), /spirals: n must be a whole number/);
    inputFault(() => circles({ noise: -1 }), /circles: noise must be a finite number >= 0/);
    inputFault(() => circles({ factor: 1.5 }), /factor must be a number strictly between 0 and 1/);
    inputFault(() => blobs({ centers: 0 }), /blobs: centers must be a whole number > 0/);
    inputFault(() => xor({ seed: -1 }), /seed must be a whole number/);
  });
});

describe('digits', () => {
  it('loads 1797 rows, 64 integer features in 0..16 and 10 classes with the known class counts', () => {
    const d = loadDigits();
    assert.equal(d.id, 'digits');
    assert.equal(d.n, 1797);
    assert.equal(d.features, 64);
    assert.equal(d.outputs, 10);
    checkShape(d);
    assert.ok(d.x.every((v) => Number.isInteger(v) && v >= 0 && v <= 16));
    assert.deepEqual(counts(d.labels!, 10), [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
    // First row of the file: "0,0,5,13,9,1,0,0,..." label 0.
    assert.deepEqual(Array.from(d.x.subarray(0, 6)), [0, 0, 5, 13, 9, 1]);
    assert.equal(d.labels![0], 0);
    // Each call hands out its own arrays.
    d.x[0] = 99;
    assert.equal(loadDigits().x[0], 0);
  });

  it('loadDataset("digits") is split 80/20 and standardised with the training statistics', async () => {
    const s = await loadDataset('digits', { seed: 3 });
    assert.equal(s.train.n, 1438);
    assert.equal(s.test.n, 359);
    assert.equal(s.train.features, 64);
    const d = 64;
    let constant = 0;
    for (let j = 0; j < d; j++) {
      let m = 0;
      for (let i = 0; i < s.train.n; i++) m += s.train.x[i * d + j];
      m /= s.train.n;
      let v = 0;
      for (let i = 0; i < s.train.n; i++) v += (s.train.x[i * d + j] - m) ** 2;
      const sd = Math.sqrt(v / s.train.n);
      assert.ok(Math.abs(m) < 1e-5, `feature ${j} mean ${m}`);
      if (sd === 0) constant++;
      else assert.ok(Math.abs(sd - 1) < 1e-4, `feature ${j} std ${sd}`);
    }
    // The digits have blank border pixels (e.g. the top-left corner): those stay exact zeros.
    assert.ok(constant >= 1);
    // The test part uses the train statistics: recompute them from the raw split.
    const raw = splitDataset(loadDigits(), { seed: 3 });
    const { mean, std } = standardize(raw);
    for (const i of [0, 100, 358]) {
      for (const j of [10, 20, 35]) {
        const want = (raw.test.x[i * d + j] - mean[j]) / std[j];
        assert.ok(Math.abs(s.test.x[i * d + j] - want) < 1e-5);
      }
    }
    // standardize: false does not switch it off for digits.
    const again = await loadDataset('digits', { seed: 3, standardize: false });
    assert.ok(bytesEqual(again.train.x, s.train.x));
  });

  it('finds the data folder through LANDSCAPE_DATA_DIR first and lists where it looked', () => {
    const dir = path.join(tmp, 'datadir');
    fs.mkdirSync(path.join(dir, 'optdigits'), { recursive: true });
    const src = findDigitsFile();
    fs.copyFileSync(src, path.join(dir, 'optdigits', 'optdigits-1797.csv.gz'));
    const old = process.env[DATA_DIR_ENV];
    try {
      process.env[DATA_DIR_ENV] = dir;
      assert.equal(dataDirCandidates()[0], dir);
      assert.equal(findDigitsFile(), path.join(dir, 'optdigits', 'optdigits-1797.csv.gz'));
      // A wrong override falls back to the packaged data.
      process.env[DATA_DIR_ENV] = path.join(tmp, 'nowhere');
      assert.equal(findDigitsFile(), src);
    } finally {
      if (old === undefined) delete process.env[DATA_DIR_ENV];
      else process.env[DATA_DIR_ENV] = old;
    }
  });

  it('from a bundle in dist/ it finds dist/data/optdigits, and otherwise names every place it looked', async () => {
    const esbuild = await import('esbuild');
    const dist = path.join(tmp, 'pkg', 'dist');
    fs.mkdirSync(path.join(dist, 'data', 'optdigits'), { recursive: true });
    fs.copyFileSync(findDigitsFile(), path.join(dist, 'data', 'optdigits', 'optdigits-1797.csv.gz'));
    const entry = path.join(tmp, 'entry.ts');
    const digitsModule = path.resolve(__dirname, '../../../src/engine/data/digits.ts');
    fs.writeFileSync(
      entry,
      `import { loadDigits } from ${JSON.stringify(digitsModule)};\n` +
        `try { const d = loadDigits(); console.log('rows=' + d.n); } catch (e) { console.log('error=' + e.message); }\n`,
    );
    const out = path.join(dist, 'probe.js');
    await esbuild.build({ entryPoints: [entry], outfile: out, bundle: true, platform: 'node', format: 'cjs', logLevel: 'silent' });
    const env = { ...process.env };
    delete env[DATA_DIR_ENV];
    assert.equal(execFileSync(process.execPath, [out], { env, encoding: 'utf8' }).trim(), 'rows=1797');
    fs.rmSync(path.join(dist, 'data'), { recursive: true });
    const msg = execFileSync(process.execPath, [out], { env, encoding: 'utf8' }).trim();
    assert.match(msg, /^error=built-in dataset "digits" not found; looked for /);
    assert.ok(msg.includes(path.join(dist, 'data', 'optdigits', 'optdigits-1797.csv.gz')), msg);
    assert.ok(msg.includes(path.join(tmp, 'pkg', 'data', 'optdigits', 'optdigits-1797.csv.gz')), msg);
    assert.match(msg, /LANDSCAPE_DATA_DIR/);
  });
});

describe('split and standardisation', () => {
  /** A classification dataset whose first feature is the row index, so rows are traceable. */
  function indexed(n: number, k: number): Dataset {
    const x = new Float32Array(n * 2);
    const labels = new Int32Array(n);
    const y = new Float32Array(n * k);
    for (let i = 0; i < n; i++) {
      x[2 * i] = i;
      x[2 * i + 1] = 5;
      labels[i] = i % 7 < 5 ? 0 : (i % k) % k; // unbalanced classes
      y[i * k + labels[i]] = 1;
    }
    return { id: 'indexed', task: 'classification', n, features: 2, x, outputs: k, y, labels };
  }

  function rowsOf(d: Dataset): number[] {
    return Array.from({ length: d.n }, (_, i) => d.x[i * d.features]);
  }

  it('80/20, disjoint, covering all rows, deterministic for a seed, different across seeds', () => {
    const ds = indexed(1000, 3);
    const a = splitDataset(ds, { seed: 1 });
    assert.equal(a.train.n, 800);
    assert.equal(a.test.n, 200);
    assert.equal(a.seed, 1);
    assert.equal(a.testFraction, 0.2);
    const tr = rowsOf(a.train);
    const te = rowsOf(a.test);
    const all = new Set([...tr, ...te]);
    assert.equal(all.size, 1000);
    assert.equal(tr.filter((r) => te.includes(r)).length, 0);
    // Labels travel with their rows.
    for (let i = 0; i < a.test.n; i++) assert.equal(a.test.labels![i], ds.labels![te[i]]);
    const b = splitDataset(ds, { seed: 1 });
    assert.deepEqual(rowsOf(b.test), te);
    const c = splitDataset(ds, { seed: 2 });
    assert.notDeepEqual(rowsOf(c.test), te);
  });

  it('is stratified: each class keeps its share of test rows', () => {
    const ds = indexed(1000, 3);
    const s = splitDataset(ds, { seed: 4, testFraction: 0.3 });
    assert.equal(s.test.n, 300);
    const all = counts(ds.labels!, 3);
    const te = counts(s.test.labels!, 3);
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(te[c] - all[c] * 0.3) <= 1, `class ${c}: ${te[c]} of ${all[c]}`);
  });

  it('splits regression data and rejects bad fractions', () => {
    const ds = teacher({ n: 101, seed: 1 });
    const s = splitDataset(ds, { seed: 0 });
    assert.equal(s.train.n + s.test.n, 101);
    assert.equal(s.test.n, 20);
    checkShape(s.train);
    checkShape(s.test);
    inputFault(() => splitDataset(ds, { testFraction: 0 }), /test fraction must be a number strictly between 0 and 1/);
    inputFault(() => splitDataset(ds, { testFraction: 1 }), /test fraction must be/);
    // Two rows still split 1/1 however small the fraction.
    assert.equal(splitDataset(teacher({ n: 2 }), { testFraction: 0.01 }).test.n, 1);
    inputFault(() => splitDataset({ ...ds, n: 1, x: ds.x.slice(0, 10), y: ds.y.slice(0, 1) }), /has 1 row\(s\); a train\/test split needs at least 2/);
  });

  it('standardize: train statistics only, constant features centred and divided by 1', () => {
    const mk = (rows: number[][]): Dataset => ({
      id: 't',
      task: 'regression',
      n: rows.length,
      features: 2,
      x: Float32Array.from(rows.flat()),
      outputs: 1,
      y: new Float32Array(rows.length),
    });
    const split: Split = { train: mk([[1, 0.1], [3, 0.1], [5, 0.1]]), test: mk([[7, 0.1], [3, 2]]), seed: 0, testFraction: 0.4 };
    const { split: s, mean, std } = standardize(split);
    const sd = Math.sqrt(8 / 3);
    assert.ok(Math.abs(mean[0] - 3) < 1e-12 && Math.abs(std[0] - sd) < 1e-12);
    assert.ok(Math.abs(mean[1] - Math.fround(0.1)) < 1e-12 && std[1] === 1);
    const close = (a: ArrayLike<number>, b: number[]) => b.forEach((v, i) => assert.ok(Math.abs(a[i] - v) < 1e-6, `${a[i]} vs ${v}`));
    close(s.train.x, [-2 / sd, 0, 0, 0, 2 / sd, 0]);
    close(s.test.x, [4 / sd, 0, 0, 2 - Math.fround(0.1)]);
    // The input split is not modified.
    assert.equal(split.train.x[0], 1);
  });
});

describe('CSV loader', () => {
  it('detects a header, takes the last column as label by default and maps string classes in sorted order', () => {
    const f = writeCsv('iris.csv', 'sepal,petal,species\n1,2,versicolor\n3,4,setosa\n5,6,virginica\n7,8,setosa\n');
    const d = loadCsv(f);
    assert.equal(d.id, 'csv:iris.csv');
    assert.equal(d.task, 'classification');
    assert.equal(d.n, 4);
    assert.equal(d.features, 2);
    assert.deepEqual(d.featureNames, ['sepal', 'petal']);
    assert.deepEqual(d.classNames, ['setosa', 'versicolor', 'virginica']);
    assert.deepEqual(Array.from(d.labels!), [1, 0, 2, 0]);
    assert.deepEqual(Array.from(d.x), [1, 2, 3, 4, 5, 6, 7, 8]);
    checkShape(d);
  });

  it('reads files without a header, also when the labels are strings', () => {
    const d = parseCsv('1,2,b\n3,4,a\n5,6,b\n', 'x.csv');
    assert.equal(d.n, 3);
    assert.deepEqual(d.classNames, ['a', 'b']);
    assert.deepEqual(d.featureNames, ['column1', 'column2']);
    const e = parseCsv('0.5,2,1\n3,4,0\n', 'x.csv');
    assert.equal(e.n, 2);
    assert.deepEqual(Array.from(e.labels!), [1, 0]);
    assert.deepEqual(Array.from(e.x), [0.5, 2, 3, 4]);
  });

  it('label column by name, by index, by negative index and by a numeric string', () => {
    const text = 'y,a,b\n1,10,20\n0,11,21\n1,12,22\n';
    const byName = parseCsv(text, 'f.csv', { labelColumn: 'y' });
    const byCase = parseCsv(text, 'f.csv', { labelColumn: 'Y' });
    const byIndex = parseCsv(text, 'f.csv', { labelColumn: 0 });
    const byNeg = parseCsv(text, 'f.csv', { labelColumn: -3 });
    const byStr = parseCsv(text, 'f.csv', { labelColumn: '0' });
    for (const d of [byName, byCase, byIndex, byNeg, byStr]) {
      assert.deepEqual(d.featureNames, ['a', 'b']);
      assert.deepEqual(Array.from(d.labels!), [1, 0, 1]);
      assert.deepEqual(Array.from(d.x), [10, 20, 11, 21, 12, 22]);
    }
    const mid = parseCsv(text, 'f.csv', { labelColumn: 1, task: 'regression' });
    assert.deepEqual(Array.from(mid.y), [10, 11, 12]);
    assert.deepEqual(mid.featureNames, ['y', 'b']);
  });

  it('auto task: integer labels are classes, real-valued labels are regression; explicit task wins', () => {
    const cls = parseCsv('a,t\n1,3\n2,5\n3,3\n', 'f.csv');
    assert.equal(cls.task, 'classification');
    assert.deepEqual(cls.classNames, ['3', '5']);
    assert.deepEqual(Array.from(cls.labels!), [0, 1, 0]);
    const reg = parseCsv('a,t\n1,0.5\n2,1.25\n3,-2e-1\n', 'f.csv');
    assert.equal(reg.task, 'regression');
    assert.equal(reg.outputs, 1);
    assert.deepEqual(Array.from(reg.y), [0.5, 1.25, Math.fround(-0.2)]);
    assert.equal(reg.labels, undefined);
    const forced = parseCsv('a,t\n1,3\n2,5\n3,3\n', 'f.csv', { task: 'regression' });
    assert.equal(forced.task, 'regression');
    // More than 50 distinct integers: regression under auto.
    const many = Array.from({ length: 60 }, (_, i) => `${i},${i * 2}`).join('\n');
    assert.equal(parseCsv(many, 'f.csv').task, 'regression');
    assert.equal(parseCsv(many, 'f.csv', { task: 'classification' }).outputs, 60);
  });

  it('handles ";" with decimal commas, tabs, quotes, CRLF, a BOM and blank lines', () => {
    const semi = parseCsv('a;b;c\n1,5;2;x\n3;4,25;y\n', 'f.csv');
    assert.deepEqual(Array.from(semi.x), [1.5, 2, 3, 4.25]);
    const tab = parseCsv('a\tb\tc\n1\t2\t0\n3\t4\t1\n', 'f.tsv');
    assert.deepEqual(Array.from(tab.x), [1, 2, 3, 4]);
    const quoted = parseCsv('"a, first","b ""q""",label\n1,2,"x, y"\n3,4,z\n', 'f.csv');
    assert.deepEqual(quoted.featureNames, ['a, first', 'b "q"']);
    assert.deepEqual(quoted.classNames, ['x, y', 'z']);
    const crlf = parseCsv('\ufeffa,b\r\n\r\n1,0\r\n2,1\r\n\r\n', 'f.csv');
    assert.deepEqual(crlf.featureNames, ['a']);
    assert.equal(crlf.n, 2);
  });

  it('loadDataset reads a CSV path: split, standardised by default, options passed through', async () => {
    const rows = ['f1,f2,target'];
    for (let i = 0; i < 50; i++) rows.push(`${i},${100 + 3 * i},${i % 2 === 0 ? 'even' : 'odd'}`);
    const f = writeCsv('ds.csv', rows.join('\n'));
    const s = await loadDataset(f, { seed: 1 });
    assert.equal(s.train.n, 40);
    assert.equal(s.test.n, 10);
    assert.equal(s.train.id, 'csv:ds.csv');
    assert.deepEqual(s.train.classNames, ['even', 'odd']);
    let m = 0;
    for (let i = 0; i < s.train.n; i++) m += s.train.x[i * 2 + 1];
    assert.ok(Math.abs(m / s.train.n) < 1e-5);
    const raw = await loadDataset(f, { seed: 1, standardize: false });
    assert.ok(raw.train.x.every((v) => Number.isInteger(v)));
    const numeric = writeCsv('num.csv', rows.map((r, i) => (i === 0 ? r : r.replace(/even|odd/, String(i % 3)))).join('\n'));
    const reg = await loadDataset(numeric, { seed: 1, labelColumn: 'f2', task: 'regression', testFraction: 0.5 });
    assert.deepEqual(reg.train.featureNames, ['f1', 'target']);
    assert.equal(reg.train.task, 'regression');
    assert.equal(reg.test.n, 25);
    // A file that exists but is not named .csv is still read as CSV.
    const txt = writeCsv('ds.txt', rows.join('\n'));
    assert.equal((await loadDataset(txt)).train.features, 2);
    assert.match(describeDataset(loadRawDataset(f)), /^csv:ds\.csv: classification, 50 rows, 2 features, 2 classes$/);
  });

  it('describes datasets and splits in one line', async () => {
    assert.equal(describeDataset(loadDigits()), 'digits: classification, 1797 rows, 64 features (1×8×8 images), 10 classes');
    assert.equal(describeDataset(teacher({ n: 5 })), 'teacher: regression, 5 rows, 10 features, 1 output');
    const s = await loadDataset('moons', { n: 100, seed: 2 });
    assert.equal(describeSplit(s), 'moons: classification, 2 features, 2 classes; 80 train / 20 test rows (seed 2)');
  });

  it('n subsamples digits (stratified, seeded)', () => {
    const a = loadRawDataset('digits', { n: 200, seed: 1 });
    const b = loadRawDataset('digits', { n: 200, seed: 1 });
    assert.equal(a.n, 200);
    assert.ok(bytesEqual(a.x, b.x));
    const cnt = counts(a.labels!, 10);
    assert.ok(Math.min(...cnt) >= 18 && Math.max(...cnt) <= 22, cnt.join(','));
  });

  describe('each bad input has its own message and is an input error', () => {
    // [case, file contents (or a setup returning a path), options, expected message]
    type Case = { name: string; run: () => unknown; re: RegExp };
    const cases: Case[] = [
      { name: 'empty', run: () => loadCsv(writeCsv('empty.csv', '')), re: /empty\.csv: empty file; pass a CSV file/ },
      { name: 'blank', run: () => loadCsv(writeCsv('blank.csv', '\n  \n\n')), re: /blank\.csv: empty file; pass a CSV file/ },
      { name: 'header only', run: () => loadCsv(writeCsv('head.csv', 'a,b,label\n')), re: /head\.csv: no data rows \(only the header line 1\)/ },
      {
        name: 'ragged',
        run: () => loadCsv(writeCsv('ragged.csv', 'a,b,c\n1,2,0\n\n3,4\n')),
        re: /ragged\.csv: line 4 has 2 columns, expected 3/,
      },
      {
        name: 'non-numeric feature',
        run: () => loadCsv(writeCsv('text.csv', 'a,b,c\n1,2,0\n3,abc,1\n')),
        re: /text\.csv: line 3, column "b": "abc" is not a number/,
      },
      {
        name: 'non-numeric feature, no header',
        run: () => loadCsv(writeCsv('text2.csv', '1,2,0\n3,4x,1\n')),
        re: /text2\.csv: line 2, column 2 \(index 1\): "4x" is not a number/,
      },
      {
        name: 'missing value',
        run: () => loadCsv(writeCsv('missing.csv', 'a,b,c\n1,,0\n3,4,1\n')),
        re: /missing\.csv: line 2, column "b": empty value \(missing values are not supported\)/,
      },
      {
        name: 'empty label',
        run: () => loadCsv(writeCsv('nolabel.csv', 'a,b,c\n1,2,0\n3,4, \n')),
        re: /nolabel\.csv: line 3: empty label in column "c"/,
      },
      {
        name: 'unknown label name',
        run: () => loadCsv(writeCsv('names.csv', 'a,b,y\n1,2,0\n3,4,1\n'), { labelColumn: 'label' }),
        re: /names\.csv: label column "label" not found; available columns: a, b, y/,
      },
      {
        name: 'label name without header',
        run: () => loadCsv(writeCsv('nohead.csv', '1,2,0\n3,4,1\n'), { labelColumn: 'y' }),
        re: /nohead\.csv: the file has no header row, so label column "y" cannot be found by name/,
      },
      {
        name: 'label index out of range',
        run: () => loadCsv(writeCsv('range.csv', '1,2,0\n3,4,1\n'), { labelColumn: 3 }),
        re: /range\.csv: label column index 3 is out of range: the file has 3 columns \(use 0\.\.2, or -3\.\.-1/,
      },
      {
        name: 'negative label index out of range',
        run: () => loadCsv(writeCsv('range2.csv', '1,2,0\n3,4,1\n'), { labelColumn: -4 }),
        re: /range2\.csv: label column index -4 is out of range/,
      },
      {
        name: 'single class',
        run: () => loadCsv(writeCsv('single.csv', 'a,b,y\n1,2,cat\n3,4,cat\n')),
        re: /single\.csv: label column "y" has a single class \("cat"\); classification needs at least 2/,
      },
      {
        name: 'non-finite feature',
        run: () => loadCsv(writeCsv('nan.csv', 'a,b,y\n1,NaN,0\n3,4,1\n')),
        re: /nan\.csv: line 2, column "b": non-finite value "NaN"/,
      },
      {
        name: 'infinite feature',
        run: () => loadCsv(writeCsv('inf.csv', 'a,b,y\n1,2,0\n-inf,4,1\n')),
        re: /inf\.csv: line 3, column "a": non-finite value "-inf"/,
      },
      {
        name: 'float32 overflow',
        run: () => loadCsv(writeCsv('big.csv', 'a,b,y\n1,2,0\n1e39,4,1\n')),
        re: /big\.csv: line 3, column "a": non-finite value "1e39"/,
      },
      {
        name: 'non-finite label',
        run: () => loadCsv(writeCsv('nanlabel.csv', 'a,y\n1,0.5\n2,Infinity\n')),
        re: /nanlabel\.csv: line 3, label column "y": non-finite value "Infinity"/,
      },
      {
        name: 'text label for regression',
        run: () => loadCsv(writeCsv('regtext.csv', 'a,y\n1,0.5\n2,high\n'), { task: 'regression' }),
        re: /regtext\.csv: line 3, label column "y": "high" is not a number; regression needs numeric targets/,
      },
      {
        name: 'too many text classes',
        run: () =>
          loadCsv(writeCsv('classes.csv', 'a,y\n' + Array.from({ length: 60 }, (_, i) => `${i},c${i}`).join('\n'))),
        re: /classes\.csv: label column "y" has 60 distinct values, not all numbers: too many for classification \(at most 50\)/,
      },
      {
        name: 'one column',
        run: () => loadCsv(writeCsv('onecol.csv', 'a\n1\n2\n')),
        re: /onecol\.csv: needs at least 2 columns \(features and a label\) but line 1 has 1 \(delimiter ","\)/,
      },
      {
        name: 'unterminated quote',
        run: () => loadCsv(writeCsv('quote.csv', 'a,b,y\n1,"2,0\n')),
        re: /quote\.csv: line 2: unterminated quoted field/,
      },
      { name: 'not found', run: () => loadCsv(path.join(tmp, 'missing-file.csv')), re: /missing-file\.csv: file not found; check the path of the CSV file$/ },
      {
        name: 'directory',
        run: () => {
          const d = path.join(tmp, 'adir.csv');
          fs.mkdirSync(d, { recursive: true });
          return loadCsv(d);
        },
        re: /adir\.csv: is a directory, not a CSV file; pass the path of a \.csv file$/,
      },
      {
        name: 'too large',
        run: () => loadCsv(writeCsv('large.csv', 'a,y\n1,0\n2,1\n'), { maxBytes: 8 }),
        re: /large\.csv: file is too large \(12 bytes; the limit is 8 bytes\)/,
      },
    ];

    const messages = new Map<string, string>();
    for (const c of cases) {
      it(c.name, () => {
        messages.set(c.name, inputFault(c.run, c.re));
      });
    }

    it('no two cases share a message pattern', () => {
      assert.equal(messages.size, cases.length);
      for (const c of cases) {
        for (const [other, msg] of messages) {
          if (other !== c.name) assert.doesNotMatch(msg, c.re, `"${c.name}" pattern also matches "${other}"`);
        }
      }
    });

    it('loadDataset: unknown names list the valid ones; a missing .csv is "file not found"', async () => {
      await inputFaultAsync(
        () => loadDataset('imagenet'),
        /^unknown dataset "imagenet": use one of digits, spirals, moons, circles, blobs, xor, teacher, mnist, fashion-mnist, kmnist, cifar10, or the path of a \.csv or \.npz file, or of a folder of IDX files, CIFAR-10 batches, or x\.npy and y\.npy$/,
      );
      await inputFaultAsync(() => loadDataset(path.join(tmp, 'nope.csv')), /nope\.csv: file not found; check the path of the CSV file$/);
      await inputFaultAsync(() => loadDataset('moons', { testFraction: 1.5 }), /test fraction must be/);
      await inputFaultAsync(() => loadDataset('digits', { n: 1 }), /n must be a whole number >= 2/);
    });
  });
});
