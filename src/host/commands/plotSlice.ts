import * as path from 'path';
import * as vscode from 'vscode';
import { SLICE_CHOICES } from '../analysis';
import { COMMANDS } from '../commandTable';
import type { Services } from '../services';
import { isCheckpointPath } from '../workspace';
import { checkpointFromUri, explorerSelection, pickWorkspaceCheckpoint } from './pickMinima';
import { pickCheckpoint } from './pickCheckpoint';

const TITLE = 'Landscape: Plot Slice';

/**
 * Landscape: Plot Slice (palette) and Plot Slice Around (explorer, viewer):
 * the checkpoint, a quick pick of the kind, and the other checkpoints a line
 * or a plane needs (from the explorer selection, else picked).
 */
export async function plotSlice(s: Services, arg?: unknown, args?: unknown): Promise<void> {
  const selected = explorerSelection(arg, args);
  let first: string | undefined;
  const others: string[] = [];
  if (selected.length > 0) {
    for (const u of selected) {
      const f = checkpointFromUri(u, COMMANDS.plotSlice.title);
      if (!f) return;
      if (f !== first && !others.includes(f)) {
        if (first === undefined) first = f;
        else others.push(f);
      }
    }
  } else {
    const active = s.checkpoints.activeFile();
    const editor = vscode.window.activeTextEditor?.document.uri;
    first = active ?? (editor?.scheme === 'file' && isCheckpointPath(editor.fsPath) ? editor.fsPath : undefined);
    if (!first) first = await pickWorkspaceCheckpoint(s, TITLE, 'The checkpoint the slice goes through');
    if (!first) return;
    first = await pickCheckpoint(s, vscode.Uri.file(first), COMMANDS.plotSlice.title);
  }
  if (!first) return;
  const name = `${path.basename(path.dirname(first))}/${path.basename(first)}`;
  const items: { label: string; description: string; choice?: (typeof SLICE_CHOICES)[number] }[] = SLICE_CHOICES.map((c) => ({ label: c.label, description: c.description, choice: c }));
  items.push({ label: 'Trajectory plane of its run', description: "2D · the first two principal directions of the run's checkpoints about its final weights (Li et al. 2018)" });
  // A selection of two or three checkpoints means the line or the plane through them.
  const preferred = others.length === 1 ? 'line' : others.length === 2 ? 'plane' : undefined;
  if (preferred) items.sort((a, b) => Number(b.choice?.kind === preferred) - Number(a.choice?.kind === preferred));
  const pick = await vscode.window.showQuickPick(items, { title: `${TITLE} around ${name}`, placeHolder: 'Which slice of the training loss?', matchOnDescription: true });
  if (!pick) return;
  if (!pick.choice) return s.analysis.trajectorySlice(first);
  const c = pick.choice;
  const files: string[] = [first, ...others.slice(0, c.checkpoints - 1)];
  while (files.length < c.checkpoints) {
    const n = files.length + 1;
    const next = await pickWorkspaceCheckpoint(s, `${TITLE}: ${c.label.toLowerCase()} (${n}/${c.checkpoints})`, `Checkpoint ${String.fromCharCode(64 + n)}: the ${c.kind === 'line' ? 'line' : 'plane'} goes through ${files.map((f) => path.basename(f)).join(', ')} and…`, files[files.length - 1]);
    if (!next) return;
    if (files.includes(next)) {
      void vscode.window.showErrorMessage('Landscape: that checkpoint is already on the slice; choose another one.');
      continue;
    }
    files.push(next);
  }
  await s.analysis.slice(c.kind, files);
}
