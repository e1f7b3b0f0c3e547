/**
 * Marks on the page's performance timeline (`landscape:<name>`), once per
 * name: the end-to-end test reads them to say where the time to a first chart
 * or table went. Costs a few microseconds; nothing else reads them.
 */
const marked = new Set<string>();

export function mark(name: string): void {
  if (marked.has(name)) return;
  marked.add(name);
  try {
    performance.mark(`landscape:${name}`);
  } catch {
    // A page without the User Timing API still works; it only cannot be timed.
  }
}
