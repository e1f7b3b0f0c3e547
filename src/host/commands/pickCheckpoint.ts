/** Which checkpoint a command means: the explorer's file, the active viewer's, or one the user picks. */
import * as vscode from 'vscode';
import { checkCheckpointChoice, notificationText } from '../guards';
import type { Services } from '../services';
import { isCheckpointPath, primaryFolder } from '../workspace';

export async function pickCheckpoint(s: Services, arg: unknown, verb: string): Promise<string | undefined> {
  let file: string | undefined;
  if (arg instanceof vscode.Uri) {
    if (arg.scheme !== 'file') {
      void vscode.window.showErrorMessage(`Landscape: ${verb} works on files on disk, not ${notificationText(arg.scheme, 40)}: resources; copy the checkpoint into the workspace folder first.`);
      return undefined;
    }
    file = arg.fsPath;
  } else {
    file = s.checkpoints.activeFile();
    const active = vscode.window.activeTextEditor?.document.uri;
    if (!file && active?.scheme === 'file' && isCheckpointPath(active.fsPath)) file = active.fsPath;
  }
  if (!file) {
    const picked = await vscode.window.showOpenDialog({
      canSelectMany: false,
      openLabel: verb,
      defaultUri: primaryFolder()?.uri,
      filters: { Checkpoints: ['safetensors', 'json'] },
    });
    if (!picked || picked.length === 0) return undefined;
    file = picked[0].fsPath;
  }
  const c = checkCheckpointChoice(file, verb);
  if (!c.ok) {
    void vscode.window.showErrorMessage(c.reason);
    return undefined;
  }
  return c.value;
}
