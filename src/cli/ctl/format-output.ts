import { stringify as toYaml } from 'yaml';
import type { CalicoResource, KindInfo } from '../../model/index.js';

export type OutputFormat = 'ps' | 'wide' | 'yaml' | 'json';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['ps', 'wide', 'yaml', 'json'];

type Row = Record<string, string>;
type Columns = (r: CalicoResource) => Row;

function str(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) return v.map(str).join(',');
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** Columns per kind, like calicoctl's default (`ps`) and `wide` tables. */
const COLUMNS: Record<string, { ps: Columns; wide: Columns }> = {
  WorkloadEndpoint: {
    ps: (r) => {
      const s = r.spec as Record<string, unknown>;
      return { WORKLOAD: str(s['workload']), NODE: str(s['node']), NETWORKS: str(s['ipNetworks']), INTERFACE: str(s['interfaceName']) };
    },
    wide: (r) => {
      const s = r.spec as Record<string, unknown>;
      const nats = (s['ipNATs'] as { internalIP: string; externalIP: string }[] | undefined)?.map((n) => `${n.internalIP}->${n.externalIP}`);
      return { MAC: str(s['mac']), PROFILES: str(s['profiles']), NATS: str(nats), LABELS: Object.keys(r.metadata.labels ?? {}).length.toString() };
    },
  },
  NetworkPolicy: policyColumns(),
  GlobalNetworkPolicy: policyColumns(),
  Profile: {
    ps: () => ({}),
    wide: (r) => ({ LABELS: str(Object.entries((r.spec as { labelsToApply?: Record<string, string> }).labelsToApply ?? {}).map(([k, v]) => `${k}=${v}`)) }),
  },
  HostEndpoint: {
    ps: (r) => ({ NODE: str((r.spec as { node?: string }).node) }),
    wide: (r) => {
      const s = r.spec as { interfaceName?: string; expectedIPs?: string[]; profiles?: string[] };
      return { INTERFACE: str(s.interfaceName), IPS: str(s.expectedIPs), PROFILES: str(s.profiles) };
    },
  },
  IPPool: {
    ps: (r) => ({ CIDR: str((r.spec as { cidr: string }).cidr), SELECTOR: str((r.spec as { nodeSelector?: string }).nodeSelector ?? 'all()') }),
    wide: (r) => {
      const s = r.spec as { ipipMode?: string; vxlanMode?: string; natOutgoing?: boolean; disabled?: boolean };
      return { IPIP: str(s.ipipMode ?? 'Never'), VXLAN: str(s.vxlanMode ?? 'Never'), NAT: str(s.natOutgoing ?? false), DISABLED: str(s.disabled ?? false) };
    },
  },
  Node: {
    ps: () => ({}),
    wide: (r) => {
      const b = (r.spec as { bgp?: { asNumber?: unknown; ipv4Address?: string; ipv6Address?: string } }).bgp;
      return { ASN: str(b?.asNumber ?? '(global)'), IPV4: str(b?.ipv4Address), IPV6: str(b?.ipv6Address) };
    },
  },
  BGPPeer: {
    ps: (r) => {
      const s = r.spec as { peerIP?: string; node?: string; nodeSelector?: string; asNumber?: unknown };
      return { PEERIP: str(s.peerIP), NODE: str(s.node ?? s.nodeSelector ?? '(global)'), ASN: str(s.asNumber) };
    },
    wide: () => ({}),
  },
  BGPConfiguration: {
    ps: (r) => {
      const s = r.spec as { logSeverityScreen?: string; nodeToNodeMeshEnabled?: boolean; asNumber?: unknown };
      return { LOGSEVERITY: str(s.logSeverityScreen ?? 'Info'), MESHENABLED: str(s.nodeToNodeMeshEnabled ?? true), ASNUMBER: str(s.asNumber ?? 64512) };
    },
    wide: () => ({}),
  },
  CalicoNodeStatus: {
    ps: (r) => {
      const s = r.spec as { node?: string; classes?: string[] };
      return { NODE: str(s.node), CLASSES: str(s.classes) };
    },
    wide: (r) => ({ UPDATED: str((r as { status?: { lastUpdated?: string } }).status?.lastUpdated) }),
  },
};

function policyColumns(): { ps: Columns; wide: Columns } {
  return {
    ps: () => ({}),
    wide: (r) => {
      const s = r.spec as { order?: number; selector?: string; types?: string[] };
      return { ORDER: str(s.order), SELECTOR: str(s.selector ?? 'all()'), TYPES: str(s.types) };
    },
  };
}

function table(rows: Row[]): string {
  const headers = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  if (headers.length === 0) return '';
  const widths = headers.map((h) => Math.max(h.length, ...rows.map((r) => (r[h] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('   ')
      .trimEnd();
  return [line(headers), ...rows.map((r) => line(headers.map((h) => r[h] ?? '')))].join('\n') + '\n';
}

/** Renders resources the way `calicoctl get` does: a table, or YAML/JSON (a <Kind>List for many). */
export function formatResources(resources: readonly CalicoResource[], info: KindInfo, format: OutputFormat, single: boolean): string {
  if (format === 'yaml' || format === 'json') {
    const body: unknown = single ? resources[0] : { apiVersion: 'projectcalico.org/v3', kind: `${info.kind}List`, items: resources, metadata: {} };
    return format === 'json' ? `${JSON.stringify(body, null, 2)}\n` : toYaml(body);
  }
  const cols = COLUMNS[info.kind] ?? { ps: () => ({}), wide: () => ({}) };
  const rows = resources.map((r) => ({
    ...(info.namespaced ? { NAMESPACE: str((r.metadata as { namespace?: string }).namespace) } : {}),
    NAME: r.metadata.name,
    ...cols.ps(r),
    ...(format === 'wide' ? cols.wide(r) : {}),
  }));
  return rows.length === 0 ? '' : table(rows);
}
