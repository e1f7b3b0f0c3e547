/**
 * Results cross the queue as JSON text. JSON has no NaN or ±Infinity, and a
 * diverged path's height can be either; this codec writes them as tagged
 * strings and reads them back, so a result that went through Redis is
 * exactly the one the worker computed (every finite double survives JSON's
 * shortest round-trip form).
 */
const TAG = '\u0000nf:';

export function encodeResult(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? `${TAG}${String(v)}` : v));
}

export function decodeResult(text: string): unknown {
  return JSON.parse(text, (_k, v: unknown) => {
    if (typeof v !== 'string' || !v.startsWith(TAG)) return v;
    const n = Number(v.slice(TAG.length));
    return Number.isNaN(n) && v.slice(TAG.length) !== 'NaN' ? v : n;
  });
}
