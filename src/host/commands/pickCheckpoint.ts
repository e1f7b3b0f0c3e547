/** Which checkpoint a command means: the explorer's file, the active viewer's, or one the user picks. */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { Services } from '../services';
import { isCheckpointPath, primaryFolder } from '../workspace';

export async function pickCheckpoint(s: Services, arg: unknown, verb: string): Promise<string | undefined> {
  let file: string | undefined;
  if (arg instanceof vscode.Uri) {
    if (arg.scheme !== 'file') {
      void vscode.window.showErrorMessage(`Landscape: ${verb} works on files on disk, not ${arg.scheme}: resources.`);
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
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(file);
  } catch {
    void vscode.window.showErrorMessage(`Landscape: ${file} does not exist.`);
    return undefined;
  }
  if (stat.isDirectory() && fs.existsSync(path.join(file, 'model.json'))) file = path.join(file, 'model.json');
  else if (stat.isDirectory() || !isCheckpointPath(file)) {
    void vscode.window.showErrorMessage(`Landscape: ${path.basename(file)} is not a checkpoint; choose a .safetensors file or a tfjs model.json.`);
    return undefined;
  }
  return file;
}
