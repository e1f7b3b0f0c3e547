/**
 * "Set as Minimum A": remembers one checkpoint per workspace and sets the
 * landscape.minimumASet context key, so the barrier commands (a later issue)
 * can show "Compute Barrier to Minimum A" only once A is chosen.
 */
import * as fs from 'fs';
import * as vscode from 'vscode';
import { CONTEXT_KEYS } from './commandTable';

const STATE_KEY = 'landscape.minimumA';

export class MinimumA implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<string | undefined>();
  readonly onDidChange = this.emitter.event;

  constructor(private readonly state: vscode.Memento) {
    const f = this.get();
    void vscode.commands.executeCommand('setContext', CONTEXT_KEYS.minimumASet, f !== undefined);
  }

  /** The chosen file, if it still exists. */
  get(): string | undefined {
    const f = this.state.get<string>(STATE_KEY);
    return typeof f === 'string' && fs.existsSync(f) ? f : undefined;
  }

  async set(file: string | undefined): Promise<void> {
    await this.state.update(STATE_KEY, file);
    await vscode.commands.executeCommand('setContext', CONTEXT_KEYS.minimumASet, file !== undefined);
    this.emitter.fire(file);
  }

  dispose(): void {
    this.emitter.dispose();
  }
}
