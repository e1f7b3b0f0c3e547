/**
 * Fuzzing what a training run's trip through the queue parses: the
 * train-run payload a worker receives, the run configuration blob it checks,
 * and the run zip (and the checkpoints in it) the client unpacks. Each either
 * gives a value or one input error, never another exception; a zip whose
 * entry names would land outside the run folder, or whose entries are not
 * plain files, is refused, and nothing is ever written outside that folder.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { zipSync, type Zippable } from 'fflate';
import { LandscapeError } from '../../../src/engine/errors';
import { checkJobPayload } from '../../../src/queue/jobKinds';
import { checkTrainConfigWire, trainConfigWire } from '../../../src/queue/trainConfigWire';
import { checkEntryName, packFolder, unpackFolderZip } from '../../../src/queue/folderZip';
import { withCheckpointDataset } from '../../../src/queue/trainRunner';
import { encodeSafetensors } from '../../../src/engine/checkpoint/safetensors';
import type { TrainConfig } from '../../../src/engine/train/types';
import { FUZZ_RUNS, fuzzParams } from '../../support/fuzz-harness';
import { makeFastTempDir, removeTempDir } from '../../support/tmp';

const sandbox = makeFastTempDir('fuzz-run-zip');
after(() => removeTempDir(sandbox));

function inputErrorOrValue<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch (e) {
    assert.ok(e instanceof LandscapeError && e.kind === 'input', `expected an input error, got ${e instanceof Error ? e.stack : String(e)}`);
    return undefined;
  }
}

const hex = fc.stringMatching(/^[0-9a-f]{64}$/);
const oddNumber = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -1, 1e9, NaN, Infinity, 0.5));
const trainPayload = fc.record(
  {
    format: fc.oneof(fc.constant(1), oddNumber, fc.string()),
    kind: fc.oneof(fc.constant('train-run'), fc.constantFrom('path-pair', 'slice-rows', '__proto__'), fc.string()),
    config: fc.oneof(hex, fc.string(), fc.integer()),
    backend: fc.oneof(fc.constantFrom('wasm', 'cpu', 'tensorflow', 'auto', 'webgl'), fc.string()),
    threads: fc.oneof(fc.integer({ min: 1, max: 8 }), oddNumber, fc.string()),
    kernels: fc.oneof(fc.constantFrom('relaxed-simd', 'simd', 'off', 'avx'), fc.integer()),
    sourceDateEpoch: fc.oneof(fc.integer({ min: 0, max: 2e9 }), oddNumber, fc.constant(undefined)),
    extra: fc.anything(),
  },
  { requiredKeys: [] },
);

const datasetRef = fc.oneof(
  fc.record({ name: fc.constantFrom('digits', 'fashion-mnist', 'spirals') }),
  fc.record({ file: fc.string({ maxLength: 300 }), blob: fc.oneof(hex, fc.string()) }, { requiredKeys: [] }),
  fc.record({ folder: fc.string(), blob: hex, name: fc.string() }, { requiredKeys: [] }),
  fc.anything(),
);
const wireConfig = fc.record(
  {
    dataset: datasetRef,
    model: fc.oneof(fc.constantFrom('64-32-32-10', 'lenet', '4-8-3'), fc.string(), fc.integer()),
    activation: fc.oneof(fc.constantFrom('relu', 'tanh', 'swish'), fc.boolean()),
    bias: fc.oneof(fc.boolean(), fc.string()),
    loss: fc.constantFrom('cross-entropy', 'mse', 'hinge'),
    optimizer: fc.oneof(fc.constantFrom('sgd', 'lbfgs', 'adam', 'rolling-ball', 'SGD', 'constructor'), fc.string()),
    lr: oddNumber,
    momentum: oddNumber,
    l2: oddNumber,
    epochs: fc.oneof(fc.integer({ min: 1, max: 50 }), oddNumber),
    batch: oddNumber,
    seed: oddNumber,
    dataSeed: oddNumber,
    checkpointEvery: oddNumber,
    stabilityEvery: oddNumber,
    testFraction: oddNumber,
    labelColumn: fc.oneof(fc.string(), oddNumber, fc.constant(null)),
    task: fc.constantFrom('classification', 'regression', 'auto', 'ranking'),
    n: oddNumber,
    noise: oddNumber,
    subset: oddNumber,
    backend: fc.constantFrom('auto', 'wasm', 'gpu'),
    out: fc.string(),
    optimizerOptions: fc.oneof(fc.constant({}), fc.record({ history: fc.integer() })),
  },
  { requiredKeys: [] },
);

/** A valid value with one field replaced (or added) by anything at all. */
function oneFieldOff(base: Record<string, unknown>, keys: string[]): fc.Arbitrary<Record<string, unknown>> {
  return fc.tuple(fc.constantFrom(...keys, 'unknownField', '__proto__'), fc.oneof(fc.anything(), oddNumber)).map(([k, v]) => ({ ...base, [k]: v }));
}
const VALID_PAYLOAD = { format: 1, kind: 'train-run', config: 'a'.repeat(64), backend: 'wasm', threads: 2, kernels: 'relaxed-simd' };
const VALID_CONFIG = { dataset: { name: 'digits' }, model: '64-32-32-10', bias: false, optimizer: 'sgd', lr: 0.1, epochs: 2, batch: 64, seed: 1, dataSeed: 0, checkpointEvery: 0 };
const CONFIG_KEYS = ['dataset', 'model', 'activation', 'bias', 'loss', 'optimizer', 'lr', 'momentum', 'l2', 'epochs', 'batch', 'seed', 'dataSeed', 'checkpointEvery', 'stabilityEvery', 'testFraction', 'labelColumn', 'task', 'n', 'noise', 'subset', 'backend'];

describe('fuzz: train-run payloads and run configurations', () => {
  it('a worker accepts only well-formed train-run payloads', () => {
    fc.assert(
      fc.property(fc.oneof(trainPayload, oneFieldOff(VALID_PAYLOAD, [...Object.keys(VALID_PAYLOAD), 'sourceDateEpoch']), fc.anything()), (data) => {
        const ok = inputErrorOrValue(() => checkJobPayload(data));
        if (ok && ok.kind === 'train-run') assert.ok(Object.keys(ok.payload).every((k) => ['format', 'kind', 'config', 'backend', 'threads', 'kernels', 'sourceDateEpoch'].includes(k)));
      }),
      fuzzParams(21),
    );
  });

  it('a worker accepts only configurations a local `landscape train` could be given, within bounds', () => {
    fc.assert(
      fc.property(fc.oneof(wireConfig, oneFieldOff(VALID_CONFIG, CONFIG_KEYS), fc.anything()), (v) => {
        const ok = inputErrorOrValue(() => checkTrainConfigWire(v));
        if (!ok) return;
        assert.ok(!('out' in ok) && !('optimizerOptions' in ok), 'a folder or optimizer options got through');
        assert.ok(Number.isInteger(ok.epochs) && ok.epochs >= 1 && ok.epochs <= 1_000_000);
      }),
      fuzzParams(22),
    );
  });

  it("the client's wire form of a run is one the worker accepts, or an input error", () => {
    fc.assert(
      fc.property(wireConfig, fc.constantFrom({ name: 'digits' }, { file: 'x.csv', blob: 'a'.repeat(64) }), (config, ref) => {
        const wire = inputErrorOrValue(() => trainConfigWire(config as unknown as TrainConfig, ref));
        if (wire) assert.deepEqual(checkTrainConfigWire(JSON.parse(JSON.stringify(wire))), wire);
      }),
      fuzzParams(23),
    );
  });
});

/** A small run folder, packed as a worker packs it. */
function sampleRunZip(): Uint8Array {
  const dir = path.join(sandbox, 'source');
  fs.mkdirSync(path.join(dir, 'checkpoints'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify({ status: 'completed', config: { out: '/x' } }, null, 2) + '\n');
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), '{"type":"epoch","epoch":0}\n');
  fs.writeFileSync(path.join(dir, 'final.safetensors'), sampleCheckpoint('/worker/cache/data.csv'));
  fs.writeFileSync(path.join(dir, 'checkpoints', 'epoch-0001.safetensors'), sampleCheckpoint('digits'));
  return packFolder(dir);
}

function sampleCheckpoint(dataset: string): Buffer {
  return encodeSafetensors([{ name: 'layers.0.weight', dtype: 'F32', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) }], { dataset, model: '3-2', time: '2001-09-09T01:46:40.000Z' });
}

let caseNo = 0;
/** Targets sit three folders down, so that a name climbing out of one (up to four levels) would still land in the sandbox and be seen. */
const casesDir = path.join(sandbox, 'cases', 'd1', 'd2');
fs.mkdirSync(casesDir, { recursive: true });

/** Everything under `dir` but the sample run's source folder, as relative paths. */
function sandboxContents(dir = sandbox, rel = ''): string[] {
  return fs
    .readdirSync(path.join(dir, rel), { withFileTypes: true })
    .filter((e) => !(rel === '' && e.name === 'source'))
    .flatMap((e) => (e.isDirectory() ? [`${rel}${e.name}/`, ...sandboxContents(dir, `${rel}${e.name}/`)] : [`${rel}${e.name}`]));
}

/** Unpacks `bytes` into a fresh target; whatever happens, the sandbox holds nothing else afterwards. */
function unpackChecked(bytes: Uint8Array): boolean {
  const target = path.join(casesDir, `case-${++caseNo}`);
  const ok = inputErrorOrValue(() => (unpackFolderZip(bytes, target, 'run folder'), true)) === true;
  if (ok) fs.rmSync(target, { recursive: true });
  const left = sandboxContents();
  assert.deepEqual(left, ['cases/', 'cases/d1/', 'cases/d1/d2/'], `unpacking left ${left.join(', ')}`);
  return ok;
}

const mutation = fc.oneof(
  fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ cut: fc.nat() }),
  fc.record({ insertAt: fc.nat(), bytes: fc.uint8Array({ maxLength: 16 }) }),
);

function mutate(zip: Uint8Array, ms: ({ at: number; byte: number } | { cut: number } | { insertAt: number; bytes: Uint8Array })[]): Uint8Array {
  let b = Uint8Array.from(zip);
  for (const m of ms) {
    if ('byte' in m) b[m.at % b.length] = m.byte;
    else if ('cut' in m) b = b.subarray(0, m.cut % (b.length + 1));
    else b = Uint8Array.from([...b.subarray(0, m.insertAt % (b.length + 1)), ...m.bytes, ...b.subarray(m.insertAt % (b.length + 1))]);
    if (!b.length) break;
  }
  return b;
}

const UNSAFE_NAMES = ['../escape', '../../etc/passwd', '/abs/file', 'a/../../b', 'C:evil', 'a\\..\\b', '', './a', 'a//b', 'a/./b', 'dir/', 'x\u0000y', '..', Array(17).fill('a').join('/'), 'x'.repeat(300)];
const SYMLINK = { os: 3, attrs: (0o120777 << 16) >>> 0 };
const DIRECTORY = { os: 3, attrs: (0o040755 << 16) >>> 0 };

describe('fuzz: run zips from the queue', () => {
  const zip = sampleRunZip();
  const runs = Math.max(1, Math.floor(FUZZ_RUNS / 5));

  it('a run zip unpacks whole, its files unchanged', () => {
    const target = path.join(sandbox, 'whole');
    unpackFolderZip(zip, target, 'run folder');
    assert.equal(fs.readFileSync(path.join(target, 'metrics.jsonl'), 'utf8'), '{"type":"epoch","epoch":0}\n');
    assert.ok(fs.readFileSync(path.join(target, 'checkpoints', 'epoch-0001.safetensors')).equals(sampleCheckpoint('digits')));
    fs.rmSync(target, { recursive: true });
  });

  it('a mutated run zip unpacks or gives one input error, and leaves nothing behind', () => {
    fc.assert(fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (ms) => void unpackChecked(mutate(zip, ms))), fuzzParams(24, runs));
  });

  it('entry names that leave the folder, and entries that are not plain files, are refused', () => {
    const entry = fc.record({
      name: fc.oneof(fc.constantFrom(...UNSAFE_NAMES), fc.constantFrom('run.json', 'checkpoints/epoch-0001.safetensors'), fc.string({ maxLength: 20 })),
      kind: fc.constantFrom('file', 'file', 'symlink', 'directory'),
    });
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 4 }), (entries) => {
        const files: Zippable = {};
        const kinds = new Map<string, string>();
        for (const e of entries) {
          files[e.name] = [new Uint8Array([1, 2, 3]), e.kind === 'symlink' ? SYMLINK : e.kind === 'directory' ? DIRECTORY : {}];
          kinds.set(e.name, e.kind);
        }
        const ok = unpackChecked(zipSync(files, { level: 0 }));
        const safe = [...kinds.keys()].every((n) => inputErrorOrValue(() => checkEntryName(n, 'run folder')) !== undefined);
        const plain = [...kinds.values()].every((k) => k === 'file');
        if (ok) assert.ok(safe && plain, `unpacked ${JSON.stringify([...kinds])}`);
        if (!safe || !plain || [...kinds.keys()].some((n) => UNSAFE_NAMES.includes(n))) assert.ok(!ok, `unpacked ${JSON.stringify([...kinds])}`);
      }),
      fuzzParams(25, runs),
    );
  });

  it('a symlink or folder entry is refused even with a safe name', () => {
    for (const attrs of [SYMLINK, DIRECTORY]) assert.equal(unpackChecked(zipSync({ 'run.json': [new Uint8Array([1]), attrs] }, { level: 0 })), false);
    assert.equal(unpackChecked(zipSync({ 'run.json': [new Uint8Array(100), { level: 6 }] })), false, 'a compressed entry');
  });

  it("a checkpoint's dataset is renamed, or the file refused with an input error", () => {
    const good = sampleCheckpoint('/worker/cache/data.csv');
    const renamed = withCheckpointDataset(good, '/home/me/data.csv', 'final.safetensors');
    assert.ok(renamed.equals(sampleCheckpoint('/home/me/data.csv')));
    fc.assert(
      fc.property(fc.array(mutation, { maxLength: 3 }), fc.string({ maxLength: 40 }), (ms, name) => {
        const input = Buffer.from(mutate(good, ms));
        const out = inputErrorOrValue(() => withCheckpointDataset(input, name, 'final.safetensors'));
        if (out && out !== input) assert.equal(Number(out.readBigUInt64LE(0)) % 8, 0);
      }),
      fuzzParams(26),
    );
  });
});
