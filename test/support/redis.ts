/**
 * A real redis-server for queue tests, on a free loopback port, without
 * persistence unless asked for. CI installs Debian's redis-server; without
 * it these tests fail with a message saying so rather than pass on a mock.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

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

/** A server certificate (for localhost and 127.0.0.1) and the CA that signed it, as PEM files. */
export interface TlsFiles {
  cert: string;
  key: string;
  ca: string;
}

async function startOn(port: number, extra: string[], tls?: TlsFiles): Promise<ChildProcess> {
  const which = spawnSync('redis-server', ['--version']);
  if (which.error) throw new Error('redis-server is not installed: apt-get install redis-server (the queue tests use a real Redis)');
  // With TLS the plain port is closed and the TLS port is the one given.
  const ports = tls ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', tls.cert, '--tls-key-file', tls.key, '--tls-ca-cert-file', tls.ca, '--tls-auth-clients', 'no'] : ['--port', String(port)];
  const child = spawn('redis-server', [...ports, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extra], { stdio: 'ignore' });
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

export async function startRedis(extra: string[] = [], tls?: TlsFiles): Promise<RedisServer> {
  const port = await freePort();
  let child = await startOn(port, extra, tls);
  return {
    port,
    url: `${tls ? 'rediss' : 'redis'}://${tls ? 'localhost' : '127.0.0.1'}:${port}`,
    stop: () => stopChild(child),
    restart: async () => {
      await stopChild(child);
      child = await startOn(port, extra, tls);
    },
  };
}

/** A throw-away CA and a server certificate it signed for localhost and 127.0.0.1 (openssl). */
export function makeTlsFiles(dir: string): TlsFiles {
  const run = (args: string[]) => {
    const r = spawnSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    if (r.error || r.status !== 0) throw new Error(`openssl ${args[0]} failed (is openssl installed?)`);
  };
  fs.writeFileSync(path.join(dir, 'san.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=landscape test CA']);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']);
  run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.cnf']);
  return { cert: path.join(dir, 'server.pem'), key: path.join(dir, 'server.key'), ca: path.join(dir, 'ca.pem') };
}
