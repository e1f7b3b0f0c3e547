/**
 * `landscape path --pairs FILE --queue URL` against a real redis-server and a
 * real `landscape worker` process: each pair's file equals the one a local
 * run on worker threads writes (queue workers compute as pool threads do).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../../support/cli';
import { makeTempDir, removeTempDir } from '../../support/tmp';
import { startRedis, type RedisServer } from '../../support/redis';
import { startWorker, type WorkerProcess } from '../../support/queueWorkers';

const LOCK = { LANDSCAPE_QUEUE_LOCK_MS: '1500' };
const PATH_OPTS = ['--steps', '60', '--points', '7', '--modes', '2'];

let redis: RedisServer;
let tmp: string;
let pairs: string;
let worker: WorkerProcess | undefined;

/** The result without its timings (the only numbers allowed to differ) and the writer's version (a source run says 0.0.0-dev, the bundle its release). */
function comparable(file: string): unknown {
  const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as { seconds?: number; settings?: [string, string][]; landscapeVersion?: string };
  delete doc.seconds;
  delete doc.landscapeVersion;
  doc.settings = doc.settings?.filter(([k]) => k !== 'time' && k !== 'written by');
  return doc;
}

before(async () => {
  redis = await startRedis();
  tmp = makeTempDir('queue-path-pairs');
  for (const seed of [1, 2, 3]) {
    const r = await runCli(['train', '--dataset', 'digits', '--model', '64-16-10', '--epochs', '3', '--seed', String(seed), '--data-seed', '0', '--out', path.join(tmp, 'runs', `s${seed}`)]);
    assert.equal(r.code, 0, r.stderr);
  }
  pairs = path.join(tmp, 'pairs.txt');
  fs.writeFileSync(pairs, '# every pair of three seeds\nruns/s1/final.safetensors runs/s2/final.safetensors\nruns/s1/final.safetensors runs/s3/final.safetensors\nruns/s3/final.safetensors runs/s2/final.safetensors\n');
});

after(async () => {
  await worker?.kill();
  await redis?.stop();
  removeTempDir(tmp);
});

test('path --pairs --queue writes the files a local run on worker threads writes', async () => {
  const local = path.join(tmp, 'local');
  const l = await runCli(['path', '--pairs', pairs, ...PATH_OPTS, '--jobs', '2', '--out', local]);
  assert.equal(l.code, 0, l.stderr);
  worker = await startWorker(redis.url, LOCK);
  const queued = path.join(tmp, 'queued');
  const q = await runCli(['path', '--pairs', pairs, ...PATH_OPTS, '--queue', redis.url, '--out', queued]);
  assert.equal(q.code, 0, q.stderr);
  assert.match(q.stderr, /queue redis:\/\/127\.0\.0\.1:\d+: 1 worker connected/);
  assert.match(q.stderr, /3 pairs of 3 checkpoints .*\(3 to compute\).*, queue redis:/);
  const names = fs.readdirSync(local).sort();
  assert.deepEqual(names, ['s1_final__s2_final.path.json', 's1_final__s3_final.path.json', 's3_final__s2_final.path.json']);
  assert.deepEqual(fs.readdirSync(queued).sort(), names);
  for (const n of names) {
    const doc = comparable(path.join(queued, n)) as { coefficients?: unknown[] };
    assert.equal(doc.coefficients?.length, 2, `${n} carries the path's points`);
    assert.deepEqual(doc, comparable(path.join(local, n)), n);
  }
  assert.equal(worker.lines.filter((x) => /job \S+ \(path-pair\) started/.test(x)).length, 3, 'the worker computed the three pairs');
});
