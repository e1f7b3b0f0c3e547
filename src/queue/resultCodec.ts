/**
 * Results cross the queue as JSON text. JSON has no NaN or ±Infinity, and a
 * diverged path's height can be either; this codec writes them as tagged
 * strings and reads them back, so a result that went through Redis is
 * exactly the one the worker computed (every finite double survives JSON's
 * shortest round-trip form). A string that itself starts with the tag
 * character is escaped, so no string is ever mistaken for a number.
 */
const TAG = '\u0000';
const NUMBER = `${TAG}n:`;
const STRING = `${TAG}s:`;

export function encodeResult(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'number' && !Number.isFinite(v)) return `${NUMBER}${String(v)}`;
    if (typeof v === 'string' && v.startsWith(TAG)) return `${STRING}${v}`;
    return v;
  });
}

export function decodeResult(text: string): unknown {
  return JSON.parse(text, (_k, v: unknown) => {
    if (typeof v !== 'string' || !v.startsWith(TAG)) return v;
    if (v.startsWith(STRING)) return v.slice(STRING.length);
    return Number(v.slice(NUMBER.length));
  });
}
