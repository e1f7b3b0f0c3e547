/**
 * Quoting text from a hostile file (a CSV cell, a JSON key) inside an error
 * message. Messages are one line shown in a terminal and in VS Code, so
 * control, line-separator and bidirectional-override characters are escaped
 * (a cell must not be able to start a new line, recolour the terminal or
 * reorder what the user reads) and the quoted part is bounded in length.
 * No dependencies: the extension host uses it too.
 */

const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Replace unsafe characters by \uXXXX escapes. */
export function escapeControl(s: string): string {
  return s.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Cut to at most `max` code units with an ellipsis, never splitting a surrogate pair. */
export function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  let cut = max;
  const c = s.charCodeAt(cut - 1);
  if (c >= 0xd800 && c <= 0xdbff) cut--;
  return `${s.slice(0, cut)}…`;
}

/** `"text"` for a message: escaped, bounded (the escaping is applied to the kept part only). */
export function quoteText(s: string, max = 60): string {
  return `"${escapeControl(truncate(s, max))}"`;
}
