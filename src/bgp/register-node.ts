import { isDeepStrictEqual } from 'node:util';
import { ResourceConflictError, ResourceExistsError, type ResourceClient } from '../datastore/index.js';
import { API_VERSION, parseIp, type CalicoNode } from '../model/index.js';
import { backoffDelay, realClock, type Clock, type Logger } from '../lib/index.js';
import { BgpAddressConflictError } from './errors.js';

/** What this host says about itself in its Calico Node resource. */
export interface NodeRegistration {
  readonly hostname: string;
  /** `ip/len` (or a bare ip): the host's BGP address per family. */
  readonly ipv4Address?: string;
  readonly ipv6Address?: string;
  /** A per-node AS number; absent leaves whatever an operator set. */
  readonly asNumber?: number;
  /** Set or clear the route-reflector cluster id; absent leaves what an operator set. */
  readonly routeReflectorClusterID?: string | null;
}

function addressOf(cidrOrIp: string | undefined): string | undefined {
  if (cidrOrIp === undefined) return undefined;
  return parseIp(cidrOrIp.split('/')[0] ?? '')?.address;
}

/** Throws BgpAddressConflictError if another Node already announces one of our addresses. */
export function checkAddressConflicts(reg: NodeRegistration, nodes: readonly CalicoNode[]): void {
  const mine = [addressOf(reg.ipv4Address), addressOf(reg.ipv6Address)].filter((a): a is string => a !== undefined);
  for (const n of nodes) {
    if (n.metadata.name === reg.hostname) continue;
    const theirs = [addressOf(n.spec.bgp?.ipv4Address), addressOf(n.spec.bgp?.ipv6Address)];
    const clash = mine.find((a) => theirs.includes(a));
    if (clash !== undefined) throw new BgpAddressConflictError(clash, reg.hostname, n.metadata.name);
  }
}

/** The Node as it should be: our addresses over what is stored, everything else kept. */
export function desiredNode(reg: NodeRegistration, stored: CalicoNode | undefined): CalicoNode {
  const bgp: NonNullable<CalicoNode['spec']['bgp']> = { ...(stored?.spec.bgp ?? {}) };
  delete bgp.ipv4Address;
  delete bgp.ipv6Address;
  if (reg.ipv4Address !== undefined) bgp.ipv4Address = reg.ipv4Address;
  if (reg.ipv6Address !== undefined) bgp.ipv6Address = reg.ipv6Address;
  if (reg.asNumber !== undefined) bgp.asNumber = reg.asNumber;
  if (reg.routeReflectorClusterID === null) delete bgp.routeReflectorClusterID;
  else if (reg.routeReflectorClusterID !== undefined) bgp.routeReflectorClusterID = reg.routeReflectorClusterID;
  const metadata = stored?.metadata ?? { name: reg.hostname };
  return {
    apiVersion: API_VERSION,
    kind: 'Node',
    metadata,
    spec: { ...(stored?.spec ?? {}), bgp, orchRefs: [{ nodeName: reg.hostname, orchestrator: 'openstack' }] },
  };
}

function sameSpec(a: CalicoNode, b: CalicoNode): boolean {
  return isDeepStrictEqual(a.spec, b.spec);
}

/**
 * Creates or updates this host's Calico Node (compare-and-swap on its resourceVersion, retried
 * when another writer got in between). Labels, a route-reflector cluster id and an AS number an
 * operator set are kept unless the registration says otherwise. Refuses (BgpAddressConflictError)
 * when another Node holds one of our addresses.
 */
export async function registerNode(
  client: ResourceClient,
  reg: NodeRegistration,
  o: { readonly logger?: Logger; readonly clock?: Clock } = {},
): Promise<CalicoNode> {
  const clock = o.clock ?? realClock();
  for (let attempt = 0; ; attempt++) {
    const nodes = (await client.list('Node')).items;
    checkAddressConflicts(reg, nodes);
    const stored = nodes.find((n) => n.metadata.name === reg.hostname);
    const want = desiredNode(reg, stored);
    if (stored !== undefined && sameSpec(stored, want)) return stored;
    try {
      await client.commit([{ action: stored === undefined ? 'create' : 'replace', resource: want }]);
      o.logger?.info(
        { node: reg.hostname, ipv4: reg.ipv4Address, ipv6: reg.ipv6Address },
        stored === undefined ? 'registered the Calico Node' : 'updated the Calico Node',
      );
      const written = await client.get('Node', reg.hostname);
      return written ?? want;
    } catch (err) {
      if (!(err instanceof ResourceConflictError || err instanceof ResourceExistsError) || attempt >= 5) throw err;
      await clock.sleep(backoffDelay(attempt));
    }
  }
}
