import type { z } from 'zod';
import { UnknownKindError } from './errors.js';
import { bgpConfigurationSchema } from './resources/bgp-configuration.js';
import { bgpPeerSchema } from './resources/bgp-peer.js';
import { calicoNodeStatusSchema } from './resources/calico-node-status.js';
import { clusterInformationSchema } from './resources/cluster-information.js';
import { felixConfigurationSchema } from './resources/felix-configuration.js';
import { hostEndpointSchema } from './resources/host-endpoint.js';
import { ipPoolSchema } from './resources/ip-pool.js';
import { globalNetworkPolicySchema, networkPolicySchema } from './resources/network-policy.js';
import { nodeSchema } from './resources/node.js';
import { profileSchema } from './resources/profile.js';
import { workloadEndpointSchema } from './resources/workload-endpoint.js';

/** What Brindle knows about one Calico kind: its path segment, scope, schema and CLI aliases. */
export interface KindInfo {
  readonly kind: string;
  /** Lower-case plural used in datastore keys (`networkpolicies`). */
  readonly plural: string;
  readonly namespaced: boolean;
  readonly schema: z.ZodType<CalicoResource>;
  /** Extra names `brindle ctl get <name>` accepts (besides kind and plural, case-insensitive). */
  readonly aliases: readonly string[];
}

const schemas = {
  WorkloadEndpoint: workloadEndpointSchema,
  NetworkPolicy: networkPolicySchema,
  GlobalNetworkPolicy: globalNetworkPolicySchema,
  Profile: profileSchema,
  HostEndpoint: hostEndpointSchema,
  IPPool: ipPoolSchema,
  Node: nodeSchema,
  BGPPeer: bgpPeerSchema,
  BGPConfiguration: bgpConfigurationSchema,
  FelixConfiguration: felixConfigurationSchema,
  ClusterInformation: clusterInformationSchema,
  CalicoNodeStatus: calicoNodeStatusSchema,
} as const;

export type KindName = keyof typeof schemas;
export type ResourceOf<K extends KindName> = z.infer<(typeof schemas)[K]>;
export type CalicoResource = { [K in KindName]: ResourceOf<K> }[KindName];

function info(kind: KindName, plural: string, namespaced: boolean, aliases: readonly string[]): KindInfo {
  return { kind, plural, namespaced, schema: schemas[kind], aliases };
}

export const KINDS: readonly KindInfo[] = [
  info('WorkloadEndpoint', 'workloadendpoints', true, ['wep', 'weps']),
  info('NetworkPolicy', 'networkpolicies', true, ['netpol', 'netpols', 'policy', 'policies', 'np']),
  info('GlobalNetworkPolicy', 'globalnetworkpolicies', false, ['gnp', 'gnps']),
  info('Profile', 'profiles', false, ['pro', 'pros']),
  info('HostEndpoint', 'hostendpoints', false, ['hep', 'heps']),
  info('IPPool', 'ippools', false, ['ippool', 'pool', 'pools']),
  info('Node', 'nodes', false, ['no']),
  info('BGPPeer', 'bgppeers', false, ['bgpp', 'peer', 'peers']),
  info('BGPConfiguration', 'bgpconfigurations', false, ['bgpconfig', 'bgpconfigs']),
  info('FelixConfiguration', 'felixconfigurations', false, ['felixconfig', 'felixconfigs']),
  info('ClusterInformation', 'clusterinformations', false, ['clusterinfo', 'clusterinfos']),
  info('CalicoNodeStatus', 'caliconodestatuses', false, ['caliconodestatus', 'cns']),
];

const byName = new Map<string, KindInfo>();
for (const k of KINDS) {
  for (const n of [k.kind, k.plural, ...k.aliases]) byName.set(n.toLowerCase(), k);
}
const byPlural = new Map(KINDS.map((k) => [k.plural, k] as const));

/** Looks a kind up by its name, plural or alias (case-insensitive); throws UnknownKindError. */
export function kindInfo(nameOrAlias: string): KindInfo {
  const k = byName.get(nameOrAlias.toLowerCase());
  if (k === undefined) throw new UnknownKindError(nameOrAlias);
  return k;
}

export function kindByPlural(plural: string): KindInfo | undefined {
  return byPlural.get(plural);
}
