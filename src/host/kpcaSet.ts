/**
 * The kernel PCA set: checkpoints gathered one right-click at a time ("Add to
 * Kernel PCA Set"), kept in the workspace state, and shown in the status bar
 * as "kPCA set: N" while it holds any. Clicking the item offers to run kernel
 * PCA on the set or to clear it.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { mergeKpcaSet } from './analysisFiles';
import { CONTEXT_KEYS, INTERNAL_COMMANDS } from './commandTable';

const STATE_KEY = 'landscape.kpcaSet';
export class KpcaSet implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly emitter = new vscode.EventEmitter<readonly string[]>();
  readonly onDidChange = this.emitter.event;

  constructor(private readonly state: vscode.Memento) {
    this.item = vscode.window.createStatusBarItem('landscape.kpcaSet', vscode.StatusBarAlignment.Left, 40);
    this.item.name = 'Landscape: Kernel PCA Set';
    this.item.command = INTERNAL_COMMANDS.kpcaSetMenu;
    this.update();
  }

  /** The set's checkpoints that still exist. */
  get files(): string[] {
    const v = this.state.get<unknown>(STATE_KEY);
    const list = Array.isArray(v) ? v.filter((f): f is string => typeof f === 'string') : [];
    return list.filter((f) => fs.existsSync(f));
  }

  /** Adds files; returns how many were new. */
  async add(files: readonly string[]): Promise<number> {
    const before = this.files;
    const after = mergeKpcaSet(before, files);
    await this.state.update(STATE_KEY, after);
    this.update();
    return after.filter((f) => !before.includes(f)).length;
  }

  async clear(): Promise<void> {
    await this.state.update(STATE_KEY, []);
    this.update();
  }

  private update(): void {
    const files = this.files;
    void vscode.commands.executeCommand('setContext', CONTEXT_KEYS.kpcaSetNonEmpty, files.length > 0);
    if (files.length === 0) {
      this.item.hide();
    } else {
      this.item.text = `$(graph-scatter) kPCA set: ${files.length}`;
      const shown = files.slice(0, 15).map((f) => `- ${path.basename(path.dirname(f))}/${path.basename(f)}`);
      const more = files.length > shown.length ? [`- … and ${files.length - shown.length} more`] : [];
      // A plain string: file names are data, never markup or links.
      this.item.tooltip = ['Kernel PCA set', ...shown, ...more, '', 'Click to run kernel PCA on the set, or to clear it.'].join('\n');
      this.item.show();
    }
    this.emitter.fire(files);
  }

  dispose(): void {
    this.item.dispose();
    this.emitter.dispose();
  }
}
