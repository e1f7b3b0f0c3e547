/**
 * One shape per result kind, end to end: the engine's result is what
 * `landscape <kind> --out` writes, what the extension saves, what the worker
 * posts, and what reopening either file gives back (validated by the kind's
 * schema in src/results/).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { validate } from '../../../src/schema';
import { ResultDataSchema } from '../../../src/results';
import { initBackend } from '../../../src/engine/backend';
import { loadAnyCheckpoint } from '../../../src/engine/evaluate';
import { objectiveForCheckpoint } from '../../../src/engine/checkpointObjective';
import { gradcheckAnalysis, hessianAnalysis, kpcaAnalysis, sliceAnalysis } from '../../../src/engine/checkpointAnalysis';
import { readAnalysisResult, saveAnalysisResult, type AnalysisData } from '../../../src/host/analysisFiles';
import { main as cliMain } from '../../../src/cli/main';
import { silentIo } from '../../support/cli';
import { runWorkerJob } from '../../support/worker';
import { makeTempDir, removeTempDir } from '../../support/tmp';

const V1 = path.join(__dirname, '..', '..', 'fixtures', 'results-v1');
const CHECKPOINT = path.join(V1, 'runA', 'final.safetensors');
/** The checkpoints of the kernel PCA round trip: both runs' finals and runA's first epoch. */
const MAP = [CHECKPOINT, path.join(V1, 'runB', 'final.safetensors'), path.join(V1, 'runA', 'checkpoints', 'epoch-0001.safetensors')];

function assertValid(data: unknown): asserts data is AnalysisData {
  const v = validate(ResultDataSchema, data, 'result');
  assert.ok(v.ok, v.ok ? '' : v.error);
}

/** The result without its timing, which differs between two runs of the same computation. */
function untimed(d: AnalysisData): Omit<AnalysisData, 'seconds'> {
  const { seconds: _seconds, ...rest } = d;
  return rest;
}

interface Kind {
  name: string;
  command: AnalysisData['kind'];
  compute(): Promise<AnalysisData>;
  /** The checkpoints given to the CLI (default: the one checkpoint). */
  files?: string[];
  cli: string[];
  /** The checkpoint paths the result records. */
  paths(raw: Record<string, unknown>): unknown[];
  job: Parameters<typeof runWorkerJob>[0] extends infer R ? (out: string) => R : never;
}

describe('one result shape from the engine to the panel', () => {
  let dir: string;
  before(async () => {
    dir = makeTempDir('landscape-roundtrip-');
    await initBackend('cpu');
  });
  after(() => removeTempDir(dir));

  async function engine<T>(run: (ck: Awaited<ReturnType<typeof loadAnyCheckpoint>>, obj: Awaited<ReturnType<typeof objectiveForCheckpoint>>) => Promise<T>): Promise<T> {
    const ck = await loadAnyCheckpoint(CHECKPOINT);
    const obj = await objectiveForCheckpoint(ck);
    try {
      return await run(ck, obj);
    } finally {
      obj.dispose();
    }
  }

  async function many<T>(files: readonly string[], run: (cks: Awaited<ReturnType<typeof loadAnyCheckpoint>>[]) => Promise<T>): Promise<T> {
    return run(await Promise.all(files.map((f) => loadAnyCheckpoint(f))));
  }

  const kinds: Kind[] = [
    {
      name: 'kpca',
      command: 'kpca',
      files: MAP,
      paths: (raw) => (raw.points as { file: unknown }[]).map((p) => p.file),
      compute: () => many(MAP, (cks) => kpcaAnalysis(cks, { kernel: 'rbf', components: 2 })),
      cli: [],
      job: (out) => ({ kind: 'kpca', files: MAP, out, settings: { kernel: 'rbf', components: 2 } }),
    },
    {
      name: 'hessian',
      command: 'hessian',
      paths: (raw) => [raw.file],
      compute: () => engine((ck, obj) => hessianAnalysis(ck, obj, { k: 2, traceSamples: 4 })),
      cli: ['--k', '2', '--trace', '--samples', '4'],
      job: (out) => ({ kind: 'hessian', file: CHECKPOINT, out, k: 2, traceSamples: 4 }),
    },
    {
      name: 'gradcheck',
      command: 'gradcheck',
      paths: (raw) => [raw.file],
      compute: () => engine((ck, obj) => gradcheckAnalysis(ck, obj, {})),
      cli: [],
      job: (out) => ({ kind: 'gradcheck', file: CHECKPOINT, out }),
    },
    {
      name: 'slice (1D)',
      command: 'slice',
      paths: (raw) => (raw.request as { files: unknown[] }).files,
      compute: () => engine((ck, obj) => sliceAnalysis('random', [ck], obj, { points: 5, source: { backend: 'cpu' } })),
      cli: ['--kind', 'random', '--points', '5'],
      job: (out) => ({ kind: 'slice', slice: 'random', files: [CHECKPOINT], out, points: 5 }),
    },
    {
      name: 'slice (2D)',
      command: 'slice',
      paths: (raw) => (raw.request as { files: unknown[] }).files,
      compute: () => engine((ck, obj) => sliceAnalysis('random-plane', [ck], obj, { points: 4, source: { backend: 'cpu' } })),
      cli: ['--kind', 'random-plane', '--points', '4'],
      job: (out) => ({ kind: 'slice', slice: 'random-plane', files: [CHECKPOINT], out, points: 4 }),
    },
  ];

  for (const k of kinds) {
    it(`${k.name}: engine result → CLI file → reopened is the same object`, async () => {
      const result = await k.compute();
      assertValid(result);
      assert.equal(result.kind, k.command);
      const out = path.join(dir, `cli.${k.command}.json`);
      assert.equal(await cliMain([k.command, ...(k.files ?? [CHECKPOINT]), ...k.cli, '--backend', 'cpu', '--out', out], silentIo()), 0);
      const raw = JSON.parse(fs.readFileSync(out, 'utf8')) as Record<string, unknown>;
      assert.equal(raw.formatVersion, 2);
      assert.equal(raw.command, k.command, 'the CLI keeps its "command" field');
      assert.deepEqual(k.paths(raw), k.files ?? [CHECKPOINT], 'the CLI records the path as given');
      const reopened = readAnalysisResult(out).data;
      assertValid(reopened);
      assert.deepEqual(untimed(reopened), untimed(result));
    });

    it(`${k.name}: the extension's file holds the same shape, paths relative, and reopens to the same object`, async () => {
      const result = await k.compute();
      const out = path.join(dir, 'sub', `ext.${k.command}.json`);
      fs.mkdirSync(path.dirname(out), { recursive: true });
      saveAnalysisResult(out, result);
      const raw = JSON.parse(fs.readFileSync(out, 'utf8')) as Record<string, unknown>;
      assert.equal(raw.kind, k.command);
      assert.equal(raw.formatVersion, 2);
      const rel = (f: string) => path.relative(path.dirname(out), f).split(path.sep).join('/');
      assert.deepEqual(k.paths(raw), (k.files ?? [CHECKPOINT]).map(rel), 'saved relative to the file');
      assert.deepEqual(readAnalysisResult(out, k.command).data, result);
    });

    it(`${k.name}: the worker posts the result it saved`, async () => {
      const out = path.join(dir, `worker.${k.command}.json`);
      const r = await runWorkerJob(k.job(out));
      assert.equal(r.error, undefined, r.error?.message);
      const posted = (r.result as { result?: unknown }).result;
      assertValid(posted);
      assert.deepEqual(posted, readAnalysisResult(out).data);
      assert.deepEqual(untimed(posted), untimed(await k.compute()));
    });
  }

  it('slice: the CLI\'s and the extension\'s format-1 files of one slice open to the same result', async () => {
    const v1 = path.join(__dirname, '..', '..', 'fixtures', 'results-v1');
    const cli = readAnalysisResult(path.join(v1, 'cli', 'final.random.slice.json'), 'slice', [v1]).data;
    const ext = readAnalysisResult(path.join(v1, 'vscode', 'final.random.slice.json'), 'slice').data;
    assert.equal(cli.dims, '1d', 'the CLI\'s "kind": "1d" is now dims');
    const same = (d: AnalysisData & { kind: 'slice' }) => ({ request: d.request, dims: d.dims, axes: d.axes, values: d.values, objective: d.objective, model: d.model, label: d.label, meta: { ...d.meta, dim: undefined, source: undefined } });
    assert.deepEqual(same(ext), same(cli));
    assert.deepEqual(ext.request.files, [CHECKPOINT]);
    assert.equal(ext.meta.method, 'random-direction');
    // Both get their settings table from the same function.
    assert.deepEqual(ext.settings, cli.settings);
    // And it is what this version computes for the same slice (the engine's losses are float32 sums).
    const now = await engine((ck, obj) => sliceAnalysis('random', [ck], obj, { points: 5 }));
    assert.ok(now.dims === '1d' && cli.dims === '1d');
    now.values.forEach((v, i) => assert.ok(Math.abs(v - cli.values[i]) < 1e-6, `${v} vs ${cli.values[i]}`));
  });

  it('kpca: the CLI\'s --trajectory is the overlay the extension adds to its map', async () => {
    const run = path.join(V1, 'runA');
    const cliFile = path.join(dir, 'trajectory.cli.kpca.json');
    assert.equal(await cliMain(['kpca', ...MAP, '--trajectory', run, '--backend', 'cpu', '--out', cliFile], silentIo()), 0);
    const ours = path.join(dir, 'trajectory.ext.kpca.json');
    assert.equal((await runWorkerJob({ kind: 'kpca', files: MAP, out: ours, settings: { kernel: 'rbf', components: 2 } })).error, undefined);
    const r = await runWorkerJob({ kind: 'kpcaOverlay', file: ours, source: 'trajectory', input: run, roots: [] });
    assert.equal(r.error, undefined, r.error?.message);
    const fromCli = readAnalysisResult(cliFile, 'kpca').data;
    const fromExt = readAnalysisResult(ours, 'kpca').data;
    assert.deepEqual((r.result as { result?: unknown }).result, fromExt, 'the worker posts the map it saved');
    assert.equal(fromCli.overlays.length, 1);
    assert.deepEqual(fromExt.overlays, fromCli.overlays);
    assert.deepEqual(fromCli.overlays[0].points.map((p) => p.epoch), [1, 2, 3]);
    // Epoch 1 is in the map: projected into it, it lands on its own fitted point.
    fromCli.overlays[0].points[0].coords.forEach((c, i) => assert.ok(Math.abs(c - fromCli.points[2].coords[i]) < 1e-9, `${c} vs ${fromCli.points[2].coords[i]}`));
  });

  it('kpca: the CLI\'s and the extension\'s format-1 files of one map open to the same result', () => {
    const cli = readAnalysisResult(path.join(V1, 'cli', 'final.kpca.json'), 'kpca', [V1]).data;
    const ext = readAnalysisResult(path.join(V1, 'vscode', 'kpca-4.kpca.json'), 'kpca').data;
    const map = (d: AnalysisData & { kind: 'kpca' }) => ({ kernel: d.kernel, eigenvalues: d.eigenvalues, spectrum: d.spectrum, files: d.points.map((p) => p.file), coords: d.points.map((p) => p.coords), settings: d.settings });
    assert.deepEqual(map(ext), map(cli));
    assert.equal(cli.overlays[0].kind, 'trajectory', 'the CLI\'s "trajectory" is the first overlay');
    assert.equal(cli.overlays[0].source, ext.overlays[0].source);
    assert.deepEqual(cli.overlays[0].points.map((p) => p.coords), ext.overlays[0].points.map((p) => p.coords));
    assert.equal(ext.overlays[1].kind, 'path', 'the extension\'s path overlay is kept');
  });

  it('a file of a later format is refused, naming the file and the versions', () => {
    const file = path.join(dir, 'later.hessian.json');
    fs.writeFileSync(file, JSON.stringify({ kind: 'hessian', command: 'hessian', formatVersion: 3 }));
    assert.throws(() => readAnalysisResult(file), (e: Error) => e.message.startsWith(file) && /newer Landscape \(format 3; this version reads up to 2\)/.test(e.message));
  });
});
