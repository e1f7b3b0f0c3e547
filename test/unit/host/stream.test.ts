/**
 * The stream from the host's run store to a webview: the coalescer's rate
 * bound (with a fake clock), and that a page applying snapshot + deltas ends
 * with exactly the host's series, including after being hidden mid-run.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Coalescer, clampRate, type Clock } from '../../../src/host/coalescer';
import { RunStore, mergeDeltas, toPoint, upsertCheckpoints, type RunDelta } from '../../../src/host/runStore';
import { validateHostMessage, type EpochPoint, type LiveRun } from '../../../src/protocol';
import type { TrainEvent } from '../../../src/engine/train';

class FakeClock implements Clock {
  t = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private next = 1;
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== h);
  }
  /** Advance time, firing due timers in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const due = this.timers[0];
      if (!due || due.at > end) break;
      this.timers.shift();
      this.t = due.at;
      due.fn();
    }
    this.t = end;
  }
  get pending(): number {
    return this.timers.length;
  }
}

const concat = (a: number[], b: number[]) => a.concat(b);

describe('Coalescer', () => {
  it('sends the first update at once and merges later ones into at most maxRate messages a second', () => {
    const clock = new FakeClock();
    const sent: { at: number; items: number[] }[] = [];
    const c = new Coalescer<number[]>((items) => sent.push({ at: clock.now(), items }), concat, 20, clock);
    // 1000 updates over 2 seconds, one every 2 ms.
    for (let i = 0; i < 1000; i++) {
      c.push([i]);
      clock.advance(2);
    }
    clock.advance(1000);
    assert.equal(sent[0].at, 0);
    assert.deepEqual(sent[0].items, [0]);
    // Every item arrives exactly once, in order.
    assert.deepEqual(sent.flatMap((s) => s.items), Array.from({ length: 1000 }, (_, i) => i));
    // No two messages closer than 1/20 s, so no more than 20 in any second.
    for (let i = 1; i < sent.length; i++) assert.ok(sent[i].at - sent[i - 1].at >= 50, `messages ${i - 1} and ${i} are ${sent[i].at - sent[i - 1].at} ms apart`);
    assert.ok(sent.length <= 2 * 20 + 1, `${sent.length} messages in 2 s`);
    assert.equal(clock.pending, 0);
  });

  it('sends slow updates one by one without delay', () => {
    const clock = new FakeClock();
    const sent: number[][] = [];
    const c = new Coalescer<number[]>((x) => sent.push(x), concat, 20, clock);
    for (let i = 0; i < 5; i++) {
      c.push([i]);
      clock.advance(100);
    }
    assert.deepEqual(sent, [[0], [1], [2], [3], [4]]);
  });

  it('flush sends what is pending now; reset drops it and counts as a send', () => {
    const clock = new FakeClock();
    const sent: number[][] = [];
    const c = new Coalescer<number[]>((x) => sent.push(x), concat, 10, clock);
    c.push([1]);
    c.push([2]);
    c.push([3]);
    assert.deepEqual(sent, [[1]]);
    c.flush();
    assert.deepEqual(sent, [[1], [2, 3]]);
    assert.equal(clock.pending, 0);
    c.push([4]);
    assert.ok(c.hasPending);
    c.reset();
    assert.equal(c.hasPending, false);
    clock.advance(1000);
    assert.deepEqual(sent, [[1], [2, 3]]);
    // reset counted as a message: the next push waits for the interval.
    c.reset();
    c.push([5]);
    assert.deepEqual(sent, [[1], [2, 3]]);
    clock.advance(100);
    assert.deepEqual(sent, [[1], [2, 3], [5]]);
  });

  it('setRate changes the interval; dispose stops everything', () => {
    const clock = new FakeClock();
    const sent: number[] = [];
    const c = new Coalescer<number[]>((x) => sent.push(clock.now()), concat, 1, clock);
    c.push([1]);
    c.push([2]);
    clock.advance(999);
    assert.equal(sent.length, 1);
    clock.advance(1);
    assert.equal(sent.length, 2);
    c.setRate(1000);
    c.push([3]);
    clock.advance(1);
    assert.equal(sent.length, 3);
    c.push([4]);
    c.dispose();
    clock.advance(5000);
    c.push([5]);
    assert.equal(sent.length, 3);
  });

  it('clamps bad rates', () => {
    assert.equal(clampRate(20), 20);
    assert.equal(clampRate(0), 1);
    assert.equal(clampRate(-5), 1);
    assert.equal(clampRate(1e9), 1000);
    assert.equal(clampRate(Number.NaN), 20);
    assert.equal(clampRate('fast'), 20);
  });
});

function epochEvent(epoch: number): Extract<TrainEvent, { type: 'epoch' }> {
  return { type: 'epoch', epoch, step: epoch * 10, trainLoss: 2 / (epoch + 1), testLoss: 2.1 / (epoch + 1), accuracy: 0.1 + epoch / 100, testAccuracy: 0.1, gradNorm: 1 / (epoch + 1), lr: 0.1, time: epoch };
}

/** What a webview does with the stream (webview/side.ts), minus the DOM. */
class Replica {
  runId: string | null = null;
  points: EpochPoint[] = [];
  resyncs = 0;
  snapshot(live: LiveRun | null): void {
    this.runId = live?.runId ?? null;
    this.points = live ? live.points.slice() : [];
  }
  delta(d: RunDelta): boolean {
    if (d.runId !== this.runId || d.from !== this.points.length) {
      this.resyncs++;
      return false;
    }
    this.points.push(...d.points);
    return true;
  }
}

describe('RunStore', () => {
  it('keeps every epoch point (epoch 0 included) and builds valid protocol messages', () => {
    const store = new RunStore();
    const deltas: RunDelta[] = [];
    store.onEvent((e) => e.kind === 'delta' && deltas.push(e.delta));
    store.begin('run-1', '/w/runs/run-1', 'digits', 8);
    for (let e = 0; e <= 8; e++) store.apply(epochEvent(e));
    store.apply({ type: 'checkpoint', path: '/w/runs/run-1/best.safetensors', file: 'best.safetensors', kind: 'best', epoch: 8, step: 80, trainLoss: 0.2, testLoss: 0.3 });
    store.apply({ type: 'checkpoint', path: '/w/runs/run-1/best.safetensors', file: 'best.safetensors', kind: 'best', epoch: 8, step: 80, trainLoss: 0.2, testLoss: 0.25 });
    const st = store.finish('completed');
    const snap = store.snapshot()!;
    assert.equal(snap.points.length, 9);
    assert.deepEqual(snap.points.map((p) => p.epoch), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal(snap.checkpoints.length, 1, 'best.safetensors is replaced, not listed twice');
    assert.match(snap.checkpoints[0].detail ?? '', /0\.25/);
    assert.match(st!.text, /^done/);
    assert.equal(store.isActive, false);
    for (const d of deltas) assert.ok(validateHostMessage({ type: 'runDelta', ...d }).ok);
    assert.ok(validateHostMessage({ type: 'sideSnapshot', live: snap, runs: { runs: [], others: [], truncated: false }, backend: { text: 'x', detail: '' }, form: { dataset: 'digits', model: '64-10', optimizer: 'sgd', epochs: 1 }, datasets: [], optimizers: [], training: false, experimentFile: null }).ok);
  });

  it('tags the status lines of a study run and carries status-only updates', () => {
    const store = new RunStore();
    const deltas: RunDelta[] = [];
    store.onEvent((e) => e.kind === 'delta' && deltas.push(e.delta));
    store.begin('study:quick:sgd-s1', '/w/runs/study-quick/runs/sgd-s1', 'study · sgd-s1', 0, 'study · sgd-s1 (1/4) · ');
    store.apply(epochEvent(0));
    assert.match(store.current!.status.text, /^study · sgd-s1 \(1\/4\) · training · epoch 0/);
    store.setStatus('running', 'study · barriers · pair 1/2');
    const last = deltas[deltas.length - 1];
    assert.deepEqual(last.points, []);
    assert.equal(last.status?.text, 'study · barriers · pair 1/2');
    assert.equal(store.current!.points.length, 1, 'the charts keep the last run');
    assert.equal(store.isActive, true, 'a running study keeps Train away from the store');
    store.setStatus('completed', 'study done');
    assert.equal(store.isActive, false);
    for (const d of deltas) assert.ok(validateHostMessage({ type: 'runDelta', ...d }).ok);
    // A plain run after the study has no tag.
    store.begin('r', '/r', 'x', 3);
    assert.match(store.current!.status.text, /^starting x/);
  });

  it('toPoint keeps only the protocol fields and leaves out missing accuracies', () => {
    const p = toPoint({ ...epochEvent(1), accuracy: undefined, testAccuracy: undefined });
    assert.deepEqual(Object.keys(p).sort(), ['epoch', 'gradNorm', 'lr', 'step', 'testLoss', 'time', 'trainLoss']);
  });

  it('a snapshot is a copy later events do not change', () => {
    const store = new RunStore();
    store.begin('r', '/r', 'x', 3);
    store.apply(epochEvent(0));
    const snap = store.snapshot()!;
    store.apply(epochEvent(1));
    assert.equal(snap.points.length, 1);
  });

  it('a page that is hidden and reloaded mid-run ends with the whole series, through the coalescer', () => {
    const clock = new FakeClock();
    const store = new RunStore();
    const page = new Replica();
    let visible = true;
    const c = new Coalescer<RunDelta>((d) => visible && page.delta(d), mergeDeltas, 20, clock);
    const sendSnapshot = () => {
      c.reset();
      page.snapshot(store.snapshot());
    };
    store.onEvent((e) => {
      if (e.kind === 'reset') {
        if (visible) sendSnapshot();
      } else if (visible) {
        c.push(e.delta);
        if (e.delta.status && e.delta.status.state !== 'running') c.flush();
      }
    });
    store.begin('r1', '/w/runs/r1', 'digits', 200);
    for (let e = 0; e <= 200; e++) {
      store.apply(epochEvent(e));
      clock.advance(3);
      if (e === 50) {
        visible = false; // hidden: the host drops what is pending and stops posting
        c.reset();
        page.snapshot(null); // the page is destroyed
      }
      if (e === 120) {
        visible = true; // shown again: the new page says 'ready' and gets a snapshot
        sendSnapshot();
      }
    }
    store.finish('completed');
    clock.advance(1000);
    assert.equal(page.runId, 'r1');
    assert.deepEqual(page.points, store.snapshot()!.points);
    assert.equal(page.points.length, 201);
    assert.equal(page.resyncs, 0);
  });

  it('mergeDeltas joins contiguous deltas and keeps the newer one otherwise', () => {
    const p = (e: number) => toPoint(epochEvent(e));
    const a: RunDelta = { runId: 'r', from: 0, points: [p(0)], checkpoints: [{ path: '/b', label: 'best (epoch 0)' }] };
    const b: RunDelta = { runId: 'r', from: 1, points: [p(1)], checkpoints: [{ path: '/b', label: 'best (epoch 1)' }], status: { state: 'running', text: 't', epoch: 1, epochs: 2 } };
    const m = mergeDeltas(a, b);
    assert.equal(m.from, 0);
    assert.equal(m.points.length, 2);
    assert.deepEqual(m.checkpoints, [{ path: '/b', label: 'best (epoch 1)' }]);
    assert.equal(m.status?.epoch, 1);
    const gap: RunDelta = { runId: 'r', from: 5, points: [p(5)], checkpoints: [] };
    assert.equal(mergeDeltas(a, gap), gap);
    const other: RunDelta = { runId: 'r2', from: 0, points: [], checkpoints: [] };
    assert.equal(mergeDeltas(a, other), other);
    assert.deepEqual(upsertCheckpoints([{ path: '/a', label: 'a' }], [{ path: '/b', label: 'b' }, { path: '/a', label: 'a2' }]), [
      { path: '/a', label: 'a2' },
      { path: '/b', label: 'b' },
    ]);
  });

  it('a page that sees a gap or another run asks for a snapshot', () => {
    const page = new Replica();
    page.snapshot({ runId: 'r', runDir: '/r', label: 'x', points: [toPoint(epochEvent(0))], checkpoints: [], status: { state: 'running', text: '', epoch: 0, epochs: 2 } });
    assert.equal(page.delta({ runId: 'r', from: 2, points: [toPoint(epochEvent(2))], checkpoints: [] }), false);
    assert.equal(page.delta({ runId: 'q', from: 1, points: [], checkpoints: [] }), false);
    assert.equal(page.resyncs, 2);
  });

  it('reports cancelled and failed runs', () => {
    const store = new RunStore();
    store.begin('r', '/w/runs/r', 'x', 10);
    store.apply(epochEvent(0));
    store.apply(epochEvent(1));
    assert.match(store.finish('cancelled')!.text, /stopped after epoch 1/);
    store.begin('r2', '/w/runs/r2', 'x', 10);
    assert.equal(store.isActive, true);
    assert.match(store.finish('failed', 'training diverged')!.text, /failed: training diverged/);
  });
});
