/**
 * Real `landscape worker` processes for queue tests: each is dist/cli.js in
 * its own process, with its stderr lines kept so a test can see which job it
 * started and kill it mid-job.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { builtCli } from './distCli';

export interface WorkerProcess {
  child: ChildProcess;
  lines: string[];
  /** Resolves with the first line matching `re` (already seen or still to come). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function startWorker(url: string, env: Record<string, string> = {}): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [builtCli(), 'worker', '--queue', url], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  let partial = '';
  child.stderr!.on('data', (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop() ?? '';
    for (const l of parts) {
      lines.push(l);
      for (const w of waiters.filter((x) => x.re.test(l))) (waiters.splice(waiters.indexOf(w), 1), w.resolve(l));
    }
  });
  const w: WorkerProcess = {
    child,
    lines,
    waitFor: (re, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const seen = lines.find((l) => re.test(l));
        if (seen) return resolve(seen);
        const t = setTimeout(() => reject(new Error(`worker never printed ${re}; it printed:\n${lines.join('\n')}`)), timeoutMs);
        waiters.push({ re, resolve: (l) => (clearTimeout(t), resolve(l)) });
      }),
    kill: (signal = 'SIGKILL') =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
  await w.waitFor(/waiting for jobs/);
  return w;
}
