import type { SyncUpdate } from '../datastore/index.js';
import {
  felixHostPrefix,
  parseFelixStatusKey,
  parseResourceKey,
  resourcePrefix,
  validateResource,
  type BGPConfiguration,
  type BGPPeer,
  type CalicoNode,
  type CalicoNodeStatus,
  type FelixConfiguration,
  type IPPool,
} from '../model/index.js';
import { collectionPrefix } from '../neutron/index.js';
import {
  endpointSchema,
  floatingIpSchema,
  hostReportSchema,
  networkSchema,
  portSchema,
  securityGroupSchema,
  subnetSchema,
  type EndpointEntry,
  type FloatingIpEntry,
  type HostReport,
  type NetworkEntry,
  type PortEntry,
  type SecurityGroupEntry,
  type SubnetEntry,
} from './console-records.js';

/** What a change touched, so only the pages showing it are told (server-sent events). */
export type Topic = 'hosts' | 'endpoints' | 'networks' | 'settings' | 'policies';

/** A stored resource with the mod revision it was read at (its resourceVersion). */
export interface Versioned<T> {
  readonly resource: T;
  readonly revision: number;
}

const SETTINGS_KINDS = ['BGPConfiguration', 'BGPPeer', 'IPPool', 'FelixConfiguration'] as const;

/** The datastore prefixes the console follows (the agents' status keys of `regionStr`: `no-region` or `region-<r>`). */
export function consolePrefixes(regionStr: string): string[] {
  return [
    ...['Node', 'CalicoNodeStatus', ...SETTINGS_KINDS, 'WorkloadEndpoint', 'NetworkPolicy', 'GlobalNetworkPolicy'].map((k) => resourcePrefix(k)),
    felixHostPrefix(regionStr),
    ...(['networks', 'subnets', 'ports', 'security-groups', 'floatingips'] as const).map((c) => collectionPrefix(c)),
  ];
}

function parseJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

/** Adds `delta` to a counter kept per key, dropping it at zero. */
function bump(map: Map<string, number>, key: string, delta: number): void {
  const n = (map.get(key) ?? 0) + delta;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
}

/**
 * The console's picture of the cloud, fed by the datastore syncer: Calico's nodes, statuses,
 * settings resources, endpoints and policies, the agents' host reports and endpoint statuses,
 * and Neutron's networks, subnets, ports, groups and floating IPs. Each update says which
 * topics it touched. Counters a list needs (endpoints per host, addresses per subnet) are kept
 * up to date here, so no request walks every endpoint. Pure (no I/O, no clock).
 */
export class ConsoleState {
  readonly nodes = new Map<string, Versioned<CalicoNode>>();
  readonly nodeStatuses = new Map<string, CalicoNodeStatus>();
  readonly bgpConfigurations = new Map<string, Versioned<BGPConfiguration>>();
  readonly bgpPeers = new Map<string, Versioned<BGPPeer>>();
  readonly ipPools = new Map<string, Versioned<IPPool>>();
  readonly felixConfigurations = new Map<string, Versioned<FelixConfiguration>>();
  /** Policies: datastore key → stored JSON (the VM page runs the agent's resolver over them). */
  readonly policies = new Map<string, string>();
  readonly hostReports = new Map<string, HostReport>();
  /** Endpoint status per `host/workload/endpoint` (the port id): up, down or error. */
  readonly endpointStatus = new Map<string, string>();
  readonly endpoints = new Map<string, EndpointEntry>();
  /** Endpoint ids per host, and per VM. */
  readonly endpointsByHost = new Map<string, Set<string>>();
  readonly endpointsByWorkload = new Map<string, Set<string>>();
  readonly networks = new Map<string, NetworkEntry>();
  readonly subnets = new Map<string, SubnetEntry>();
  readonly ports = new Map<string, PortEntry>();
  readonly securityGroups = new Map<string, SecurityGroupEntry>();
  readonly floatingIps = new Map<string, FloatingIpEntry>();
  /** Fixed IPs in use per subnet, and ports per network (from the ports). */
  readonly addressesInUse = new Map<string, number>();
  readonly portsPerNetwork = new Map<string, number>();
  /** Endpoint status keys that say `up`. */
  #up = 0;
  /** Values that did not decode, by key (shown on the overview, never fatal). */
  readonly invalid = new Map<string, string>();
  #revision = 0;
  readonly #region: string;
  /** Where each settings kind (and Node) is kept. */
  readonly #byKind: Readonly<Record<string, Map<string, unknown>>> = {
    Node: this.nodes,
    BGPConfiguration: this.bgpConfigurations,
    BGPPeer: this.bgpPeers,
    IPPool: this.ipPools,
    FelixConfiguration: this.felixConfigurations,
  };

  /** `regionStr`: whose agents' status keys count (`no-region`, or `region-<r>` as `brindle node --region r` writes). */
  constructor(regionStr = 'no-region') {
    this.#region = regionStr;
  }

  /** How many endpoint statuses say `up`. */
  get endpointsUp(): number {
    return this.#up;
  }

  /** The datastore revision of the last update applied. */
  get revision(): number {
    return this.#revision;
  }

  apply(updates: readonly SyncUpdate[]): Set<Topic> {
    const topics = new Set<Topic>();
    for (const u of updates) {
      if (u.revision > this.#revision) this.#revision = u.revision;
      const topic = this.#applyOne(u);
      if (topic !== undefined) topics.add(topic);
    }
    return topics;
  }

  #applyOne(u: SyncUpdate): Topic | undefined {
    this.invalid.delete(u.key);
    const status = parseFelixStatusKey(this.#region, u.key);
    if (status !== undefined) return this.#applyStatus(u, status);
    const id = parseResourceKey(u.key);
    if (id !== undefined) return this.#applyResource(u, id.kind, id.namespace === undefined ? id.name : `${id.namespace}/${id.name}`);
    for (const [collection, fn] of this.#neutron) if (u.key.startsWith(collection)) return fn(u);
    return undefined;
  }

  #applyStatus(u: SyncUpdate, status: NonNullable<ReturnType<typeof parseFelixStatusKey>>): Topic {
    if (status.type === 'host') {
      const report = u.value === undefined ? undefined : hostReportSchema.safeParse(parseJson(u.value));
      if (report?.success === true) this.hostReports.set(status.host, report.data);
      else {
        this.hostReports.delete(status.host);
        if (report !== undefined) this.invalid.set(u.key, 'not a host status report');
      }
      return 'hosts';
    }
    const key = `${status.host}/${status.workload}/${status.endpoint}`;
    const parsed = u.value === undefined ? undefined : (parseJson(u.value) as { status?: unknown } | undefined);
    if (this.endpointStatus.get(key) === 'up') this.#up--;
    if (typeof parsed?.status === 'string') this.endpointStatus.set(key, parsed.status);
    else this.endpointStatus.delete(key);
    if (this.endpointStatus.get(key) === 'up') this.#up++;
    return 'endpoints';
  }

  #applyResource(u: SyncUpdate, kind: string, id: string): Topic | undefined {
    if (kind === 'WorkloadEndpoint') return this.#applyEndpoint(u, id);
    if (kind === 'NetworkPolicy' || kind === 'GlobalNetworkPolicy') {
      if (u.value === undefined) this.policies.delete(u.key);
      else this.policies.set(u.key, u.value);
      return 'policies';
    }
    const resource = u.value === undefined ? undefined : this.#decode(u);
    if (kind === 'CalicoNodeStatus') {
      if (resource === undefined) this.nodeStatuses.delete(id);
      else this.nodeStatuses.set(id, resource as CalicoNodeStatus);
      return 'hosts';
    }
    const map = this.#byKind[kind];
    if (map === undefined) return undefined;
    if (resource === undefined) map.delete(id);
    else map.set(id, { resource, revision: u.revision });
    return kind === 'Node' ? 'hosts' : 'settings';
  }

  #decode(u: SyncUpdate): unknown {
    try {
      return validateResource(parseJson(u.value ?? ''));
    } catch (err) {
      this.invalid.set(u.key, err instanceof Error ? err.message : String(err));
      return undefined;
    }
  }

  #applyEndpoint(u: SyncUpdate, id: string): Topic {
    const old = this.endpoints.get(id);
    if (old !== undefined) {
      this.endpoints.delete(id);
      this.endpointsByHost.get(old.host)?.delete(id);
      this.endpointsByWorkload.get(old.workload)?.delete(id);
      if (this.endpointsByHost.get(old.host)?.size === 0) this.endpointsByHost.delete(old.host);
      if (this.endpointsByWorkload.get(old.workload)?.size === 0) this.endpointsByWorkload.delete(old.workload);
    }
    if (u.value === undefined) return 'endpoints';
    const parsed = endpointSchema.safeParse(parseJson(u.value));
    if (!parsed.success) {
      this.invalid.set(u.key, 'not a WorkloadEndpoint');
      return 'endpoints';
    }
    const { metadata: m, spec: s } = parsed.data;
    const entry: EndpointEntry = {
      id,
      namespace: m.namespace,
      name: m.name,
      host: s.node ?? '',
      workload: s.workload ?? '',
      portId: s.endpoint ?? '',
      iface: s.interfaceName ?? '',
      mac: s.mac ?? '',
      ips: (s.ipNetworks ?? []).map((n) => n.replace(/\/(32|128)$/, '')),
      floatingIps: (s.ipNATs ?? []).map((n) => ({ internal: n.internalIP, external: n.externalIP })),
      profiles: s.profiles ?? [],
    };
    this.endpoints.set(id, entry);
    const add = (map: Map<string, Set<string>>, k: string): void => {
      let set = map.get(k);
      if (set === undefined) map.set(k, (set = new Set()));
      set.add(id);
    };
    add(this.endpointsByHost, entry.host);
    add(this.endpointsByWorkload, entry.workload);
    return 'endpoints';
  }

  readonly #neutron: [string, (u: SyncUpdate) => Topic][] = [
    [collectionPrefix('networks'), (u) => this.#record(u, networkSchema, this.networks, 'networks')],
    [collectionPrefix('subnets'), (u) => this.#record(u, subnetSchema, this.subnets, 'networks')],
    [collectionPrefix('security-groups'), (u) => this.#record(u, securityGroupSchema, this.securityGroups, 'policies')],
    [collectionPrefix('floatingips'), (u) => this.#record(u, floatingIpSchema, this.floatingIps, 'endpoints')],
    [
      collectionPrefix('ports'),
      (u) => {
        const id = u.key.slice(collectionPrefix('ports').length);
        const count = (port: PortEntry | undefined, delta: number): void => {
          if (port === undefined) return;
          bump(this.portsPerNetwork, port.network_id, delta);
          for (const f of port.fixed_ips) bump(this.addressesInUse, f.subnet_id, delta);
        };
        count(this.ports.get(id), -1);
        const topic = this.#record(u, portSchema, this.ports, 'networks');
        count(this.ports.get(id), 1);
        return topic;
      },
    ],
  ];

  #record<T extends { id: string }>(
    u: SyncUpdate,
    schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } },
    map: Map<string, T>,
    topic: Topic,
  ): Topic {
    const id = u.key.slice(u.key.lastIndexOf('/') + 1);
    if (u.value === undefined) {
      map.delete(id);
      return topic;
    }
    const parsed = schema.safeParse(parseJson(u.value));
    if (parsed.success) map.set(id, parsed.data);
    else {
      map.delete(id);
      this.invalid.set(u.key, 'not a Neutron record of its collection');
    }
    return topic;
  }
}
