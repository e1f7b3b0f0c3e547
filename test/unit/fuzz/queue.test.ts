/**
 * Fuzzing the queue's parsers: the --queue address, a job payload as a worker
 * receives it (anything at all, from anyone who can write to Redis), a
 * problem blob, and a result coming back. Each either parses or gives one
 * input error saying what is wrong; none throws anything else, and the
 * password of an address never appears in an error.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LandscapeError } from '../../../src/engine/errors';
import { describeQueue, parseQueueUrl } from '../../../src/queue/redisUrl';
import { checkJobPayload } from '../../../src/queue/jobKinds';
import { PairProblemSchema } from '../../../src/queue/pairProblem';
import { decodeResult, encodeResult } from '../../../src/queue/resultCodec';
import { fuzzParams } from '../../support/fuzz-harness';

function inputErrorOrValue<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch (e) {
    assert.ok(e instanceof LandscapeError && e.kind === 'input', `expected an input error, got ${String(e)}`);
    return undefined;
  }
}

const urlPiece = fc.constantFrom('redis://', 'rediss://', 'http://', 'user', ':', 'p@ss', '@', '127.0.0.1', '[::1]', 'host', ':6379', ':0', ':99999', '/', '/3', '/16', '/x', '%zz', '%40', '?a=1', '#', ' ', '\u0000');
const address = fc.array(urlPiece, { maxLength: 10 }).map((a) => a.join(''));

describe('fuzz: --queue addresses', () => {
  it('parse to a usable address or one input error, never leaking the password', () => {
    fc.assert(
      fc.property(fc.oneof(address, fc.string()), fc.stringMatching(/^[A-Za-z0-9]{6,12}$/), (text, secret) => {
        const withSecret = text.replace('p@ss', `${secret}`);
        try {
          const a = parseQueueUrl(withSecret);
          assert.ok(a.port >= 0 && a.port <= 65535 && a.db >= 0 && a.db <= 15 && a.host.length > 0);
          if (a.password) assert.ok(!describeQueue(a).includes(a.password));
        } catch (e) {
          assert.ok(e instanceof LandscapeError && e.kind === 'input', String(e));
          if (withSecret.includes(`:${secret}@`)) assert.ok(!e.message.includes(secret), e.message);
        }
      }),
      fuzzParams(11),
    );
  });
});

const hex = fc.stringMatching(/^[0-9a-f]{64}$/);
const payload = fc.record({
  format: fc.oneof(fc.constant(1), fc.integer(), fc.string()),
  kind: fc.oneof(fc.constant('path-pair'), fc.constantFrom('exec', '__proto__', 'constructor', 'toString'), fc.string()),
  problem: fc.oneof(hex, fc.string()),
  a: fc.oneof(hex, fc.string(), fc.integer()),
  b: fc.oneof(hex, fc.constant(null)),
}, { requiredKeys: [] });

describe('fuzz: job payloads and problems', () => {
  it('a worker accepts only well-formed path-pair payloads', () => {
    fc.assert(
      fc.property(fc.oneof(payload, fc.anything()), (data) => {
        const ok = inputErrorOrValue(() => checkJobPayload(data));
        if (ok) assert.equal(ok.kind, 'path-pair');
      }),
      fuzzParams(12),
    );
  });

  it('the problem schema refuses anything but its own shape', () => {
    fc.assert(
      fc.property(fc.anything(), (v) => {
        const err = PairProblemSchema.check(v, 'problem');
        assert.ok(err === null || typeof err === 'string');
      }),
      fuzzParams(13),
    );
  });
});

/** Equal as values, NaN equal to NaN; -0 and 0 alike (JSON keeps no sign of zero, and nor do our results). */
function same(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return Object.is(a, b) || (a === 0 && b === 0);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return a === b;
}

describe('fuzz: results through the queue', () => {
  it('come back exactly, NaN and infinities included', () => {
    const num = fc.oneof(fc.double(), fc.constantFrom(NaN, Infinity, -Infinity));
    fc.assert(
      fc.property(fc.record({ height: num, list: fc.array(num, { maxLength: 5 }), nested: fc.record({ x: num, s: fc.oneof(fc.string(), fc.constantFrom('\u0000n:NaN', '\u0000s:x', '\u0000')) }) }), (r) => {
        assert.ok(same(decodeResult(encodeResult(r)), r));
      }),
      fuzzParams(14),
    );
  });
});
