/** Workspace folders, trust, and checks on paths that arrive from webviews. */
import * as vscode from 'vscode';
import { containedFile, isCheckpointFileName } from './guards';

/** The folder Landscape works in: the one holding the active file, else the first. */
export function primaryFolder(): vscode.WorkspaceFolder | undefined {
  const folders = vscode.workspace.workspaceFolders?.filter((f) => f.uri.scheme === 'file');
  if (!folders || folders.length === 0) return undefined;
  const active = vscode.window.activeTextEditor?.document.uri;
  if (active && active.scheme === 'file') {
    const f = vscode.workspace.getWorkspaceFolder(active);
    if (f && f.uri.scheme === 'file') return f;
  }
  return folders[0];
}

export { isInside } from './guards';

/** The file-scheme workspace folders, as paths. */
export function workspaceRoots(): string[] {
  return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
}

/**
 * A path a webview sent us is only used if it is absolute, inside a workspace
 * folder (after resolving symlinks), and names an existing file. A webview is
 * a web page; it must not be able to point the host at arbitrary files.
 */
export function checkWorkspaceFile(p: string): string | undefined {
  const c = containedFile(p, workspaceRoots());
  return c.ok ? c.value : undefined;
}

export function isCheckpointPath(p: string): boolean {
  return isCheckpointFileName(p);
}

/**
 * Training and writing files need a trusted workspace (a landscape.json or a
 * CSV could come from anyone). Inspecting and plotting work without trust.
 */
export async function ensureTrusted(what: string): Promise<boolean> {
  if (vscode.workspace.isTrusted) return true;
  const pick = await vscode.window.showWarningMessage(
    `Landscape: ${what} writes files in this workspace, so it needs a trusted workspace. Inspecting checkpoints works without trust.`,
    'Manage Workspace Trust',
  );
  if (pick) await vscode.commands.executeCommand('workbench.trust.manage');
  return false;
}
