/**
 * The side view's list of the workspace's runs (each with its checkpoints)
 * and of the checkpoints outside any run. A run opens its panel; a
 * checkpoint opens in the viewer.
 */
import type { RunsList } from '../src/protocol';
import { inspect, openRun } from './api';
import { append, clear, h, onActivate } from './dom';

function item(cls: string, label: string, detail: string | undefined, aria: string, onClick: () => void, extra?: HTMLElement): HTMLElement {
  const li = h('li', { class: cls, tabindex: 0, role: 'button', 'aria-label': aria, title: detail ?? label });
  append(li, h('span', { class: 'item-label', text: label }), extra, detail ? h('span', { class: 'item-detail', text: detail }) : null);
  onActivate(li, onClick);
  return li;
}

function runItems(list: RunsList): HTMLElement[] {
  return list.runs.flatMap((r) => {
    const badge = h('span', { class: `badge badge-${r.status.replace(/[^a-z]/g, '')}`, text: r.status });
    return [
      item('run-item', r.label, r.detail, `Open run ${r.label}`, () => openRun(r.runJson), badge),
      ...r.checkpoints.map((c) => item('checkpoint-item nested', c.label, c.detail, `Inspect checkpoint ${c.label} of run ${r.label}`, () => inspect(c.path))),
    ];
  });
}

function otherItems(list: RunsList): HTMLElement[] {
  if (!list.others.length) return [];
  return [
    h('li', { class: 'group-label', role: 'presentation', text: 'Other checkpoints' }),
    ...list.others.map((c) => item('checkpoint-item', c.label, c.detail, `Inspect checkpoint ${c.label}`, () => inspect(c.path))),
  ];
}

export function renderRunsList(ul: HTMLElement, list: RunsList): void {
  clear(ul);
  append(ul, ...runItems(list), ...otherItems(list));
  if (!list.runs.length && !list.others.length) {
    ul.appendChild(h('li', { class: 'empty', text: 'No runs or checkpoints in this workspace yet. Train to make some.' }));
  }
  if (list.truncated) ul.appendChild(h('li', { class: 'empty', text: 'Only the first runs and checkpoints are listed.' }));
}
