import { openDatastore, parseDatastoreSpec, ResourceClient, type ResourceOp } from '../datastore/index.js';
import { API_VERSION } from '../model/index.js';
import { LAB_AS } from './border-router.js';
import type { LabBorder } from './lab-topology.js';

/** How the lab's data center does BGP. */
export interface LabBgpPlan {
  /** Full mesh between hosts (false once route reflectors carry the routes). */
  readonly mesh: boolean;
  /** The border router, peered from every compute host as an external BGPPeer. */
  readonly border?: LabBorder;
}

/**
 * Writes the lab's BGP resources as an operator would with `brindle ctl apply`: the default
 * BGPConfiguration (AS 64512, mesh on or off) and, with a border, one global BGPPeer per
 * address family for every node.
 */
export async function configureLabBgp(datastore: string, plan: LabBgpPlan): Promise<void> {
  const kv = await openDatastore(parseDatastoreSpec(datastore));
  try {
    const ops: ResourceOp[] = [
      {
        action: 'apply',
        resource: {
          apiVersion: API_VERSION,
          kind: 'BGPConfiguration',
          metadata: { name: 'default' },
          spec: { asNumber: LAB_AS.dataCenter, nodeToNodeMeshEnabled: plan.mesh, logSeverityScreen: 'Info' },
        },
      },
    ];
    if (plan.border !== undefined) {
      for (const [name, ip] of [
        ['lab-border-v4', plan.border.ip4],
        ['lab-border-v6', plan.border.ip6],
      ] as const) {
        ops.push({
          action: 'apply',
          resource: { apiVersion: API_VERSION, kind: 'BGPPeer', metadata: { name }, spec: { peerIP: ip, asNumber: plan.border.asNumber } },
        });
      }
    }
    await new ResourceClient(kv).commit(ops);
  } finally {
    await kv.close();
  }
}
