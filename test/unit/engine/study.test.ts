import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from '../../../src/engine/backend';
import { runStudy, StudyEvent, StudyResult, separation, choosePairs, verdicts, StudySolution, StudyBarrier } from '../../../src/engine/study';
import { renderReport, escapeHtml } from '../../../src/engine/study/report';
import { Rng } from '../../../src/engine/rng';
import { makeTempDir } from '../../support/tmp';

const tmp = makeTempDir('study');

before(async () => {
  await initBackend('wasm', { force: true });
});

async function drain(out: string): Promise<{ result: StudyResult; events: StudyEvent[] }> {
  const events: StudyEvent[] = [];
  const it = runStudy({ out, preset: 'quick' });
  for (;;) {
    const r = await it.next();
    if (r.done) return { result: r.value, events };
    events.push(r.value);
  }
}

test('the quick preset runs end to end, writes study.json and report.html, and resumes', async () => {
  const out = path.join(tmp, 'quick');
  const { result, events } = await drain(out);
  assert.equal(result.solutions.length, 12, '3 seeds × 2 optimizers × (final, early)');
  assert.equal(result.barriers.length, 4, '2 pairs per optimizer');
  for (const b of result.barriers) {
    // The optimized path never crosses higher than the straight line it starts from.
    assert.ok(b.optimized.height <= b.straight.height + 1e-6, `${b.a}-${b.b}: ${b.optimized.height} > ${b.straight.height}`);
    assert.ok(Number.isFinite(b.optimized.barrierFromMean));
    assert.equal(b.profile.t.length, b.profile.optimized.length);
  }
  assert.equal(result.kpca.projections.length, 12);
  assert.deepEqual(result.verdicts.map((v) => v.id), ['deeper-minima', 'lower-sgd-barriers', 'kpca-separates']);
  for (const v of result.verdicts) assert.equal(typeof v.reproduced, 'boolean');
  const saved = JSON.parse(fs.readFileSync(path.join(out, 'study.json'), 'utf8')) as StudyResult;
  assert.deepEqual(saved.verdicts, result.verdicts);
  const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
  assert.match(html, /<table id="verdicts">/);
  assert.ok(!/<script[^>]+src=/.test(html), 'no external scripts: the report opens offline');
  assert.ok(html.length > 1_000_000, 'Plotly is inlined');
  assert.ok(events.some((e) => e.type === 'path-iteration'), 'path progress is streamed');

  // A rerun reuses every finished run and path and reproduces the numbers.
  const again = await drain(out);
  assert.equal(again.result.reused.runs, 6);
  assert.equal(again.result.reused.paths, 4);
  assert.deepEqual(again.result.barriers, result.barriers);
  assert.deepEqual(again.result.solutions, result.solutions);
});

test('separation: best single-threshold accuracy on one component', () => {
  assert.equal(separation([1, 2, 3, 4], [true, true, false, false]).accuracy, 1);
  assert.equal(separation([4, 3, 2, 1], [true, true, false, false]).accuracy, 1);
  assert.equal(separation([1, 3, 2, 4], [true, true, false, false]).accuracy, 0.75);
});

test('choosePairs is seeded, distinct and capped by the number of pairs', () => {
  assert.equal(choosePairs(4, 10, new Rng(1)).length, 6);
  const a = choosePairs(6, 3, new Rng(2));
  assert.deepEqual(a, choosePairs(6, 3, new Rng(2)));
  assert.equal(new Set(a.map((p) => p.join())).size, 3);
  for (const [i, j] of a) assert.ok(i < j && j < 6);
});

test('verdicts follow the numbers', () => {
  const sol = (optimizer: 'sgd' | 'lbfgs', trainLoss: number): StudySolution => ({ id: `${optimizer}-${trainLoss}`, optimizer, seed: 1, kind: 'final', file: '', epoch: 1, trainLoss, testLoss: 0 });
  const bar = (optimizer: 'sgd' | 'lbfgs', h: number): StudyBarrier => {
    const n = { height: h, tAtMax: 0.5, barrierFromA: h, barrierFromB: h, barrierFromMean: h };
    return { optimizer, a: 'a', b: 'b', lossA: 0, lossB: 0, straight: n, optimized: { ...n, iterations: 1 }, profile: { t: [], straight: [], optimized: [] }, file: '' };
  };
  const v = verdicts([sol('sgd', 0.1), sol('lbfgs', 0.01)], [bar('sgd', 0.2), bar('lbfgs', 0.1)], [-1, 1]);
  assert.equal(v[0].reproduced, true);
  assert.equal(v[1].reproduced, false, 'SGD barriers are higher here');
  assert.equal(v[2].reproduced, true);
});

test('report text is escaped', () => {
  assert.equal(escapeHtml('<script>"x"&\''), '&lt;script&gt;&quot;x&quot;&amp;&#39;');
  const fake = {
    formatVersion: 1,
    config: { preset: 'quick', dataset: 'digits', model: '64-32-32-10', bias: false, seeds: 1, sgd: { epochs: 1, lr: 0.1, batch: 64 }, lbfgs: { epochs: 1 }, pairsPerGroup: 1, path: { points: 3, modes: 1, steps: 1, lr: 0.01, lambda: 0, objective: 'minimax' }, seed: 0 },
    backend: 'cpu',
    versions: { landscape: 'x', tfjs: 'x', node: 'x' },
    paramCount: 1,
    solutions: [{ id: '<img src=x onerror=alert(1)>', optimizer: 'sgd', seed: 1, kind: 'final', file: '', epoch: 1, trainLoss: 1, testLoss: 1 }],
    barriers: [],
    kpca: { kernel: 'rbf', gamma: 1, ids: [], projections: [[0, 0]], explainedVariance: [1, 0] },
    verdicts: [],
    timing: { trainSeconds: 0, pathSeconds: 0, totalSeconds: 0 },
    reused: { runs: 0, paths: 0 },
  } as unknown as StudyResult;
  const html = renderReport(fake, '/* plotly */');
  assert.ok(!html.includes('<img src=x'), 'markup from data is escaped');
  assert.ok(html.includes('\\u003cimg src=x'), 'embedded JSON escapes <');
});
