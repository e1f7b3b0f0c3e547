/**
 * The built CLI (dist/cli.js), for tests that run it as real processes with
 * its worker threads beside it: rebuilt with esbuild.mjs when any source file
 * is newer than the bundle.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const repoRoot = path.resolve(__dirname, '..', '..');

export function newestSource(dir: string): number {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newestSource(p));
    else if (e.name.endsWith('.ts')) t = Math.max(t, fs.statSync(p).mtimeMs);
  }
  return t;
}

export function distCliIsCurrent(): boolean {
  const dist = path.join(repoRoot, 'dist', 'cli.js');
  return fs.existsSync(dist) && fs.statSync(dist).mtimeMs >= newestSource(path.join(repoRoot, 'src'));
}

/** dist/cli.js, built first if it is missing or older than the sources. */
export function builtCli(): string {
  if (!distCliIsCurrent()) execFileSync(process.execPath, [path.join(repoRoot, 'esbuild.mjs')], { cwd: repoRoot, stdio: 'ignore' });
  return path.join(repoRoot, 'dist', 'cli.js');
}
