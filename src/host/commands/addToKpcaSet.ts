import * as vscode from 'vscode';
import { COMMANDS } from '../commandTable';
import { checkCheckpointChoices, notificationText } from '../guards';
import type { Services } from '../services';
import { explorerSelection } from './pickMinima';
import { pickCheckpoint } from './pickCheckpoint';

/** Landscape: Add to Kernel PCA Set — the clicked (or selected) checkpoints join the set in the status bar. */
export async function addToKpcaSet(s: Services, arg?: unknown, args?: unknown): Promise<void> {
  const verb = COMMANDS.addToKpcaSet.title;
  const selected = explorerSelection(arg, args);
  let files: string[];
  if (selected.length > 0) {
    const remote = selected.find((u) => u.scheme !== 'file');
    if (remote) {
      void vscode.window.showErrorMessage(`Landscape: ${verb} works on files on disk, not ${notificationText(remote.scheme, 40)}: resources.`);
      return;
    }
    const c = checkCheckpointChoices(selected.map((u) => u.fsPath), verb, 1);
    if (!c.ok) {
      void vscode.window.showErrorMessage(c.reason);
      return;
    }
    files = c.value;
  } else {
    const one = await pickCheckpoint(s, arg, verb);
    if (!one) return;
    files = [one];
  }
  const added = await s.kpcaSet.add(files);
  const n = s.kpcaSet.files.length;
  const what = added === 0 ? 'already in the set' : `added ${added}`;
  const actions = n >= 2 ? ['Run Kernel PCA'] : [];
  const pick = await vscode.window.showInformationMessage(`Landscape: kernel PCA set: ${what}; it holds ${n} checkpoint${n === 1 ? '' : 's'}.`, ...actions);
  if (pick === 'Run Kernel PCA') await s.analysis.kernelPca(s.kpcaSet.files);
}
