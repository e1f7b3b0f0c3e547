/**
 * The pure parts of the barrier panels: the plane a path is drawn in (known
 * answers), result file names, the disconnectivity tree flattening and its
 * dendrogram layout, the result-file round trip (relative paths on disk,
 * absolute when read, damaged files refused), and the report's policy.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { projectToPlane, fourierPointSource, chainPointSource, planeGrid } from '../../../src/worker/pathPlane';
import { BARRIERS_FILE, commonFolder, isBarrierResultFile, minimumLabel, pathResultFile, readBarrierResult, saveBarrierResult } from '../../../src/results/barrierFiles';
import { flattenTree, nestTree, type TreeNode } from '../../../src/results/barriers';
import { samplePath, sampleMatrix } from '../../support/barrierSamples';
import { prepareReport, inlineScripts, normalizeNewlines, sha256Source } from '../../../src/host/reportHtml';
import { layoutDendrogram, shortLabels } from '../../../webview/dendrogram';
import { ResultDataSchema } from '../../../src/protocol';
import { validate } from '../../../src/schema';
import { makeTempDir, removeTempDir } from '../../support/tmp';

const close = (a: number, b: number, tol = 1e-12) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

describe('path plane', () => {
  it('projects a known path: x along B − A, y along the farthest deviation, the rest as residual', () => {
    // p(t) = (2t, sin 2πt, 3 sin πt, 0): farthest from the line at t = 1/2, where the deviation is (0, 0, 3, 0).
    const a = [0, 0, 0, 0];
    const b = [2, 0, 0, 0];
    const t = Array.from({ length: 21 }, (_, i) => i / 20);
    const p = projectToPlane(a, b, t.length, (k, out) => {
      out[0] = 2 * t[k];
      out[1] = Math.sin(2 * Math.PI * t[k]);
      out[2] = 3 * Math.sin(Math.PI * t[k]);
      out[3] = 0;
    });
    assert.equal(p.distanceAB, 2);
    assert.equal(p.farthest, 10);
    assert.ok(close(p.maxDeviation, Math.hypot(0, 3)), `${p.maxDeviation}`);
    assert.deepEqual(Array.from(p.e1), [1, 0, 0, 0]);
    assert.ok(close(p.e2[2], 1) && Math.abs(p.e2[1]) < 1e-12);
    t.forEach((tk, k) => {
      assert.ok(close(p.x[k], 2 * tk), `x[${k}]`);
      assert.ok(close(p.y[k], 3 * Math.sin(Math.PI * tk)), `y[${k}]`);
    });
    // The part the plane leaves out is the sin 2πt component: largest at t = 1/4 and 3/4.
    assert.ok(close(p.maxResidual, 1, 1e-9), `${p.maxResidual}`);
  });

  it('uses an origin at A and orthonormal axes for any A and B', () => {
    const a = [1, -2, 0.5];
    const b = [3, 1, -1];
    const dev = [0.3, -0.1, 0.7];
    const t = [0, 0.25, 0.5, 0.75, 1];
    const p = projectToPlane(a, b, t.length, (k, out) => {
      for (let i = 0; i < 3; i++) out[i] = a[i] + t[k] * (b[i] - a[i]) + Math.sin(Math.PI * t[k]) * dev[i];
    });
    const dot = (u: ArrayLike<number>, v: ArrayLike<number>) => Array.from(u).reduce((s, x, i) => s + x * v[i], 0);
    assert.ok(Math.abs(dot(p.e1, p.e2)) < 1e-12);
    assert.ok(close(dot(p.e2, p.e2), 1));
    assert.equal(p.x[0], 0);
    assert.equal(p.y[0], 0);
    assert.ok(close(p.x[4], p.distanceAB) && Math.abs(p.y[4]) < 1e-12);
    // A path in a plane through A and B is drawn exactly.
    assert.ok(p.maxResidual < 1e-12, `${p.maxResidual}`);
  });

  it('gives a straight path no second axis, and A = B no first', () => {
    const line = projectToPlane([0, 0], [1, 1], 3, (k, out) => {
      out[0] = k / 2;
      out[1] = k / 2;
    });
    assert.equal(line.farthest, -1);
    assert.deepEqual(line.y, [0, 0, 0]);
    const same = projectToPlane([1, 1], [1, 1], 2, (_k, out) => out.fill(1));
    assert.equal(same.distanceAB, 0);
    assert.deepEqual(same.x, [0, 0]);
  });

  it('builds Fourier and chain points in float64', () => {
    const src = fourierPointSource([0, 0], [1, 2], [[1, 0], [0, 1]], [0, 0.5, 1]);
    const out = new Float64Array(2);
    src(1, out);
    // (0.5, 1) + sin(π/2)·(1, 0) + sin(π)·(0, 1)
    assert.ok(close(out[0], 1.5) && close(out[1], 1, 1e-12));
    src(2, out);
    assert.ok(close(out[0], 1) && Math.abs(out[1] - 2) < 1e-12, 'the end point is B');
    const chain = chainPointSource([[0, 0], [1, 0], [1, 1]], [0, 0.25, 0.75, 1]);
    chain(1, out);
    assert.deepEqual(Array.from(out), [0.5, 0]);
    chain(2, out);
    assert.deepEqual(Array.from(out), [1, 0.5]);
    chain(3, out);
    assert.deepEqual(Array.from(out), [1, 1]);
  });

  it('puts the loss grid around the path, A and B included', () => {
    const { gx, gy } = planeGrid([0, 1, 2], [0, 0.5, 0], 2, 5);
    assert.equal(gx.length, 5);
    assert.ok(gx[0] < 0 && gx[4] > 2);
    assert.ok(gy[0] < 0 && gy[4] > 0.5);
  });
});

describe('barrier result files', () => {
  let dir: string;
  before(() => (dir = makeTempDir('barrier')));
  after(() => removeTempDir(dir));

  it('names a path file after A, and B by its way from A’s folder', () => {
    assert.equal(pathResultFile('/w/runs/r1/final.safetensors', '/w/runs/r1/best.safetensors'), '/w/runs/r1/final__best.path.json');
    assert.equal(pathResultFile('/w/runs/r1/final.safetensors', '/w/runs/r2/final.safetensors'), '/w/runs/r1/final__r2-final.path.json');
    assert.equal(pathResultFile('/w/runs/r1/final.safetensors', '/w/runs/r3/checkpoints/epoch-0004.safetensors'), '/w/runs/r1/final__r3-checkpoints-epoch-0004.path.json');
    assert.equal(pathResultFile('/w/m1/model.json', '/w/m2/model.json'), '/w/m1/m1__m2.path.json');
    // A curve's result sits beside the FourierPathFinder path, not over it.
    assert.equal(pathResultFile('/w/runs/r1/final.safetensors', '/w/runs/r2/final.safetensors', 'bezier'), '/w/runs/r1/final__r2-final.bezier.path.json');
    assert.equal(pathResultFile('/w/runs/r1/final.safetensors', '/w/runs/r2/final.safetensors', 'polychain'), '/w/runs/r1/final__r2-final.polychain.path.json');
    assert.equal(pathResultFile('/w/runs/r1/final.safetensors', '/w/runs/r2/final.safetensors', 'fourier'), '/w/runs/r1/final__r2-final.path.json');
    assert.ok(isBarrierResultFile('/x/a__b.path.json') && isBarrierResultFile('/x/barriers.json') && !isBarrierResultFile('/x/run.json'));
    assert.equal(minimumLabel('/w/runs/r1/checkpoints/epoch-0002.safetensors', '/w/runs'), 'r1/epoch-0002');
    assert.equal(commonFolder(['/w/runs/a/x.safetensors', '/w/runs/b/c/y.safetensors']), '/w/runs');
  });

  it('flattens the disconnectivity tree children first, the root last', () => {
    const tree: TreeNode = {
      kind: 'merge',
      height: 2,
      children: [
        { kind: 'merge', height: 1, children: [{ kind: 'leaf', index: 0 }, { kind: 'leaf', index: 2 }] },
        { kind: 'leaf', index: 1 },
      ],
    };
    assert.deepEqual(flattenTree(tree, 3), [
      { height: 1, children: [0, 2] },
      { height: 2, children: [3, 1] },
    ]);
    assert.throws(() => flattenTree({ kind: 'leaf', index: 5 }, 3), /not one of 3/);
  });

  it('nests a flattened tree again (format 1 files), each merge listing its minima in order', () => {
    const leaves = [{ label: 'a', loss: 0.1 }, { label: 'b', loss: null }, { label: 'c', loss: 0.3 }];
    const nested = nestTree([{ height: 1, children: [0, 2] }, { height: 2, children: [3, 1] }], leaves);
    assert.deepEqual(nested, {
      kind: 'merge',
      height: 2,
      minima: [0, 1, 2],
      children: [
        { kind: 'merge', height: 1, minima: [0, 2], children: [{ kind: 'leaf', index: 0, label: 'a', loss: 0.1 }, { kind: 'leaf', index: 2, label: 'c', loss: 0.3 }] },
        { kind: 'leaf', index: 1, label: 'b', loss: null },
      ],
    });
    assert.deepEqual(flattenTree(nested, 3), [{ height: 1, children: [0, 2] }, { height: 2, children: [3, 1] }]);
    // A merge naming itself would loop: refused.
    assert.throws(() => nestTree([{ height: 1, children: [3] }], leaves), /not one of the minima or merges/);
  });

  it('lays out the dendrogram: leaves in tree order, merges above their children', () => {
    const L = layoutDendrogram(3, [{ height: 1, children: [0, 2] }, { height: 2, children: [3, 1] }], [0.1, 0.3, 0.2]);
    assert.deepEqual(L.order, [0, 2, 1]);
    assert.deepEqual(L.x.slice(0, 3), [0, 2, 1]);
    assert.deepEqual(L.y, [0.1, 0.3, 0.2, 1, 2]);
    assert.equal(L.x[3], 0.5);
    assert.equal(L.x[4], 1.25);
    // Two children each: two verticals and one horizontal per merge.
    assert.equal(L.segments.length, 6);
    assert.deepEqual(L.segments[2], [0, 1, 1, 1]);
    assert.equal(L.top, null);
    const forest = layoutDendrogram(2, [{ height: null, children: [0, 1] }], [0.1, 0.5]);
    assert.ok(forest.top !== null && forest.top > 0.5);
    // A damaged tree (a child after its parent) does not loop.
    const bad = layoutDendrogram(1, [{ height: 1, children: [0, 1, 7] }], [0.1]);
    assert.deepEqual(bad.order, [0]);
  });

  it('shortens tick labels without making two equal', () => {
    assert.deepEqual(shortLabels(['digits-sgd-20261122-114548/epoch-0015', 'digits-sgd-20261122-114602/final', 'digits-sgd-20261122-114548/best']), [
      '…4548/epoch-0015',
      '…4602/final',
      '…4548/best',
    ]);
    assert.deepEqual(shortLabels(['run/a', 'run/b']), ['a', 'b']);
    assert.deepEqual(shortLabels(['r1/final', 'r2/final']), ['r1/final', 'r2/final'], 'nothing worth cutting');
    assert.deepEqual(shortLabels(['x/a', 'x/b/c', 'y']), ['x/a', 'x/b/c', 'y']);
    assert.deepEqual(shortLabels(['same/a', 'same/a']), ['same/a', 'same/a']);
  });

  it('round-trips a path result: saved with relative paths, read back absolute and valid', () => {
    const a = path.join(dir, 'runs', 'r1', 'final.safetensors');
    const b = path.join(dir, 'runs', 'r2', 'final.safetensors');
    const file = pathResultFile(a, b);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const data = samplePath(a, b);
    saveBarrierResult(file, data);
    // The file is the result itself (format 2), as the CLI writes it.
    const raw = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.equal(raw.landscapeResult, undefined);
    assert.equal(raw.kind, 'barrierPath');
    assert.equal(raw.formatVersion, 2);
    assert.equal(raw.a, 'final.safetensors');
    assert.equal(raw.b, '../r2/final.safetensors');
    const back = readBarrierResult(file);
    assert.deepEqual(back.data, data);
    assert.ok(validate(ResultDataSchema, back.data).ok);
    // A later format is refused, saying so.
    fs.writeFileSync(file, JSON.stringify({ ...raw, formatVersion: 3 }));
    assert.throws(() => readBarrierResult(file), (e: Error) => e.message.includes(file) && /newer Landscape \(format 3/.test(e.message));
  });

  it('round-trips an all-pairs result and refuses damaged or foreign files, naming them', () => {
    const folder = path.join(dir, 'runs');
    const file = path.join(folder, BARRIERS_FILE);
    const data = sampleMatrix(folder);
    saveBarrierResult(file, data);
    const raw = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.equal(raw.folder, '.');
    assert.deepEqual(raw.files, ['r1/final.safetensors', 'r2/final.safetensors', 'r3/final.safetensors']);
    assert.deepEqual([raw.pairs[1].a, raw.pairs[1].b], ['r2/final.safetensors', 'r3/final.safetensors']);
    assert.deepEqual(readBarrierResult(file).data, data);

    raw.heights[0][1] = 'high';
    fs.writeFileSync(file, JSON.stringify(raw));
    assert.throws(() => readBarrierResult(file), (e: Error) => e.message.includes(file) && /heights\[0\]\[1\]/.test(e.message));
    raw.heights[0][1] = 1;
    raw.tree.children[1].index = 7;
    fs.writeFileSync(file, JSON.stringify(raw));
    assert.throws(() => readBarrierResult(file), (e: Error) => e.message.includes(file) && /disconnectivity tree \(tree leaf 7 is not one of 3 minima\)/.test(e.message));
    fs.writeFileSync(file, '{"kind": "barrierMatrix", "formatVersion": 2, "files": ');
    assert.throws(() => readBarrierResult(file), (e: Error) => e.message.includes(file) && /not valid JSON/.test(e.message));
    const run = path.join(dir, 'run-result.json');
    fs.writeFileSync(run, JSON.stringify({ landscapeResult: 1, kind: 'trainingRun', data: { kind: 'trainingRun', runDir: '/r', status: 'completed', summary: [], points: [], checkpoints: [] } }));
    assert.throws(() => readBarrierResult(run), /not a barrier result/);
  });

  it('refuses to save a result the panel could not show', () => {
    const a = path.join(dir, 'x', 'a.safetensors');
    const bad = { ...samplePath(a, a), plane: { ...samplePath(a, a).plane!, x: [0, Number.NaN] } };
    assert.throws(() => saveBarrierResult(path.join(dir, 'x.path.json'), bad), /refusing to save an invalid result.*plane\.x\[1\]/);
  });
});

describe('study report policy', () => {
  const page = '<!DOCTYPE html>\r\n<html><head><title>r</title>\r\n<style>p{}</style></head><body><p>x</p>\r\n<script>var a = 1;\r\nvar b = 2;</script>\n<script src="https://cdn.example/x.js"></script><script>\nPlotly.newPlot("k", []);\n</script></body></html>';

  it('allows exactly the inline scripts by hash (newlines as the parser sees them) and blocks the rest', () => {
    const r = prepareReport(page, { file: '/w/runs/study/report.html' });
    const src = normalizeNewlines(page);
    const { inline, external } = inlineScripts(src);
    assert.deepEqual(inline, ['var a = 1;\nvar b = 2;', '\nPlotly.newPlot("k", []);\n']);
    assert.equal(external, 1);
    assert.equal(r.blocked, 1);
    assert.equal(r.scripts, 3);
    const directives = Object.fromEntries(r.csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
    assert.deepEqual(directives['default-src'], ["'none'"]);
    const expected = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;
    for (const s of inline) assert.ok(directives['script-src'].includes(expected(s)), s);
    assert.equal(directives['script-src'].length, 3, 'the two inline scripts and our state script, nothing else');
    assert.ok(!/unsafe-eval|unsafe-inline'.*script|https?:|\*/.test(directives['script-src'].join(' ')));
    assert.equal(sha256Source('x'), expected('x'));
    // The policy comes first in <head>, before any script.
    assert.ok(r.html.indexOf('Content-Security-Policy') < r.html.indexOf('<script'));
    assert.ok(r.html.indexOf('<head>') < r.html.indexOf('Content-Security-Policy'));
    assert.ok(!r.html.includes('\r'));
    // Our state script is one of the hashed ones and carries the state as JSON.
    const state = inlineScripts(r.html).inline.find((s) => s.includes('setState'))!;
    assert.match(state, /acquireVsCodeApi\(\)\.setState\(\{"file":"\/w\/runs\/study\/report\.html"\}\);/);
    assert.ok(directives['script-src'].includes(expected(state)));
  });

  it('keeps state JSON from closing the script, and refuses pages without <head>', () => {
    const r = prepareReport('<html><head></head><body></body></html>', { file: '</script><script>alert(1)</script>' });
    assert.equal(inlineScripts(r.html).inline.length, 1);
    assert.throws(() => prepareReport('just text', {}), /no <head>/);
  });
});
