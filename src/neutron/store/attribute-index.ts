/**
 * One attribute of a collection's records, indexed: value → ids of the records that have it.
 * `fixed_ips` is indexed by each address (`ip_address`); any other attribute by its string
 * value (records where it is not a string are not in the index). Fed with parsed records; keeps
 * each record's indexed values so a change or delete removes exactly what it added.
 */
export class AttributeIndex {
  readonly attribute: string;
  readonly #byValue = new Map<string, Set<string>>();
  readonly #byId = new Map<string, readonly string[]>();

  constructor(attribute: string) {
    this.attribute = attribute;
  }

  /** The record `id` is now `record` (replacing what was indexed for it). */
  set(id: string, record: unknown): void {
    this.remove(id);
    const values = indexValues(this.attribute, record);
    if (values.length === 0) return;
    this.#byId.set(id, values);
    for (const v of values) {
      let ids = this.#byValue.get(v);
      if (ids === undefined) this.#byValue.set(v, (ids = new Set()));
      ids.add(id);
    }
  }

  remove(id: string): void {
    const old = this.#byId.get(id);
    if (old === undefined) return;
    this.#byId.delete(id);
    for (const v of old) {
      const ids = this.#byValue.get(v);
      ids?.delete(id);
      if (ids?.size === 0) this.#byValue.delete(v);
    }
  }

  /** The ids of the records whose attribute is `value`. */
  ids(value: string): ReadonlySet<string> {
    return this.#byValue.get(value) ?? NONE;
  }
}

const NONE: ReadonlySet<string> = new Set();

/** The values a record is indexed under for `attribute`. */
export function indexValues(attribute: string, record: unknown): string[] {
  if (typeof record !== 'object' || record === null) return [];
  const v = (record as Record<string, unknown>)[attribute];
  if (attribute === 'fixed_ips') {
    if (!Array.isArray(v)) return [];
    return v.flatMap((f: unknown) => {
      const ip = typeof f === 'object' && f !== null ? (f as { ip_address?: unknown }).ip_address : undefined;
      return typeof ip === 'string' ? [ip] : [];
    });
  }
  return typeof v === 'string' ? [v] : [];
}
