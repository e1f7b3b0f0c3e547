/**
 * A folder crossing the queue as one zip blob: a finished run folder coming
 * back from a worker, or a dataset folder going to one. The sender packs it
 * (stored entries, fixed timestamps, names in code-unit order, so the same
 * files give the same bytes, hence the same hash); the receiver unpacks into
 * a sibling temp folder, lets the caller fix it up, and renames it into
 * place, so the folder appears whole or not at all. The zip comes from Redis,
 * which anyone who can reach it can write, so the unpacker refuses names that
 * would land outside the folder (zip-slip), entries that are not plain files
 * (folders, links, devices), compressed entries and anything over the caps.
 */
import * as fs from 'fs';
import * as path from 'path';
import { randomBytes } from 'crypto';
import { unzipSync, zipSync, type UnzipFileInfo, type Zippable } from 'fflate';
import { inputError, LandscapeError } from '../engine/errors';
import { formatBytes } from '../engine/limits';
import { maxBlobBytes } from './blobs';

const ZIP_TIME = new Date('2000-01-01T00:00:00Z');
export const MAX_FOLDER_FILES = 10_000;
/** Deep enough for image folders (split/class/image) and run folders (checkpoints/epoch). */
const MAX_DEPTH = 16;
const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const UNIX = 3;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const DOS_DIRECTORY = 0x10;

const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The sender's side: every plain file under `dir`, as a zip of stored entries. */
export function packFolder(dir: string): Uint8Array {
  const files: Zippable = {};
  let count = 0;
  const walk = (abs: string, rel: string): void => {
    for (const e of fs.readdirSync(abs, { withFileTypes: true }).sort((a, b) => byCodeUnits(a.name, b.name))) {
      const name = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(abs, e.name), name);
      else if (e.isFile()) {
        if (++count > MAX_FOLDER_FILES) throw inputError(`holds more than ${MAX_FOLDER_FILES} files`, dir);
        files[name] = [fs.readFileSync(path.join(abs, e.name)), { mtime: ZIP_TIME, level: 0 }];
      }
    }
  };
  walk(dir, '');
  return zipSync(files, { mtime: ZIP_TIME, level: 0 });
}

/** What the zip holds, for messages: "run folder" or "dataset folder". */
export type FolderKind = 'run folder' | 'dataset folder';

const bad = (what: FolderKind, why: string) => inputError(`the queue holds a ${what} zip that ${why}`);

/** A name that stays inside the folder: relative, forward slashes, no empty, "." or ".." parts, no control characters. */
export function checkEntryName(name: string, what: FolderKind): string {
  const parts = name.split('/');
  const unsafe =
    name.length === 0 || name.length > 255 || name.includes('\\') || /[\u0000-\u001f\u007f]/.test(name) || /^[a-zA-Z]:/.test(name) || parts.length > MAX_DEPTH || parts.some((p) => p === '' || p === '.' || p === '..');
  if (unsafe) throw bad(what, `has an unsafe entry name ${JSON.stringify(name.slice(0, 80))}`);
  return name;
}

/** Reads the central directory (the entries' types, which fflate does not report) and refuses anything but plain files. */
function checkCentralDirectory(b: Uint8Array, what: FolderKind): void {
  if (b.byteLength < 22) throw bad(what, 'is truncated');
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let end = b.byteLength - 22;
  const stop = Math.max(0, end - 0xffff);
  while (end >= stop && dv.getUint32(end, true) !== EOCD) end--;
  if (end < stop) throw bad(what, 'has no end record');
  const entries = dv.getUint16(end + 10, true);
  if (entries > MAX_FOLDER_FILES) throw bad(what, `holds ${entries} entries (at most ${MAX_FOLDER_FILES})`);
  let p = dv.getUint32(end + 16, true);
  for (let k = 0; k < entries; k++) {
    if (p + 46 > end || dv.getUint32(p, true) !== CENTRAL) throw bad(what, 'has a broken central directory');
    const os = dv.getUint8(p + 5);
    const attrs = dv.getUint32(p + 38, true);
    const type = (attrs >>> 16) & S_IFMT;
    if ((attrs & DOS_DIRECTORY) !== 0 || (os === UNIX && type !== 0 && type !== S_IFREG)) throw bad(what, 'holds an entry that is not a plain file');
    p += 46 + dv.getUint16(p + 28, true) + dv.getUint16(p + 30, true) + dv.getUint16(p + 32, true);
  }
}

/** Every entry's name, checked, and its bytes; stored entries only, within the caps. */
function readEntries(bytes: Uint8Array, what: FolderKind): [string, Uint8Array][] {
  checkCentralDirectory(bytes, what);
  const cap = maxBlobBytes();
  let total = 0;
  const filter = (f: UnzipFileInfo): boolean => {
    checkEntryName(f.name, what);
    if (f.compression !== 0) throw bad(what, `holds a compressed entry ${JSON.stringify(f.name.slice(0, 80))}`);
    total += f.originalSize;
    if (f.originalSize !== f.size || total > cap) throw bad(what, `unpacks to more than ${formatBytes(cap)} (LANDSCAPE_MAX_DATA_BYTES)`);
    return true;
  };
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, { filter });
  } catch (e) {
    if (e instanceof LandscapeError) throw e;
    throw bad(what, `cannot be read (${e instanceof Error ? e.message.slice(0, 120) : 'unreadable'})`);
  }
  return Object.entries(files);
}

function writeDurable(file: string, data: Uint8Array): void {
  const fd = fs.openSync(file, 'wx');
  try {
    for (let off = 0; off < data.byteLength; ) off += fs.writeSync(fd, data, off, data.byteLength - off);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

const CLASH_CODES = new Set(['EEXIST', 'ENOTDIR', 'EISDIR']);

function writeEntries(entries: [string, Uint8Array][], dir: string, what: FolderKind): void {
  for (const [name, data] of entries) {
    const file = path.join(dir, checkEntryName(name, what));
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      writeDurable(file, data);
    } catch (e) {
      if (CLASH_CODES.has((e as NodeJS.ErrnoException).code ?? '')) throw bad(what, `has entries that clash at ${JSON.stringify(name.slice(0, 80))}`);
      throw e;
    }
  }
}

/**
 * The receiver's side: unpacks `bytes` into a fresh sibling of `target`,
 * calls `finish` on it (e.g. to rewrite what names the worker's folder, and
 * to check the result), then replaces `target` with it. On any failure
 * nothing is left behind and `target` is as it was.
 */
export function unpackFolderZip(bytes: Uint8Array, target: string, what: FolderKind, finish: (dir: string) => void = () => undefined): void {
  const entries = readEntries(bytes, what);
  const abs = path.resolve(target);
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  const tmp = `${abs}.unpack-${randomBytes(6).toString('hex')}`;
  fs.mkdirSync(tmp);
  try {
    writeEntries(entries, tmp, what);
    finish(tmp);
    fs.rmSync(abs, { recursive: true, force: true });
    fs.renameSync(tmp, abs);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
