/** Text helpers with no DOM in them, so unit tests can run them in Node. */

/**
 * Text for Plotly strings (trace names, hover text, tick and annotation
 * labels): Plotly reads <b>, <br>, <a href> and entities there as its own
 * markup, so anything derived from a file (checkpoint labels, tensor names)
 * goes through this first and shows literally.
 */
export function plotlyText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
