/**
 * Result panels: one renderer per result kind. The page stores {kind, file}
 * with setState so VS Code's WebviewPanelSerializer can reopen it after a
 * window reload; the host then re-reads the file and sends the data again.
 */
import type { HostMessage, ResultData } from '../../src/protocol';
import { onHostMessage, post, setState } from '../api';
import { clear, h } from '../dom';
import { renderTrainingRun } from './trainingRun';

type Renderers = { [K in ResultData['kind']]: (root: HTMLElement, data: Extract<ResultData, { kind: K }>) => void };

const RENDERERS: Renderers = {
  trainingRun: renderTrainingRun,
};

function render(root: HTMLElement, data: ResultData): void {
  const r = RENDERERS[data.kind] as (root: HTMLElement, d: ResultData) => void;
  r(root, data);
}

export function startResult(app: HTMLElement): void {
  onHostMessage((m: HostMessage) => {
    if (m.type === 'result') {
      setState({ kind: m.data.kind, file: m.file });
      clear(app);
      app.removeAttribute('aria-busy');
      render(app, m.data);
    } else if (m.type === 'resultError') {
      clear(app);
      app.removeAttribute('aria-busy');
      app.appendChild(h('div', { id: 'error', class: 'error', role: 'alert', text: m.message }));
    }
  });
  post({ type: 'ready', view: 'result' });
}
