/**
 * The backend label the side view shows. A probe job asks a worker which
 * backend the engine would pick with the current setting (tfjs-node, WASM or
 * CPU); a training run's start event updates it with the backend really used.
 */
import * as vscode from 'vscode';
import type { BackendInfo } from '../engine/backend';
import type { BackendLabel } from '../protocol';
import { BUILTIN_DATASETS } from './experiment';
import { isCancelled, type JobRunner } from './jobs';
import type { Log } from './log';
import { OPTIMIZER_NAMES } from '../engine/optim/types';

export function labelFromInfo(info: BackendInfo): BackendLabel {
  const skipped = info.fallbacks.length ? ` (skipped ${info.fallbacks.join('; ')})` : '';
  return { text: `${info.name} · tfjs ${info.tfjsVersion}`, detail: `backend ${info.name}, tfjs ${info.tfjsVersion}${skipped}` };
}

export class BackendStatus implements vscode.Disposable {
  private current: BackendLabel = { text: 'checking…', detail: 'asking the compute worker which backend it uses' };
  private probing = false;
  private stale = true;
  datasets: string[] = [...BUILTIN_DATASETS];
  optimizers: string[] = [...OPTIMIZER_NAMES];
  private readonly emitter = new vscode.EventEmitter<BackendLabel>();
  readonly onDidChange = this.emitter.event;

  constructor(
    private readonly jobs: JobRunner,
    private readonly log: Log,
  ) {}

  get label(): BackendLabel {
    return this.current;
  }

  set(label: BackendLabel): void {
    this.current = label;
    this.stale = false;
    this.emitter.fire(label);
  }

  /** The setting changed: the next probe answers for the new choice. */
  invalidate(): void {
    this.stale = true;
    this.set({ text: 'checking…', detail: 'the backend setting changed' });
    this.stale = true;
    void this.probe();
  }

  /** Probe once (later calls reuse the answer until invalidate()). */
  async probe(): Promise<void> {
    if (this.probing || !this.stale) return;
    this.probing = true;
    try {
      const r = await this.jobs.start({ kind: 'probe' }, { title: 'Landscape: checking the compute backend', progress: 'window' }).result;
      this.datasets = r.datasets;
      this.optimizers = r.optimizers;
      this.set(r.backend);
      this.log.info(r.backend.detail);
    } catch (e) {
      if (!isCancelled(e)) {
        const msg = e instanceof Error ? e.message : String(e);
        this.set({ text: 'unavailable', detail: msg });
      }
    } finally {
      this.probing = false;
    }
  }

  dispose(): void {
    this.emitter.dispose();
  }
}
