// Resource builders for the bgp tests.
import type { BGPConfiguration, BGPPeer, CalicoNode } from '../../model/index.js';

type NodeBgp = NonNullable<CalicoNode['spec']['bgp']>;

export interface NodeOptions extends NodeBgp {
  readonly labels?: Record<string, string>;
}

/** A Node resource with `spec.bgp`. */
export function calicoNode(name: string, options: NodeOptions = {}): CalicoNode {
  const { labels, ...bgp } = options;
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'Node',
    metadata: { name, ...(labels === undefined ? {} : { labels }) },
    spec: { bgp },
  };
}

export function bgpPeer(name: string, spec: BGPPeer['spec']): BGPPeer {
  return { apiVersion: 'projectcalico.org/v3', kind: 'BGPPeer', metadata: { name }, spec };
}

export function bgpConfiguration(name: string, spec: BGPConfiguration['spec']): BGPConfiguration {
  return { apiVersion: 'projectcalico.org/v3', kind: 'BGPConfiguration', metadata: { name }, spec };
}
