/**
 * The study's training runs on the job queue, against a real redis-server and
 * two real `landscape worker` processes: a queued study writes the local
 * study's numbers and byte-identical run folders (the workers told to use
 * another kernel thread count than the client's, which they must not), on
 * the built-in digits and on an uploaded CSV; and a run whose data a worker
 * cannot load fails the study with the run's own reason.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../../support/cli';
import { makeTempDir, removeTempDir } from '../../support/tmp';
import { startRedis, type RedisServer } from '../../support/redis';
import { builtCli } from '../../support/distCli';
import { startWorker, type WorkerProcess } from '../../support/queueWorkers';
import { fastInfo } from '../../../src/engine/fast';

const STUDY = ['study', '--preset', 'quick', '--seeds', '2', '--epochs', '2', '--pairs', '1', '--path-steps', '5'];
const RUNS = ['sgd-s1', 'sgd-s2', 'lbfgs-s1', 'lbfgs-s2'];

let redis: RedisServer;
let tmp: string;
let workers: WorkerProcess[] = [];
const savedSde = process.env.SOURCE_DATE_EPOCH;

before(async () => {
  builtCli();
  redis = await startRedis();
  tmp = makeTempDir('study-training');
  // Fixed timestamps, so that checkpoints and run.json can be compared byte for byte (the client passes it on to the workers).
  process.env.SOURCE_DATE_EPOCH = '1000000000';
  // A kernel thread count other than the client's: the workers must train with the client's all the same.
  const other = String(fastInfo().threads === 1 ? 2 : 1);
  workers = await Promise.all([1, 2].map(() => startWorker(redis.url, { LANDSCAPE_QUEUE_LOCK_MS: '1500', LANDSCAPE_THREADS: other })));
});

after(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  await redis?.stop();
  removeTempDir(tmp);
  if (savedSde === undefined) delete process.env.SOURCE_DATE_EPOCH;
  else process.env.SOURCE_DATE_EPOCH = savedSde;
});

/** Every file under `dir` (and every folder, with a trailing slash), sorted. */
function tree(dir: string, rel = ''): string[] {
  return fs
    .readdirSync(path.join(dir, rel), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? [`${rel}${e.name}/`, ...tree(dir, `${rel}${e.name}/`)] : [`${rel}${e.name}`]))
    .sort();
}

function studyNumbers(dir: string): unknown {
  const doc = JSON.parse(fs.readFileSync(path.join(dir, 'study.json'), 'utf8')) as Record<string, unknown>;
  delete doc.timing;
  return doc;
}

/** A local and a queued run folder hold the same files, and the same bytes but for the folder's own path and the epochs' durations. */
function assertSameRun(local: string, queued: string): void {
  assert.deepEqual(tree(queued), tree(local));
  for (const f of tree(local).filter((n) => n.endsWith('.safetensors'))) {
    assert.ok(fs.readFileSync(path.join(queued, f)).equals(fs.readFileSync(path.join(local, f))), `${queued}/${f} differs from the local run's`);
  }
  // run.json names the run's own folder (config.out) and the versions of what trained it (a source run here says
  // 0.0.0-dev, the workers' bundle its release); with SOURCE_DATE_EPOCH set, nothing else in it may differ.
  const runJson = (dir: string) =>
    fs
      .readFileSync(path.join(dir, 'run.json'), 'utf8')
      .replace(JSON.stringify(dir), '"<out>"')
      .replace(/"landscape": "[^"]*"/, '"landscape": "<version>"');
  assert.equal(runJson(queued), runJson(local));
  // metrics.jsonl: each epoch's `time` (seconds since the run started) is the one number allowed to differ.
  const metrics = (dir: string) => fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').replace(/"time":[-+.e\d]+/g, '"time":0');
  assert.equal(metrics(queued), metrics(local));
}

async function localAndQueued(name: string, extra: string[]): Promise<{ local: string; queued: string; stderr: string }> {
  const local = path.join(tmp, `${name}-local`);
  const queued = path.join(tmp, `${name}-queued`);
  const l = await runCli([...STUDY, ...extra, '--out', local]);
  assert.equal(l.code, 0, l.stderr);
  const q = await runCli([...STUDY, ...extra, '--out', queued, '--queue', redis.url]);
  assert.equal(q.code, 0, q.stderr);
  return { local, queued, stderr: q.stderr };
}

describe('landscape study --queue: the training runs', () => {
  test("two workers train the runs, and the study and its run folders are the local study's", async () => {
    const { local, queued } = await localAndQueued('digits', []);
    assert.deepEqual(studyNumbers(queued), studyNumbers(local));
    for (const run of RUNS) assertSameRun(path.join(local, 'runs', run), path.join(queued, 'runs', run));
    for (const [k, w] of workers.entries()) assert.ok(w.lines.some((l) => /job train-run-\S+ done/.test(l)), `worker ${k + 1} trained no run:\n${w.lines.join('\n')}`);
  });

  test('a run on an uploaded CSV: the checkpoints name the CSV where the client has it', async () => {
    const csv = path.join(tmp, 'three-classes.csv');
    fs.writeFileSync(csv, csvRows(240));
    const { local, queued } = await localAndQueued('csv', ['--dataset', csv, '--model', '4-8-3']);
    assert.deepEqual(studyNumbers(queued), studyNumbers(local));
    for (const run of RUNS) assertSameRun(path.join(local, 'runs', run), path.join(queued, 'runs', run));
    assert.ok(fs.readFileSync(path.join(queued, 'runs', 'sgd-s1', 'final.safetensors')).includes(JSON.stringify(csv)));
  });

  test('a run whose CSV the workers cannot read fails the study with the reason, in the names the client gave', async () => {
    const csv = path.join(tmp, 'bad-row.csv');
    const rows = csvRows(60).split('\n');
    rows.splice(5, 0, '0.1,zzz,0.3,0.4,1');
    fs.writeFileSync(csv, rows.join('\n'));
    const r = await runCli(['study', '--preset', 'quick', '--seeds', '2', '--epochs', '1', '--dataset', csv, '--model', '4-8-3', '--out', path.join(tmp, 'bad'), '--queue', redis.url]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /run sgd-s1: a queue worker could not train it: bad-row\.csv: line 6, column "b": "zzz" is not a number \(and 3 other runs failed\)/);
    assert.doesNotMatch(r.stderr, /landscape-queue-cache/);
    assert.deepEqual(fs.readdirSync(path.join(tmp, 'bad', 'runs')), []);
  });
});

/** A small three-class CSV (four features, a label column), the same every time. */
function csvRows(n: number): string {
  let x = 1;
  const rand = () => (x = (x * 16807) % 2147483647) / 2147483647;
  const lines = ['a,b,c,d,label'];
  for (let i = 0; i < n; i++) lines.push([0, 1, 2, 3].map((j) => (rand() + (i % 3) * (j % 2)).toFixed(4)).join(',') + `,${i % 3}`);
  return lines.join('\n') + '\n';
}
