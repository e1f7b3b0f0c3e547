/**
 * What the training and study controllers share: at most one job of theirs
 * runs at a time, the "training" context key shows it (the Stop button), and
 * when it ends, however it ends, the key is cleared and the runs view is
 * refreshed. Stop cancels it; disposing the extension cancels it too.
 */
import * as vscode from 'vscode';
import { CONTEXT_KEYS } from './commandTable';
import type { JobHandle } from './jobs';
import type { JobKind } from '../worker/protocol';
import type { WorkspaceRuns } from './workspaceRuns';

export abstract class ForegroundJob<K extends JobKind> implements vscode.Disposable {
  protected job: JobHandle<K> | undefined;

  protected constructor(protected readonly runs: WorkspaceRuns) {}

  get running(): boolean {
    return this.job !== undefined;
  }

  /** Call once the job has started. */
  protected claimed(job: JobHandle<K>): void {
    this.job = job;
    void vscode.commands.executeCommand('setContext', CONTEXT_KEYS.training, true);
    this.runs.refresh();
  }

  /** Call from the job's `finally`. */
  protected released(): void {
    this.job = undefined;
    void vscode.commands.executeCommand('setContext', CONTEXT_KEYS.training, false);
    this.runs.refresh();
  }

  /** Returns false when nothing was running. */
  stop(): boolean {
    if (!this.job) return false;
    this.job.cancel();
    return true;
  }

  dispose(): void {
    this.job?.cancel();
  }
}
