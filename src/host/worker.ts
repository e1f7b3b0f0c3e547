/**
 * Entry of dist/worker.js: one worker thread per job (train, inspect,
 * evaluate, probe, path, barriers, study, and the analysis jobs kpca,
 * kpcaOverlay, hessian, gradcheck, slice). All tfjs work happens here so the extension host never
 * blocks; a job that crashes or leaks takes only its own thread down.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parentPort, workerData } from 'worker_threads';
import { initBackend, describeBackend } from '../engine/backend';
import { LandscapeError, CancelledError } from '../engine/errors';
import { train } from '../engine/train';
import { loadAnyCheckpoint, reevaluateCheckpoint } from '../engine/evaluate';
import { readSafetensors } from '../engine/checkpoint';
import { DATASET_NAMES } from '../engine/data';
import { OPTIMIZER_NAMES } from '../engine/optim/types';
import { paramLayout, specToString, paramCount, type ModelSpec } from '../engine/model/spec';
import { runStudy, summaryLines } from '../engine/study';
import type { CheckpointDetails, EvalResult, Histogram, ModelSpecInfo } from '../protocol';
import { histogram, tensorStat } from './tensorStats';
import { importCliPath, runBarriersJob, runPathJob, type JobContext } from './workerBarriers';
import { runGradcheckJob, runHessianJob, runKpcaJob, runKpcaOverlayJob, runSliceJob, type AnalysisContext } from './workerAnalysis';
import {
  HISTOGRAM_BINS,
  type ErrorKind,
  type JobRequest,
  type ProbeResult,
  type StudyJobResult,
  type WorkerInit,
  type WorkerToHost,
} from './workerProtocol';

const port = parentPort;
if (!port) throw new Error('dist/worker.js must run as a worker thread');
const init = workerData as WorkerInit;
const cancelFlag = new Int32Array(init.cancelFlag);

const controller = new AbortController();
const nativeAborted = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted')!.get!;
// The engine polls `signal.aborted` between steps. The shared flag makes that
// poll see a cancel at once; the 'cancel' message alone would only arrive when
// the loop next yields to this thread's event loop.
Object.defineProperty(controller.signal, 'aborted', {
  get(this: AbortSignal) {
    return Atomics.load(cancelFlag, 0) === 1 || nativeAborted.call(this);
  },
});
port.on('message', (m: unknown) => {
  if (typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'cancel') controller.abort();
});

const post = (m: WorkerToHost) => port.postMessage(m);
const nextTurn = () => new Promise<void>((r) => setImmediate(r));

function specInfo(spec: ModelSpec): ModelSpecInfo {
  return {
    text: specToString(spec),
    layers: [...spec.layers],
    activation: spec.activation,
    bias: spec.bias,
    loss: spec.loss,
    paramCount: paramCount(spec),
  };
}

async function inspect(file: string): Promise<CheckpointDetails> {
  const fileSize = fs.statSync(file).size;
  const isJson = path.basename(file).toLowerCase().endsWith('.json');
  try {
    const ck = await loadAnyCheckpoint(file);
    const layout = paramLayout(ck.spec);
    const histograms: Histogram[] = [];
    for (const e of layout) {
      if (e.kind !== 'weight') continue;
      const h = histogram(e.name, ck.theta.subarray(e.offset, e.offset + e.size), HISTOGRAM_BINS);
      if (h) histograms.push(h);
    }
    const tensors = layout.map((e) => {
      const t = ck.tensors.find((x) => x.name === e.name);
      return tensorStat(e.name, t?.dtype ?? 'F32', e.shape, ck.theta.subarray(e.offset, e.offset + e.size));
    });
    return {
      format: ck.format,
      fileSize,
      metadata: Object.entries(ck.meta).map(([k, v]) => [k, String(v)] as [string, string]),
      spec: specInfo(ck.spec),
      tensors,
      histograms,
    };
  } catch (e) {
    if (isJson || e instanceof CancelledError) throw e;
    // Not a model we can rebuild (e.g. PyTorch weights without a spec): still show what is inside.
    const specError = e instanceof Error ? e.message : String(e);
    const decoded = await readSafetensors(file);
    const tensors = [...decoded.tensors].map(([name, t]) => tensorStat(name, t.dtype, t.shape, t.data));
    const histograms = [...decoded.tensors]
      .filter(([, t]) => t.shape.length === 2)
      .map(([name, t]) => histogram(name, t.data, HISTOGRAM_BINS))
      .filter((h): h is Histogram => h !== undefined);
    return { format: 'safetensors', fileSize, metadata: Object.entries(decoded.metadata), spec: null, specError, tensors, histograms };
  }
}

async function evaluate(file: string): Promise<EvalResult> {
  const t0 = Date.now();
  const info = await initBackend(init.backend);
  const ck = await loadAnyCheckpoint(file);
  const r = await reevaluateCheckpoint(ck);
  const n = (x: number | undefined) => (x === undefined ? undefined : Number.isFinite(x) ? x : null);
  return {
    dataset: r.dataset,
    backend: info.name,
    train: { loss: n(r.trainLoss) ?? null, ...(r.trainAccuracy !== undefined ? { accuracy: n(r.trainAccuracy) } : {}) },
    test: { loss: n(r.testLoss) ?? null, ...(r.testAccuracy !== undefined ? { accuracy: n(r.testAccuracy) } : {}) },
    seconds: (Date.now() - t0) / 1000,
  };
}

async function probe(): Promise<ProbeResult> {
  const info = await initBackend(init.backend);
  return {
    backend: { text: `${info.name} · tfjs ${info.tfjsVersion}`, detail: describeBackend(info) },
    datasets: [...DATASET_NAMES],
    optimizers: [...OPTIMIZER_NAMES],
  };
}

async function study(req: Extract<JobRequest, { kind: 'study' }>): Promise<StudyJobResult> {
  const it = runStudy({ out: req.out, preset: req.preset, backend: init.backend, signal: controller.signal });
  let files: { studyJson: string; reportHtml: string } | undefined;
  for (;;) {
    const r = await it.next();
    if (r.done) {
      if (!files) throw new Error('the study finished without writing its report');
      return {
        ...files,
        summary: summaryLines(r.value),
        verdicts: r.value.verdicts.map((v) => ({ claim: v.claim, reproduced: v.reproduced })),
      };
    }
    const ev = r.value;
    // The full result is on disk (study.json); the host only needs where.
    if (ev.type === 'done') files = { studyJson: ev.studyJson, reportHtml: ev.reportHtml };
    else post({ type: 'event', event: ev });
    await nextTurn();
  }
}

async function run(req: JobRequest): Promise<void> {
  const ctx: JobContext = {
    backend: init.backend,
    signal: controller.signal,
    emit: (event) => post({ type: 'event', event }),
    log: (line) => console.log(line),
  };
  const analysis: AnalysisContext = { backend: init.backend, signal: controller.signal, emit: (event) => post({ type: 'event', event }) };
  switch (req.kind) {
    case 'train': {
      const it = train(req.config, { signal: controller.signal });
      for (;;) {
        const r = await it.next();
        if (r.done) {
          post({ type: 'result', result: r.value });
          return;
        }
        post({ type: 'event', event: r.value });
        // Let the 'cancel' message in between epochs (the shared flag covers mid-epoch).
        await nextTurn();
      }
    }
    case 'inspect':
      post({ type: 'result', result: await inspect(req.file) });
      return;
    case 'evaluate':
      post({ type: 'result', result: await evaluate(req.file) });
      return;
    case 'probe':
      post({ type: 'result', result: await probe() });
      return;
    case 'path':
      post({ type: 'result', result: await runPathJob(req, ctx) });
      return;
    case 'barriers':
      post({ type: 'result', result: await runBarriersJob(req, ctx) });
      return;
    case 'study':
      post({ type: 'result', result: await study(req) });
      return;
    case 'importPath':
      post({ type: 'result', result: await importCliPath(req, ctx) });
      return;
    case 'kpca':
      post({ type: 'result', result: await runKpcaJob(req, analysis) });
      return;
    case 'kpcaOverlay':
      post({ type: 'result', result: await runKpcaOverlayJob(req, analysis) });
      return;
    case 'hessian':
      post({ type: 'result', result: await runHessianJob(req, analysis) });
      return;
    case 'gradcheck':
      post({ type: 'result', result: await runGradcheckJob(req, analysis) });
      return;
    case 'slice':
      post({ type: 'result', result: await runSliceJob(req, analysis) });
      return;
  }
}

function errorKind(e: unknown): ErrorKind {
  if (e instanceof CancelledError) return 'cancelled';
  if (e instanceof LandscapeError) return e.kind;
  return 'internal';
}

run(init.request).catch((e: unknown) => {
  const message = e instanceof Error ? e.message : String(e);
  post({ type: 'error', kind: errorKind(e), message, stack: e instanceof Error ? e.stack : undefined });
});
