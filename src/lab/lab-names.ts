/** A lab prefix: a letter, up to four letters or digits, and a final `-` (e.g. `bl1a2-`). */
const PREFIX_RE = /^[a-z][a-z0-9]{0,4}-$/;
/** A host or VM name; `border` and `outside` name the border router and the host behind it. */
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const RESERVED_NAMES = new Set(['border', 'outside']);

export function isLabPrefix(prefix: string): boolean {
  return PREFIX_RE.test(prefix);
}

export function isLabName(name: string): boolean {
  return NAME_RE.test(name) && !RESERVED_NAMES.has(name);
}
