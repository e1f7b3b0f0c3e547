/** The "Landscape" output channel (Landscape: Show Log). */
import * as vscode from 'vscode';
import { OUTPUT_CHANNEL } from './commandTable';
import { notificationText } from './guards';

export type Log = vscode.LogOutputChannel;

export function createLog(): Log {
  return vscode.window.createOutputChannel(OUTPUT_CHANNEL, { log: true });
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Show an error to the user with a way to the log, and record it (with the stack) in the log. */
export function reportError(log: Log, what: string, e: unknown): void {
  const msg = errorMessage(e);
  log.error(`${what}: ${msg}`);
  if (e instanceof Error && e.stack && !(e as { kind?: string }).kind) log.debug(e.stack);
  // Messages quote file names and file contents: keep them from becoming links in the notification.
  void vscode.window.showErrorMessage(`Landscape: ${what}: ${notificationText(msg)}`, 'Show Log').then((pick) => {
    if (pick) log.show(true);
  });
}
