import ipaddr from 'ipaddr.js';
import type { AppliedTier } from '../agent/index.js';
import type {
  EndpointSummary,
  HostDetail,
  HostSummary,
  NetworkSummary,
  Overview,
  Paged,
  PolicyView,
  Session,
  SubnetUsage,
  TierView,
  VmDetail,
  VmEndpoint,
} from './api-types.js';
import type { EndpointEntry } from './console-records.js';
import type { ConsoleState } from './console-state.js';
import { ruleText, securityGroupOfPolicy } from './rule-text.js';
import { DEFAULT_AS } from './settings-plan.js';

export interface PageQuery {
  /** Case-insensitive text every listed item must contain (in any shown field). */
  readonly q?: string;
  /** 1-based. */
  readonly page?: number;
  readonly pageSize?: number;
}

export const DEFAULT_PAGE_SIZE = 50;
/** A dedicated reflector (no agent, so no agent report) counts as alive while its BGP status is this fresh (it is rewritten at least once a minute). */
export const STATUS_FRESH_MS = 150_000;
export const MAX_PAGE_SIZE = 500;

function paged<T>(items: readonly T[], q: PageQuery): Paged<T> {
  const pageSize = Math.min(Math.max(1, q.pageSize ?? DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE);
  const pages = Math.max(1, Math.ceil(items.length / pageSize));
  const page = Math.min(Math.max(1, q.page ?? 1), pages);
  return { items: items.slice((page - 1) * pageSize, page * pageSize), total: items.length, page, pageSize };
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
/** A test for a query's text, made once per request: true when any field contains it (any case). */
function matcher(q: string | undefined): (...fields: readonly string[]) => boolean {
  const needle = q?.trim().toLowerCase() ?? '';
  return needle === '' ? () => true : (...fields) => fields.some((f) => f.toLowerCase().includes(needle));
}

/** A host the cloud knows of: a Node, an agent report, or an endpoint bound to it. */
function isHost(s: ConsoleState, name: string): boolean {
  return name !== '' && (s.nodes.has(name) || s.hostReports.has(name) || s.endpointsByHost.has(name));
}

/** Every host the cloud knows of, by name. */
function hostNames(s: ConsoleState): string[] {
  const names = new Set<string>([...s.nodes.keys(), ...s.hostReports.keys()]);
  for (const h of s.endpointsByHost.keys()) if (h !== '') names.add(h);
  return [...names].sort(byText);
}

function sessionsOf(s: ConsoleState, host: string): Session[] {
  const st = s.nodeStatuses.get(host)?.status?.bgp;
  if (st === undefined) return [];
  const peerNames = peerNameIndex(s);
  const out: Session[] = [];
  for (const [family, peers] of [
    [4, st.peersV4 ?? []],
    [6, st.peersV6 ?? []],
  ] as const) {
    for (const p of peers) {
      const peerName = peerNames.get(p.peerIP);
      out.push({
        family,
        peerIP: p.peerIP,
        ...(peerName === undefined ? {} : { peerName }),
        type: p.type,
        state: p.state,
        ...(p.since === undefined ? {} : { since: p.since }),
        ...(p.info === undefined ? {} : { info: p.info }),
      });
    }
  }
  return out;
}

/** Address → the Node or BGPPeer it belongs to. */
function peerNameIndex(s: ConsoleState): Map<string, string> {
  const out = new Map<string, string>();
  for (const { resource: p } of s.bgpPeers.values()) if (p.spec.peerIP !== undefined) out.set(p.spec.peerIP, p.metadata.name);
  for (const { resource: n } of s.nodes.values()) {
    for (const a of [n.spec.bgp?.ipv4Address, n.spec.bgp?.ipv6Address]) if (a !== undefined) out.set(a.replace(/\/\d+$/, ''), n.metadata.name);
  }
  return out;
}

/**
 * Alive: the host's agent report exists (it lives on a lease of the report TTL). A dedicated
 * route reflector runs no agent: it is alive while its CalicoNodeStatus is fresh.
 */
export function isAlive(s: ConsoleState, name: string, now: number): boolean {
  if (s.hostReports.has(name)) return true;
  const reflector = (s.nodes.get(name)?.resource.spec.bgp?.routeReflectorClusterID ?? '') !== '';
  const updated = s.nodeStatuses.get(name)?.status?.lastUpdated;
  return reflector && updated !== undefined && now - Date.parse(updated) <= STATUS_FRESH_MS;
}

function endpointStatus(s: ConsoleState, host: string, workload: string, portId: string): string {
  return s.endpointStatus.get(`${host}/${workload}/${portId}`) ?? 'unknown';
}

export function hostSummary(s: ConsoleState, name: string, now: number): HostSummary {
  const node = s.nodes.get(name)?.resource;
  const report = s.hostReports.get(name);
  const bgp = s.nodeStatuses.get(name)?.status?.bgp;
  const eps = s.endpointsByHost.get(name) ?? new Set<string>();
  let up = 0;
  for (const id of eps) {
    const e = s.endpoints.get(id);
    if (e !== undefined && endpointStatus(s, e.host, e.workload, e.portId) === 'up') up++;
  }
  const established = (bgp?.numberEstablishedV4 ?? 0) + (bgp?.numberEstablishedV6 ?? 0);
  const globalAs = s.bgpConfigurations.get('default')?.resource.spec.asNumber;
  return {
    name,
    alive: isAlive(s, name, now),
    ...(report === undefined ? {} : { lastReport: report.time, ...(report.uptime === undefined ? {} : { uptimeSeconds: report.uptime }) }),
    addresses: [node?.spec.bgp?.ipv4Address, node?.spec.bgp?.ipv6Address].filter((a): a is string => a !== undefined),
    asNumber: String(node?.spec.bgp?.asNumber ?? globalAs ?? DEFAULT_AS),
    reflector: (node?.spec.bgp?.routeReflectorClusterID ?? '') !== '',
    sessionsEstablished: established,
    sessionsTotal: established + (bgp?.numberNotEstablishedV4 ?? 0) + (bgp?.numberNotEstablishedV6 ?? 0),
    endpoints: eps.size,
    endpointsUp: up,
  };
}

export function overview(s: ConsoleState, now: number): Overview {
  const hosts = hostNames(s);
  let established = 0;
  let down = 0;
  for (const st of s.nodeStatuses.values()) {
    const b = st.status?.bgp;
    established += (b?.numberEstablishedV4 ?? 0) + (b?.numberEstablishedV6 ?? 0);
    down += (b?.numberNotEstablishedV4 ?? 0) + (b?.numberNotEstablishedV6 ?? 0);
  }
  const up = s.endpointsUp;
  const bgp = s.bgpConfigurations.get('default')?.resource.spec;
  let reflectors = 0;
  for (const { resource: n } of s.nodes.values()) if ((n.spec.bgp?.routeReflectorClusterID ?? '') !== '') reflectors++;
  return {
    hosts: hosts.length,
    hostsAlive: hosts.filter((h) => isAlive(s, h, now)).length,
    endpoints: s.endpoints.size,
    endpointsUp: up,
    networks: s.networks.size,
    sessionsEstablished: established,
    sessionsDown: down,
    asNumber: String(bgp?.asNumber ?? DEFAULT_AS),
    mesh: bgp?.nodeToNodeMeshEnabled ?? true,
    reflectors,
    invalid: [...s.invalid].slice(0, 20).map(([key, problem]) => ({ key, problem })),
    revision: s.revision,
  };
}

export function hostsPage(s: ConsoleState, q: PageQuery & { readonly state?: 'alive' | 'dead' }, now: number): Paged<HostSummary> {
  const matches = matcher(q.q);
  const names = hostNames(s).filter((n) => matches(n) && (q.state === undefined || isAlive(s, n, now) === (q.state === 'alive')));
  const page = paged(names, q);
  return { ...page, items: page.items.map((n) => hostSummary(s, n, now)) };
}

function endpointSummary(s: ConsoleState, id: string): EndpointSummary | undefined {
  const e = s.endpoints.get(id);
  if (e === undefined) return undefined;
  const port = s.ports.get(e.portId);
  return {
    id: e.id,
    name: e.name,
    host: e.host,
    workload: e.workload,
    portId: e.portId,
    portName: port?.name ?? '',
    networkName: port === undefined ? '' : (s.networks.get(port.network_id)?.name ?? ''),
    ips: [...e.ips],
    floatingIps: e.floatingIps.map((f) => f.external),
    status: endpointStatus(s, e.host, e.workload, e.portId),
  };
}

function endpointList(s: ConsoleState, ids: Iterable<string>, q: PageQuery): Paged<EndpointSummary> {
  // Matched and sorted on the stored entries; only the page's items become summaries.
  const matches = matcher(q.q);
  const hits: EndpointEntry[] = [];
  for (const id of ids) {
    const e = s.endpoints.get(id);
    if (e === undefined) continue;
    if (q.q !== undefined && q.q.trim() !== '') {
      const port = s.ports.get(e.portId);
      const network = port === undefined ? '' : (s.networks.get(port.network_id)?.name ?? '');
      if (!matches(e.name, e.workload, e.portId, port?.name ?? '', e.host, network, ...e.ips, ...e.floatingIps.map((f) => f.external))) continue;
    }
    hits.push(e);
  }
  hits.sort((a, b) => byText(a.host, b.host) || byText(a.workload, b.workload) || byText(a.name, b.name));
  const page = paged(hits, q);
  return { ...page, items: page.items.map((e) => endpointSummary(s, e.id)).filter((x) => x !== undefined) };
}

export function endpointsPage(s: ConsoleState, q: PageQuery): Paged<EndpointSummary> {
  return endpointList(s, s.endpoints.keys(), q);
}

export function hostDetail(s: ConsoleState, name: string, q: PageQuery, now: number): HostDetail | undefined {
  if (!isHost(s, name)) return undefined;
  const st = s.nodeStatuses.get(name)?.status;
  const v4 = st?.agent?.birdV4;
  const v6 = st?.agent?.birdV6;
  const configError = v4?.lastConfigError ?? v6?.lastConfigError;
  return {
    host: hostSummary(s, name, now),
    birdReady: { ...(v4 === undefined ? {} : { v4: v4.state }), ...(v6 === undefined ? {} : { v6: v6.state }) },
    ...(configError === undefined ? {} : { configError }),
    ...(st?.lastUpdated === undefined ? {} : { statusUpdated: st.lastUpdated }),
    sessions: sessionsOf(s, name),
    endpoints: endpointList(s, s.endpointsByHost.get(name) ?? [], q),
  };
}

/** Addresses in a subnet's allocation pools. */
function poolSize(pools: readonly { start: string; end: string }[]): bigint {
  let n = 0n;
  const big = (a: string): bigint =>
    ipaddr
      .parse(a)
      .toByteArray()
      .reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
  for (const p of pools) {
    try {
      n += big(p.end) - big(p.start) + 1n;
    } catch {
      // A pool that does not parse counts for nothing.
    }
  }
  return n;
}

export function networksPage(s: ConsoleState, q: PageQuery): Paged<NetworkSummary> {
  const ports = s.portsPerNetwork;
  const matches = matcher(q.q);
  const nets = [...s.networks.values()]
    .filter((n) => matches(n.name, n.id, ...n.subnets.map((id) => s.subnets.get(id)?.cidr ?? '')))
    .sort((a, b) => byText(a.name, b.name) || byText(a.id, b.id));
  const page = paged(nets, q);
  return {
    ...page,
    items: page.items.map((n) => ({
      id: n.id,
      name: n.name,
      project: n.project_id,
      shared: n.shared,
      external: n['router:external'],
      ports: ports.get(n.id) ?? 0,
      subnets: n.subnets
        .map((id) => s.subnets.get(id))
        .filter((x) => x !== undefined)
        .map((sub): SubnetUsage => {
          const used = s.addressesInUse.get(sub.id) ?? 0;
          const size = poolSize(sub.allocation_pools);
          return {
            id: sub.id,
            name: sub.name,
            cidr: sub.cidr,
            ipVersion: sub.ip_version,
            gateway: sub.gateway_ip,
            used,
            size: size.toString(),
            percent: size === 0n ? 0 : Math.min(100, Number((BigInt(used) * 10_000n) / size) / 100),
          };
        }),
    })),
  };
}

/**
 * A VM's page: each of its endpoints with host, addresses, floating IPs, security groups and
 * the policies that apply in order (`tiersOf` runs the agent's resolver over the endpoint).
 */
export function vmDetail(s: ConsoleState, workload: string, tiersOf: (endpointId: string) => readonly AppliedTier[]): VmDetail | undefined {
  const ids = [...(s.endpointsByWorkload.get(workload) ?? [])].sort(byText);
  if (ids.length === 0) return undefined;
  const groupName = (id: string): string | undefined => s.securityGroups.get(id)?.name;
  const endpoints: VmEndpoint[] = [];
  for (const id of ids) {
    const e = s.endpoints.get(id);
    const summary = endpointSummary(s, id);
    if (e === undefined || summary === undefined) continue;
    const port = s.ports.get(e.portId);
    const policyView = (p: AppliedTier['ingress'][number]): PolicyView => {
      const sg = securityGroupOfPolicy(p.name);
      const sgName = sg === undefined ? undefined : (groupName(sg) ?? sg);
      return {
        kind: p.kind,
        name: p.name,
        ...(p.namespace === undefined ? {} : { namespace: p.namespace }),
        ...(p.order === undefined ? {} : { order: p.order }),
        ...(sgName === undefined ? {} : { securityGroup: sgName }),
        rules: p.rules.map((r) => ruleText(r, groupName)),
      };
    };
    const tiers: TierView[] = tiersOf(id).map((t) => ({ name: t.name, ingress: t.ingress.map(policyView), egress: t.egress.map(policyView) }));
    endpoints.push({
      ...summary,
      iface: e.iface,
      mac: e.mac,
      securityGroups: (port?.security_groups ?? []).map((g) => ({ id: g, name: groupName(g) ?? g })),
      profiles: [...e.profiles],
      tiers,
    });
  }
  return { workload, hosts: [...new Set(endpoints.map((e) => e.host))].sort(byText), endpoints };
}
