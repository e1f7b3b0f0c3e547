/**
 * Runs compute jobs in worker threads (dist/worker.js), one thread per job,
 * so the extension host stays responsive: a command issued during training
 * answers at once. Each job the user starts shows a progress notification
 * whose Cancel aborts the job.
 */
import * as path from 'path';
import { Worker } from 'worker_threads';
import * as vscode from 'vscode';
import type { Log } from './log';
import type { ErrorKind, JobEvents, JobKind, JobRequest, JobResults, WorkerInit, WorkerToHost } from '../worker/protocol';

export class JobError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'JobError';
  }
}

export function isCancelled(e: unknown): boolean {
  return e instanceof JobError && e.kind === 'cancelled';
}

export type JobProgress = vscode.Progress<{ message?: string; increment?: number }>;

export interface JobOptions<K extends JobKind = JobKind> {
  /** Title of the progress notification; no notification when `progress` is 'window'. */
  title: string;
  /** 'notification' (default, with Cancel) or 'window' (status bar, for background look-ups). */
  progress?: 'notification' | 'window';
  onEvent?: (e: JobEvents[K], progress: JobProgress) => void;
}

export interface JobHandle<K extends JobKind> {
  readonly id: string;
  readonly kind: K;
  readonly result: Promise<JobResults[K]>;
  cancel(): void;
}

/** How long a cancelled training job may take to save its last epoch before the thread is stopped. */
const GRACEFUL_CANCEL_MS = 15_000;
/** Jobs that save something when cancelled (a training run's last epoch); others are stopped at once. */
const GRACEFUL_KINDS: ReadonlySet<JobKind> = new Set<JobKind>(['train', 'study']);
const MAX_LOG_LINE = 300;

export class JobRunner implements vscode.Disposable {
  private counter = 0;
  private readonly active = new Map<string, JobHandle<JobKind>>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly workerPath: string,
    private readonly log: Log,
    private readonly backend: () => string,
    private readonly tfjsNodePath: () => string | undefined = () => undefined,
    private readonly queue: () => string | undefined = () => undefined,
  ) {}

  get running(): readonly JobHandle<JobKind>[] {
    return [...this.active.values()];
  }

  start<K extends JobKind>(request: Extract<JobRequest, { kind: K }>, opts: JobOptions<K>): JobHandle<K> {
    const id = `${request.kind}-${++this.counter}`;
    const cancelFlag = new SharedArrayBuffer(4);
    const flag = new Int32Array(cancelFlag);
    const init: WorkerInit = { id, request, backend: this.backend(), tfjsNodePath: this.tfjsNodePath(), queue: this.queue(), cancelFlag };
    const started = Date.now();
    this.log.info(`job ${id} started${request.kind === 'train' ? '' : ` (${describeRequest(request)})`}`);

    let worker: Worker | undefined;
    let settled = false;
    let cancelled = false;
    let killTimer: ReturnType<typeof setTimeout> | undefined;
    let progressRef: JobProgress | undefined;
    const queued: JobEvents[K][] = [];

    const result = new Promise<JobResults[K]>((resolve, reject) => {
      const finish = (err: JobError | undefined, value?: JobResults[K]) => {
        if (settled) return;
        settled = true;
        if (killTimer) clearTimeout(killTimer);
        this.active.delete(id);
        this.changed.fire();
        void worker?.terminate();
        const secs = ((Date.now() - started) / 1000).toFixed(1);
        if (err) {
          if (err.kind === 'cancelled') this.log.info(`job ${id} cancelled after ${secs} s`);
          else this.log.error(`job ${id} failed after ${secs} s (${err.kind}): ${err.message}`);
          reject(err);
        } else {
          this.log.info(`job ${id} finished in ${secs} s`);
          resolve(value as JobResults[K]);
        }
      };
      try {
        worker = new Worker(this.workerPath, { workerData: init, stdout: true, stderr: true });
      } catch (e) {
        finish(new JobError('internal', `could not start the compute worker (${path.basename(this.workerPath)}): ${(e as Error).message}`));
        return;
      }
      pipeLines(worker.stdout, (l) => this.log.info(`[${id}] ${l}`));
      pipeLines(worker.stderr, (l) => this.log.warn(`[${id}] ${l}`));
      worker.on('message', (m: WorkerToHost) => {
        if (m.type === 'event') {
          const ev = m.event as JobEvents[K];
          if (progressRef) opts.onEvent?.(ev, progressRef);
          else queued.push(ev);
        } else if (m.type === 'result') {
          finish(undefined, m.result as JobResults[K]);
        } else if (m.type === 'error') {
          if (m.stack && m.kind === 'internal') this.log.debug(m.stack);
          finish(new JobError(cancelled && m.kind !== 'input' ? 'cancelled' : m.kind, m.message));
        }
      });
      worker.on('error', (e) => finish(new JobError('internal', `the compute worker crashed: ${e.message.split('\n')[0].slice(0, 500)}`)));
      worker.on('exit', (code) => {
        if (cancelled) finish(new JobError('cancelled', 'cancelled'));
        else finish(new JobError('internal', `the compute worker stopped unexpectedly (exit code ${code})`));
      });
    });

    const handle: JobHandle<K> = {
      id,
      kind: request.kind as K,
      result,
      cancel: () => {
        if (settled || cancelled) return;
        cancelled = true;
        Atomics.store(flag, 0, 1);
        worker?.postMessage({ type: 'cancel' });
        this.log.info(`job ${id}: cancel requested`);
        // Training (also inside a study) saves its last finished epoch when cancelled; other jobs have nothing to save.
        if (GRACEFUL_KINDS.has(request.kind)) killTimer = setTimeout(() => void worker?.terminate(), GRACEFUL_CANCEL_MS);
        else void worker?.terminate();
      },
    };
    this.active.set(id, handle as JobHandle<JobKind>);
    this.changed.fire();

    const location = opts.progress === 'window' ? vscode.ProgressLocation.Window : vscode.ProgressLocation.Notification;
    void vscode.window.withProgress({ location, title: opts.title, cancellable: location === vscode.ProgressLocation.Notification }, (progress, token) => {
      progressRef = progress;
      for (const e of queued.splice(0)) opts.onEvent?.(e, progress);
      token.onCancellationRequested(() => handle.cancel());
      return result.then(
        () => undefined,
        () => undefined,
      );
    });
    return handle;
  }

  cancelAll(kind?: JobKind): number {
    let n = 0;
    for (const h of this.active.values()) {
      if (!kind || h.kind === kind) {
        h.cancel();
        n++;
      }
    }
    return n;
  }

  dispose(): void {
    for (const h of this.active.values()) h.cancel();
    this.changed.dispose();
  }
}

function describeRequest(r: JobRequest): string {
  switch (r.kind) {
    case 'inspect':
    case 'evaluate':
      return r.file;
    case 'probe':
      return 'backend';
    case 'train':
      return r.config.out;
    case 'path':
      return `${r.a} ↔ ${r.b}, ${r.settings.points} points, ${r.settings.steps} steps`;
    case 'barriers':
      return `${r.files.length} minima in ${r.folder}, pairs ${r.selection}`;
    case 'study':
      return `${r.preset} preset into ${r.out}`;
    case 'importPath':
      return r.file;
    case 'kpca':
      return `${r.files.length} checkpoints, ${r.settings.kernel} kernel, ${r.settings.components} components -> ${r.out}`;
    case 'kpcaOverlay':
      return `${r.source} ${r.input} into ${r.file}`;
    case 'hessian':
      return `${r.file}, top ${r.k}, trace ${r.traceSamples || 'off'}${r.lr !== undefined ? `, η ${r.lr}` : ''}`;
    case 'gradcheck':
      return r.file;
    case 'slice':
      return `${r.slice} through ${r.files.join(', ')}, ${r.points} points`;
    case 'instability':
      return `spawn epochs ${r.spawnEpochs.join(',')}, ${r.children} children, into ${r.out}`;
    case 'trajectorySlice':
      return `trajectory plane of ${r.run}, ${r.points} points`;
  }
}

/** Worker stdout/stderr into the log, one line at a time and cut short (a WASM crash prints 30 KB of code). */
function pipeLines(stream: NodeJS.ReadableStream | null | undefined, sink: (line: string) => void): void {
  if (!stream) return;
  let buf = '';
  stream.setEncoding?.('utf8');
  stream.on('data', (chunk: string | Buffer) => {
    buf += chunk.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).trimEnd();
      buf = buf.slice(i + 1);
      if (line) sink(line.length > MAX_LOG_LINE ? `${line.slice(0, MAX_LOG_LINE)}… (${line.length} chars)` : line);
    }
    if (buf.length > 64 * 1024) buf = buf.slice(-MAX_LOG_LINE);
  });
}
