import { InvalidNameError } from './errors.js';
import { kindByPlural, kindInfo, type KindInfo } from './kinds.js';

/** Datastore key layout, exactly as Calico and networking-calico use it (reference §1.4). */
export const RESOURCE_ROOT = '/calico/resources/v3/projectcalico.org/';

export interface ResourceId {
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
}

function checkSegment(what: string, value: string): string {
  if (value === '' || value.includes('/')) throw new InvalidNameError(what, value, 'must be non-empty and contain no "/"');
  return value;
}

/** `/calico/resources/v3/projectcalico.org/<plural>[/<namespace>]/<name>` */
export function resourceKey(id: ResourceId): string {
  const info = kindInfo(id.kind);
  const name = checkSegment('name', id.name);
  if (info.namespaced) {
    if (id.namespace === undefined) throw new InvalidNameError('namespace', '', `${info.kind} is namespaced`);
    return `${RESOURCE_ROOT}${info.plural}/${checkSegment('namespace', id.namespace)}/${name}`;
  }
  return `${RESOURCE_ROOT}${info.plural}/${name}`;
}

/** The prefix holding every resource of a kind (in one namespace if given), ending in `/`. */
export function resourcePrefix(kind: string | KindInfo, namespace?: string): string {
  const info = typeof kind === 'string' ? kindInfo(kind) : kind;
  if (info.namespaced && namespace !== undefined) {
    return `${RESOURCE_ROOT}${info.plural}/${checkSegment('namespace', namespace)}/`;
  }
  return `${RESOURCE_ROOT}${info.plural}/`;
}

/** The inverse of resourceKey; undefined for keys outside the v3 resource tree. */
export function parseResourceKey(key: string): (ResourceId & { info: KindInfo }) | undefined {
  if (!key.startsWith(RESOURCE_ROOT)) return undefined;
  const parts = key.slice(RESOURCE_ROOT.length).split('/');
  const info = parts[0] === undefined ? undefined : kindByPlural(parts[0]);
  if (info === undefined) return undefined;
  if (info.namespaced) {
    const [, namespace, name] = parts;
    if (parts.length !== 3 || !namespace || !name) return undefined;
    return { kind: info.kind, namespace, name, info };
  }
  const [, name] = parts;
  if (parts.length !== 2 || !name) return undefined;
  return { kind: info.kind, name, info };
}

// ---- networking-calico's private keys (region string is `no-region` or `region-<r>`) ----

export function dhcpSubnetPrefix(regionStr: string): string {
  return `/calico/dhcp/v2/${regionStr}/subnet/`;
}
export function dhcpSubnetKey(regionStr: string, subnetId: string): string {
  return dhcpSubnetPrefix(regionStr) + checkSegment('subnet id', subnetId);
}
export const LEGACY_DHCP_SUBNET_PREFIX = '/calico/dhcp/v1/subnet/';

export function felixHostPrefix(regionStr: string): string {
  return `/calico/felix/v2/${regionStr}/host/`;
}
export function felixHostStatusKey(regionStr: string, host: string): string {
  return `${felixHostPrefix(regionStr)}${checkSegment('host', host)}/status`;
}

/** Workload ids in status keys have `/` escaped as `%2f` (libcalico-go `escapeName`). */
function escapeWorkload(id: string): string {
  return id.replaceAll('/', '%2f');
}

export function felixEndpointStatusKey(regionStr: string, ids: { host: string; orchestrator?: string; workload: string; endpoint: string }): string {
  const orch = ids.orchestrator ?? 'openstack';
  return `${felixHostPrefix(regionStr)}${checkSegment('host', ids.host)}/workload/${orch}/${escapeWorkload(ids.workload)}/endpoint/${checkSegment('endpoint', ids.endpoint)}`;
}

export type FelixStatusKey =
  | { readonly type: 'host'; readonly host: string }
  | { readonly type: 'endpoint'; readonly host: string; readonly orchestrator: string; readonly workload: string; readonly endpoint: string };

/** Parses a key under felixHostPrefix into what it reports on; undefined for anything else. */
export function parseFelixStatusKey(regionStr: string, key: string): FelixStatusKey | undefined {
  const prefix = felixHostPrefix(regionStr);
  if (!key.startsWith(prefix)) return undefined;
  const parts = key.slice(prefix.length).split('/');
  if (parts.length === 2 && parts[1] === 'status' && parts[0]) return { type: 'host', host: parts[0] };
  if (parts.length === 6 && parts[1] === 'workload' && parts[4] === 'endpoint') {
    const [host, , orchestrator, workload, , endpoint] = parts as [string, string, string, string, string, string];
    return { type: 'endpoint', host, orchestrator, workload: workload.replaceAll('%2f', '/'), endpoint };
  }
  return undefined;
}

export function roundTripKey(regionStr: string): string {
  return `${felixHostPrefix(regionStr)}round-trip-check`;
}
export function electionKey(regionStr: string): string {
  return `/calico/openstack/v2/${regionStr}/neutron_election`;
}
export const LEGACY_ELECTION_KEY = '/calico/openstack/v1/neutron_election';
export const COMPACTION_TRIGGER_KEY = '/calico/compaction/v1/trigger';
export const COMPACTION_LAST_KEY = '/calico/compaction/v1/last';
