/**
 * Layout of a disconnectivity graph (the flattened single-linkage tree of
 * barrierMatrix results) for drawing as a dendrogram. Pure: no DOM, no
 * Plotly, so unit tests run it in Node.
 */
import type { TreeMerge } from '../src/protocol';

export interface DendrogramLayout {
  /** x position of every node (leaves 0..n−1, then merges), y of every node (a leaf's own loss, a merge's height). */
  x: number[];
  y: number[];
  /** Leaves in drawing order. */
  order: number[];
  /** Line segments [x0, y0, x1, y1]. */
  segments: [number, number, number, number][];
  /** Height drawn for the top of a forest whose parts never join. */
  top: number | null;
}

/**
 * Lay out the disconnectivity graph: leaves left to right in tree order, each
 * merge above the mean of its children at its saddle height, joined by
 * vertical lines from each child and one horizontal line across them.
 */
export function layoutDendrogram(n: number, merges: readonly TreeMerge[], losses: readonly (number | null)[]): DendrogramLayout {
  const total = n + merges.length;
  const x = new Array<number>(total).fill(0);
  const y = new Array<number>(total).fill(0);
  const heights = merges.map((m) => m.height).filter((v): v is number => v !== null);
  const known = losses.filter((v): v is number => v !== null);
  const all = [...known, ...heights];
  const lo = all.length ? Math.min(...all) : 0;
  const hi = all.length ? Math.max(...all) : 1;
  const span = hi > lo ? hi - lo : Math.abs(hi) || 1;
  const top = merges.some((m) => m.height === null) ? hi + 0.15 * span : null;
  const order: number[] = [];
  const place = (node: number): void => {
    if (node < n) {
      x[node] = order.length;
      order.push(node);
      // A minimum without a known loss sits at the bottom of the drawing.
      y[node] = losses[node] ?? lo;
      return;
    }
    const m = merges[node - n];
    // Children come before their parent; anything else (a damaged file) would loop forever.
    const kids = m.children.filter((c) => c < node);
    for (const c of kids) place(c);
    x[node] = kids.reduce((s, c) => s + x[c], 0) / Math.max(1, kids.length);
    y[node] = m.height ?? top ?? 0;
  };
  const root = merges.length ? total - 1 : 0;
  if (n > 0) place(root);
  // Minima the tree does not reach (none from the engine, but a file could say otherwise) still get a column.
  for (let i = 0; i < n; i++) if (!order.includes(i)) place(i);
  const segments: [number, number, number, number][] = [];
  merges.forEach((m, k) => {
    const node = n + k;
    const kids = m.children.filter((c) => c < node);
    if (!kids.length) return;
    const xs = kids.map((c) => x[c]);
    for (const c of kids) segments.push([x[c], y[c], x[c], y[node]]);
    segments.push([Math.min(...xs), y[node], Math.max(...xs), y[node]]);
  });
  return { x, y, order, segments, top };
}

/**
 * Short names for axis ticks: "run-folder/checkpoint" labels lose the leading
 * folder when all share it, and run folders that differ only at the end (time
 * stamps) keep only what differs, e.g. "…4548/epoch-0015". Still one name per
 * minimum: if shortening would make two equal, the full labels are kept.
 */
export function shortLabels(labels: readonly string[]): string[] {
  const parts = labels.map((l) => l.split('/'));
  const firsts = [...new Set(parts.filter((p) => p.length > 1).map((p) => p[0]))];
  let out: string[];
  if (firsts.length === 1 && parts.every((p) => p.length > 1)) {
    out = parts.map((p) => p.slice(1).join('/'));
  } else if (firsts.length > 1) {
    let prefix = firsts[0];
    for (const f of firsts) while (!f.startsWith(prefix)) prefix = prefix.slice(0, -1);
    // Keep a few characters of what differs, and never shorten by less than it costs ("…").
    const cut = Math.min(prefix.length, ...firsts.map((f) => f.length - 4));
    out = parts.map((p) => (p.length > 1 && cut >= 4 ? [`…${p[0].slice(cut)}`, ...p.slice(1)].join('/') : p.join('/')));
  } else {
    out = [...labels];
  }
  return new Set(out).size === out.length ? out : [...labels];
}
