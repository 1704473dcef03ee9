// The state the agent benchmark loads, generated from a fixed seed (the same every run): security
// groups as networking-calico writes them (NetworkPolicy `ossg.default.<sg>` in namespace
// `openstack`, selector `has(sg.projectcalico.org/openstack-<sg>)`, Neutron's two default egress
// rules), local WorkloadEndpoints on the benchmark host (one /32 each, a `tap` + 11 hex chars
// interface) and remote ones on other hosts that only feed the remote-group IP sets.
import { resourceKey, workloadEndpointName } from '../../src/model/index.js';

export const NAMESPACE = 'openstack';
export const SG_LABEL_PREFIX = 'sg.projectcalico.org/openstack-';

/** mulberry32: a small deterministic PRNG (uniform in [0, 1)). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hex(rand: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(rand() * 16).toString(16);
  return s;
}

function uuid(rand: () => number): string {
  const h = hex(rand, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export interface Params {
  readonly localEndpoints: number;
  readonly securityGroups: number;
  readonly ingressRules: number;
  readonly remoteEndpoints: number;
  /** Security groups that remote-group rules point at (the first N); their sets hold the members. */
  readonly remoteGroupTargets: number;
  readonly remoteHosts: number;
  readonly seed: number;
}

export interface Endpoint {
  readonly key: string;
  readonly value: string;
  readonly portId: string;
  readonly workload: string;
  readonly tap: string;
  /** The veth peer of a tap that stays in the host namespace (`p` + the same 11 hex chars). */
  readonly peer: string;
  readonly ip: string;
  readonly mac: string;
  readonly sgs: readonly string[];
}

export interface RuleMix {
  tcpPort: number;
  tcpRange: number;
  remoteGroup: number;
  remotePrefix: number;
  icmp: number;
  ipv6: number;
}

export interface Scenario {
  readonly hostname: string;
  readonly sgIds: readonly string[];
  readonly policies: readonly { key: string; value: string }[];
  readonly local: readonly Endpoint[];
  readonly remote: readonly { key: string; value: string }[];
  readonly ruleMix: RuleMix;
  /** Sum over the remote-group selectors of the endpoints (local and remote) they match. */
  readonly expectedSetMembers: number;
  readonly remoteGroupSets: number;
  readonly localSgMemberships: number;
}

export function policyKey(sg: string): string {
  return resourceKey({ kind: 'NetworkPolicy', namespace: NAMESPACE, name: `ossg.default.${sg}` });
}

export function policyValue(sg: string, ingress: readonly unknown[]): string {
  return JSON.stringify({
    kind: 'NetworkPolicy',
    apiVersion: 'projectcalico.org/v3',
    metadata: { name: `ossg.default.${sg}`, namespace: NAMESPACE },
    spec: {
      selector: `has(${SG_LABEL_PREFIX}${sg})`,
      ingress,
      // Neutron's default egress rules: everything out, IPv4 and IPv6.
      egress: [
        { action: 'Allow', ipVersion: 4 },
        { action: 'Allow', ipVersion: 6 },
      ],
    },
  });
}

function sgLabels(sgs: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const sg of sgs) labels[`${SG_LABEL_PREFIX}${sg}`] = sg;
  labels['projectcalico.org/namespace'] = NAMESPACE;
  labels['projectcalico.org/orchestrator'] = 'openstack';
  labels['projectcalico.org/openstack-project-id'] = 'bench0project0000000000000000000';
  return labels;
}

/** A WorkloadEndpoint as networking-calico writes it for a bound port. */
export function endpointValue(e: { host: string; portId: string; workload: string; tap: string; mac: string; ip: string; sgs: readonly string[] }): {
  key: string;
  value: string;
} {
  const name = workloadEndpointName({ node: e.host, orchestrator: 'openstack', workload: e.workload, endpoint: e.portId });
  const gw = e.ip.replace(/\.\d+$/, '.254');
  return {
    key: resourceKey({ kind: 'WorkloadEndpoint', namespace: NAMESPACE, name }),
    value: JSON.stringify({
      kind: 'WorkloadEndpoint',
      apiVersion: 'projectcalico.org/v3',
      metadata: { name, namespace: NAMESPACE, labels: sgLabels(e.sgs) },
      spec: {
        orchestrator: 'openstack',
        workload: e.workload,
        node: e.host,
        endpoint: e.portId,
        interfaceName: e.tap,
        mac: e.mac,
        ipNetworks: [`${e.ip}/32`],
        ipv4Gateway: gw,
      },
    }),
  };
}

/** A fresh port: ids, an 11-hex-char tap name not in `taken` (added to it), a MAC. */
export function newPort(rand: () => number, taken: Set<string>, tapHex?: string): { portId: string; workload: string; tap: string; peer: string; mac: string } {
  for (;;) {
    const portId = uuid(rand);
    const h = tapHex ?? portId.replace(/-/g, '').slice(0, 11);
    if (taken.has(h)) {
      if (tapHex !== undefined) throw new Error(`tap${tapHex} is taken`);
      continue;
    }
    taken.add(h);
    const m = hex(rand, 6);
    return { portId, workload: uuid(rand), tap: `tap${h}`, peer: `p${h}`, mac: `fa:16:3e:${m.slice(0, 2)}:${m.slice(2, 4)}:${m.slice(4, 6)}` };
  }
}

/** 198.18.0.0/16 in blocks of 250 per third octet (.1–.250), from `base` on. */
export function localIp(i: number, thirdOctetBase = 0): string {
  return `198.18.${thirdOctetBase + Math.floor(i / 250)}.${(i % 250) + 1}`;
}

function remoteIp(i: number): string {
  return `198.19.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}

function pickDistinct(rand: () => number, from: number, to: number, n: number): number[] {
  const out = new Set<number>();
  while (out.size < n) out.add(from + Math.floor(rand() * (to - from)));
  return [...out];
}

/**
 * The whole state: `securityGroups` policies with `ingressRules` rules between them (TCP ports,
 * TCP port ranges, remote-group selectors round-robin over the first `remoteGroupTargets` groups,
 * remote prefixes, ICMP; a few IPv6 ones), `localEndpoints` endpoints on `hostname` in 1–2 groups
 * each, and `remoteEndpoints` on other hosts, each in one remote-group target (plus a non-target
 * group for 30%), so each adds one member to the remote-group IP sets.
 */
export function buildScenario(p: Params, hostname: string): Scenario & { taken: Set<string> } {
  const rand = prng(p.seed);
  const sgIds = Array.from({ length: p.securityGroups }, () => uuid(rand));
  const mix: RuleMix = { tcpPort: 0, tcpRange: 0, remoteGroup: 0, remotePrefix: 0, icmp: 0, ipv6: 0 };
  const rulesOf: unknown[][] = sgIds.map(() => []);
  const referenced = new Set<string>();
  let nextTarget = 0;
  for (let r = 0; r < p.ingressRules; r++) {
    const sg = r % p.securityGroups;
    const k = r % 20;
    let rule: Record<string, unknown>;
    if (k < 6) {
      mix.tcpPort++;
      rule = { action: 'Allow', ipVersion: 4, protocol: 'TCP', destination: { ports: [[22, 80, 443, 3306, 5432, 8080][Math.floor(rand() * 6)] ?? 22] } };
    } else if (k < 9) {
      mix.tcpRange++;
      const first = 1024 + Math.floor(rand() * 60_000);
      rule = { action: 'Allow', ipVersion: 4, protocol: 'TCP', destination: { ports: [`${first}:${first + 1 + Math.floor(rand() * 500)}`] } };
    } else if (k < 15) {
      mix.remoteGroup++;
      const target = sgIds[nextTarget++ % p.remoteGroupTargets] ?? '';
      referenced.add(target);
      const sel = `has(${SG_LABEL_PREFIX}${target})`;
      rule =
        rand() < 0.5
          ? { action: 'Allow', ipVersion: 4, source: { selector: sel } }
          : { action: 'Allow', ipVersion: 4, protocol: 'TCP', source: { selector: sel }, destination: { ports: [443] } };
    } else if (k < 17) {
      mix.remotePrefix++;
      rule = { action: 'Allow', ipVersion: 4, source: { nets: [`198.19.${Math.floor(rand() * 256)}.0/24`, `198.18.${Math.floor(rand() * 256)}.0/24`] } };
    } else if (k < 19) {
      mix.icmp++;
      rule =
        rand() < 0.5 ? { action: 'Allow', ipVersion: 4, protocol: 'ICMP' } : { action: 'Allow', ipVersion: 4, protocol: 'ICMP', icmp: { type: 8, code: 0 } };
    } else {
      mix.ipv6++;
      rule =
        rand() < 0.5
          ? { action: 'Allow', ipVersion: 6, protocol: 'ICMPv6' }
          : {
              action: 'Allow',
              ipVersion: 6,
              protocol: 'TCP',
              source: { nets: [`2001:db8:${Math.floor(rand() * 65536).toString(16)}::/48`] },
              destination: { ports: [22] },
            };
    }
    rulesOf[sg]?.push(rule);
  }
  const policies = sgIds.map((sg, i) => ({ key: policyKey(sg), value: policyValue(sg, rulesOf[i] ?? []) }));

  const taken = new Set<string>();
  const members = new Map<string, number>();
  const count = (sgs: readonly string[]): void => {
    for (const sg of sgs) if (referenced.has(sg)) members.set(sg, (members.get(sg) ?? 0) + 1);
  };
  const local: Endpoint[] = [];
  let memberships = 0;
  for (let i = 0; i < p.localEndpoints; i++) {
    const port = newPort(rand, taken);
    const sgs = pickDistinct(rand, 0, p.securityGroups, rand() < 0.5 ? 1 : 2).map((j) => sgIds[j] ?? '');
    memberships += sgs.length;
    count(sgs);
    const ip = localIp(i);
    local.push({ ...port, ip, sgs, ...endpointValue({ host: hostname, ...port, ip, sgs }) });
  }
  const remote: { key: string; value: string }[] = [];
  for (let i = 0; i < p.remoteEndpoints; i++) {
    const port = newPort(rand, taken);
    const sgs = [sgIds[Math.floor(rand() * p.remoteGroupTargets)] ?? ''];
    if (rand() < 0.3) sgs.push(sgIds[p.remoteGroupTargets + Math.floor(rand() * (p.securityGroups - p.remoteGroupTargets))] ?? '');
    count(sgs);
    remote.push(endpointValue({ host: `bench-remote-${i % p.remoteHosts}`, ...port, ip: remoteIp(i), sgs }));
  }
  let expectedSetMembers = 0;
  for (const n of members.values()) expectedSetMembers += n;
  return {
    hostname,
    sgIds,
    policies,
    local,
    remote,
    ruleMix: mix,
    expectedSetMembers,
    remoteGroupSets: referenced.size,
    localSgMemberships: memberships,
    taken,
  };
}
