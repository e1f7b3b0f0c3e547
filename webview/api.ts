/**
 * The page's side of the protocol: everything from the host is validated
 * before use; what fails is reported to the host's log and dropped.
 */
import { validateHostMessage, type HostMessage, type WebviewMessage } from '../src/protocol';
import { previewMessage } from '../src/schema';
import { loadPlotly } from './plotly';

const vscode = acquireVsCodeApi();

export function post(m: WebviewMessage): void {
  vscode.postMessage(m);
}

export function log(level: 'info' | 'warn' | 'error', message: string): void {
  post({ type: 'log', level, message: message.slice(0, 10_000) });
}

export function getState<T>(): T | undefined {
  return (vscode.getState() as T | undefined) ?? undefined;
}

export function setState(state: unknown): void {
  vscode.setState(state);
}

export function onHostMessage(handler: (m: HostMessage) => void): void {
  window.addEventListener('message', (ev: MessageEvent) => {
    const v = validateHostMessage(ev.data);
    if (!v.ok) {
      log('warn', `ignored an invalid message from the host (${v.error}): ${previewMessage(ev.data)}`);
      return;
    }
    try {
      handler(v.value);
    } catch (e) {
      log('error', `handling "${v.value.type}" failed: ${e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e)}`);
    }
    // The page has drawn the host's first data: Plotly may run now (after that paint).
    loadPlotly();
  });
}

window.addEventListener('error', (ev) => log('error', `${ev.message} (${ev.filename}:${ev.lineno})`));
window.addEventListener('unhandledrejection', (ev) => log('error', `unhandled rejection: ${String((ev as PromiseRejectionEvent).reason)}`));
