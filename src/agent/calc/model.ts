/**
 * What the calculation layer hands the dataplane: this host's endpoints, the policies and profiles
 * they use (rules already parsed, selectors already turned into IP set ids), and IP set members.
 * Pure data; no iptables syntax here.
 */

export type IpFamily = 4 | 6;

/** An inclusive port range; a single port has first === last. */
export interface PortRange {
  readonly first: number;
  readonly last: number;
}

/**
 * One policy rule, normalised. Protocols are Calico's canonical names ('TCP', 'UDP', 'ICMP',
 * 'ICMPv6', 'SCTP', 'UDPLite') or a number as a string ('47'). Nets are canonical CIDRs
 * ('198.18.0.5/32'). IP set ids are calc ids ('s:<hash>'); the dataplane names the kernel sets.
 */
export interface ParsedRule {
  readonly action: 'Allow' | 'Deny' | 'Log' | 'Pass';
  readonly ipVersion?: IpFamily;
  readonly protocol?: string;
  readonly notProtocol?: string;
  readonly srcNets: readonly string[];
  readonly notSrcNets: readonly string[];
  readonly dstNets: readonly string[];
  readonly notDstNets: readonly string[];
  readonly srcIpSetIds: readonly string[];
  readonly notSrcIpSetIds: readonly string[];
  readonly dstIpSetIds: readonly string[];
  readonly notDstIpSetIds: readonly string[];
  readonly srcPorts: readonly PortRange[];
  readonly notSrcPorts: readonly PortRange[];
  readonly dstPorts: readonly PortRange[];
  readonly notDstPorts: readonly PortRange[];
  readonly icmpType?: number;
  readonly icmpCode?: number;
  readonly notIcmpType?: number;
  readonly notIcmpCode?: number;
}

/** A policy or profile that applies to at least one local endpoint. */
export interface ActiveRules {
  /** `np/<namespace>/<name>`, `gnp/<name>` or `pro/<name>`: unique, stable, used in chain names. */
  readonly id: string;
  readonly ingress: readonly ParsedRule[];
  readonly egress: readonly ParsedRule[];
}

/** The policies of one tier that apply to an endpoint, in evaluation order, per direction. */
export interface TierPolicies {
  readonly name: string;
  readonly ingress: readonly string[];
  readonly egress: readonly string[];
}

/** A workload endpoint on this host, as the dataplane needs it. */
export interface LocalEndpoint {
  /** `<namespace>/<name>` of the WorkloadEndpoint resource. */
  readonly id: string;
  /** The host-side interface (a tap). */
  readonly iface: string;
  readonly mac?: string;
  /** False when the endpoint is administratively down: its chains drop everything, no routes. */
  readonly adminUp: boolean;
  /** Host routes to the VM (/32s), including allowed-address-pair addresses. */
  readonly ipv4Nets: readonly string[];
  /** /128s. */
  readonly ipv6Nets: readonly string[];
  /** Floating IPs (ext → int), routed to the tap and DNATed. */
  readonly ipv4Nat: readonly { readonly internal: string; readonly external: string }[];
  readonly allowSpoofedSourcePrefixes: readonly string[];
  readonly tiers: readonly TierPolicies[];
  /** Profile ids (`pro/<name>`) in order. */
  readonly profileIds: readonly string[];
  /** What Felix writes the endpoint status under. */
  readonly statusIds: { readonly orchestrator: string; readonly workload: string; readonly endpoint: string };
}

/**
 * One batch of changes from the calculation, in the order the dataplane must see them: IP sets
 * and rules before the endpoints that use them; removals after. `undefined` in a map = removed.
 */
/** An IP pool as outgoing NAT needs it (Felix's masq manager). */
export interface PoolInfo {
  readonly cidr: string;
  readonly natOutgoing: boolean;
}

export interface CalcUpdate {
  /** Whole member lists for new or replaced sets (members are CIDRs of either family). */
  readonly ipSets: ReadonlyMap<string, readonly string[] | undefined>;
  /** Incremental changes to sets the dataplane already has. */
  readonly ipSetDeltas: ReadonlyMap<string, { readonly added: readonly string[]; readonly removed: readonly string[] }>;
  readonly rules: ReadonlyMap<string, ActiveRules | undefined>;
  readonly endpoints: ReadonlyMap<string, LocalEndpoint | undefined>;
  /** Every IP pool (sorted by CIDR), when any changed since the last flush. */
  readonly pools?: readonly PoolInfo[];
}
