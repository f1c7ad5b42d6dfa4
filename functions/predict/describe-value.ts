/**
 * Short, bounded descriptions of client values for error messages. A 4xx message echoes what the client sent, so
 * every echo is cut: a 5 MB key must not come back as a 5 MB response and log line, and nothing a client sends is
 * ever serialized whole (a deeply nested value would overflow the stack of JSON.stringify).
 */

/** Echoed strings are cut to this many characters. */
export const ECHO_CHARS = 40;

/** A client string, quoted as JSON and cut to ECHO_CHARS characters. */
export function quote(text: string): string {
  return JSON.stringify(text.length > ECHO_CHARS ? `${text.slice(0, ECHO_CHARS)}...` : text);
}

/** A client value in a few words: its type, and the value itself when it is short. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'missing';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : `an array of ${value.length}`;
  switch (typeof value) {
    case 'string':
      return `the string ${quote(value)}`;
    case 'number':
      return String(value);
    case 'boolean':
      return `the boolean ${String(value)}`;
    case 'object':
      return 'an object';
    default:
      return `a ${typeof value}`;
  }
}

/** `[3][1]` for the index path [3, 1]. */
export function indexText(path: readonly number[]): string {
  let text = '';
  for (const index of path) text += `[${index}]`;
  return text;
}
