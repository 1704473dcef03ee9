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
import { collectionPrefix, ipPrefix, objectKey, type NeutronCollection } from './neutron-keys.js';

/** A stored record with the mod revision it was read at (for compare-and-swap writes). */
export interface Stored<T> {
  readonly record: T;
  readonly modRevision: number;
  /** The revision that created it: orders records by creation (timestamps are in seconds). */
  readonly createRevision: number;
}

interface RecordTypes {
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

/** Typed reads of Neutron's objects; writes go through transactions built by the handlers. */
export class NeutronStore {
  readonly kv: KvStore;

  constructor(kv: KvStore) {
    this.kv = kv;
  }

  async get<C extends NeutronCollection>(c: C, id: string): Promise<Stored<RecordTypes[C]> | undefined> {
    if (id === '' || id.includes('/')) return undefined;
    const kv = await this.kv.get(objectKey(c, id));
    return kv === undefined ? undefined : decode(c, kv);
  }

  async list<C extends NeutronCollection>(c: C): Promise<{ items: RecordTypes[C][]; revision: number }> {
    const { items, revision } = await this.kv.list(collectionPrefix(c));
    return { items: items.map((kv) => decode(c, kv).record), revision };
  }

  /** Like list, with revisions, in creation order. */
  async listInCreationOrder<C extends NeutronCollection>(c: C): Promise<Stored<RecordTypes[C]>[]> {
    const { items } = await this.kv.list(collectionPrefix(c));
    return items.map((kv) => decode(c, kv)).sort((a, b) => a.createRevision - b.createRevision);
  }

  /** The IPs allocated in a subnet (to pick a free one). */
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
