/**
 * Building DOM without innerHTML: every string from a checkpoint, a run or a
 * setting lands in textContent or an attribute, never parsed as markup.
 */
type Attrs = Record<string, string | number | boolean | undefined>;
type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs, ...children: Child[]): HTMLElementTagNameMap[K];
export function h(tag: string, attrs?: Attrs, ...children: Child[]): HTMLElement;
export function h(tag: string, attrs: Attrs = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === 'text') el.textContent = String(v);
    else if (k === 'class') el.className = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, ...children);
  return el;
}

export function append(el: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  }
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el as T;
}

/** A table of key/value rows: <tr><th>key</th><td>value</td></tr>. */
export function keyValueRows(tbody: HTMLElement, rows: readonly (readonly [string, string])[]): void {
  clear(tbody);
  for (const [k, v] of rows) tbody.appendChild(h('tr', {}, h('th', { scope: 'row', text: k }), h('td', { text: v })));
}

/** A page's header: its title and a muted line under it. */
export function pageHeader(title: string, detail: string): HTMLElement {
  return h('header', { class: 'page-header' }, h('h1', { text: title }), h('p', { class: 'muted', text: detail }));
}

/** A section named by its h2 (for screen readers, through aria-labelledby). */
export function section(headingId: string, heading: string, ...children: Child[]): HTMLElement {
  return h('section', { 'aria-labelledby': headingId }, h('h2', { id: headingId, text: heading }), ...children);
}

/** A key/value table (class kv-table) of `rows`. */
export function kvTable(id: string, rows: readonly (readonly [string, string])[]): HTMLElement {
  const body = h('tbody');
  keyValueRows(body, rows);
  return h('table', { id, class: 'kv-table' }, body);
}

/** Activate on click, Enter and Space (for list items that act as buttons). */
export function onActivate(el: HTMLElement, fn: (ev: Event) => void): void {
  el.addEventListener('click', fn);
  el.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' || ev.key === ' ') {
      ev.preventDefault();
      fn(ev);
    }
  });
}

export { plotlyText } from './text';
