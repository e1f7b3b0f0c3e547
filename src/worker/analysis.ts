/**
 * The analysis jobs as the compute worker runs them (this file loads tfjs:
 * only the worker (src/worker/) may import it): kernel PCA of checkpoints and its
 * overlays, the Hessian spectrum and stability, the gradient check, and
 * slices. Each gets the same result object as its CLI command from
 * src/engine/checkpointAnalysis.ts (its kind's type in src/results/), saves
 * it beside the checkpoints and posts it to the host as it is.
 */
import * as path from 'path';
import { initBackend } from '../engine/backend';
import { inputError } from '../engine/errors';
import { loadAnyCheckpoint, type OpenedCheckpoint } from '../engine/evaluate';
import { kernelPCA, type KernelPCAResult } from '../engine/analysis';
import { objectiveForCheckpoint } from '../engine/checkpointObjective';
import {
  checkSliceInputs,
  gradcheckAnalysis,
  hessianAnalysis,
  kpcaAnalysis,
  projectTrajectory,
  sliceAnalysis,
} from '../engine/checkpointAnalysis';
import { formatNumber, formatPercent, type KpcaOverlay } from '../protocol';
import { checkpointLabel, readAnalysisResult, saveAnalysisResult } from '../results/analysisFiles';
import { readBarrierResult } from '../results/barrierFiles';
import { interpolate, overlayT, pathVectors } from './kpcaOverlay';
import { savedPathSource } from './barriers';
import { readRunTrajectory, trajectoryPlaneAnalysis } from '../engine/trajectoryPlaneAnalysis';
import type { AnalysisJobEvent, AnalysisJobResult, JobRequest } from './protocol';

export interface AnalysisContext {
  backend: string;
  signal: AbortSignal;
  emit(e: AnalysisJobEvent): void;
}

/** Hint for a run folder without a trajectory, in VS Code's words. */
const TRAJECTORY_HINT = 'set "checkpointEvery" in landscape.json (or the landscape.checkpointEvery setting) and train again to save one';

async function openAll(files: readonly string[], ctx: AnalysisContext): Promise<OpenedCheckpoint[]> {
  const cks: OpenedCheckpoint[] = [];
  for (const f of files) {
    if (ctx.signal.aborted) break;
    cks.push(await loadAnyCheckpoint(f));
    if (files.length > 5) ctx.emit({ type: 'progress', text: `reading checkpoints (${cks.length}/${files.length})`, done: cks.length, total: files.length });
  }
  return cks;
}

export async function runKpcaJob(req: Extract<JobRequest, { kind: 'kpca' }>, ctx: AnalysisContext): Promise<AnalysisJobResult> {
  const info = await initBackend(ctx.backend);
  ctx.emit({ type: 'setup', backend: info.name, text: `${info.name} backend · ${req.files.length} checkpoints · ${req.settings.kernel} kernel` });
  const cks = await openAll(req.files, ctx);
  const r = await kpcaAnalysis(cks, { kernel: req.settings.kernel, components: req.settings.components, signal: ctx.signal });
  saveAnalysisResult(req.out, r);
  const pcs = r.explainedVariance.map((v, c) => `PC${c + 1} ${formatPercent(v)}`).join(', ');
  return { file: req.out, summary: `${r.n} checkpoints, ${r.kernel.kernel} kernel; explained variance ${pcs}`, seconds: r.seconds, result: r };
}

/** The map of a saved result fitted again from its checkpoints, checked against the saved coordinates. */
async function refit(file: string, roots: readonly string[], ctx: AnalysisContext) {
  const saved = readAnalysisResult(file, 'kpca', roots).data;
  const cks: OpenedCheckpoint[] = [];
  for (const p of saved.points) {
    try {
      cks.push(await loadAnyCheckpoint(p.file));
    } catch (e) {
      throw inputError(`the map's checkpoint ${p.file} cannot be read any more (${(e as Error).message}); run Kernel PCA of Checkpoints again`, file);
    }
  }
  const k = saved.kernel;
  const fit = await kernelPCA(
    cks.map((c) => c.theta),
    { kernel: k.kernel, gamma: k.gamma, degree: k.degree, coef0: k.coef0, components: saved.components, names: cks.map((c) => c.file), signal: ctx.signal },
  );
  // The overlay is only meaningful in the map the panel shows: the same vectors, fitted the same way.
  let scale = 0;
  for (const p of saved.points) for (const c of p.coords) scale = Math.max(scale, Math.abs(c));
  for (let i = 0; i < saved.points.length; i++) {
    for (let c = 0; c < saved.components; c++) {
      if (Math.abs(fit.projections[i][c] - saved.points[i].coords[c]) > 1e-6 * Math.max(scale, 1e-12)) {
        throw inputError(`${saved.points[i].file} changed since the map was computed; run Kernel PCA of Checkpoints again before adding overlays`, file);
      }
    }
  }
  return { saved, fit };
}

/** Points along a saved path (ours or the CLI's), projected into the map. */
async function pathOverlay(fit: KernelPCAResult, input: string, roots: readonly string[]): Promise<KpcaOverlay> {
  const d = readBarrierResult(input, 'barrierPath', roots).data;
  if (d.a === undefined || d.b === undefined) throw inputError(`holds a path on the analytic landscape ${d.landscape ?? '?'}, not between checkpoints`, input);
  const { a, b } = d;
  const source = (ta: Float32Array, tb: Float32Array, t: number[]) => savedPathSource(d, ta, tb, t, input);
  const ckA = await loadAnyCheckpoint(a);
  const ckB = await loadAnyCheckpoint(b);
  for (const ck of [ckA, ckB]) {
    if (ck.theta.length !== fit.dim) throw inputError(`the path's end ${ck.file} has ${ck.theta.length} parameters but the map's checkpoints have ${fit.dim}; choose a path between checkpoints of the map's model`, input);
  }
  const t = overlayT();
  const vectors = pathVectors(source(ckA.theta, ckB.theta, t), fit.dim, t);
  const coords = fit.transform(
    vectors,
    t.map((x) => `${path.basename(input)} at t = ${x}`),
  );
  const la = checkpointLabel(a);
  const lb = checkpointLabel(b);
  return {
    kind: 'path',
    label: `path ${la} ↔ ${lb}`,
    source: input,
    points: t.map((x, i) => {
      const loss = interpolate(d.profile.t, d.profile.loss, x);
      return { label: `t = ${formatNumber(x, 3)}`, coords: coords[i], t: x, ...(loss !== undefined && Number.isFinite(loss) ? { loss } : {}) };
    }),
  };
}

export async function runKpcaOverlayJob(req: Extract<JobRequest, { kind: 'kpcaOverlay' }>, ctx: AnalysisContext): Promise<AnalysisJobResult> {
  const t0 = Date.now();
  const info = await initBackend(ctx.backend);
  ctx.emit({ type: 'setup', backend: info.name, text: `${info.name} backend · fitting the map again from its checkpoints` });
  const { saved, fit } = await refit(req.file, req.roots, ctx);
  let overlay: KpcaOverlay;
  if (req.source === 'trajectory') {
    ctx.emit({ type: 'progress', text: `projecting the trajectory of ${path.basename(req.input)}`, done: 1, total: 2 });
    overlay = await projectTrajectory(fit, req.input, { hint: TRAJECTORY_HINT });
  } else {
    ctx.emit({ type: 'progress', text: `projecting points along ${path.basename(req.input)}`, done: 1, total: 2 });
    overlay = await pathOverlay(fit, req.input, req.roots);
  }
  // One overlay per source: adding it again replaces it.
  saved.overlays = [...saved.overlays.filter((o) => !(o.kind === overlay.kind && o.source === overlay.source)), overlay].slice(-100);
  saveAnalysisResult(req.file, saved);
  return { file: req.file, summary: `${overlay.label}: ${overlay.points.length} points projected into the map`, seconds: (Date.now() - t0) / 1000, result: saved };
}

export async function runHessianJob(req: Extract<JobRequest, { kind: 'hessian' }>, ctx: AnalysisContext): Promise<AnalysisJobResult> {
  const info = await initBackend(ctx.backend);
  const ck = await loadAnyCheckpoint(req.file);
  const obj = await objectiveForCheckpoint(ck);
  try {
    ctx.emit({ type: 'setup', backend: info.name, dataset: obj.dataset, text: `${info.name} backend · ${obj.dataset} (${obj.trainSize} samples) · top ${req.k} eigenvalues${req.traceSamples ? ` · trace with ${req.traceSamples} probes` : ''}${req.density ? ' · eigenvalue density' : ''}${req.perLayer ? ' · per-layer curvature' : ''}` });
    const a = await hessianAnalysis(ck, obj, {
      k: req.k,
      traceSamples: req.traceSamples,
      ...(req.density ? { density: {} } : {}),
      ...(req.perLayer ? { perLayer: {} } : {}),
      ...(req.lr !== undefined ? { lr: { value: req.lr, source: 'asked' as const } } : {}),
      signal: ctx.signal,
      onProgress: (p) => ctx.emit({ type: 'progress', ...p }),
    });
    saveAnalysisResult(req.out, a);
    const s = a.stability;
    return { file: req.out, summary: `λmax ${formatNumber(a.eigenvalues[0])}; ${s.verdict === 'not-applicable' ? 'no verdict: ' : ''}${s.message}`, seconds: a.seconds, result: a };
  } finally {
    obj.dispose();
  }
}

export async function runGradcheckJob(req: Extract<JobRequest, { kind: 'gradcheck' }>, ctx: AnalysisContext): Promise<AnalysisJobResult> {
  const info = await initBackend(ctx.backend);
  const ck = await loadAnyCheckpoint(req.file);
  const obj = await objectiveForCheckpoint(ck);
  try {
    ctx.emit({ type: 'setup', backend: info.name, dataset: obj.dataset, text: `${info.name} backend · ${obj.dataset} (${obj.trainSize} samples) · central differences on random coordinates and directions` });
    const a = await gradcheckAnalysis(ck, obj, { signal: ctx.signal });
    saveAnalysisResult(req.out, a);
    const summary = a.passed
      ? `PASS: max relative error ${formatNumber(a.maxRelError)} over ${a.probes.length} probes${a.kinks ? ` (${a.kinks} at ReLU kinks)` : ''}`
      : `FAIL: ${a.failures} of ${a.probes.length} probes disagree beyond tolerance (max relative error ${formatNumber(a.maxRelError)})`;
    return { file: req.out, summary, seconds: a.seconds, result: a };
  } finally {
    obj.dispose();
  }
}

export async function runSliceJob(req: Extract<JobRequest, { kind: 'slice' }>, ctx: AnalysisContext): Promise<AnalysisJobResult> {
  const info = await initBackend(ctx.backend);
  const cks = await openAll(req.files, ctx);
  checkSliceInputs(req.slice, cks);
  const obj = await objectiveForCheckpoint(cks[0]);
  try {
    const twoD = req.slice === 'plane' || req.slice === 'random-plane';
    const grid = twoD ? `${req.points} × ${req.points}` : `${req.points} points`;
    ctx.emit({ type: 'setup', backend: info.name, dataset: obj.dataset, text: `${info.name} backend · ${obj.dataset} (${obj.trainSize} samples) · ${req.slice} slice, ${grid}` });
    const s = await sliceAnalysis(req.slice, cks, obj, {
      points: req.points,
      signal: ctx.signal,
      onProgress: (done, total) => ctx.emit({ type: 'progress', text: `loss on the grid: ${done}/${total} points`, done, total }),
      source: { backend: info.name },
    });
    saveAnalysisResult(req.out, s);
    const m = s.meta;
    const where = (p: { x: number; y?: number }) => (p.y === undefined ? `${s.axes.x.name} = ${formatNumber(p.x, 3)}` : `(${formatNumber(p.x, 3)}, ${formatNumber(p.y, 3)})`);
    return { file: req.out, summary: `${req.slice} slice: loss from ${formatNumber(m.min.loss)} at ${where(m.min)} to ${formatNumber(m.max.loss)} at ${where(m.max)}`, seconds: s.seconds, result: s };
  } finally {
    obj.dispose();
  }
}

/** The trajectory plane of a run folder (landscape slice --plane trajectory), saved as `out`. */
export async function runTrajectorySliceJob(req: Extract<JobRequest, { kind: 'trajectorySlice' }>, ctx: AnalysisContext): Promise<AnalysisJobResult> {
  const info = await initBackend(ctx.backend);
  const run = await readRunTrajectory(req.run);
  const obj = await objectiveForCheckpoint(run.final);
  try {
    ctx.emit({ type: 'setup', backend: info.name, dataset: obj.dataset, text: `${info.name} backend · ${obj.dataset} (${obj.trainSize} samples) · trajectory plane of ${path.basename(req.run)}, ${req.points} × ${req.points}` });
    const s = await trajectoryPlaneAnalysis(run, obj, {
      points: req.points,
      signal: ctx.signal,
      onProgress: (done, total) => ctx.emit({ type: 'progress', text: `loss on the grid: ${done}/${total} points`, done, total }),
      source: { backend: info.name },
    });
    saveAnalysisResult(req.out, s);
    const [v1, v2] = s.dims === '2d' && s.trajectory ? s.trajectory.explainedVariance : [NaN, NaN];
    return { file: req.out, summary: `trajectory plane: the two directions hold ${formatPercent(v1 + v2)} of the run's movement (${formatPercent(v1)} + ${formatPercent(v2)})`, seconds: s.seconds, result: s };
  } finally {
    obj.dispose();
  }
}
