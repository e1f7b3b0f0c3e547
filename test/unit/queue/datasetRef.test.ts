/**
 * A dataset folder crossing the queue: the client zips it into Redis, a
 * worker unpacks it into its cache and reads the same files; a zip in Redis
 * that would write outside the cache (anyone who reaches Redis can store
 * one) is refused with a clear error and leaves nothing behind. Real Redis.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import IORedis from 'ioredis';
import { zipSync } from 'fflate';
import { startRedis, type RedisServer } from '../../support/redis';
import { makeTempDir, removeTempDir } from '../../support/tmp';
import { datasetRef, materialiseDataset } from '../../../src/queue/datasetRef';
import { BlobCache, putBlob } from '../../../src/queue/blobs';
import { LandscapeError } from '../../../src/engine/errors';

let server: RedisServer;
let redis: IORedis;
let tmp: string;

before(async () => {
  server = await startRedis();
  redis = new IORedis({ host: '127.0.0.1', port: server.port });
  tmp = makeTempDir('dataset-ref');
});

after(async () => {
  redis?.disconnect();
  await server?.stop();
  removeTempDir(tmp);
});

/** Every file under `dir` with its bytes, by relative path. */
function tree(dir: string, rel = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const name = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) Object.assign(out, tree(dir, name));
    else out[name] = fs.readFileSync(path.join(dir, name)).toString('base64');
  }
  return out;
}

test('a dataset folder goes by content hash and comes back file for file in the worker cache', async () => {
  const folder = path.join(tmp, 'my-data');
  fs.mkdirSync(path.join(folder, 'raw', 'deeper'), { recursive: true });
  fs.writeFileSync(path.join(folder, 'x.npy'), Buffer.from([1, 2, 3, 4]));
  fs.writeFileSync(path.join(folder, 'raw', 'deeper', 'notes.txt'), 'kept as is\n');
  const ref = await datasetRef(redis, folder);
  assert.equal(ref.folder, 'my-data');
  assert.deepEqual(await datasetRef(redis, folder), ref, 'the same files give the same blob');
  const cache = path.join(tmp, 'cache');
  const local = await materialiseDataset(ref, new BlobCache(redis), cache);
  assert.equal(path.basename(local), 'my-data');
  assert.deepEqual(tree(local), tree(folder));
  // Once unpacked, a second job reads the cache without fetching again.
  assert.equal(await materialiseDataset(ref, new BlobCache(redis), cache), local);
});

test('a dataset zip in Redis that would write outside the cache is refused, and nothing is written', async () => {
  const cache = path.join(tmp, 'cache-hostile');
  for (const name of ['../../escaped.txt', '/abs.txt', 'ok/../../../up.txt']) {
    const blob = await putBlob(redis, zipSync({ [name]: [Buffer.from('x'), { level: 0 }] }));
    await assert.rejects(
      materialiseDataset({ folder: 'data', blob }, new BlobCache(redis), cache),
      (e: unknown) => e instanceof LandscapeError && e.kind === 'input' && /dataset folder zip that has an unsafe entry name/.test(e.message),
    );
  }
  const written = fs.existsSync(cache) ? fs.readdirSync(cache, { recursive: true }) : [];
  assert.ok(written.every((f) => !String(f).endsWith('.txt')), `files were written: ${written.join(', ')}`);
  assert.ok(!fs.existsSync(path.join(tmp, 'escaped.txt')) && !fs.existsSync(path.join(tmp, 'up.txt')));
});

test('a dataset name goes by name even when a file or folder of that name lies in the current folder, as the local loader reads it', async () => {
  const here = path.join(tmp, 'cwd');
  fs.mkdirSync(path.join(here, 'moons'), { recursive: true });
  fs.writeFileSync(path.join(here, 'digits'), 'not the digits\n');
  fs.writeFileSync(path.join(here, 'fashion-mnist'), 'not fashion-mnist\n');
  fs.writeFileSync(path.join(here, 'mine.csv'), 'a,label\n1,0\n');
  const before = process.cwd();
  process.chdir(here);
  try {
    for (const name of ['digits', 'moons', 'fashion-mnist']) assert.deepEqual(await datasetRef(redis, name), { name });
    // A path that is no dataset name is uploaded.
    const csv = await datasetRef(redis, 'mine.csv');
    assert.equal(csv.file, 'mine.csv');
    assert.match(csv.blob ?? '', /^[0-9a-f]{64}$/);
  } finally {
    process.chdir(before);
  }
});
