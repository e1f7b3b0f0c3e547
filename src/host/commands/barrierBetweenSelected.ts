import * as vscode from 'vscode';
import { COMMANDS } from '../commandTable';
import { checkCheckpointChoices, notificationText } from '../guards';
import type { Services } from '../services';
import { explorerSelection } from './pickMinima';

/** Landscape: Compute Barrier Between Selected — exactly two checkpoints selected in the explorer (A is the first). */
export async function barrierBetweenSelected(s: Services, arg?: unknown, args?: unknown): Promise<void> {
  const selected = explorerSelection(arg, args);
  const remote = selected.find((u) => u.scheme !== 'file');
  if (remote) {
    void vscode.window.showErrorMessage(`Landscape: barriers work on files on disk, not ${notificationText(remote.scheme, 40)}: resources.`);
    return;
  }
  const c = checkCheckpointChoices(selected.map((u) => u.fsPath), COMMANDS.barrierBetweenSelected.title, 2, 2);
  if (!c.ok) {
    void vscode.window.showErrorMessage(c.reason);
    return;
  }
  await s.barriers.computePath(c.value[0], c.value[1]);
}
