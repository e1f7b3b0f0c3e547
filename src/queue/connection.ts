/**
 * Connecting to the queue's Redis: the connection options BullMQ and our own
 * commands share, and the first contact that turns every way it can go
 * wrong (nobody listening, a wrong password, a database written by another
 * queue format) into one clear input error naming the address.
 */
import IORedis, { type RedisOptions } from 'ioredis';
import { inputError } from '../engine/errors';
import { describeQueue, type QueueAddress } from './redisUrl';

/** The BullMQ queue name and key prefix; every key of ours starts with it. */
export const QUEUE_NAME = 'jobs';
export const KEY_PREFIX = 'landscape';
/**
 * Bumped whenever a job payload, a blob layout or a result encoding changes
 * incompatibly: a worker and a client of different formats must not share jobs.
 */
export const QUEUE_FORMAT = 1;
const FORMAT_KEY = `${KEY_PREFIX}:format`;

/** Options for BullMQ's connections: they reconnect for ever, so a Redis restart is waited out. */
export function bullConnection(a: QueueAddress): RedisOptions {
  return {
    host: a.host,
    port: a.port,
    db: a.db,
    username: a.username,
    password: a.password,
    tls: a.tls ? {} : undefined,
    maxRetriesPerRequest: null,
    // Reconnect quickly at first, then every 2 s, for as long as it takes.
    retryStrategy: (times: number) => Math.min(200 * times, 2000),
  };
}

/** A plain command connection (blobs, the format stamp), reconnecting like BullMQ's. */
export function commandConnection(a: QueueAddress): IORedis {
  return new IORedis({ ...bullConnection(a), lazyConnect: true });
}

/** The error of a first contact that failed, in words a user can act on. */
export function contactError(a: QueueAddress, e: unknown): Error {
  const msg = e instanceof Error ? e.message : String(e);
  const where = describeQueue(a);
  if (/WRONGPASS|invalid username-password|NOAUTH|invalid password/i.test(msg)) {
    return inputError(`Redis at ${where} refused the login (${a.password ? 'wrong user name or password' : 'it needs a password: redis://:PASSWORD@host:port'})`);
  }
  if (/certificate|SSL|TLS|self.signed|unable to verify/i.test(msg)) {
    return inputError(`Redis at ${where}: the TLS handshake failed (${msg}); for a certificate of your own CA, point NODE_EXTRA_CA_CERTS at the CA's PEM file`);
  }
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|timed out|Connection is closed|ECONNRESET/i.test(msg)) {
    return inputError(`cannot reach Redis at ${where} (${msg.replace(/^connect\s+/, '')}); is redis-server running there?`);
  }
  return inputError(`Redis at ${where}: ${msg}`);
}

/**
 * Connects once without retrying, checks the login and the queue format
 * (stamping an empty database with ours), and closes. Run before any
 * BullMQ object is made, whose connections would otherwise retry silently.
 */
export async function checkQueue(a: QueueAddress, timeoutMs = 5000): Promise<void> {
  const probe = new IORedis({ ...bullConnection(a), lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs, enableOfflineQueue: false });
  // A refused login arrives as an 'error' event, and the await only sees the closed connection after it.
  let refused: unknown;
  probe.on('error', (e: Error) => (refused ??= e));
  try {
    await probe.connect();
    await probe.ping();
    await probe.set(FORMAT_KEY, String(QUEUE_FORMAT), 'NX');
    const stamped = await probe.get(FORMAT_KEY);
    if (stamped !== String(QUEUE_FORMAT)) {
      throw inputError(
        `the queue at ${describeQueue(a)} was written by a Landscape of queue format ${stamped}, and this one speaks format ${QUEUE_FORMAT}: ` +
          'use another database (redis://host:port/N) or upgrade the other side',
      );
    }
  } catch (e) {
    if (e instanceof Error && e.name === 'LandscapeError') throw e;
    throw contactError(a, refused ?? e);
  } finally {
    await closeConnection(probe);
  }
}

/**
 * Closes a command connection: QUIT when it is open (ioredis' disconnect()
 * arms a 2 s timer that keeps a finished CLI process alive), else drop it.
 */
export async function closeConnection(redis: IORedis): Promise<void> {
  if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
  else redis.disconnect();
}
