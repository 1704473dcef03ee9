import type { z } from 'zod';
import { InvalidStoredValueError, type KeyValue, type KvStore } from '../../datastore/index.js';
import {
  floatingIpRecordSchema,
  routerRecordSchema,
  type FloatingIpRecord,
  type RouterRecord,
  networkRecordSchema,
  portRecordSchema,
  securityGroupRecordSchema,
  securityGroupRuleRecordSchema,
  subnetRecordSchema,
  type NetworkRecord,
  type PortRecord,
  type SecurityGroupRecord,
  type SecurityGroupRuleRecord,
  type SubnetRecord,
} from '../records.js';
import type { NeutronCache } from './neutron-cache.js';
import { collectionPrefix, defaultSgKey, ipPrefix, NEUTRON_CHANGE_KEY, objectKey, type NeutronCollection } from './neutron-keys.js';

/** How long a request waits for the cache to reach the last change before reading the datastore instead. */
const SYNC_TIMEOUT_MS = 1_000;

/** A stored record with the mod revision it was read at (for compare-and-swap writes). */
export interface Stored<T> {
  readonly record: T;
  readonly modRevision: number;
  /** The revision that created it: orders records by creation (timestamps are in seconds). */
  readonly createRevision: number;
}

export interface RecordTypes {
  networks: NetworkRecord;
  subnets: SubnetRecord;
  ports: PortRecord;
  'security-groups': SecurityGroupRecord;
  'security-group-rules': SecurityGroupRuleRecord;
  routers: RouterRecord;
  floatingips: FloatingIpRecord;
}

const SCHEMAS: { [C in NeutronCollection]: z.ZodType<RecordTypes[C]> } = {
  networks: networkRecordSchema,
  subnets: subnetRecordSchema,
  ports: portRecordSchema,
  'security-groups': securityGroupRecordSchema,
  'security-group-rules': securityGroupRuleRecordSchema,
  routers: routerRecordSchema,
  floatingips: floatingIpRecordSchema,
};

function decode<C extends NeutronCollection>(c: C, kv: KeyValue): Stored<RecordTypes[C]> {
  let value: unknown;
  try {
    value = JSON.parse(kv.value);
  } catch (err) {
    throw new InvalidStoredValueError(kv.key, 'not JSON', err);
  }
  const r = SCHEMAS[c].safeParse(value);
  if (!r.success) throw new InvalidStoredValueError(kv.key, r.error.issues[0]?.message ?? 'invalid record');
  return { record: r.data, modRevision: kv.modRevision, createRevision: kv.createRevision };
}

/**
 * Typed reads of Neutron's objects; writes go through transactions built by the handlers. With
 * a cache that is ready, reads come from it (each stored value decoded once); a key the cache
 * does not have is read from the datastore (another server may have just written it), and a
 * stale hit is caught by the compare of the write that follows (its retry reads again).
 */
export class NeutronStore {
  readonly kv: KvStore;
  readonly #cache: NeutronCache | undefined;
  /** Decoded records of the cache's entries, dropped with the entry. */
  readonly #decoded = new WeakMap<KeyValue, Stored<unknown>>();
  /** The cache fell behind at the last sync: read the datastore until it catches up. */
  #bypass = false;

  get #usable(): NeutronCache | undefined {
    const cache = this.#cache;
    return cache?.ready === true && !this.#bypass ? cache : undefined;
  }

  constructor(kv: KvStore, cache?: NeutronCache) {
    this.kv = kv;
    this.#cache = cache;
  }

  /**
   * Brings the cache up to the last change to Neutron's objects by any server (one read of
   * NEUTRON_CHANGE_KEY), so what this request reads next is at least as new as what any client
   * was told before it arrived. Called once per API request. A cache that does not catch up in
   * time is bypassed: reads go to the datastore.
   */
  async sync(): Promise<void> {
    const cache = this.#cache;
    if (cache?.ready !== true) return;
    const mark = await this.kv.get(NEUTRON_CHANGE_KEY);
    // Caught up (again): a bypass set by an earlier sync that timed out ends here too.
    this.#bypass = mark !== undefined && cache.revision < mark.modRevision && !(await cache.reach(mark.modRevision, SYNC_TIMEOUT_MS));
  }

  #decode<C extends NeutronCollection>(c: C, kv: KeyValue): Stored<RecordTypes[C]> {
    const hit = this.#decoded.get(kv) as Stored<RecordTypes[C]> | undefined;
    if (hit !== undefined) return hit;
    const stored = decode(c, kv);
    this.#decoded.set(kv, stored);
    return stored;
  }

  async get<C extends NeutronCollection>(c: C, id: string): Promise<Stored<RecordTypes[C]> | undefined> {
    if (id === '' || id.includes('/')) return undefined;
    const cached = this.#usable?.get(c, id);
    if (cached !== undefined) return this.#decode(c, cached);
    const kv = await this.kv.get(objectKey(c, id));
    return kv === undefined ? undefined : decode(c, kv);
  }

  /** The id of a project's default security group, if it has one. */
  async defaultSecurityGroup(project: string): Promise<string | undefined> {
    if (project === '' || project.includes('/')) return undefined;
    const cached = this.#usable?.get('default-security-groups', project);
    return (cached ?? (await this.kv.get(defaultSgKey(project))))?.value;
  }

  async list<C extends NeutronCollection>(c: C): Promise<{ items: RecordTypes[C][]; revision: number }> {
    const cache = this.#usable;
    if (cache !== undefined) {
      // In key order, as the datastore lists.
      return { items: cache.sortedValues(c).map((kv) => this.#decode(c, kv).record), revision: cache.revision };
    }
    const { items, revision } = await this.kv.list(collectionPrefix(c));
    return { items: items.map((kv) => decode(c, kv).record), revision };
  }

  /**
   * The records of a collection whose `attribute` is one of `values` (for `fixed_ips`: one of
   * whose addresses is), from the cache's index, in key order; undefined without a usable cache
   * (the caller then filters the whole list).
   */
  listWhere<C extends NeutronCollection>(c: C, attribute: string, values: readonly string[]): RecordTypes[C][] | undefined {
    const cache = this.#usable;
    if (cache === undefined) return undefined;
    const ids = new Set<string>();
    for (const v of values) for (const id of cache.idsWhere(c, attribute, v)) ids.add(id);
    const out: RecordTypes[C][] = [];
    for (const id of [...ids].sort()) {
      const kv = cache.get(c, id);
      if (kv !== undefined) out.push(this.#decode(c, kv).record);
    }
    return out;
  }

  /** Like list, with revisions, in creation order. */
  async listInCreationOrder<C extends NeutronCollection>(c: C): Promise<Stored<RecordTypes[C]>[]> {
    const cache = this.#usable;
    const items = cache !== undefined ? cache.values(c) : (await this.kv.list(collectionPrefix(c))).items;
    return items.map((kv) => this.#decode(c, kv)).sort((a, b) => a.createRevision - b.createRevision);
  }

  /**
   * The addresses allocated in a subnet as the cache knows them (address → port id), without
   * I/O; undefined without a usable cache. For picking a free address: the create-only address
   * key still decides, so an allocation the cache has not seen yet only costs a retry.
   */
  cachedAllocations(subnetId: string): { has(ip: string): boolean; owner(ip: string): string | undefined; readonly size: number } | undefined {
    const cache = this.#usable;
    if (cache === undefined) return undefined;
    const entries = cache.allocations(subnetId);
    return { has: (ip) => entries.has(ip), owner: (ip) => entries.get(ip)?.value, size: entries.size };
  }

  /** The IPs allocated in a subnet, read from the datastore (linearizable: for checks such as a subnet's deletion). */
  async allocatedIps(subnetId: string): Promise<Map<string, string>> {
    const { items } = await this.kv.list(ipPrefix(subnetId));
    const prefix = ipPrefix(subnetId);
    return new Map(items.map((kv) => [kv.key.slice(prefix.length), kv.value]));
  }

  async getMany<C extends NeutronCollection>(c: C, ids: readonly string[]): Promise<Map<string, Stored<RecordTypes[C]>>> {
    const found = await Promise.all(ids.map((id) => this.get(c, id)));
    const out = new Map<string, Stored<RecordTypes[C]>>();
    ids.forEach((id, i) => {
      const s = found[i];
      if (s !== undefined) out.set(id, s);
    });
    return out;
  }
}

export function encodeRecord(record: object): string {
  return JSON.stringify(record);
}
