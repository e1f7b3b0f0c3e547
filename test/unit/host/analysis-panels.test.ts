/**
 * The VS Code side of the analysis panels without VS Code (a stand-in
 * "vscode" module lets the real host code run):
 *   - a result panel passes overlay requests on only from a kernel PCA panel
 *     showing its own file (never a live one), and logs the refusal otherwise;
 *   - an overlay request on a map that does not read as one says why and
 *     starts no job; a map the CLI wrote is changed like ours; removing an
 *     overlay rewrites the saved map;
 *   - the kernel PCA set dedupes, drops vanished files, shows "kPCA set: N" and
 *     sets the context key that shows "Clear Kernel PCA Set";
 *   - the slice, Hessian and gradient check commands refuse a file that is not
 *     a checkpoint with a message that says what to do, before any job.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { saveAnalysisResult, readAnalysisResult, type KpcaData } from '../../../src/host/analysisFiles';
import { FakeUri, fakeLog, installFakeVscode, rec, removeFakeVscode, resetRecorder } from '../../support/vscode';
import { makeTempDir, removeTempDir } from '../../support/tmp';

let tmp: string;
const files: Record<string, string> = {};

before(() => {
  installFakeVscode();
  tmp = makeTempDir('analysis-panels');
  fs.mkdirSync(path.join(tmp, 'runs', 'r1'), { recursive: true });
  files.ck1 = path.join(tmp, 'runs', 'r1', 'final.safetensors');
  files.ck2 = path.join(tmp, 'runs', 'r1', 'best.safetensors');
  files.text = path.join(tmp, 'notes.txt');
  for (const f of [files.ck1, files.ck2, files.text]) fs.writeFileSync(f, 'x');
  files.ours = path.join(tmp, 'runs', 'runs.kpca.json');
  const data: KpcaData = {
    kind: 'kpca',
    formatVersion: 2,
    command: 'kpca',
    kernel: { kernel: 'rbf', gamma: 0.5 },
    components: 2,
    n: 2,
    dim: 2,
    eigenvalues: [1, 0.5],
    explainedVariance: [0.67, 0.33],
    spectrum: [1, 0.5],
    warnings: [],
    points: [
      { file: files.ck1, label: 'final', coords: [1, 0] },
      { file: files.ck2, label: 'best', coords: [-1, 0] },
    ],
    overlays: [
      { kind: 'trajectory', label: 'trajectory of r1', source: path.join(tmp, 'runs', 'r1'), points: [{ label: 'e1', coords: [0, 0], epoch: 1 }] },
      { kind: 'path', label: 'path', source: path.join(tmp, 'runs', 'r1', 'x.path.json'), points: [{ label: 't = 0', coords: [0, 1], t: 0 }] },
    ],
    backend: 'cpu',
    label: '2 checkpoints in r1',
    seconds: 0,
    landscapeVersion: '0.2.0',
    settings: [],
  };
  saveAnalysisResult(files.ours, data);
  // What `landscape kpca --out` writes from the workspace folder: the same shape, paths as given.
  files.cli = path.join(tmp, 'cli.kpca.json');
  const asGiven = (p: string) => path.relative(tmp, p).split(path.sep).join('/');
  fs.writeFileSync(files.cli, JSON.stringify({ ...data, points: data.points.map((p) => ({ ...p, file: asGiven(p.file) })), overlays: [] }));
  files.damaged = path.join(tmp, 'damaged.kpca.json');
  fs.writeFileSync(files.damaged, JSON.stringify({ command: 'kpca', points: [] }));
});

after(() => {
  removeFakeVscode();
  removeTempDir(tmp);
});

describe('kernel PCA panels', () => {
  it('pass overlay requests on only from a kernel PCA panel, with the panel’s own file', async () => {
    const { ResultPanels } = require('../../../src/host/results/index') as typeof import('../../../src/host/results/index');
    const overlayRequest = (ResultPanels.prototype as unknown as { overlayRequest: (p: unknown, m: unknown) => Promise<void> }).overlayRequest;
    const log = fakeLog();
    const calls: [string, unknown][] = [];
    const self = { log, requestHandler: async (file: string, m: unknown) => void calls.push([file, m]) };
    const cases: [string, Record<string, unknown>, boolean][] = [
      ['a kernel PCA panel', { kind: 'kpca', file: files.ours, ready: true }, true],
      ['an editor that showed a map', { kind: undefined, shownKind: 'kpca', file: files.ours, ready: true }, true],
      ['a training run panel', { kind: 'trainingRun', file: files.ours, ready: true }, false],
      ['an editor that showed a slice', { kind: undefined, shownKind: 'slice', file: files.ours, ready: true }, false],
      ['a live kernel PCA panel', { kind: 'kpca', file: files.ours, ready: true, live: {} }, false],
    ];
    for (const [what, panel, allowed] of cases) {
      calls.length = 0;
      log.lines.length = 0;
      await overlayRequest.call(self, panel, { type: 'kpcaOverlay', source: 'trajectory' });
      await overlayRequest.call(self, panel, { type: 'removeOverlay', index: 0 });
      if (allowed) {
        assert.deepEqual(calls.map(([f]) => f), [files.ours, files.ours], what);
      } else {
        assert.deepEqual(calls, [], what);
        assert.ok(log.lines.some((l) => l.level === 'warn' && /refused a "kpcaOverlay" request/.test(l.text)), `${what}: not logged`);
      }
    }
  });

  it('change only a map that reads as one (the CLI\'s too), and remove an overlay from one of ours', async () => {
    const { AnalysisJobs } = require('../../../src/host/analysis') as typeof import('../../../src/host/analysis');
    const jobsStarted: unknown[] = [];
    const statuses: [string, string, boolean][] = [];
    const opened: [string, string][] = [];
    const results = { setStatus: (f: string, t: string, b: boolean) => statuses.push([f, t, b]), open: (k: string, f: string) => opened.push([k, f]) };
    const jobs = { start: (r: unknown) => (jobsStarted.push(r), { result: Promise.reject(new Error('no')) }) };
    const a = new AnalysisJobs(jobs as never, results as never, fakeLog() as never);
    resetRecorder();
    await a.onPanelRequest(files.damaged, { type: 'kpcaOverlay', source: 'path' });
    assert.deepEqual(jobsStarted, []);
    assert.match(statuses[0][1], /^cannot change the map: .*damaged\.kpca\.json.*is not a valid result/);
    // A map the CLI wrote has the extension's shape: an overlay asks for its input like ours (no dialog answer: nothing happens).
    statuses.length = 0;
    await a.onPanelRequest(files.cli, { type: 'kpcaOverlay', source: 'path' });
    assert.deepEqual(jobsStarted, []);
    assert.deepEqual(statuses, []);

    // No dialog answer: nothing happens.
    await a.onPanelRequest(files.ours, { type: 'kpcaOverlay', source: 'trajectory' });
    assert.deepEqual(jobsStarted, []);

    await a.onPanelRequest(files.ours, { type: 'removeOverlay', index: 0 });
    const left = readAnalysisResult(files.ours, 'kpca').data.overlays;
    assert.deepEqual(left.map((o) => o.kind), ['path']);
    assert.deepEqual(opened, [['kpca', files.ours]], 'the panel shows the map again');
    await a.onPanelRequest(files.ours, { type: 'removeOverlay', index: 5 });
    assert.equal(readAnalysisResult(files.ours, 'kpca').data.overlays.length, 1, 'an index past the end changes nothing');
  });
});

describe('the kernel PCA set', () => {
  it('dedupes, drops vanished files, and shows "kPCA set: N" with its context key', async () => {
    const { KpcaSet } = require('../../../src/host/kpcaSet') as typeof import('../../../src/host/kpcaSet');
    const store = new Map<string, unknown>();
    const memento = { get: (k: string) => store.get(k), update: async (k: string, v: unknown) => void store.set(k, v) };
    resetRecorder();
    const set = new KpcaSet(memento as never);
    assert.equal(rec.statusShown, false, 'hidden while empty');
    assert.equal(await set.add([files.ck1, files.ck2, files.ck1]), 2);
    assert.equal(await set.add([files.ck1]), 0);
    assert.deepEqual(set.files, [files.ck1, files.ck2]);
    assert.equal(rec.statusShown, true);
    assert.match(rec.statusText, /kPCA set: 2$/);
    const gone = path.join(tmp, 'gone.safetensors');
    store.set('landscape.kpcaSet', [files.ck1, gone, 42]);
    assert.deepEqual(set.files, [files.ck1], 'vanished files and junk in the state are dropped');
    await set.clear();
    assert.deepEqual(set.files, []);
    assert.equal(rec.statusShown, false);
    const keys = rec.commands.filter((c) => c.id === 'setContext' && c.args[0] === 'landscape.kpcaSetNonEmpty').map((c) => c.args[1]);
    assert.deepEqual(keys.slice(-2), [true, false]);
    set.dispose();
  });
});

describe('analysis commands given the wrong file', () => {
  it('say what to do and start nothing', async () => {
    const { plotSlice } = require('../../../src/host/commands/plotSlice') as typeof import('../../../src/host/commands/plotSlice');
    const { hessianSpectrum } = require('../../../src/host/commands/hessianSpectrum') as typeof import('../../../src/host/commands/hessianSpectrum');
    const { gradientCheck } = require('../../../src/host/commands/gradientCheck') as typeof import('../../../src/host/commands/gradientCheck');
    const { addToKpcaSet } = require('../../../src/host/commands/addToKpcaSet') as typeof import('../../../src/host/commands/addToKpcaSet');
    const started: string[] = [];
    const s = {
      checkpoints: { activeFile: () => undefined },
      analysis: new Proxy({}, { get: (_t, k) => async () => void started.push(String(k)) }),
      kpcaSet: { add: async () => 0, files: [] },
    };
    for (const [name, run] of [
      ['Plot Slice', () => plotSlice(s as never, FakeUri.file(files.text))],
      ['Hessian Spectrum and Stability', () => hessianSpectrum(s as never, FakeUri.file(files.text))],
      ['Gradient Check', () => gradientCheck(s as never, FakeUri.file(path.join(tmp, 'runs')))],
      ['Add to Kernel PCA Set', () => addToKpcaSet(s as never, FakeUri.file(files.text), [FakeUri.file(files.text)])],
    ] as [string, () => Promise<void>][]) {
      resetRecorder();
      await run();
      assert.deepEqual(started, [], `${name} started a job`);
      assert.equal(rec.errors.length, 1, `${name}: ${rec.errors.join(' | ')}`);
      assert.match(rec.errors[0], new RegExp(`^Landscape: ${name}: `));
      assert.match(rec.errors[0], /\.safetensors|model\.json/, 'says what would do');
    }
    resetRecorder();
    await plotSlice(s as never, new FakeUri('vscode-remote', '/x/final.safetensors'));
    assert.match(rec.errors[0], /works on files on disk/);
    assert.deepEqual(started, []);
  });
});
