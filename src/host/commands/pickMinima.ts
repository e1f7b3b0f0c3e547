/** Choosing minima for the barrier commands: explorer arguments, Minimum A, quick picks of the workspace's checkpoints. */
import * as path from 'path';
import * as vscode from 'vscode';
import { checkCheckpointChoice, notificationText } from '../guards';
import type { Services } from '../services';
import * as fs from 'fs';
import { checkpointsIn } from '../barriers';
import { isCheckpointPath, primaryFolder } from '../workspace';

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The checkpoints of an explorer selection: files as they are, folders by
 * their checkpoints, duplicates once. `singleFolder` names the folder when
 * the selection was exactly one, for messages.
 */
export function checkpointsInSelection(selected: readonly string[]): { files: string[]; singleFolder?: string } {
  const found: string[] = [];
  for (const p of selected) {
    if (isDir(p)) found.push(...checkpointsIn(p));
    else if (isCheckpointPath(p)) found.push(p);
  }
  const singleFolder = selected.length === 1 && isDir(selected[0]) ? selected[0] : undefined;
  return { files: [...new Set(found)], ...(singleFolder ? { singleFolder } : {}) };
}

type Item = vscode.QuickPickItem & { file?: string; browse?: boolean };

/** The file Uris VS Code passes to an explorer command: (clicked, all selected). */
export function explorerSelection(arg: unknown, args: unknown): vscode.Uri[] {
  if (Array.isArray(args) && args.every((u) => u instanceof vscode.Uri) && args.length > 0) return args as vscode.Uri[];
  return arg instanceof vscode.Uri ? [arg] : [];
}

/** A checkpoint path from a Uri: model.json inside a tfjs folder counts; anything else is refused with a message. */
export function checkpointFromUri(u: vscode.Uri, verb = 'Find Path Between Minima'): string | undefined {
  if (u.scheme !== 'file') {
    void vscode.window.showErrorMessage(`Landscape: ${verb} works on files on disk, not ${notificationText(u.scheme, 40)}: resources.`);
    return undefined;
  }
  const c = checkCheckpointChoice(u.fsPath, verb);
  if (!c.ok) {
    void vscode.window.showErrorMessage(c.reason);
    return undefined;
  }
  return c.value;
}

/** Quick pick of the workspace's checkpoints (runs first, newest scan), with a Browse… entry. */
export async function pickWorkspaceCheckpoint(s: Services, title: string, placeHolder: string, exclude?: string): Promise<string | undefined> {
  const list = await s.runs.scanNow();
  const root = primaryFolder()?.uri.fsPath;
  const rel = (p: string) => (root ? path.relative(root, p) : p);
  const items: Item[] = [];
  for (const r of list.runs) {
    const cks = r.checkpoints.filter((c) => c.path !== exclude);
    if (!cks.length) continue;
    items.push({ label: r.label, kind: vscode.QuickPickItemKind.Separator });
    for (const c of cks) items.push({ label: c.label, description: path.dirname(rel(c.path)), detail: c.detail, file: c.path });
  }
  const others = list.others.filter((c) => c.path !== exclude);
  if (others.length) {
    items.push({ label: 'Other checkpoints', kind: vscode.QuickPickItemKind.Separator });
    for (const c of others) items.push({ label: c.label, description: path.dirname(rel(c.path)), detail: c.detail, file: c.path });
  }
  items.push({ label: '', kind: vscode.QuickPickItemKind.Separator });
  items.push({ label: '$(folder-opened) Browse…', description: 'a checkpoint anywhere on disk', browse: true });
  const pick = await vscode.window.showQuickPick(items, { title, placeHolder, matchOnDescription: true, matchOnDetail: true });
  if (!pick) return undefined;
  if (!pick.browse) return pick.file;
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: false,
    openLabel: 'Choose',
    defaultUri: primaryFolder()?.uri,
    filters: { Checkpoints: ['safetensors', 'json'] },
  });
  return picked?.[0] ? checkpointFromUri(picked[0]) : undefined;
}

/**
 * A runs folder holds every epoch of every run; barriers and maps are usually
 * wanted between the runs' final minima. Offer that choice when both are there.
 */
export async function narrowToFinals(files: string[], title: string): Promise<string[] | undefined> {
  const finals = files.filter((f) => path.basename(f) === 'final.safetensors');
  if (finals.length < 2 || finals.length === files.length) return files;
  const pick = await vscode.window.showQuickPick(
    [
      { label: `The final checkpoint of each run (${finals.length})`, value: finals },
      { label: `Every checkpoint (${files.length})`, description: 'best, final and periodic ones', value: files },
    ],
    { title, placeHolder: 'Which checkpoints?' },
  );
  return pick?.value;
}

/** A multi-pick of the workspace's checkpoints (runs first). */
export async function pickWorkspaceCheckpoints(s: Services, title: string, placeHolder: string): Promise<string[] | undefined> {
  const list = await s.runs.scanNow();
  const root = primaryFolder()?.uri.fsPath;
  const rel = (p: string) => (root ? path.relative(root, p) : p);
  const items: Item[] = [];
  for (const r of list.runs) {
    if (!r.checkpoints.length) continue;
    items.push({ label: r.label, kind: vscode.QuickPickItemKind.Separator });
    for (const c of r.checkpoints) items.push({ label: c.label, description: path.dirname(rel(c.path)), detail: c.detail, file: c.path });
  }
  if (list.others.length) {
    items.push({ label: 'Other checkpoints', kind: vscode.QuickPickItemKind.Separator });
    for (const c of list.others) items.push({ label: c.label, description: path.dirname(rel(c.path)), detail: c.detail, file: c.path });
  }
  if (!items.some((i) => i.file)) {
    void vscode.window.showInformationMessage('Landscape: no checkpoints in this workspace yet; train a few runs first (Landscape: Train).');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(items, { title, placeHolder, canPickMany: true, matchOnDescription: true, matchOnDetail: true });
  return picked?.map((i) => i.file).filter((f): f is string => f !== undefined);
}
