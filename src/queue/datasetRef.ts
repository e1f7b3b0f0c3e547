/**
 * How a job names its dataset without a shared filesystem. A built-in or
 * system dataset (digits, fashion-mnist, …) goes by name: every worker finds
 * its own copy. A file or folder the user pointed at is uploaded once, as
 * content-addressed bytes (a folder as a zip with fixed timestamps, so the
 * same files give the same hash), and a worker unpacks it into its cache
 * folder and reads it from there.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type IORedis from 'ioredis';
import { S, type Infer } from '../schema';
import { inputError } from '../engine/errors';
import { readsAsDatasetName } from '../engine/data';
import { writeFileAtomicSync } from '../engine/checkpoint/atomic';
import { putBlob, type BlobCache } from './blobs';
import { packFolder, unpackFolderZip } from './folderZip';

const hash = S.string(64);
export const DatasetRefSchema = S.object({
  name: S.optional(S.string(200)),
  file: S.optional(S.string(255)),
  folder: S.optional(S.string(255)),
  blob: S.optional(hash),
});
export type DatasetRef = Infer<typeof DatasetRefSchema>;

/** The client's side: a name stays a name; a path is uploaded. */
export async function datasetRef(redis: IORedis, dataset: string): Promise<DatasetRef> {
  // A name the loader reads as a name stays one, whatever lies in this folder under it.
  if (readsAsDatasetName(dataset)) return { name: dataset };
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dataset);
  } catch {
    return { name: dataset };
  }
  if (stat.isDirectory()) return { folder: path.basename(path.resolve(dataset)), blob: await putBlob(redis, packFolder(dataset)) };
  return { file: path.basename(dataset), blob: await putBlob(redis, fs.readFileSync(dataset)) };
}

export function defaultCacheDir(): string {
  return path.join(os.tmpdir(), `landscape-queue-cache-${process.getuid?.() ?? 'user'}`);
}

/** A name inside a zip or a job that would land outside its folder is refused (zip-slip). */
function safeName(name: string, what: string): string {
  const norm = path.posix.normalize(name);
  if (!name || norm.startsWith('..') || path.posix.isAbsolute(norm) || norm.includes('\0') || /^[a-zA-Z]:/.test(norm)) throw inputError(`${what} has an unsafe file name "${name.slice(0, 80)}"`);
  return norm;
}

/** The worker's side: the dataset argument to load, unpacking uploaded data into `cacheDir` once. */
export async function materialiseDataset(ref: DatasetRef, blobs: BlobCache, cacheDir = defaultCacheDir()): Promise<string> {
  if (ref.name !== undefined) return ref.name;
  if (!ref.blob || (ref.file === undefined) === (ref.folder === undefined)) throw inputError('the job names its dataset neither by name nor by one uploaded file or folder');
  const home = path.join(cacheDir, ref.blob);
  const target = path.join(home, safeName(ref.file ?? ref.folder!, 'the job\'s dataset'));
  if (fs.existsSync(path.join(home, '.complete'))) return target;
  const bytes = await blobs.get(ref.blob);
  fs.mkdirSync(home, { recursive: true });
  if (ref.file !== undefined) writeFileAtomicSync(target, bytes);
  else unpackFolderZip(bytes, target, 'dataset folder');
  // The marker comes last: a worker killed mid-unpack leaves no folder that looks finished.
  fs.writeFileSync(path.join(home, '.complete'), '');
  return target;
}
