/**
 * Temp folders for tests. Paths are resolved through symlinks, so a test can
 * compare them with what code that calls realpath returns.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** A fresh folder named landscape-<name>-XXXXXX under the system temp folder. */
export function makeTempDir(name: string): string {
  return fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), `landscape-${name}-`)));
}

/** Remove a temp folder and everything in it; nothing happens when it was never made. */
export function removeTempDir(dir: string | undefined): void {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * A temp folder for tests that rewrite many small files: in /dev/shm when
 * there is one (memory-backed; rewriting small files on a busy disk costs
 * milliseconds each).
 */
export function makeFastTempDir(name: string): string {
  const prefix = `landscape-${name}-`;
  const base = process.platform === 'linux' && fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
  try {
    return fs.mkdtempSync(path.join(base, prefix));
  } catch {
    return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  }
}
