/**
 * The job queue against a real redis-server and real `landscape worker`
 * processes: results equal a local run's, a worker killed mid-job loses
 * nothing, a re-run reuses finished jobs, cancel removes unstarted jobs, a
 * Redis restart is survived, and bad addresses, logins and payloads each get
 * one clear error.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { runCli } from '../../support/cli';
import { runWorkerJob } from '../../support/worker';
import { readBarrierResult } from '../../../src/results/barrierFiles';
import { makeTempDir, removeTempDir } from '../../support/tmp';
import { makeTlsFiles, startRedis, type RedisServer } from '../../support/redis';
import { builtCli } from '../../support/distCli';
import { execFile } from 'node:child_process';
import { startWorker, type WorkerProcess } from '../../support/queueWorkers';

const LOCK = { LANDSCAPE_QUEUE_LOCK_MS: '1500' };
const PATH_OPTS = ['--steps', '250', '--points', '9', '--modes', '3'];

let redis: RedisServer;
let tmp: string;
let minima: string[];
const workers: WorkerProcess[] = [];

/** The result without its timings (the only numbers allowed to differ) and the writer's version (a source run says 0.0.0-dev, the bundle its release). */
function comparable(json: string): unknown {
  const doc = JSON.parse(json) as { seconds?: number; settings?: [string, string][]; landscapeVersion?: string };
  delete doc.seconds;
  delete doc.landscapeVersion;
  doc.settings = doc.settings?.filter(([k]) => k !== 'time' && k !== 'written by');
  return doc;
}

/** The built CLI in a process of its own (for environment a process reads at start, such as NODE_EXTRA_CA_CERTS). */
function cliProcess(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [builtCli(), ...args], { env: { ...process.env, ...env }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout: stdout.trim(), stderr });
    });
  });
}

/** Each finished path-pair job's stored result, and whether the job asked for the path's points. */
async function storedResults(): Promise<{ points: boolean; result: { coefficients?: unknown[]; images?: unknown[] } }[]> {
  const queue = new Queue('jobs', { connection: { host: '127.0.0.1', port: redis.port }, prefix: 'landscape' });
  const r = new IORedis({ host: '127.0.0.1', port: redis.port });
  try {
    const jobs = (await queue.getJobs(['completed'])).filter((j) => j.data?.kind === 'path-pair' && j.returnvalue?.result);
    return await Promise.all(jobs.map(async (j) => ({ points: j.data.points === true, result: JSON.parse((await r.get(`landscape:blob:${j.returnvalue.result}`))!) })));
  } finally {
    await queue.close();
    r.disconnect();
  }
}

async function spawnWorkers(n: number): Promise<WorkerProcess[]> {
  const started = await Promise.all(Array.from({ length: n }, () => startWorker(redis.url, LOCK)));
  workers.push(...started);
  return started;
}

async function stopWorkers(): Promise<void> {
  await Promise.all(workers.splice(0).map((w) => w.kill()));
}

before(async () => {
  redis = await startRedis();
  tmp = makeTempDir('queue');
  minima = [];
  for (const seed of [1, 2, 3, 4]) {
    const out = path.join(tmp, `run${seed}`);
    const r = await runCli(['train', '--dataset', 'digits', '--model', '64-16-10', '--epochs', '3', '--seed', String(seed), '--data-seed', '0', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    minima.push(path.join(out, 'final.safetensors'));
  }
});

after(async () => {
  await stopWorkers();
  await redis?.stop();
  removeTempDir(tmp);
});

describe('landscape barriers --queue', () => {
  let local: string;

  test('three workers, one killed mid-job: every pair arrives and the matrix equals the local run', async () => {
    // The local run on worker threads, as queue workers compute (a pair on the main thread can differ in the last float32 bit of the saddle's gradient norm).
    const l = await runCli(['barriers', ...minima, ...PATH_OPTS, '--jobs', '2', '--json']);
    assert.equal(l.code, 0, l.stderr);
    local = l.stdout;
    const [victim, ...others] = await spawnWorkers(3);
    const killed = victim.waitFor(/job (\S+) \(path-pair\) started/).then(async (line) => {
      await victim.kill('SIGKILL');
      return /job (\S+) /.exec(line)![1];
    });
    const q = await runCli(['barriers', ...minima, ...PATH_OPTS, '--queue', redis.url, '--json']);
    assert.equal(q.code, 0, q.stderr);
    assert.deepEqual(comparable(q.stdout), comparable(local));
    const lost = await killed;
    assert.ok(victim.child.signalCode === 'SIGKILL', 'the victim was killed');
    // The killed worker's job was finished by another worker, once.
    const finishers = others.filter((w) => w.lines.some((x) => x.includes(`job ${lost} done`)));
    assert.equal(finishers.length, 1, `job ${lost} should be finished by exactly one other worker`);
  });

  test('a re-run with no worker at all reuses the finished jobs', async () => {
    await stopWorkers();
    const q = await runCli(['barriers', ...minima, ...PATH_OPTS, '--queue', redis.url, '--json']);
    assert.equal(q.code, 0, q.stderr);
    assert.deepEqual(comparable(q.stdout), comparable(local));
  });

  test("a result carries the path's points only when the client asks (--coefficients), and then equals the local one", async () => {
    const three = minima.slice(0, 3);
    const [localOut, queueOut] = [path.join(tmp, 'local-points.json'), path.join(tmp, 'queue-points.json')];
    const l = await runCli(['barriers', ...three, ...PATH_OPTS, '--jobs', '2', '--coefficients', '--out', localOut]);
    assert.equal(l.code, 0, l.stderr);
    await spawnWorkers(1);
    const q = await runCli(['barriers', ...three, ...PATH_OPTS, '--queue', redis.url, '--coefficients', '--out', queueOut]);
    // Later tests count on their own workers alone.
    await stopWorkers();
    assert.equal(q.code, 0, q.stderr);
    const fromQueue = comparable(fs.readFileSync(queueOut, 'utf8')) as { pairs: { coefficients?: number[][] }[] };
    assert.ok(fromQueue.pairs.every((p) => (p.coefficients?.length ?? 0) === 3), 'each pair has its N_F = 3 coefficient vectors');
    assert.deepEqual(fromQueue, comparable(fs.readFileSync(localOut, 'utf8')));
    // The jobs of the runs without --coefficients stored neither coefficients nor the band's images.
    const stored = await storedResults();
    assert.ok(stored.some((r) => r.points) && stored.some((r) => !r.points), 'both kinds of job ran');
    for (const r of stored) {
      const points = (r.result.coefficients?.length ?? 0) + (r.result.images?.length ?? 0);
      assert.equal(points > 0, r.points, `a job ${r.points ? 'with' : 'without'} points stored ${points} path vectors`);
    }
  });

  test('cancel removes the jobs no worker has started', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 1500);
    const q = await runCli(['barriers', ...minima, ...PATH_OPTS, '--seed', '7', '--queue', redis.url, '--json'], ac.signal);
    assert.notEqual(q.code, 0);
    const queue = new Queue('jobs', { connection: { host: '127.0.0.1', port: redis.port }, prefix: 'landscape' });
    try {
      const counts = await queue.getJobCounts('waiting', 'prioritized', 'delayed');
      assert.deepEqual([counts.waiting, counts.prioritized, counts.delayed], [0, 0, 0]);
    } finally {
      await queue.close();
    }
  });

  test('Redis restarting mid-run (losing its jobs): the client reconnects and the run completes with the local numbers', async () => {
    const three = minima.slice(0, 3);
    const opts = [...PATH_OPTS, '--seed', '11'];
    const l = await runCli(['barriers', ...three, ...opts, '--jobs', '2', '--json']);
    assert.equal(l.code, 0, l.stderr);
    const [w] = await spawnWorkers(1);
    const restart = w.waitFor(/done/).then(() => redis.restart());
    const q = await runCli(['barriers', ...three, ...opts, '--queue', redis.url, '--json']);
    await restart;
    assert.equal(q.code, 0, q.stderr);
    assert.deepEqual(comparable(q.stdout), comparable(l.stdout));
  });
});

describe('landscape slice --queue', () => {
  /** The slice without its timing. */
  const values = (json: string) => {
    const doc = JSON.parse(json) as Record<string, unknown>;
    delete doc.seconds;
    return doc;
  };

  test('a plane through three MLP minima and a random plane of a CNN: the grids of local runs, from two workers', async () => {
    const cnn = path.join(tmp, 'cnn');
    const t = await runCli(['train', '--dataset', 'digits', '--model', 'cnn-digits', '--subset', '300', '--epochs', '1', '--out', cnn]);
    assert.equal(t.code, 0, t.stderr);
    const cases = [
      ['slice', ...minima.slice(0, 3), '--points', '41'],
      ['slice', path.join(cnn, 'final.safetensors'), '--kind', 'random-plane', '--points', '21'],
    ];
    const local = [];
    for (const c of cases) {
      const l = await runCli([...c, '--json']);
      assert.equal(l.code, 0, l.stderr);
      local.push(l.stdout);
    }
    // Only these two: a worker left from an earlier test could take every block.
    await stopWorkers();
    const ws = await spawnWorkers(2);
    try {
      for (const [k, c] of cases.entries()) {
        const q = await runCli([...c, '--json', '--queue', redis.url]);
        assert.equal(q.code, 0, q.stderr);
        assert.deepEqual(values(q.stdout), values(local[k]));
      }
      assert.ok(ws.every((w) => w.lines.some((x) => /slice-rows\S* done/.test(x))), 'both workers evaluated blocks');
    } finally {
      await stopWorkers();
    }
  });
});

describe('landscape study --queue', () => {
  test("the study's training runs and path searches on a worker give the local study's numbers", async () => {
    const args = ['study', '--preset', 'quick', '--seeds', '2', '--epochs', '2', '--pairs', '1', '--path-steps', '5'];
    const l = await runCli([...args, '--out', path.join(tmp, 'study-local')]);
    assert.equal(l.code, 0, l.stderr);
    const [w] = await spawnWorkers(1);
    try {
      const q = await runCli([...args, '--out', path.join(tmp, 'study-queue'), '--queue', redis.url]);
      assert.equal(q.code, 0, q.stderr);
      assert.ok(w.lines.some((x) => /job path-pair-\S+ done/.test(x)), 'the worker computed the paths');
      assert.ok(w.lines.some((x) => /job train-run-\S+ done/.test(x)), 'the worker trained the runs');
    } finally {
      await stopWorkers();
    }
    const read = (dir: string) => {
      const doc = JSON.parse(fs.readFileSync(path.join(tmp, dir, 'study.json'), 'utf8')) as Record<string, unknown>;
      delete doc.timing;
      return doc;
    };
    assert.deepEqual(read('study-queue'), read('study-local'));
  });
});

describe('the extension with landscape.queue', () => {
  test('its barriers job sends the pairs to the queue and saves the matrices of a local job', async () => {
    const files = minima.slice(0, 3);
    const request = (out: string) => ({ kind: 'barriers' as const, files, folder: tmp, out: path.join(tmp, out), selection: 'all', settings: { points: 6, steps: 20, planeGrid: 0 } });
    const local = await runWorkerJob(request('local.barriers.json'), undefined, { backend: 'wasm' });
    assert.equal(local.error, undefined, local.error?.message);
    const [w] = await spawnWorkers(1);
    try {
      const queued = await runWorkerJob(request('queued.barriers.json'), undefined, { backend: 'wasm', queue: redis.url });
      assert.equal(queued.error, undefined, queued.error?.message);
      assert.equal(w.lines.filter((x) => /job \S+ done/.test(x)).length, 3, 'the worker computed the three pairs');
    } finally {
      await stopWorkers();
    }
    const a = readBarrierResult(path.join(tmp, 'local.barriers.json'), 'barrierMatrix').data;
    const b = readBarrierResult(path.join(tmp, 'queued.barriers.json'), 'barrierMatrix').data;
    assert.deepEqual(b.heights, a.heights);
    assert.deepEqual(b.barriers, a.barriers);
    assert.deepEqual(b.straightHeights, a.straightHeights);
  });

  test("Compare Optimizers' study job trains its runs on the queue; cancelled, it keeps the runs that came back", async () => {
    const out = path.join(tmp, 'extension-study');
    const [w] = await spawnWorkers(1);
    let firstBack: string | undefined;
    try {
      const r = await runWorkerJob<'study', { type: string; run?: string; event?: { type: string } }>(
        { kind: 'study', out, preset: 'quick' },
        (e, cancel) => {
          if (e.type === 'train' && e.event?.type === 'done' && !firstBack) {
            firstBack = e.run;
            cancel();
          }
        },
        { backend: 'wasm', queue: redis.url },
      );
      assert.equal(r.error?.kind, 'cancelled', `the study should stop at the cancel, got ${JSON.stringify(r.error ?? r.result).slice(0, 200)}`);
      assert.ok(w.lines.some((x) => /job train-run-\S+ done/.test(x)), 'the queue worker trained a run');
    } finally {
      await stopWorkers();
    }
    assert.ok(firstBack, 'a run came back from the queue');
    assert.ok(fs.existsSync(path.join(out, 'runs', firstBack, 'final.safetensors')), `${firstBack} is unpacked in the study folder`);
  });
});

describe('queue errors', () => {
  test('nobody listening: one line, exit 2, for the client and the worker', async () => {
    const dead = 'redis://127.0.0.1:1';
    const c = await runCli(['barriers', ...minima.slice(0, 2), '--steps', '2', '--queue', dead]);
    assert.equal(c.code, 2);
    assert.match(c.stderr, /cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
    assert.equal(c.stderr.trim().split('\n').length, 1, c.stderr);
    const w = await runCli(['worker', '--queue', dead]);
    assert.equal(w.code, 2);
    assert.match(w.stderr, /cannot reach Redis/);
  });

  test('a wrong or missing password: exit 2 naming the login, never the password', async () => {
    const locked = await startRedis(['--requirepass', 's3cret']);
    try {
      const wrong = await runCli(['barriers', ...minima.slice(0, 2), '--steps', '2', '--queue', `redis://:hunter2@127.0.0.1:${locked.port}`]);
      assert.equal(wrong.code, 2);
      assert.match(wrong.stderr, /refused the login \(wrong user name or password\)/);
      assert.doesNotMatch(wrong.stderr, /hunter2/);
      const none = await runCli(['barriers', ...minima.slice(0, 2), '--steps', '2', '--queue', locked.url]);
      assert.equal(none.code, 2);
      assert.match(none.stderr, /needs a password/);
      const right = await runCli(['worker', '--queue', `redis://:s3cret@127.0.0.1:${locked.port}`], AbortSignal.timeout(4000));
      assert.equal(right.code, 0, right.stderr);
    } finally {
      await locked.stop();
    }
  });

  test('rediss:// (TLS, a CA of its own): workers and clients that trust the CA get the local numbers; one that does not is told why', async () => {
    const certs = path.join(tmp, 'tls');
    fs.mkdirSync(certs);
    const secure = await startRedis([], makeTlsFiles(certs));
    const trust = { NODE_EXTRA_CA_CERTS: path.join(certs, 'ca.pem') };
    // Three minima, so that the local run also computes on worker threads (one pair would run on the main thread).
    const args = ['barriers', ...minima.slice(0, 3), '--steps', '20', '--points', '6', '--json'];
    try {
      const w = await startWorker(secure.url, { ...LOCK, ...trust });
      workers.push(w);
      const l = await runCli([...args, '--jobs', '2']);
      const q = await cliProcess([...args, '--queue', secure.url], trust);
      assert.equal(q.code, 0, q.stderr);
      assert.deepEqual(comparable(q.stdout), comparable(l.stdout));
      const untrusting = await cliProcess([...args, '--queue', secure.url], {});
      assert.equal(untrusting.code, 2);
      assert.match(untrusting.stderr, /TLS handshake failed .*NODE_EXTRA_CA_CERTS/);
    } finally {
      await stopWorkers();
      await secure.stop();
    }
  });

  test('a queue written by another queue format: exit 2', async () => {
    const r = new IORedis({ host: '127.0.0.1', port: redis.port, db: 5 });
    await r.set('landscape:format', '99');
    r.disconnect();
    const c = await runCli(['barriers', ...minima.slice(0, 2), '--steps', '2', '--queue', `${redis.url}/5`]);
    assert.equal(c.code, 2);
    assert.match(c.stderr, /queue format 99/);
  });

  test('a worker refuses unknown job kinds and malformed payloads, and says why to the client', async () => {
    await spawnWorkers(1);
    const queue = new Queue('jobs', { connection: { host: '127.0.0.1', port: redis.port }, prefix: 'landscape' });
    try {
      const rogue = await queue.add('exec', { kind: 'exec', command: 'rm -rf /' });
      const bad = await queue.add('path-pair', { format: 1, kind: 'path-pair', problem: 'x', a: 'y', b: 'z', extra: 1 });
      const missing = await queue.add('path-pair', { format: 1, kind: 'path-pair', problem: 'a'.repeat(64), a: 'b'.repeat(64), b: 'c'.repeat(64) });
      const reason = async (id: string) => {
        for (let i = 0; i < 200; i++) {
          const j = await queue.getJob(id);
          if (j?.failedReason) return j.failedReason;
          await new Promise((r) => setTimeout(r, 50));
        }
        return 'never failed';
      };
      assert.match(await reason(rogue.id!), /unknown kind "exec"/);
      assert.match(await reason(bad.id!), /malformed path-pair job/);
      assert.match(await reason(missing.id!), /is not in the queue's Redis/);
    } finally {
      await queue.close();
      await stopWorkers();
    }
  });
});
