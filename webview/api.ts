/**
 * The page's side of the protocol, in one place (the host's counterpart is
 * src/host/pageController.ts): startPage says 'ready' for its page and
 * validates everything the host sends against that page's protocol (a
 * message of the wrong shape, or one meant for another page, is reported to
 * the host's log and dropped); the requests every page shares (a fresh
 * snapshot, inspect, open run, export, log) go out through the functions
 * here, and a page's own requests through post().
 */
import {
  validatePageHostMessage,
  type PageHostMessage,
  type PageRequest,
  type SharedWebviewMessage,
  type ViewName,
} from '../src/protocol';
import { previewMessage } from '../src/schema';
import { loadPlotly } from './plotly';

const vscode = acquireVsCodeApi();

/** The page this bundle runs as, once startPage has been called. */
let currentPage: ViewName | undefined;

function send(m: SharedWebviewMessage | PageRequest<ViewName>): void {
  vscode.postMessage(m);
}

/** A page's own request (the shared ones have their functions below). */
export function post(m: PageRequest<ViewName>): void {
  send(m);
}

/**
 * Start page `view`: host messages meant for it go to `handler`, validated;
 * then the page says 'ready' and the host sends it everything it shows.
 */
export function startPage<P extends ViewName>(view: P, handler: (m: PageHostMessage<P>) => void): void {
  currentPage = view;
  window.addEventListener('message', (ev: MessageEvent) => receive(view, handler, ev.data));
  requestSnapshot();
}

function receive<P extends ViewName>(view: P, handler: (m: PageHostMessage<P>) => void, data: unknown): void {
  const v = validatePageHostMessage(view, data);
  if (!v.ok) {
    log('warn', `ignored an invalid message from the host (${v.error}): ${previewMessage(data)}`);
    return;
  }
  try {
    handler(v.value);
  } catch (e) {
    log('error', `handling "${v.value.type}" failed: ${e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e)}`);
  }
  // The page has drawn the host's first data: Plotly may run now (after that paint).
  loadPlotly();
}

/** Ask the host for everything again (the page lost track of a stream: another run, or a gap). */
export function requestSnapshot(): void {
  if (currentPage) send({ type: 'ready', view: currentPage });
}

/** Open a checkpoint in the viewer (the host checks that it is one, inside the workspace). */
export function inspect(path: string): void {
  send({ type: 'inspect', path });
}

/** Open a training run's result panel (the host checks that it is a run.json inside the workspace). */
export function openRun(runJson: string): void {
  send({ type: 'openRun', runJson });
}

/** Offer to save a plot; the host asks the user where. */
export function exportPlot(format: 'png' | 'svg', dataUrl: string, name: string): void {
  send({ type: 'export', format, dataUrl, name });
}

/** A line in the host's log (Landscape: Show Log). */
export function log(level: 'info' | 'warn' | 'error', message: string): void {
  send({ type: 'log', level, message: message.slice(0, 10_000) });
}

export function getState<T>(): T | undefined {
  return (vscode.getState() as T | undefined) ?? undefined;
}

export function setState(state: unknown): void {
  vscode.setState(state);
}

window.addEventListener('error', (ev) => log('error', `${ev.message} (${ev.filename}:${ev.lineno})`));
window.addEventListener('unhandledrejection', (ev) => log('error', `unhandled rejection: ${String((ev as PromiseRejectionEvent).reason)}`));
