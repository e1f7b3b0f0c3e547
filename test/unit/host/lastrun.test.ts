/**
 * The side view after a window reload: the newest run folder read back as a
 * finished run (lastRunSnapshot, pure; readLastRun on a temporary folder), and
 * the run store accepting it only when nothing is live.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { lastRunSnapshot, readLastRun } from '../../../src/host/lastRun';
import { RunStore, type StoreEvent } from '../../../src/host/runStore';
import { LiveRunSchema, type LiveRun } from '../../../src/protocol';
import { validate } from '../../../src/schema';
import { makeTempDir, removeTempDir } from '../../support/tmp';

const DIR = path.join(os.tmpdir(), 'lastrun-fixture', 'digits-sgd-20261122-120000');

function runJson(status: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    formatVersion: 1,
    status,
    config: { dataset: 'digits', model: '64-32-32-10', optimizer: 'sgd', lr: 0.1, epochs: 3 },
    model: { spec: '64-32-32-10' },
    dataset: { id: 'digits' },
    epochsCompleted: 2,
    checkpoints: [
      { file: 'checkpoints/epoch-1.safetensors', kind: 'periodic', epoch: 1, testLoss: 1.5 },
      { file: '../escape.safetensors', kind: 'final', epoch: 2 },
      { file: 'final.safetensors', kind: 'final', epoch: 2, testLoss: 0.75 },
    ],
    best: { file: 'best.safetensors', kind: 'best', epoch: 2, testLoss: 0.75 },
    ...extra,
  });
}

const epoch = (e: number, loss: number, acc?: number) =>
  JSON.stringify({ type: 'epoch', epoch: e, step: 10 * e, trainLoss: loss, testLoss: loss + 0.25, gradNorm: 1, lr: 0.1, time: e, ...(acc !== undefined ? { testAccuracy: acc } : {}) });
const stab = (e: number) => JSON.stringify({ type: 'stability', epoch: e, step: 10 * e, lambdaMax: 12, threshold: 20, lr: 0.1, verdict: 'stable', message: 'ok', hvp: 'x' });
const METRICS = [epoch(0, 2), epoch(1, 1.25, 0.5), stab(1), epoch(2, 0.5, 0.875)].join('\n') + '\n';

function valid(s: LiveRun | undefined): LiveRun {
  assert.ok(s, 'a snapshot');
  const v = validate(LiveRunSchema, s, 'live');
  assert.ok(v.ok, v.ok ? '' : v.error);
  return s;
}

describe('lastRunSnapshot', () => {
  it('a completed run: every epoch and stability line, the checkpoints, a "completed" status without "done"', () => {
    const s = valid(lastRunSnapshot(DIR, runJson('completed'), METRICS));
    assert.deepEqual(s.points.map((p) => [p.epoch, p.trainLoss, p.testLoss]), [[0, 2, 2.25], [1, 1.25, 1.5], [2, 0.5, 0.75]]);
    assert.equal(s.points[2].testAccuracy, 0.875);
    assert.equal(s.stability?.length, 1);
    assert.equal(s.stability?.[0].lambdaMax, 12);
    assert.equal(s.label, 'digits · 64-32-32-10 · sgd');
    assert.equal(s.runDir, DIR);
    assert.deepEqual(s.status, {
      state: 'completed',
      text: 'last run: digits-sgd-20261122-120000 · completed · 2 epochs · test loss 0.75 · test accuracy 87.5%',
      epoch: 2,
      epochs: 3,
    });
    assert.doesNotMatch(s.status.text, /\bdone\b/i);
    // The path leaving the run folder is dropped; final and best are labelled like live checkpoints.
    assert.deepEqual(s.checkpoints.map((c) => [path.relative(DIR, c.path), c.label, c.detail]), [
      [path.join('checkpoints', 'epoch-1.safetensors'), 'epoch-1.safetensors', 'test loss 1.5'],
      ['final.safetensors', 'final.safetensors (epoch 2)', 'test loss 0.75'],
      ['best.safetensors', 'best.safetensors (epoch 2)', 'test loss 0.75'],
    ]);
  });

  it('running in run.json (the host died) is shown as interrupted; cancelled and failed say so', () => {
    const i = valid(lastRunSnapshot(DIR, runJson('running'), METRICS));
    assert.equal(i.status.state, 'cancelled');
    assert.equal(i.status.text, 'last run: digits-sgd-20261122-120000 · interrupted after epoch 2');
    const c = valid(lastRunSnapshot(DIR, runJson('cancelled'), METRICS));
    assert.equal(c.status.text, 'last run: digits-sgd-20261122-120000 · cancelled after epoch 2');
    const f = valid(lastRunSnapshot(DIR, runJson('failed', { error: 'NaN loss at epoch 2' }), METRICS));
    assert.equal(f.status.state, 'failed');
    assert.equal(f.status.text, 'last run: digits-sgd-20261122-120000 · failed: NaN loss at epoch 2');
    for (const s of [i, c, f]) assert.doesNotMatch(s.status.text, /\bdone\b/i);
  });

  it('a torn last line is dropped silently; damaged lines in the middle are skipped and counted', () => {
    const torn = METRICS + epoch(3, 0.25).slice(0, 40);
    const t = valid(lastRunSnapshot(DIR, runJson('running'), torn));
    assert.deepEqual(t.points.map((p) => p.epoch), [0, 1, 2]);
    assert.equal(t.status.text, 'last run: digits-sgd-20261122-120000 · interrupted after epoch 2');
    // A last line that is whole but lacks its newline still counts.
    const whole = valid(lastRunSnapshot(DIR, runJson('running'), METRICS + epoch(3, 0.25)));
    assert.deepEqual(whole.points.map((p) => p.epoch), [0, 1, 2, 3]);
    const damaged = [epoch(0, 2), '{"type":"epoch", garbage', JSON.stringify({ type: 'epoch', epoch: 1, trainLoss: 'x' }), epoch(2, 0.5)].join('\n') + '\n';
    const d = valid(lastRunSnapshot(DIR, runJson('completed'), damaged));
    assert.deepEqual(d.points.map((p) => p.epoch), [0, 2]);
    assert.match(d.status.text, /\(2 unreadable metrics lines skipped\)$/);
  });

  it('the tail of a large file: its first, partial line is dropped and the status says so', () => {
    const tail = epoch(0, 2).slice(25) + '\n' + epoch(1, 1.25) + '\n' + epoch(2, 0.5) + '\n';
    const s = valid(lastRunSnapshot(DIR, runJson('completed'), tail, { metricsStartsMidLine: true }));
    assert.deepEqual(s.points.map((p) => p.epoch), [1, 2]);
    assert.match(s.status.text, /\(latest epochs only\)$/);
  });

  it('damaged or foreign run.json gives no snapshot; missing metrics gives an empty chart', () => {
    assert.equal(lastRunSnapshot(DIR, '{"status": "compl', METRICS), undefined);
    assert.equal(lastRunSnapshot(DIR, '', METRICS), undefined);
    assert.equal(lastRunSnapshot(DIR, JSON.stringify({ status: 'completed', name: 'another tool' }), METRICS), undefined);
    assert.equal(lastRunSnapshot(DIR, '[1,2]', METRICS), undefined);
    const odd = valid(lastRunSnapshot(DIR, JSON.stringify({ config: { epochs: -1, optimizer: 7 }, status: 42, checkpoints: 'no', best: null }), 'not json\n'));
    assert.deepEqual(odd.points, []);
    assert.deepEqual(odd.checkpoints, []);
    assert.equal(odd.label, '? · ? · ?');
    assert.equal(odd.status.state, 'cancelled');
    assert.equal(odd.status.epochs, 0);
    const empty = valid(lastRunSnapshot(DIR, runJson('completed'), ''));
    assert.deepEqual(empty.points, []);
    assert.equal(empty.status.text, 'last run: digits-sgd-20261122-120000 · completed · 2 epochs · test loss –');
  });
});

describe('RunStore.restore', () => {
  const snap = () => valid(lastRunSnapshot(DIR, runJson('completed'), METRICS));

  it('shows the last run only when nothing is live, and a new run replaces it', () => {
    const store = new RunStore();
    const events: StoreEvent[] = [];
    store.onEvent((e) => events.push(e));
    assert.equal(store.restore(snap()), true);
    assert.deepEqual(events, [{ kind: 'reset' }]);
    assert.equal(store.isActive, false);
    const shown = store.snapshot();
    assert.equal(shown?.points.length, 3);
    valid(shown ?? undefined);
    // A second restore (another side view resolve) does not replace what is shown.
    assert.equal(store.restore(snap()), false);
    store.begin('r2', '/tmp/r2', 'digits · 8 · sgd', 2);
    assert.equal(store.current?.runId, 'r2');
    assert.equal(store.current?.points.length, 0);
    assert.equal(store.restore(snap()), false, 'a live run is never replaced');
  });

  it('refuses a snapshot that claims to be running', () => {
    const store = new RunStore();
    const s = snap();
    s.status.state = 'running';
    assert.equal(store.restore(s), false);
    assert.equal(store.current, undefined);
  });
});

describe('readLastRun', () => {
  const root = makeTempDir('lastrun');
  after(() => removeTempDir(root));
  const make = (name: string, json: string, metrics: string | undefined, ageS: number) => {
    const dir = path.join(root, name);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'run.json'), json);
    if (metrics !== undefined) fs.writeFileSync(path.join(dir, 'metrics.jsonl'), metrics);
    const t = new Date(Date.UTC(2026, 0, 1) + (1000 - ageS) * 1000);
    for (const f of ['run.json', 'metrics.jsonl']) if (fs.existsSync(path.join(dir, f))) fs.utimesSync(path.join(dir, f), t, t);
    return dir;
  };

  it('takes the newest readable run folder, caps the metrics it reads, and is undefined without runs', async () => {
    assert.equal(await readLastRun(path.join(root, 'missing')), undefined);
    make('old', runJson('completed'), METRICS, 300);
    const mid = make('mid', runJson('running'), METRICS + epoch(3, 0.25).slice(0, 30), 200);
    make('foreign', JSON.stringify({ name: 'not ours' }), undefined, 100);
    fs.mkdirSync(path.join(root, 'no-run-json'));
    const got = await readLastRun(root);
    assert.equal(got?.runDir, mid, 'the newest Landscape run (the foreign one is passed over)');
    assert.equal(got?.status.text, 'last run: mid · interrupted after epoch 2');
    assert.equal(got?.points.length, 3);
    // Read only the last bytes: the newest epochs survive, the cut line is dropped.
    const capped = await readLastRun(root, epoch(2, 0.5, 0.875).length + 1 + 30 + 5);
    assert.deepEqual(capped?.points.map((p) => p.epoch), [2]);
    assert.match(capped?.status.text ?? '', /latest epochs only/);
  });
});
