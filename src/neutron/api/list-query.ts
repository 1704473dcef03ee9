import { faults } from '../errors.js';

/** A parsed query string: every key with all its values (repeated keys are OR-ed filters). */
export type QueryParams = ReadonlyMap<string, readonly string[]>;

const CONTROL = new Set(['fields', 'sort_key', 'sort_dir', 'limit', 'marker', 'page_reverse']);
const TAG_FILTERS = new Set(['tags', 'tags-any', 'not-tags', 'not-tags-any']);

export function parseQuery(search: string): QueryParams {
  const out = new Map<string, string[]>();
  for (const [k, v] of new URLSearchParams(search)) {
    const list = out.get(k) ?? [];
    list.push(v);
    out.set(k, list);
  }
  return out;
}

function truthy(v: string): boolean | undefined {
  const l = v.toLowerCase();
  if (l === 'true' || l === '1') return true;
  if (l === 'false' || l === '0') return false;
  return undefined;
}

function valueMatches(actual: unknown, wanted: string): boolean {
  if (actual === null || actual === undefined) return wanted === '' || wanted === 'None';
  if (typeof actual === 'boolean') return truthy(wanted) === actual;
  if (Array.isArray(actual)) return actual.some((a) => valueMatches(a, wanted));
  if (typeof actual === 'number') return String(actual) === wanted;
  if (typeof actual === 'string') return actual === wanted;
  return false;
}

/** `fixed_ips=ip_address=X`, `subnet_id=Y`, `ip_address_substr=Z`: some fixed IP must match every kind given. */
function fixedIpsMatch(actual: unknown, wanted: readonly string[]): boolean {
  if (!Array.isArray(actual)) return false;
  const byKind = new Map<string, string[]>();
  for (const w of wanted) {
    const eq = w.indexOf('=');
    const kind = eq < 0 ? 'ip_address' : w.slice(0, eq);
    const list = byKind.get(kind) ?? [];
    list.push(eq < 0 ? w : w.slice(eq + 1));
    byKind.set(kind, list);
  }
  return (actual as { ip_address: string; subnet_id: string }[]).some((f) =>
    [...byKind].every(([kind, values]) => {
      if (kind === 'ip_address') return values.includes(f.ip_address);
      if (kind === 'subnet_id') return values.includes(f.subnet_id);
      if (kind === 'ip_address_substr') return values.some((v) => f.ip_address.includes(v));
      throw faults.badRequest(`Invalid fixed_ips filter ${kind}`);
    }),
  );
}

function tagsMatch(tags: unknown, filter: string, values: readonly string[]): boolean {
  const have = new Set(Array.isArray(tags) ? (tags as string[]) : []);
  const wanted = values.flatMap((v) => v.split(',')).filter((t) => t !== '');
  const all = wanted.every((t) => have.has(t));
  const any = wanted.some((t) => have.has(t));
  switch (filter) {
    case 'tags':
      return all;
    case 'tags-any':
      return any;
    case 'not-tags':
      return !all;
    default:
      return !any;
  }
}

export interface ListOptions {
  /** Attributes that may be filtered and sorted on (the resource's keys). */
  readonly attributes: ReadonlySet<string>;
  /** The request URL's origin and path, for pagination links. */
  readonly selfUrl: string;
  readonly collection: string;
}

export interface ListOutcome<T> {
  readonly items: T[];
  readonly links: { rel: 'next' | 'previous'; href: string }[] | undefined;
}

function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  const sa = typeof a === 'string' ? a : JSON.stringify(a);
  const sb = typeof b === 'string' ? b : JSON.stringify(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/**
 * Neutron's list semantics over records: filters (repeated keys OR-ed, keys AND-ed, unknown
 * keys rejected), sorting (`sort_key`/`sort_dir` pairs; default by id), and pagination
 * (`limit`, `marker`, `page_reverse`) with `next`/`previous` links exactly as neutron-server
 * emits them: `next` unless a short forward page, `previous` unless a short reversed page.
 */
export function applyListQuery<T extends { id: string }>(records: readonly T[], query: QueryParams, options: ListOptions): ListOutcome<T> {
  const unknown = [...query.keys()].filter((k) => !CONTROL.has(k) && !TAG_FILTERS.has(k) && !options.attributes.has(k));
  if (unknown.length > 0) throw faults.badRequest(`[${unknown.map((k) => `'${k}'`).join(', ')}] is invalid attribute for filtering`);
  let items = records.filter((r) => {
    const rec = r as Record<string, unknown>;
    for (const [key, values] of query) {
      if (CONTROL.has(key)) continue;
      if (TAG_FILTERS.has(key)) {
        if (!tagsMatch(rec['tags'], key, values)) return false;
      } else if (key === 'fixed_ips') {
        if (!fixedIpsMatch(rec['fixed_ips'], values)) return false;
      } else if (!values.some((v) => valueMatches(rec[key], v))) {
        return false;
      }
    }
    return true;
  });

  const keys = query.get('sort_key') ?? [];
  const dirs = query.get('sort_dir') ?? [];
  if (keys.length !== dirs.length) throw faults.badRequest('The number of sort_keys and sort_dirs must be same');
  for (const k of keys) if (!options.attributes.has(k)) throw faults.badRequest(`${k} is an invalid attribute for sort_keys`);
  for (const d of dirs) if (d !== 'asc' && d !== 'desc') throw faults.badRequest(`${d} is an invalid value for sort_dirs, valid values are 'asc' and 'desc'`);
  const order = [...keys.map((k, i) => ({ key: k, desc: dirs[i] === 'desc' })), { key: 'id', desc: false }];
  items = [...items].sort((a, b) => {
    for (const o of order) {
      const c = compareValues((a as Record<string, unknown>)[o.key], (b as Record<string, unknown>)[o.key]);
      if (c !== 0) return o.desc ? -c : c;
    }
    return 0;
  });

  const limitText = query.get('limit')?.[0];
  const limit = limitText === undefined ? 0 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 0) throw faults.badRequest(`Limit must be an integer 0 or greater and not '${limitText ?? ''}'`);
  const marker = query.get('marker')?.[0];
  const reverse = truthy(query.get('page_reverse')?.[0] ?? 'false') === true;
  if (marker !== undefined) {
    const at = items.findIndex((r) => r.id === marker);
    if (at < 0) throw faults.badRequest(`Invalid marker ${marker}: no such item in ${options.collection}`);
    items = reverse ? items.slice(0, at) : items.slice(at + 1);
  }
  if (limit === 0) return { items, links: undefined };
  items = reverse ? items.slice(Math.max(0, items.length - limit)) : items.slice(0, limit);
  const links: { rel: 'next' | 'previous'; href: string }[] = [];
  const href = (markerId: string, pageReverse: boolean): string => {
    const q = new URLSearchParams();
    for (const [k, vs] of query) if (k !== 'marker' && k !== 'page_reverse') for (const v of vs) q.append(k, v);
    q.set('marker', markerId);
    if (pageReverse) q.set('page_reverse', 'True');
    return `${options.selfUrl}?${q.toString()}`;
  };
  const short = items.length < limit;
  const first = items[0];
  const last = items[items.length - 1];
  if (!(short && !reverse) && last !== undefined) links.push({ rel: 'next', href: href(last.id, false) });
  if (!(short && reverse) && first !== undefined) links.push({ rel: 'previous', href: href(first.id, true) });
  return { items, links };
}

/** Keeps only the requested `fields` (all when none are asked for). */
export function selectFields<T extends object>(record: T, fields: readonly string[] | undefined): Partial<T> {
  if (fields === undefined || fields.length === 0) return record;
  const out: Record<string, unknown> = {};
  for (const f of fields) if (f in record) out[f] = (record as Record<string, unknown>)[f];
  return out as Partial<T>;
}
