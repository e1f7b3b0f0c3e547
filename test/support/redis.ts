/**
 * A real redis-server for queue tests, on a free loopback port, without
 * persistence unless asked for. CI installs Debian's redis-server; without
 * it these tests fail with a message saying so rather than pass on a mock.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';

export interface RedisServer {
  port: number;
  url: string;
  /** Stops the server; with `restart`, starts it again on the same port (a crash and a restart, for the client). */
  stop(): Promise<void>;
  restart(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.once('error', () => resolve(false));
    sock.once('connect', () => sock.end(() => resolve(true)));
  });
}

async function startOn(port: number, extra: string[]): Promise<ChildProcess> {
  const which = spawnSync('redis-server', ['--version']);
  if (which.error) throw new Error('redis-server is not installed: apt-get install redis-server (the queue tests use a real Redis)');
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extra], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (await ping(port)) return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not start on port ${port}`);
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

export async function startRedis(extra: string[] = []): Promise<RedisServer> {
  const port = await freePort();
  let child = await startOn(port, extra);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop: () => stopChild(child),
    restart: async () => {
      await stopChild(child);
      child = await startOn(port, extra);
    },
  };
}
