import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { EXPERIMENT_FILE, experimentTemplate } from '../experiment';
import type { Services } from '../services';
import { ensureTrusted, primaryFolder } from '../workspace';
import { writeFileAtomic } from '../../engine/checkpoint/atomic';

/** Landscape: New Experiment — writes landscape.json at the workspace root and opens it. */
export async function newExperiment(s: Services): Promise<void> {
  if (!(await ensureTrusted('New Experiment'))) return;
  const folder = primaryFolder();
  if (!folder) {
    void vscode.window.showErrorMessage('Landscape: open a folder first; landscape.json goes at its root.');
    return;
  }
  const file = path.join(folder.uri.fsPath, EXPERIMENT_FILE);
  if (fs.existsSync(file)) {
    await vscode.window.showTextDocument(vscode.Uri.file(file));
    void vscode.window.showInformationMessage(`Landscape: ${EXPERIMENT_FILE} already exists; edit it, then run Landscape: Train.`);
    return;
  }
  await writeFileAtomic(file, experimentTemplate());
  s.log.info(`wrote ${file}`);
  await vscode.window.showTextDocument(vscode.Uri.file(file));
  void vscode.window.showInformationMessage(`Landscape: wrote ${EXPERIMENT_FILE}. Edit it (completion and checks come from its schema), then run Landscape: Train.`);
}
