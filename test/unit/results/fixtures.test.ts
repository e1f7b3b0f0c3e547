/**
 * Result files written by the previous version (Landscape 0.1.0, commit
 * 362c427; test/fixtures/results-v1/README.md says how) still open: each is
 * read through today's readers and checked against its kind's schema from
 * src/results/. The fixtures are committed, never regenerated.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { validate } from '../../../src/schema';
import { FORMAT_VERSIONS, RESULT_KINDS, ResultDataSchema, type ResultKind } from '../../../src/results';
import { StudySchema, STUDY_FORMAT_VERSION } from '../../../src/results/study';
import { TrainingRunSchema } from '../../../src/results/trainingRun';
import { readAnalysisResult } from '../../../src/host/analysisFiles';
import { upgradeHessian } from '../../../src/results/hessian';
import { readBarrierResult } from '../../../src/results/barrierFiles';
import { readJsonResult, resultKindOf } from '../../../src/results/resultKind';
import { importCliPath } from '../../../src/worker/barriers';
import { trainingRunResult } from '../../../src/engine/train/runFolderView';

const DIR = path.join(__dirname, '..', '..', 'fixtures', 'results-v1');
const at = (...p: string[]) => path.join(DIR, ...p);

/** Kinds whose shape changed since 0.1.0 (format 2); their old files open through the kind's upgrade function. */
const CHANGED = new Set<ResultKind>(['hessian', 'gradcheck', 'slice', 'kpca', 'barrierPath', 'barrierMatrix']);

function assertValid(kind: ResultKind, data: unknown): void {
  const v = validate(ResultDataSchema, data, 'result');
  assert.ok(v.ok, v.ok ? '' : v.error);
  assert.equal((data as { kind: string }).kind, kind);
}

describe('results of Landscape 0.1.0 still open', () => {
  it('every kind has a format version (2 where the shape changed since 0.1.0)', () => {
    for (const k of RESULT_KINDS) assert.equal(FORMAT_VERSIONS[k], CHANGED.has(k) ? 2 : 1, k);
  });

  const saved: [string, ResultKind][] = [
    ['final__runB-final.path.json', 'barrierPath'],
    ['barriers.json', 'barrierMatrix'],
    ['kpca-4.kpca.json', 'kpca'],
    ['final.hessian.json', 'hessian'],
    ['final.gradcheck.json', 'gradcheck'],
    ['final.random.slice.json', 'slice'],
    ['final__plane.slice.json', 'slice'],
  ];
  for (const [name, kind] of saved) {
    it(`the extension's ${name} (${kind})`, () => {
      const file = at('vscode', name);
      assert.equal(resultKindOf(readJsonResult(file), file), kind);
      const opened = kind === 'barrierPath' || kind === 'barrierMatrix' ? readBarrierResult(file, kind).data : readAnalysisResult(file, undefined, [DIR]).data;
      assertValid(kind, opened);
      // Paths come back absolute and point at the committed checkpoints.
      const refs = (JSON.stringify(opened).match(/"[^"]*\.safetensors"/g) ?? []).map((r) => JSON.parse(r) as string).filter((r) => path.isAbsolute(r));
      assert.ok(refs.length > 0);
      for (const ref of refs) assert.ok(fs.existsSync(ref), ref);
    });
  }

  const cli: [string, ResultKind][] = [
    ['final.kpca.json', 'kpca'],
    ['final.hessian.json', 'hessian'],
    ['final.gradcheck.json', 'gradcheck'],
    ['final.random.slice.json', 'slice'],
    ['final__plane.slice.json', 'slice'],
  ];
  for (const [name, kind] of cli) {
    it(`the CLI's ${name} (${kind})`, () => {
      const file = at('cli', name);
      const doc = readJsonResult(file);
      assert.equal(resultKindOf(doc, file), kind);
      const data = readAnalysisResult(file, undefined, [DIR]).data;
      assertValid(kind, data);
      const refs = (JSON.stringify(data).match(/"[^"]*\.safetensors"/g) ?? []).map((r) => JSON.parse(r) as string).filter((r) => path.isAbsolute(r));
      assert.ok(refs.length > 0);
      for (const ref of refs) assert.ok(fs.existsSync(ref), ref);
    });
  }

  it("the CLI's barriers.json", () => {
    const file = at('cli', 'barriers.json');
    assert.equal(resultKindOf(readJsonResult(file), file), 'barrierMatrix');
    const data = readBarrierResult(file, 'barrierMatrix', [DIR]).data;
    assertValid('barrierMatrix', data);
    assert.deepEqual(data.files, [at('runA', 'final.safetensors'), at('runB', 'final.safetensors'), at('runA', 'best.safetensors')]);
    assert.deepEqual(data.labels, ['runA/final', 'runB/final', 'runA/best']);
    // Each pair gains the three heights from its own numbers.
    for (const p of data.pairs) assert.deepEqual([p.heights.straight, p.heights.optimized], [p.linear.height, p.height]);
  });

  it("the extension's and the CLI's barriers.json read alike", () => {
    const ours = readBarrierResult(at('vscode', 'barriers.json'), 'barrierMatrix').data;
    const cli = readBarrierResult(at('cli', 'barriers.json'), 'barrierMatrix', [DIR]).data;
    assert.deepEqual(ours.files, cli.files);
    assert.deepEqual(ours.labels, cli.labels);
    assert.deepEqual(ours.losses, cli.losses);
    assert.deepEqual(ours.mst.edges.map((e) => [e.i, e.j]), cli.mst.edges.map((e) => [e.i, e.j]));
    // The extension's flattened tree nests again into the CLI's shape.
    const minimaOf = (n: typeof ours.tree): number[] => (n.kind === 'leaf' ? [n.index] : n.minima);
    assert.deepEqual(minimaOf(ours.tree), [0, 1, 2]);
    assert.equal(ours.tree.kind, cli.tree.kind);
    assert.equal(ours.pairs.length, 3);
    for (const p of ours.pairs) {
      assert.equal(p.a, ours.files[p.i]);
      assert.equal(p.profile?.t.length, p.linear.profile?.loss.length);
    }
  });

  it("the CLI's <A>__<B>.path.json, drawn in its plane", async () => {
    const file = at('cli', 'final__final.path.json');
    assert.equal(resultKindOf(readJsonResult(file), file), 'barrierPath');
    const read = readBarrierResult(file, 'barrierPath', [DIR]).data;
    assertValid('barrierPath', read);
    assert.equal(read.plane, undefined);
    const ctx = { backend: 'cpu', signal: new AbortController().signal, emit() {} };
    const data = await importCliPath({ file, roots: [DIR], planeGrid: 3 }, ctx);
    assertValid('barrierPath', data);
    assert.equal(data.a, at('runA', 'final.safetensors'));
    assert.deepEqual([data.labelA, data.labelB], ['runA/final', 'runB/final']);
    assert.equal(data.plane?.x.length, data.profile.t.length);
    assert.equal(data.plane?.surface?.x.length, 3);
  });

  it("the extension's path gets the CLI's names back", () => {
    const raw = JSON.parse(fs.readFileSync(at('vscode', 'final__runB-final.path.json'), 'utf8')) as { data: { a: { loss: number }; straight: { height: number }; optimized: { height: number }; profile: { straight: number[]; optimized: number[] } } };
    const d = readBarrierResult(at('vscode', 'final__runB-final.path.json'), 'barrierPath').data;
    assert.equal(d.lossA, raw.data.a.loss);
    assert.equal(d.linear.height, raw.data.straight.height);
    assert.equal(d.height, raw.data.optimized.height);
    assert.deepEqual(d.linear.profile.loss, raw.data.profile.straight);
    assert.deepEqual(d.profile.loss, raw.data.profile.optimized);
    assert.ok(d.plane);
    assert.ok(d.settings.some(([k]) => k === 'written by'));
  });

  it('a training run folder (run.json, metrics.jsonl)', () => {
    const file = at('runA', 'run.json');
    const runJson: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    const data = trainingRunResult(file, runJson, fs.readFileSync(at('runA', 'metrics.jsonl'), 'utf8'), []);
    const v = validate(TrainingRunSchema, data, 'run');
    assert.ok(v.ok, v.ok ? '' : v.error);
    assert.equal(data.points.length, 4);
    assert.ok((data.stability ?? []).length > 0);
  });

  it("a study's study.json", () => {
    const v = validate(StudySchema, JSON.parse(fs.readFileSync(at('study', 'study.json'), 'utf8')), 'study');
    assert.ok(v.ok, v.ok ? '' : v.error);
    assert.equal(v.value.formatVersion, STUDY_FORMAT_VERSION);
  });

  it('a damaged file is refused, naming the field', () => {
    const doc = JSON.parse(fs.readFileSync(at('vscode', 'final.hessian.json'), 'utf8')) as { data: { eigenvalues: unknown } };
    doc.data.eigenvalues = 'many';
    const v = validate(ResultDataSchema, upgradeHessian(doc.data), 'result');
    assert.ok(!v.ok);
    assert.match(v.error, /eigenvalues/);
  });
});
