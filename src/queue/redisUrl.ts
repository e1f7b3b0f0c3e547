/**
 * The `--queue` address: redis://[user:password@]host[:port][/db] or
 * rediss://… for TLS. Parsed here, once, so that a typo is one clear input
 * error before anything connects, and so that the password never appears in
 * a message (`describeQueue` prints the address without it).
 */
import { inputError } from '../engine/errors';

export interface QueueAddress {
  host: string;
  port: number;
  db: number;
  tls: boolean;
  username?: string;
  password?: string;
}

const USAGE = 'expected redis://[user:password@]host[:port][/db] or rediss://… for TLS';

export function parseQueueUrl(text: string): QueueAddress {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw inputError(`--queue "${redact(text)}" is not an address: ${USAGE}`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw inputError(`--queue "${redact(text)}": ${USAGE}`);
  if (!url.hostname) throw inputError(`--queue "${redact(text)}" names no host: ${USAGE}`);
  const port = url.port ? Number(url.port) : 6379;
  const dbText = url.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0 || db > 15 || !/^\d*$/.test(dbText)) throw inputError(`--queue "${redact(text)}": the database must be a number 0..15, got "${dbText}"`);
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port,
    db,
    tls: url.protocol === 'rediss:',
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
  };
}

/** The address for messages: never the password. */
export function describeQueue(a: QueueAddress): string {
  const host = a.host.includes(':') ? `[${a.host}]` : a.host;
  return `${a.tls ? 'rediss' : 'redis'}://${host}:${a.port}${a.db ? `/${a.db}` : ''}`;
}

/** The text with any password replaced, for errors about a malformed address. */
function redact(text: string): string {
  // Anything between a colon and an @ may be a password, whether or not the rest is a URL.
  return text.replace(/:[^:@\s]*@/g, ':***@').slice(0, 200);
}
