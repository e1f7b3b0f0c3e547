/**
 * One shape per result kind, end to end: the engine's result is what
 * `landscape <kind> --out` writes, what the extension saves, what the worker
 * posts, and what reopening either file gives back (validated by the kind's
 * schema in src/results/).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { validate } from '../../../src/schema';
import { ResultDataSchema } from '../../../src/results';
import { initBackend } from '../../../src/engine/backend';
import { loadAnyCheckpoint } from '../../../src/engine/evaluate';
import { objectiveForCheckpoint } from '../../../src/engine/checkpointObjective';
import { gradcheckAnalysis, hessianAnalysis } from '../../../src/engine/checkpointAnalysis';
import { readAnalysisResult, saveAnalysisResult, type AnalysisData } from '../../../src/host/analysisFiles';
import { main as cliMain } from '../../../src/cli/main';
import { silentIo } from '../../support/cli';
import { runWorkerJob } from '../../support/worker';
import { makeTempDir, removeTempDir } from '../../support/tmp';

const CHECKPOINT = path.join(__dirname, '..', '..', 'fixtures', 'results-v1', 'runA', 'final.safetensors');

function assertValid(data: unknown): asserts data is AnalysisData {
  const v = validate(ResultDataSchema, data, 'result');
  assert.ok(v.ok, v.ok ? '' : v.error);
}

/** The result without its timing, which differs between two runs of the same computation. */
function untimed(d: AnalysisData): Omit<AnalysisData, 'seconds'> {
  const { seconds: _seconds, ...rest } = d;
  return rest;
}

interface Kind {
  name: 'hessian' | 'gradcheck';
  compute(): Promise<AnalysisData>;
  cli: string[];
  job: Parameters<typeof runWorkerJob>[0] extends infer R ? (out: string) => R : never;
}

describe('one result shape from the engine to the panel', () => {
  let dir: string;
  before(async () => {
    dir = makeTempDir('landscape-roundtrip-');
    await initBackend('cpu');
  });
  after(() => removeTempDir(dir));

  async function engine<T>(run: (ck: Awaited<ReturnType<typeof loadAnyCheckpoint>>, obj: Awaited<ReturnType<typeof objectiveForCheckpoint>>) => Promise<T>): Promise<T> {
    const ck = await loadAnyCheckpoint(CHECKPOINT);
    const obj = await objectiveForCheckpoint(ck);
    try {
      return await run(ck, obj);
    } finally {
      obj.dispose();
    }
  }

  const kinds: Kind[] = [
    {
      name: 'hessian',
      compute: () => engine((ck, obj) => hessianAnalysis(ck, obj, { k: 2, traceSamples: 4 })),
      cli: ['--k', '2', '--trace', '--samples', '4'],
      job: (out) => ({ kind: 'hessian', file: CHECKPOINT, out, k: 2, traceSamples: 4 }),
    },
    {
      name: 'gradcheck',
      compute: () => engine((ck, obj) => gradcheckAnalysis(ck, obj, {})),
      cli: [],
      job: (out) => ({ kind: 'gradcheck', file: CHECKPOINT, out }),
    },
  ];

  for (const k of kinds) {
    it(`${k.name}: engine result → CLI file → reopened is the same object`, async () => {
      const result = await k.compute();
      assertValid(result);
      assert.equal(result.kind, k.name);
      const out = path.join(dir, `cli.${k.name}.json`);
      assert.equal(await cliMain([k.name, CHECKPOINT, ...k.cli, '--backend', 'cpu', '--out', out], silentIo()), 0);
      const raw = JSON.parse(fs.readFileSync(out, 'utf8')) as Record<string, unknown>;
      assert.equal(raw.formatVersion, 2);
      assert.equal(raw.command, k.name, 'the CLI keeps its "command" field');
      assert.equal(raw.file, CHECKPOINT, 'the CLI records the path as given');
      const reopened = readAnalysisResult(out).data;
      assertValid(reopened);
      assert.deepEqual(untimed(reopened), untimed(result));
    });

    it(`${k.name}: the extension's file holds the same shape, paths relative, and reopens to the same object`, async () => {
      const result = await k.compute();
      const out = path.join(dir, 'sub', `ext.${k.name}.json`);
      fs.mkdirSync(path.dirname(out), { recursive: true });
      saveAnalysisResult(out, result);
      const raw = JSON.parse(fs.readFileSync(out, 'utf8')) as Record<string, unknown>;
      assert.equal(raw.kind, k.name);
      assert.equal(raw.formatVersion, 2);
      assert.ok(!path.isAbsolute(raw.file as string), 'saved relative to the file');
      assert.deepEqual(readAnalysisResult(out, k.name).data, result);
    });

    it(`${k.name}: the worker posts the result it saved`, async () => {
      const out = path.join(dir, `worker.${k.name}.json`);
      const r = await runWorkerJob(k.job(out));
      assert.equal(r.error, undefined, r.error?.message);
      const posted = (r.result as { result?: unknown }).result;
      assertValid(posted);
      assert.deepEqual(posted, readAnalysisResult(out).data);
      assert.deepEqual(untimed(posted), untimed(await k.compute()));
    });
  }

  it('a file of a later format is refused, naming the file and the versions', () => {
    const file = path.join(dir, 'later.hessian.json');
    fs.writeFileSync(file, JSON.stringify({ kind: 'hessian', command: 'hessian', formatVersion: 3 }));
    assert.throws(() => readAnalysisResult(file), (e: Error) => e.message.startsWith(file) && /newer Landscape \(format 3; this version reads up to 2\)/.test(e.message));
  });
});
