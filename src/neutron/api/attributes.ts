import { parseCidr, parseIp } from '../../model/index.js';
import { faults } from '../errors.js';

/** Checks one attribute value; returns the (converted) value or a reason it is invalid. */
export type Validator = (value: unknown) => { ok: true; value: unknown } | { ok: false; reason: string };

export interface AttributeSpec {
  readonly validate: Validator;
  readonly allowPost: boolean;
  readonly allowPut: boolean;
  readonly required?: boolean;
  /**
   * Neutron's default for it, where a policy rule guards the attribute: a create that sets it to
   * this value is not checked against `create_<resource>:<attribute>` (as Neutron).
   */
  readonly default?: unknown;
}

const ok = (value: unknown) => ({ ok: true as const, value });
const bad = (reason: string) => ({ ok: false as const, reason });
const show = (v: unknown): string => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v));

export const v = {
  string:
    (max = 255): Validator =>
    (x) =>
      typeof x !== 'string' ? bad(`${show(x)} is not a valid string`) : x.length > max ? bad(`'${x}' exceeds maximum length of ${max}`) : ok(x),
  boolean: (): Validator => (x) => {
    if (typeof x === 'boolean') return ok(x);
    if (typeof x === 'string' && ['true', 'false', '1', '0'].includes(x.toLowerCase())) return ok(['true', '1'].includes(x.toLowerCase()));
    return bad(`${show(x)} is not a valid boolean value`);
  },
  uuid: (): Validator => (x) =>
    typeof x === 'string' && /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/.test(x)
      ? ok(x)
      : bad(`${show(x)} is not a valid UUID`),
  /** Project ids: Keystone ids are hex, but noauth clouds use names; any short string. */
  projectId: (): Validator => (x) => (typeof x === 'string' && x.length > 0 && x.length <= 255 ? ok(x) : bad(`${show(x)} is not a valid project id`)),
  int:
    (min: number, max: number): Validator =>
    (x) => {
      const n = typeof x === 'string' && /^-?\d+$/.test(x) ? Number(x) : x;
      if (typeof n !== 'number' || !Number.isInteger(n)) return bad(`${show(x)} is not an integer`);
      if (n < min || n > max) return bad(`${n} is not in range ${min} through ${max}`);
      return ok(n);
    },
  nullable:
    (inner: Validator): Validator =>
    (x) =>
      x === null ? ok(null) : inner(x),
  /** Neutron's `type:dict_or_nodata`: null or an empty dict mean "none" (null); anything else is checked. */
  dictOrNoData:
    (inner: Validator): Validator =>
    (x) =>
      x === null || (typeof x === 'object' && !Array.isArray(x) && Object.keys(x).length === 0) ? ok(null) : inner(x),
  oneOf:
    (values: readonly string[]): Validator =>
    (x) =>
      typeof x === 'string' && values.includes(x) ? ok(x) : bad(`${show(x)} is not in ${JSON.stringify(values)}`),
  ip: (): Validator => (x) => {
    const p = typeof x === 'string' ? parseIp(x) : undefined;
    return p === undefined ? bad(`${show(x)} is not a valid IP address`) : ok(p.address);
  },
  cidr: (): Validator => (x) => (typeof x === 'string' && parseCidr(x) !== undefined ? ok(x) : bad(`${show(x)} is not a valid IP subnet`)),
  mac: (): Validator => (x) =>
    typeof x === 'string' && /^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$/.test(x)
      ? ok(x.toLowerCase().replaceAll('-', ':'))
      : bad(`${show(x)} is not a valid MAC address`),
  list:
    (item: Validator, max = 1000): Validator =>
    (x) => {
      if (!Array.isArray(x)) return bad(`${show(x)} is not a list`);
      if (x.length > max) return bad(`list exceeds maximum length of ${max}`);
      const out: unknown[] = [];
      for (const e of x) {
        const r = item(e);
        if (!r.ok) return r;
        out.push(r.value);
      }
      return ok(out);
    },
  uniqueList:
    (item: Validator): Validator =>
    (x) => {
      const r = v.list(item)(x);
      if (!r.ok) return r;
      const values = r.value as unknown[];
      const dup = values.find((e, i) => values.indexOf(e) !== i);
      return dup === undefined ? r : bad(`Duplicate items in the list: ${show(dup)}`);
    },
  dict:
    (fields: Readonly<Record<string, { validate: Validator; required?: boolean }>>): Validator =>
    (x) => {
      if (typeof x !== 'object' || x === null || Array.isArray(x)) return bad(`${show(x)} is not a dictionary`);
      const out: Record<string, unknown> = {};
      for (const [k, val] of Object.entries(x)) {
        const f = fields[k];
        if (f === undefined) return bad(`Unexpected keys supplied: ${k}`);
        const r = f.validate(val);
        if (!r.ok) return r;
        out[k] = r.value;
      }
      const missing = Object.entries(fields).find(([k, f]) => f.required === true && !(k in out));
      if (missing !== undefined) return bad(`Validation of dictionary's keys failed. Expected keys: {'${missing[0]}'}`);
      return ok(out);
    },
  anyDict: (): Validator => (x) => (typeof x === 'object' && x !== null && !Array.isArray(x) ? ok(x) : bad(`${show(x)} is not a dictionary`)),
};

export type Specs = Readonly<Record<string, AttributeSpec>>;

/**
 * Unwraps and validates a request body `{"<resource>": {...}}` (or `{"<collection>": [...]}` for
 * bulk create) against attribute specs, with neutron-server's messages: unknown attributes,
 * read-only attributes on update, missing required ones, and per-attribute reasons.
 */
export interface ParseBodyOptions {
  readonly resource: string;
  readonly collection: string;
  readonly mode: 'create' | 'update';
}

export function parseBody(body: unknown, specs: Specs, o: ParseBodyOptions): Record<string, unknown>[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw faults.badRequest('Body contains invalid data');
  const b = body as Record<string, unknown>;
  let items: unknown[];
  if (o.mode === 'create' && Array.isArray(b[o.collection])) {
    items = b[o.collection] as unknown[];
    if (items.length === 0) throw faults.badRequest(`Resources required`);
  } else if (o.resource in b) {
    items = [b[o.resource]];
  } else {
    throw faults.badRequest(`Unable to find '${o.resource}' in request body`);
  }
  if (Object.keys(b).length !== 1) throw faults.badRequest('Body contains invalid data');
  return items.map((item) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw faults.badRequest('Body contains invalid data');
    const attrs = item as Record<string, unknown>;
    const unknown = Object.keys(attrs).filter((k) => !(k in specs));
    if (unknown.length > 0) throw faults.badRequest(`Unrecognized attribute(s) '${unknown.join(', ')}'`);
    const out: Record<string, unknown> = {};
    for (const [k, value] of Object.entries(attrs)) {
      const spec = specs[k] as AttributeSpec;
      if (o.mode === 'create' && !spec.allowPost) throw faults.badRequest(`Attribute '${k}' not allowed in POST`);
      if (o.mode === 'update' && !spec.allowPut) throw faults.badRequest(`Cannot update read-only attribute ${k}`);
      const r = spec.validate(value);
      if (!r.ok) throw faults.badRequest(`Invalid input for ${k}. Reason: ${r.reason}.`);
      out[k] = r.value;
    }
    if (o.mode === 'create') {
      const missing = Object.entries(specs).find(([k, s]) => s.required === true && !(k in out));
      if (missing !== undefined) throw faults.badRequest(`Failed to parse request. Required attribute '${missing[0]}' not specified`);
    }
    return out;
  });
}
