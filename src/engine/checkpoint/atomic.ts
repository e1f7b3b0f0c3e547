/**
 * Crash-safe file replacement: write a temporary file in the target's own
 * folder (rename is only atomic within one filesystem), fsync it, rename it
 * over the target, then fsync the folder so the rename itself survives a
 * power cut. A reader therefore sees either the old file or the new one,
 * never a torn mix, and a failed write leaves the old file untouched.
 *
 * Synchronous variants exist because the training loop writes checkpoints
 * and run.json between steps and must not interleave two writes of the same
 * file; the async variants suit callers on a UI thread.
 */
import * as fs from 'fs';
import * as path from 'path';
import { randomBytes } from 'crypto';
import { inputError, computeError, LandscapeError } from '../errors';

/** Bytes to write: a string (UTF-8), one buffer, or chunks written in order (no concatenation). */
export type AtomicData = string | Uint8Array | Iterable<Uint8Array>;

function tempPathFor(target: string): string {
  const dir = path.dirname(target);
  const base = path.basename(target);
  // Hidden, unique per process and call; a leftover from a crash is recognisable by the suffix.
  return path.join(dir, `.${base}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** True for names writeFileAtomic uses for its temporary files. */
export function isAtomicTempFile(name: string): boolean {
  return /^\..+\.\d+\.[0-9a-f]{12}\.tmp$/.test(path.basename(name));
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Delete temporary files left in `dir` by writers that died mid-write
 * (SIGKILL, power cut). Files of live processes, including this one, are left
 * alone since their writes may still be in flight. Returns the names removed.
 */
export function removeStaleTempFiles(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = /^\..+\.(\d+)\.[0-9a-f]{12}\.tmp$/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || pidAlive(pid)) continue;
    try {
      fs.unlinkSync(path.join(dir, name));
      removed.push(name);
    } catch {
      // raced with another cleaner, or not ours to delete
    }
  }
  return removed;
}

function chunksOf(data: AtomicData): Iterable<Uint8Array> {
  if (typeof data === 'string') return [Buffer.from(data, 'utf8')];
  if (data instanceof Uint8Array) return [data];
  return data;
}

// Windows and some network filesystems cannot open or fsync a directory;
// the rename is still atomic there, only its durability is weaker.
const DIR_FSYNC_UNSUPPORTED = new Set(['EISDIR', 'EPERM', 'EACCES', 'EINVAL', 'EBADF', 'ENOTSUP', 'ENOSYS']);

function fsyncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch (e) {
    if (!DIR_FSYNC_UNSUPPORTED.has((e as NodeJS.ErrnoException).code ?? '')) throw e;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

async function fsyncDir(dir: string): Promise<void> {
  let fh: fs.promises.FileHandle | undefined;
  try {
    fh = await fs.promises.open(dir, 'r');
    await fh.sync();
  } catch (e) {
    if (!DIR_FSYNC_UNSUPPORTED.has((e as NodeJS.ErrnoException).code ?? '')) throw e;
  } finally {
    await fh?.close();
  }
}

// On Windows a rename over a file another process has open fails briefly
// (virus scanners, the VS Code file watcher); a short retry rides that out.
const RENAME_RETRY_CODES = new Set(['EPERM', 'EACCES', 'EBUSY']);
const RENAME_TRIES = process.platform === 'win32' ? 5 : 1;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function writeError(e: unknown, target: string): LandscapeError {
  if (e instanceof LandscapeError) return e;
  const code = (e as NodeJS.ErrnoException)?.code;
  const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
  if (code === 'ENOENT') return inputError(`cannot write: the folder ${path.dirname(target)} does not exist`, target);
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return inputError(`cannot write: permission denied (${code})`, target);
  if (code === 'ENOSPC') return inputError('cannot write: no space left on the device', target);
  if (code === 'EISDIR' || code === 'ENOTEMPTY' || code === 'EEXIST') return inputError('cannot write: a directory is in the way', target);
  return computeError(`cannot write: ${msg}`, target);
}

/** Atomically replace `target` with `data`. Errors are LandscapeErrors naming the file. */
export function writeFileAtomicSync(target: string, data: AtomicData): void {
  const tmp = tempPathFor(target);
  let fd: number | undefined;
  let renamed = false;
  try {
    fd = fs.openSync(tmp, 'wx', 0o666);
    for (const chunk of chunksOf(data)) {
      let off = 0;
      while (off < chunk.length) off += fs.writeSync(fd, chunk, off, chunk.length - off);
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        fs.renameSync(tmp, target);
        break;
      } catch (e) {
        if (attempt >= RENAME_TRIES || !RENAME_RETRY_CODES.has((e as NodeJS.ErrnoException).code ?? '')) throw e;
        sleepSync(20 * attempt);
      }
    }
    renamed = true;
    fsyncDirSync(path.dirname(target));
  } catch (e) {
    throw writeError(e, target);
  } finally {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // already failing; the original error matters more
      }
    }
    if (!renamed) {
      try {
        fs.unlinkSync(tmp);
      } catch {
        // never created, or already gone
      }
    }
  }
}

export async function writeFileAtomic(target: string, data: AtomicData): Promise<void> {
  const tmp = tempPathFor(target);
  let fh: fs.promises.FileHandle | undefined;
  let renamed = false;
  try {
    fh = await fs.promises.open(tmp, 'wx', 0o666);
    for (const chunk of chunksOf(data)) {
      let off = 0;
      while (off < chunk.length) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
    }
    await fh.sync();
    await fh.close();
    fh = undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        await fs.promises.rename(tmp, target);
        break;
      } catch (e) {
        if (attempt >= RENAME_TRIES || !RENAME_RETRY_CODES.has((e as NodeJS.ErrnoException).code ?? '')) throw e;
        await new Promise((r) => setTimeout(r, 20 * attempt));
      }
    }
    renamed = true;
    await fsyncDir(path.dirname(target));
  } catch (e) {
    throw writeError(e, target);
  } finally {
    if (fh !== undefined) await fh.close().catch(() => undefined);
    if (!renamed) await fs.promises.unlink(tmp).catch(() => undefined);
  }
}

/** JSON with two-space indent and a final newline, written atomically. */
export function writeJsonAtomic(target: string, value: unknown): void {
  writeFileAtomicSync(target, jsonText(value, target));
}

export async function writeJsonAtomicAsync(target: string, value: unknown): Promise<void> {
  await writeFileAtomic(target, jsonText(value, target));
}

function jsonText(value: unknown, target: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value, null, 2);
  } catch (e) {
    throw computeError(`cannot write JSON: ${e instanceof Error ? e.message : String(e)}`, target);
  }
  if (text === undefined) throw computeError('cannot write JSON: the value is not serialisable', target);
  return text + '\n';
}
