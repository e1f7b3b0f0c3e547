/**
 * Hardening fuzzer for the safetensors reader (and the checkpoint layer on
 * top of it): random bytes, mutations of valid files, forged header lengths,
 * structured random headers and random Landscape metadata, 10,000 cases
 * each. Every case must end quickly, stay within the memory bound stated in
 * src/engine/checkpoint/safetensors.ts, and either decode or give a readable
 * input error naming the file (see test/support/fuzz-harness.ts).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import fc from 'fast-check';
import {
  encodeSafetensors,
  decodeSafetensors,
  readSafetensors,
  readSafetensorsHeader,
  checkpointFromDecoded,
  encodeCheckpoint,
  type TensorIn,
} from '../../../src/engine/checkpoint';
import { MAX_HEADER_BYTES } from '../../../src/engine/checkpoint/safetensors';
import { makeSpec, paramCount } from '../../../src/engine/model/spec';
import { inputError } from '../../../src/engine/errors';
import {
  FUZZ_RUNS,
  anyText,
  Tally,
  applyByteMutations,
  applyTextMutations,
  byteMutation,
  fuzzParams,
  runCase,
  runCaseAsync,
  textMutation,
  type CaseContext,
} from '../../support/fuzz-harness';
import { makeFastTempDir, removeTempDir } from '../../support/tmp';

const FILE = '/fuzz/case.safetensors';
const TIMEOUT = { timeout: 180_000 };

/** The documented bound: one copy of the data present plus the header text (and F64->F32 conversion). */
const bounds = (input: Uint8Array) => ({ arrayBufferBytes: (1 << 20) + 4 * input.length });
const ctxFor = (input: Uint8Array, file = FILE): CaseContext => ({ file, input, bounds: bounds(input) });

function withPrefix(header: Buffer, data: Uint8Array = new Uint8Array(0), n?: bigint): Buffer {
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(n ?? BigInt(header.length));
  return Buffer.concat([len, header, data]);
}

const decode = (b: Uint8Array) => decodeSafetensors(b, FILE, { maxBytes: 1 << 20 });

/** Decode, and when that works also build a checkpoint from it (from its metadata, or with a spec). */
function decodeDeep(b: Uint8Array, specText?: string): unknown {
  const d = decode(b);
  let spec;
  try {
    spec = specText === undefined ? undefined : makeSpec(specText);
  } catch {
    // an invalid spec text is the CLI's business, not the reader's
  }
  return checkpointFromDecoded(d, FILE, spec ? { spec } : {});
}

const r = (seed: number) => {
  // Small deterministic generator for the fixtures (fast-check drives the cases).
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
};

function validFiles(): Buffer[] {
  const g = r(7);
  const f32 = (n: number) => Float32Array.from({ length: n }, g);
  const f64 = (n: number) => Float64Array.from({ length: n }, g);
  const spec = makeSpec('3-4-2');
  const theta = f32(paramCount(spec));
  return [
    encodeSafetensors(
      [
        { name: 'a', dtype: 'F32', shape: [2, 3], data: f32(6) },
        { name: 'b', dtype: 'F64', shape: [2], data: f64(2) },
      ],
      { k: 'v', other: '<script>alert(1)</script>' },
    ),
    encodeSafetensors([
      { name: 'scalar', dtype: 'F32', shape: [], data: f32(1) },
      { name: 'empty', dtype: 'F64', shape: [0, 5], data: f64(0) },
      { name: 'w', dtype: 'F32', shape: [4, 4, 2], data: f32(32) },
    ]),
    encodeSafetensors([]),
    encodeCheckpoint(spec, theta, { dataset: 'moons', epoch: '3', trainLoss: '0.5', hyperparameters: '{"lr":0.1}' }),
    // A PyTorch-style file: [out, in] weights, no Landscape metadata.
    encodeSafetensors(
      [
        { name: '0.weight', dtype: 'F32', shape: [4, 3], data: f32(12) },
        { name: '0.bias', dtype: 'F32', shape: [4], data: f32(4) },
        { name: '2.weight', dtype: 'F32', shape: [2, 4], data: f32(8) },
        { name: '2.bias', dtype: 'F32', shape: [2], data: f32(2) },
      ],
      { format: 'pt' },
    ),
  ];
}

const SPECS = ['3-4-2', '3-4-2 no-bias', '2-2', '1048576-1048576', '100000-100000-10', '3-4-2 tanh mse', 'x', '0-1'];

// Numbers that break naive size arithmetic: huge, unsafe, negative, fractional, the u32/u64 edges.
const nastyInt = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 8 }) },
  { weight: 2, arbitrary: fc.integer({ min: -2, max: 200 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 32 + 1, 2 ** 40, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, 2 ** 63, 1e308, -0, 0.5, -1, Number.MAX_VALUE),
  },
  { weight: 1, arbitrary: fc.double() },
);
const nastyValue = fc.oneof(
  { weight: 8, arbitrary: nastyInt },
  { weight: 1, arbitrary: fc.constantFrom(null, true, '3', '', [], {}, [1], 'F32') },
);

const DTYPES = ['F32', 'F64', 'F16', 'BF16', 'I8', 'U8', 'I64', 'BOOL', 'C64', 'f32', 'float32', '', 'F32 '];

const entryArb = fc.record(
  {
    dtype: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...DTYPES) }, { weight: 1, arbitrary: nastyValue }),
    shape: fc.oneof({ weight: 8, arbitrary: fc.array(nastyInt, { maxLength: 4 }) }, { weight: 1, arbitrary: nastyValue }),
    data_offsets: fc.oneof(
      { weight: 8, arbitrary: fc.tuple(nastyInt, nastyInt) },
      { weight: 1, arbitrary: fc.array(nastyValue, { maxLength: 3 }) },
      { weight: 1, arbitrary: nastyValue },
    ),
    extra: fc.jsonValue({ maxDepth: 1 }),
  },
  { requiredKeys: [] },
);

const nameArb = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 8 }) },
  { weight: 2, arbitrary: fc.constantFrom('layers.0.weight', 'layers.0.bias', 'layers.1.weight', '0.weight', '__metadata__', '__proto__', 'constructor', 'toString') },
  { weight: 1, arbitrary: anyText(300) },
  { weight: 1, arbitrary: fc.constantFrom('\u202eevil', 'a\nb', '\u001b[31mred', 'x'.repeat(5000)) },
);

const metadataArb = fc.oneof(
  { weight: 4, arbitrary: fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 20 }), { maxKeys: 4 }) },
  {
    weight: 3,
    arbitrary: fc.record({
      formatVersion: fc.constantFrom('1', '2', '', 'one'),
      model: fc.oneof(fc.constantFrom(...SPECS), fc.string({ maxLength: 12 })),
      activation: fc.constantFrom('relu', 'tanh', 'linear', 'swish', ''),
      bias: fc.constantFrom('true', 'false', 'yes', ''),
      loss: fc.constantFrom('cross-entropy', 'mse', 'ce', 'hinge'),
      epoch: fc.oneof(fc.constantFrom('3', '-1', '1e400', '99999999999999999999', 'NaN', ''), fc.string({ maxLength: 5 })),
      trainLoss: fc.oneof(fc.constantFrom('NaN', 'Infinity', '0.5', 'abc'), fc.string({ maxLength: 5 })),
      hyperparameters: fc.oneof(fc.constantFrom('{"lr":0.1}', '[]', 'null', '{', '"x"'), fc.json({ maxDepth: 2 })),
    }, { requiredKeys: ['formatVersion'] }),
  },
  { weight: 1, arbitrary: nastyValue },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 4 }), nastyValue, { maxKeys: 3 }) },
);

const headerArb = fc.record({
  entries: fc.array(fc.tuple(nameArb, fc.oneof({ weight: 8, arbitrary: entryArb }, { weight: 1, arbitrary: nastyValue })), { maxLength: 5 }),
  metadata: fc.option(metadataArb, { nil: undefined }),
  dataLen: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 512 })),
  pad: fc.constantFrom('', ' ', '        ', '\n', '\u0000'),
});

/** Header text built by hand so duplicate names and key order survive as generated. */
function headerText(h: { entries: [string, unknown][]; metadata?: unknown; pad: string }): string {
  const parts = h.entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v) ?? 'null'}`);
  if (h.metadata !== undefined) parts.unshift(`"__metadata__":${JSON.stringify(h.metadata) ?? 'null'}`);
  return `{${parts.join(',')}}${h.pad}`;
}

/** Data length the entries claim (largest end offset), capped so a case stays small. */
function claimedLength(entries: [string, unknown][]): number {
  let end = 0;
  for (const [, v] of entries) {
    const offs = (v as { data_offsets?: unknown })?.data_offsets;
    if (Array.isArray(offs) && typeof offs[1] === 'number' && Number.isSafeInteger(offs[1]) && offs[1] >= 0) end = Math.max(end, offs[1]);
  }
  return Math.min(end, 4096);
}

let tmp: string;
before(() => {
  tmp = makeFastTempDir('fuzz-st');
});
after(() => {
  removeTempDir(tmp);
});

describe(`safetensors reader fuzz (${FUZZ_RUNS} cases per property)`, () => {
  const valid = validFiles();

  it('the valid fixtures decode (the mutations start from files that work)', () => {
    for (const v of valid) assert.equal(runCase(() => decode(v), ctxFor(v)), 'ok');
  });

  it('random bytes', TIMEOUT, () => {
    const t = new Tally();
    fc.assert(
      fc.property(
        fc.oneof(
          { weight: 3, arbitrary: fc.uint8Array({ maxLength: 2048 }) },
          // A plausible length prefix in front of random bytes gets past the first check.
          { weight: 2, arbitrary: fc.uint8Array({ maxLength: 600 }).map((b) => withPrefix(Buffer.from(b), new Uint8Array(0), BigInt(Math.max(0, b.length - (b[0] ?? 0) % 32)))) },
          { weight: 1, arbitrary: anyText(400).map((s) => withPrefix(Buffer.from(s, 'utf8'))) },
        ),
        (b) => t.add(runCase(() => decodeDeep(b), ctxFor(b))),
      ),
      fuzzParams(101),
    );
    assert.ok(t.rejected > FUZZ_RUNS / 2, String(t));
  });

  it('mutations of valid files', TIMEOUT, () => {
    const t = new Tally();
    fc.assert(
      fc.property(
        fc.nat(valid.length - 1),
        fc.array(byteMutation(4096), { minLength: 0, maxLength: 5 }),
        fc.constantFrom(...SPECS, undefined),
        (i, ms, spec) => {
          const b = applyByteMutations(valid[i], ms);
          t.add(runCase(() => decodeDeep(b, spec), ctxFor(b)));
        },
      ),
      fuzzParams(102),
    );
    assert.ok(t.ok > 0 && t.rejected > 0, String(t));
  });

  it('mutations of the header text, with the length prefix kept right', TIMEOUT, () => {
    const alphabet = fc.constantFrom(...'0123456789-.eE+[]{}",: \\u'.split(''), '99999999999999999999', '1e308', 'null', '"F16"', '\u0000', '\uD800');
    const t = new Tally();
    fc.assert(
      fc.property(fc.nat(valid.length - 1), fc.array(textMutation(2048, alphabet), { minLength: 1, maxLength: 4 }), (i, ms) => {
        const v = valid[i];
        const n = Number(v.readBigUInt64LE(0));
        const header = applyTextMutations(v.subarray(8, 8 + n).toString('utf8'), ms);
        const b = withPrefix(Buffer.from(header, 'utf8'), v.subarray(8 + n));
        t.add(runCase(() => decodeDeep(b, '3-4-2'), ctxFor(b)));
      }),
      fuzzParams(103),
    );
    assert.ok(t.ok > 0 && t.rejected > 0, String(t));
  });

  it('forged header lengths, huge ones included, allocate nothing', TIMEOUT, () => {
    const edges = (len: number) => [0n, 1n, 2n, 7n, 8n, BigInt(len - 9), BigInt(len - 8), BigInt(len - 7), BigInt(MAX_HEADER_BYTES), BigInt(MAX_HEADER_BYTES + 1), 2n ** 31n, 2n ** 32n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n];
    fc.assert(
      fc.property(
        fc.nat(valid.length - 1),
        fc.oneof(fc.nat(14), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
        fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
        (i, pick, cut) => {
          let b = Buffer.from(valid[i]);
          if (cut !== undefined) b = b.subarray(0, Math.max(8, b.length - cut));
          const n = typeof pick === 'number' ? edges(b.length)[pick] : pick;
          b.writeBigUInt64LE(n < 0n ? 0n : n, 0);
          runCase(() => decodeDeep(b), ctxFor(b));
        },
      ),
      fuzzParams(104),
    );
  });

  it('structured random headers: huge shapes and offsets, odd names, metadata, dtypes', TIMEOUT, () => {
    const t = new Tally();
    fc.assert(
      fc.property(headerArb, fc.uint8Array({ maxLength: 4096 }), fc.constantFrom(...SPECS, undefined), (h, bytes, spec) => {
        const entries = h.entries as [string, unknown][];
        const want = h.dataLen < 0 ? claimedLength(entries) : h.dataLen;
        const data = new Uint8Array(want);
        data.set(bytes.subarray(0, want));
        const b = withPrefix(Buffer.from(headerText({ entries, metadata: h.metadata, pad: h.pad }), 'utf8'), data);
        t.add(runCase(() => decodeDeep(b, spec), ctxFor(b)));
      }),
      fuzzParams(105),
    );
    assert.ok(t.rejected > 0, String(t));
  });

  it('consistent headers with one field made hostile', TIMEOUT, () => {
    const tensorArb = fc.record({
      name: nameArb,
      dtype: fc.constantFrom('F32', 'F64'),
      shape: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }),
    });
    const t = new Tally();
    fc.assert(
      fc.property(
        fc.array(tensorArb, { maxLength: 4 }),
        fc.option(metadataArb, { nil: undefined }),
        fc.option(fc.record({ which: fc.nat(), field: fc.constantFrom('dtype', 'shape', 'data_offsets', 'begin', 'end', 'dim', 'drop'), value: nastyValue }), { nil: undefined }),
        fc.constantFrom(...SPECS, undefined),
        (ts, metadata, hostile, spec) => {
          let offset = 0;
          const entries: [string, Record<string, unknown>][] = ts.map((x) => {
            const bytes = x.shape.reduce((a, d) => a * d, 1) * (x.dtype === 'F32' ? 4 : 8);
            const e = { dtype: x.dtype, shape: [...x.shape] as unknown[], data_offsets: [offset, offset + bytes] as unknown[] };
            offset += bytes;
            return [x.name, e];
          });
          if (hostile && entries.length) {
            const e = entries[hostile.which % entries.length][1];
            if (hostile.field === 'begin') (e.data_offsets as unknown[])[0] = hostile.value;
            else if (hostile.field === 'end') (e.data_offsets as unknown[])[1] = hostile.value;
            else if (hostile.field === 'dim') (e.shape as unknown[]).push(hostile.value);
            else if (hostile.field === 'drop') delete e.dtype;
            else e[hostile.field] = hostile.value;
          }
          const data = new Uint8Array(offset);
          // Small finite values, so the data itself is valid.
          for (let i = 0; i + 4 <= offset; i += 4) data[i + 3] = 0x3f;
          const b = withPrefix(Buffer.from(headerText({ entries, metadata, pad: '' }), 'utf8'), data);
          // The reader alone (which should often succeed), then the checkpoint layer on top.
          t.add(runCase(() => decode(b), ctxFor(b)));
          runCase(() => decodeDeep(b, spec), ctxFor(b));
        },
      ),
      fuzzParams(108),
    );
    assert.ok(t.ok > 0 && t.rejected > 0, String(t));
  });

  it('consistent random layouts decode to exactly what was encoded', TIMEOUT, () => {
    const tensorArb = fc.record({
      name: fc.string({ maxLength: 10 }).filter((n) => n !== '__metadata__'),
      dtype: fc.constantFrom('F32' as const, 'F64' as const),
      shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
      seed: fc.integer(),
    });
    let decoded = 0;
    fc.assert(
      fc.property(
        fc.uniqueArray(tensorArb, { selector: (x) => x.name, maxLength: 5 }),
        fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 30 }), { maxKeys: 3 }),
        (ts, meta) => {
          const tensors: TensorIn[] = ts.map((x) => {
            const n = x.shape.reduce((a, d) => a * d, 1);
            const g = r(x.seed);
            return { name: x.name, dtype: x.dtype, shape: x.shape, data: x.dtype === 'F32' ? Float32Array.from({ length: n }, g) : Float64Array.from({ length: n }, g) };
          });
          const b = encodeSafetensors(tensors, meta);
          assert.equal(runCase(() => decode(b), ctxFor(b)), 'ok');
          const d = decode(b);
          assert.deepEqual({ ...d.metadata }, { ...meta });
          assert.equal(d.tensors.size, tensors.length);
          for (const x of tensors) {
            const got = d.tensors.get(x.name)!;
            assert.deepEqual([got.dtype, got.shape], [x.dtype, [...x.shape]]);
            assert.deepEqual(Buffer.from(got.data.buffer, got.data.byteOffset, got.data.byteLength), Buffer.from(x.data.buffer, x.data.byteOffset, x.data.byteLength));
          }
          decoded++;
        },
      ),
      fuzzParams(106),
    );
    assert.equal(decoded, FUZZ_RUNS);
  });

  it('from disk: readSafetensorsHeader and readSafetensors on mutated and forged files', TIMEOUT, async () => {
    const file = path.join(tmp, 'case.safetensors');
    const t = new Tally();
    await fc.assert(
      fc.asyncProperty(fc.nat(valid.length - 1), fc.array(byteMutation(4096), { maxLength: 4 }), fc.boolean(), async (i, ms, headerOnly) => {
        const b = applyByteMutations(valid[i], ms);
        fs.writeFileSync(file, b);
        t.add(
          await runCaseAsync(() => (headerOnly ? readSafetensorsHeader(file) : readSafetensors(file, { maxBytes: 1 << 20 })), ctxFor(b, file)),
        );
      }),
      fuzzParams(107),
    );
    assert.ok(t.ok > 0 && t.rejected > 0, String(t));
  });
});

describe('the fuzz harness itself can fail', () => {
  const ctx: CaseContext = { file: FILE, input: new Uint8Array(0) };
  it('on a crash, a wrong kind, a message without the file or with junk', () => {
    assert.throws(() => runCase(() => { throw new TypeError('x'); }, ctx), /expected a LandscapeError/);
    assert.throws(() => runCase(() => { throw new RangeError('Array buffer allocation failed'); }, ctx), /expected a LandscapeError/);
    assert.throws(() => runCase(() => { throw inputError('bad'); }, ctx), /must name the file/);
    assert.throws(() => runCase(() => { throw inputError('value is undefined', FILE); }, ctx), /says "undefined"/);
    assert.throws(() => runCase(() => { throw inputError('a\nb', FILE); }, ctx), /control character/);
    assert.throws(() => runCase(() => { throw inputError('x'.repeat(5000), FILE); }, ctx), /message of/);
    assert.equal(runCase(() => { throw inputError('value is undefined', FILE); }, { file: FILE, input: 'undefined' }), 'input-error');
  });
  it('on an allocation past the bound', () => {
    const keep: ArrayBuffer[] = [];
    assert.throws(() => runCase(() => keep.push(new ArrayBuffer(64 * 1024 * 1024)), ctx), /grew arrayBuffers/);
  });
  it('on a slow case', () => {
    assert.throws(
      () =>
        runCase(() => {
          const end = performance.now() + 60;
          while (performance.now() < end);
        }, { ...ctx, bounds: { cpuMs: 20 } }),
      /ms of CPU/,
    );
  });
});
