/**
 * Content-addressed inputs and results in the queue's Redis. A checkpoint's
 * parameters, a dataset file and a job's problem are stored once under the
 * SHA-256 of their bytes, so a job names them by hash, a re-run uploads
 * nothing new, and a worker can check that what it fetched is what the
 * client meant. Workers keep what they fetched in memory for the next job.
 */
import { createHash } from 'crypto';
import type IORedis from 'ioredis';
import { computeError, inputError } from '../engine/errors';
import { formatBytes, maxDataBytes } from '../engine/limits';
import { KEY_PREFIX } from './connection';

export const HASH_PATTERN = /^[0-9a-f]{64}$/;

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function blobKey(hash: string): string {
  return `${KEY_PREFIX}:blob:${hash}`;
}

/** The largest blob either side accepts: the dataset limit, which is the largest input we read. */
export function maxBlobBytes(): number {
  return maxDataBytes();
}

/** Stores `bytes` unless already there; returns its hash. */
export async function putBlob(redis: IORedis, bytes: Uint8Array): Promise<string> {
  if (bytes.byteLength > maxBlobBytes()) throw inputError(`an input of ${formatBytes(bytes.byteLength)} is over the queue's limit of ${formatBytes(maxBlobBytes())} (LANDSCAPE_MAX_DATA_BYTES)`);
  const hash = sha256(bytes);
  const key = blobKey(hash);
  // Checking first spares the upload of a checkpoint or dataset another run already stored.
  if (!(await redis.exists(key))) await redis.set(key, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return hash;
}

export async function putJsonBlob(redis: IORedis, value: unknown): Promise<string> {
  return putBlob(redis, Buffer.from(JSON.stringify(value), 'utf8'));
}

/** Fetches and verifies a blob; a missing one is a compute error the client can cure by re-running. */
export async function fetchBlob(redis: IORedis, hash: string): Promise<Buffer> {
  if (!HASH_PATTERN.test(hash)) throw inputError(`"${hash.slice(0, 80)}" is not a content hash`);
  const len = await redis.strlen(blobKey(hash));
  if (len > maxBlobBytes()) throw inputError(`input ${hash.slice(0, 12)} is ${formatBytes(len)}, over the limit of ${formatBytes(maxBlobBytes())}`);
  const bytes = await redis.getBuffer(blobKey(hash));
  if (!bytes) throw computeError(`input ${hash.slice(0, 12)} is not in the queue's Redis (was it restarted without persistence?); re-run the command to upload it again`);
  if (sha256(bytes) !== hash) throw computeError(`input ${hash.slice(0, 12)} in Redis does not match its hash`);
  return bytes;
}

/** A worker's memory of fetched blobs, so that the minima and the data of a run are fetched once. */
export class BlobCache {
  private readonly kept = new Map<string, Buffer>();
  private bytes = 0;

  constructor(
    private readonly redis: IORedis,
    private readonly budget = 1024 ** 3,
  ) {}

  async get(hash: string): Promise<Buffer> {
    const hit = this.kept.get(hash);
    if (hit) {
      // Re-inserting keeps the Map in least-recently-used order.
      this.kept.delete(hash);
      this.kept.set(hash, hit);
      return hit;
    }
    const bytes = await fetchBlob(this.redis, hash);
    this.keep(hash, bytes);
    return bytes;
  }

  private keep(hash: string, bytes: Buffer): void {
    this.kept.set(hash, bytes);
    this.bytes += bytes.byteLength;
    for (const [h, b] of this.kept) {
      if (this.bytes <= this.budget || h === hash) break;
      this.kept.delete(h);
      this.bytes -= b.byteLength;
    }
  }
}
