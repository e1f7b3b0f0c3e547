/**
 * Stopping the bench stops everything it started: a stand-in bench that
 * starts a `sleep` is stopped in each way a user stops `npm run bench`, and
 * the sleep must be gone afterwards.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';

const SCRIPT = path.join(__dirname, '..', '..', 'fixtures', 'bench', 'groupLeader.ts');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pid: number, ms = 8000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !alive(pid);
}

/** Starts the stand-in bench and resolves with it and its sleep's pid. */
function startBench(mode: 'wait' | 'leave'): Promise<{ bench: ChildProcess; sleeper: number }> {
  return new Promise((resolve, reject) => {
    const bench = spawn(process.execPath, [...process.execArgv, SCRIPT, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    bench.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /sleeper (\d+)/.exec(out);
      if (m) resolve({ bench, sleeper: Number(m[1]) });
    });
    bench.once('exit', (code) => {
      if (!/sleeper \d+/.test(out)) reject(new Error(`the stand-in bench exited (${code}) before starting its sleep`));
    });
  });
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGKILL'] as const) {
  test(`${signal} to the bench stops the processes it started`, async () => {
    const { bench, sleeper } = await startBench('wait');
    assert.ok(alive(sleeper), 'the sleep runs while the bench does');
    bench.kill(signal);
    assert.ok(await gone(sleeper), `the sleep ${sleeper} outlived the bench's ${signal}`);
  });
}

test('a bench that finishes leaves nothing behind', async () => {
  const { bench, sleeper } = await startBench('leave');
  const code = await new Promise<number | null>((r) => bench.once('exit', r));
  assert.equal(code, 0);
  assert.ok(await gone(sleeper), `the sleep ${sleeper} outlived the finished bench`);
});
