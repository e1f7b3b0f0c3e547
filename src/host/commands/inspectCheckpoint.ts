import * as path from 'path';
import * as vscode from 'vscode';
import { WEBVIEW_TYPES } from '../commandTable';
import type { Services } from '../services';
import { pickCheckpoint } from './pickCheckpoint';

/** Landscape: Inspect Checkpoint — the viewer for a .safetensors file or a tfjs model.json. */
export async function inspectCheckpoint(s: Services, arg?: unknown): Promise<void> {
  const file = await pickCheckpoint(s, arg, 'Inspect');
  if (!file) return;
  if (path.basename(file).toLowerCase() === 'model.json') s.checkpoints.openPanel(file);
  else await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(file), WEBVIEW_TYPES.checkpointEditor);
}
