/**
 * Plotly is 5 MB of script that takes one to several seconds to run, and
 * nothing else on the page can happen while it does. So the page runs it
 * only once it has drawn what it has: the shell preloads the file
 * (<link rel="preload" id="plotly-preload">, fetched in parallel with this
 * script), and the script element that runs it is added after the first
 * message from the host has been handled and painted, or after IDLE_MS when
 * none comes. Charts queue their drawing on whenPlotly().
 */
import { mark } from './timing';

/** Load Plotly anyway this long after start when the host has not answered. */
const IDLE_MS = 1000;

let started = false;
let settle: { resolve(p: PlotlyStatic): void; reject(e: Error): void } | undefined;
const loaded = new Promise<PlotlyStatic>((resolve, reject) => (settle = { resolve, reject }));
// A page without charts never awaits it; its failure is shown by the charts that do.
loaded.catch(() => undefined);

/** The nonce of this page's own script, for the script element we add (the policy allows scripts only by nonce). */
const nonce = (document.currentScript as HTMLScriptElement | null)?.nonce ?? '';

function defined(): PlotlyStatic | undefined {
  return typeof Plotly === 'undefined' ? undefined : Plotly;
}

/** Runs fn after the browser has painted (or soon, in a hidden page that gets no frames). */
function afterPaint(fn: () => void): void {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    fn();
  };
  requestAnimationFrame(() => setTimeout(once, 0));
  setTimeout(once, 250);
}

function inject(): void {
  const now = defined();
  if (now) {
    settle?.resolve(now);
    return;
  }
  const src = (document.getElementById('plotly-preload') as HTMLLinkElement | null)?.href;
  if (!src) {
    settle?.reject(new Error('the page names no Plotly script'));
    return;
  }
  const script = document.createElement('script');
  script.nonce = nonce;
  script.src = src;
  script.addEventListener('load', () => {
    const p = defined();
    mark('plotly');
    if (p) settle?.resolve(p);
    else settle?.reject(new Error('Plotly loaded but did not define itself'));
  });
  script.addEventListener('error', () => settle?.reject(new Error('Plotly did not load')));
  document.head.appendChild(script);
}

/** Start running Plotly after the next paint (once; later calls do nothing). */
export function loadPlotly(): void {
  if (started) return;
  started = true;
  afterPaint(inject);
}

/** Load Plotly IDLE_MS from now if nothing asked for it before. */
export function loadPlotlyWhenIdle(): void {
  setTimeout(loadPlotly, IDLE_MS);
}

/** Plotly once it has run; rejects when it cannot load. Does not start loading it. */
export function whenPlotly(): Promise<PlotlyStatic> {
  return loaded;
}

/** Plotly if it has already run (for work that only makes sense on a drawn chart). */
export function plotlyNow(): PlotlyStatic | undefined {
  return defined();
}
