/**
 * A self-contained copy of a string that will be kept for long (ids, addresses of 55,000
 * endpoints). V8 keeps `a + b` as a tree of its parts, and a slice (`key.slice(…)`, a regex
 * group) as a view that holds its whole parent alive; a copy through a Buffer is one flat string
 * of its own length.
 */
export function ownString(s: string): string {
  const copy = Buffer.from(s, 'utf8').toString('utf8');
  // A lone surrogate does not survive UTF-8: such a string is kept as it is.
  return copy === s ? copy : s;
}
