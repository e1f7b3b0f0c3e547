/**
 * The worker's checkpoint jobs: inspect a file (tensors, histograms, the
 * network it describes), re-evaluate it on its data, and probe the backend.
 */
import * as fs from 'fs';
import * as path from 'path';
import { initBackend, describeBackend } from '../engine/backend';
import { CancelledError } from '../engine/errors';
import { loadAnyCheckpoint, reevaluateCheckpoint } from '../engine/evaluate';
import { readSafetensors } from '../engine/checkpoint';
import { DATASET_NAMES } from '../engine/data';
import { OPTIMIZER_NAMES } from '../engine/optim/types';
import { paramLayout, specToString, paramCount, type ModelSpec } from '../engine/model/spec';
import type { CheckpointDetails, EvalResult, Histogram, ModelSpecInfo } from '../protocol';
import { histogram, tensorStat } from './tensorStats';
import { HISTOGRAM_BINS, type ProbeResult } from './protocol';

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

export async function inspect(file: string): Promise<CheckpointDetails> {
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

export async function evaluate(file: string, backend: string): Promise<EvalResult> {
  const t0 = Date.now();
  const info = await initBackend(backend);
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

export async function probe(backend: string): Promise<ProbeResult> {
  const info = await initBackend(backend);
  return {
    backend: { text: `${info.name} · tfjs ${info.tfjsVersion}`, detail: describeBackend(info) },
    datasets: [...DATASET_NAMES],
    optimizers: [...OPTIMIZER_NAMES],
  };
}
