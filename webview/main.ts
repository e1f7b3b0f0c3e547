/**
 * The one webview bundle (dist/webview.js): the page's <body data-view>
 * decides which view it builds. Plotly runs later, as its own script, once
 * the page has drawn what it has (plotly.ts); the vscode-elements components
 * used are imported here so esbuild bundles them.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-label/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { log } from './api';
import { startCheckpoint } from './checkpoint';
import { startResult } from './results';
import { loadPlotlyWhenIdle } from './plotly';
import { startSide } from './side';
import { mark } from './timing';

function main(): void {
  mark('script');
  const app = document.getElementById('app');
  if (!app) return;
  const view = document.body.dataset.view;
  try {
    if (view === 'side') startSide(app);
    else if (view === 'checkpoint') startCheckpoint(app);
    else if (view === 'result') startResult(app);
    else log('error', `unknown view "${String(view)}"`);
    loadPlotlyWhenIdle();
  } catch (e) {
    log('error', `starting the ${String(view)} view failed: ${e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e)}`);
    app.textContent = 'Landscape could not start this view; see Landscape: Show Log.';
  }
}

main();
