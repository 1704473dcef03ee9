/** Counts one more reference to `key`; true when it is the first (the key just came into use). */
export function addRef<K>(counts: Map<K, number>, key: K): boolean {
  const n = (counts.get(key) ?? 0) + 1;
  counts.set(key, n);
  return n === 1;
}

/** Counts one reference fewer; true when it was the last (the key is dropped from `counts`). */
export function dropRef<K>(counts: Map<K, number>, key: K): boolean {
  const n = (counts.get(key) ?? 0) - 1;
  if (n > 0) {
    counts.set(key, n);
    return false;
  }
  counts.delete(key);
  return true;
}
