/** Runs list, run result panel data and result files: built from untrusted workspace files. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildRunsList } from '../../../src/host/runScan';
import { parseMetrics, summarizeRun, trainingRunResult } from '../../../src/engine/train/runFolderView';
import { readResultFile, saveResultFile } from '../../../src/results/resultFiles';
import { ResultDataSchema, validateHostMessage } from '../../../src/protocol';
import { validate } from '../../../src/schema';
import { makeTempDir, removeTempDir } from '../../support/tmp';

const runJson = (over: Record<string, unknown> = {}) => ({
  formatVersion: 1,
  status: 'completed',
  config: { dataset: 'digits', model: '64-32-32-10', optimizer: 'sgd', epochs: 8, lr: 0.1, batch: 64 },
  seed: 1,
  backend: 'wasm',
  model: { spec: '64-32-32-10', activation: 'relu', bias: false, loss: 'cross-entropy', paramCount: 3424 },
  dataset: { id: 'digits', task: 'classification', trainSize: 1437, testSize: 360 },
  started: '2026-11-22T10:00:00.000Z',
  finished: '2026-11-22T10:00:03.000Z',
  epochsCompleted: 8,
  checkpoints: [],
  best: { file: 'best.safetensors', kind: 'best', epoch: 8, step: 184, trainLoss: 0.1, testLoss: 0.1597, testAccuracy: 0.947 },
  ...over,
});

describe('runs list', () => {
  it('groups checkpoints under their nearest run, newest run first, final and best first', () => {
    const w = '/w';
    const files: Record<string, unknown> = {
      '/w/runs/a/run.json': runJson({ started: '2026-11-22T09:00:00Z' }),
      '/w/runs/b/run.json': runJson({ started: '2026-11-22T11:00:00Z', status: 'cancelled' }),
      '/w/runs/b/nested/run.json': runJson({ started: '2026-11-22T08:00:00Z' }),
      '/w/other/run.json': { name: 'not ours' },
      '/w/broken/run.json': undefined,
    };
    const list = buildRunsList({
      root: w,
      runJsonFiles: Object.keys(files),
      checkpointFiles: [
        '/w/runs/a/checkpoints/epoch-0010.safetensors',
        '/w/runs/a/best.safetensors',
        '/w/runs/a/final.safetensors',
        '/w/runs/b/final.safetensors',
        '/w/runs/b/nested/final.safetensors',
        '/w/loose.safetensors',
        '/w/tfjs/model.json',
        '/w/runs/a/best.safetensors',
      ],
      readRunJson: (f) => files[f],
    });
    assert.deepEqual(list.runs.map((r) => r.runDir), ['/w/runs/b', '/w/runs/a', '/w/runs/b/nested']);
    assert.deepEqual(list.runs[1].checkpoints.map((c) => c.label), ['final.safetensors', 'best.safetensors', 'checkpoints/epoch-0010.safetensors']);
    assert.deepEqual(list.runs[0].checkpoints.map((c) => c.label), ['final.safetensors']);
    assert.deepEqual(list.runs[2].checkpoints.map((c) => c.path), ['/w/runs/b/nested/final.safetensors']);
    assert.equal(list.runs[0].status, 'cancelled');
    assert.deepEqual(list.others.map((c) => c.label), ['loose.safetensors', 'tfjs/model.json']);
    assert.equal(list.truncated, false);
    assert.ok(validateHostMessage({ type: 'runs', runs: list }).ok);
  });

  it('summarises hostile or partial run.json files without throwing', () => {
    for (const bad of [undefined, null, 42, 'x', [], { config: 7 }, { config: {}, best: { testLoss: 'NaN' }, model: { spec: { evil: 1 } } }, { status: 'x'.repeat(10_000), config: {} }]) {
      const s = summarizeRun('/w/runs/r', bad);
      assert.equal(s.label, 'r');
      assert.ok(s.status.length <= 40);
      for (const [k, v] of s.summary) assert.ok(typeof k === 'string' && typeof v === 'string');
    }
    const good = summarizeRun('/w/runs/r', runJson());
    assert.match(good.detail, /digits · 64-32-32-10 · sgd · 8\/8 epochs · best test loss 0\.1597 \(94\.7%\)/);
  });

  it('reads metrics.jsonl, skipping lines that are not epoch points', () => {
    const ok = { type: 'epoch', epoch: 0, step: 0, trainLoss: 2.3, testLoss: 2.3, accuracy: 0.1, testAccuracy: 0.1, gradNorm: 1, lr: 0.1, time: 0 };
    const text = [JSON.stringify(ok), '{broken', JSON.stringify({ ...ok, epoch: 1, trainLoss: null }), JSON.stringify({ ...ok, epoch: 2 }), '', '[1]'].join('\n');
    const { points, skipped } = parseMetrics(text);
    assert.deepEqual(points.map((p) => p.epoch), [0, 2]);
    assert.equal(skipped, 3);
    assert.ok(!('type' in points[0]), 'extra fields are dropped');
    const r = trainingRunResult('/w/runs/r/run.json', runJson(), text, [{ path: '/w/runs/r/final.safetensors', label: 'final.safetensors' }]);
    assert.ok(validate(ResultDataSchema, r).ok);
    assert.ok(r.summary.some(([k, v]) => k === 'metrics' && /3 unreadable lines/.test(v)));
  });
});

describe('result files', () => {
  let dir: string;
  before(() => (dir = makeTempDir('results')));
  after(() => removeTempDir(dir));

  it('round-trips a result and rejects damaged or foreign files, naming the file', () => {
    const data = trainingRunResult('/w/runs/r/run.json', runJson(), '', []);
    const file = path.join(dir, 'r.result.json');
    saveResultFile(file, data, new Date(0));
    const back = readResultFile(file, 'trainingRun');
    assert.deepEqual(back.data, data);
    assert.equal(back.saved, '1970-01-01T00:00:00.000Z');
    const write = (name: string, v: unknown) => {
      const f = path.join(dir, name);
      fs.writeFileSync(f, typeof v === 'string' ? v : JSON.stringify(v));
      return f;
    };
    const cases: [string, RegExp][] = [
      [write('a.json', '{'), /not valid JSON/],
      [write('b.json', { hello: 1 }), /not a Landscape result file/],
      [write('c.json', { landscapeResult: 1, kind: 'trainingRun', data: { kind: 'trainingRun' } }), /damaged: data\.runDir: missing/],
      [write('d.json', { landscapeResult: 1, kind: 'barrier', data }), /says kind "barrier"/],
      [path.join(dir, 'missing.json'), /not found/],
    ];
    for (const [f, re] of cases) {
      assert.throws(() => readResultFile(f), (e: Error) => re.test(e.message) && e.message.includes(f), f);
    }
    assert.throws(() => saveResultFile(path.join(dir, 'e.json'), { ...data, points: [{ epoch: -1 }] } as never), /invalid result/);
  });
});
