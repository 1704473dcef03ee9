import { join } from 'node:path';
import { realClock, type Clock, type Exec, type Fs } from '../lib/index.js';
import { LAB_AS, startBorderBird } from './border-router.js';
import { configureLabBgp } from './lab-bgp.js';
import { type LabCluster } from './lab-cluster.js';
import { type Lab } from './lab-topology.js';

/** The cluster id of the lab's route reflectors (an IPv4-form id, as Calico writes them). */
export const LAB_RR_CLUSTER_ID = '224.0.0.1';

/** The lab's default network: where `brindle lab vm add` puts VMs. */
export const LAB_NETWORK = {
  name: 'lab-net',
  cidr4: '198.18.16.0/20',
  gateway4: '198.18.16.1',
  cidr6: '2001:db8:10::/64',
  gateway6: '2001:db8:10::1',
} as const;

export interface DataCenterPlan {
  /** Compute hosts, by name (Neutron's binding:host_id). */
  readonly hosts: readonly string[];
  /** Hosts whose agent is started (default: all). */
  readonly agents?: readonly string[];
  /** Dedicated route reflectors (`rr-1`…); with any, the full mesh is turned off. */
  readonly reflectors?: number;
  /** A border router with an outside network behind it. */
  readonly border?: boolean;
  /**
   * Whether the border is written as BGPPeers for every node (default true). With false the
   * router runs but no host peers with it until someone adds it (the console's tests do).
   */
  readonly borderPeers?: boolean;
  /** Progress, one line at a time. */
  readonly progress?: (line: string) => void;
}

/**
 * Makes a lab a data center: the BGP resources (mesh or reflectors, the border as a BGPPeer),
 * then reflectors, compute hosts with their agents (each with its BIRD), and the border router
 * running its own, hand-written BIRD. Resources come first so every BIRD starts with its final
 * peers. The caller owns `lab` and `cluster` (and removes them even if this throws).
 */
export async function buildDataCenter(
  d: { lab: Lab; cluster: LabCluster; datastore: string; exec: Exec; fs: Fs; clock?: Clock },
  plan: DataCenterPlan,
): Promise<void> {
  const clock = d.clock ?? realClock();
  const say = plan.progress ?? ((): void => {});
  const reflectors = Array.from({ length: plan.reflectors ?? 0 }, (_, i) => `rr-${i + 1}`);
  await configureLabBgp(d.datastore, { mesh: reflectors.length === 0 });
  for (const rr of reflectors) {
    await d.lab.addHost(rr, 'reflector');
    await d.cluster.startReflector(rr, LAB_RR_CLUSTER_ID);
    say(`route reflector ${rr}: namespace ${d.lab.hostInfo(rr).netns}, ${d.lab.hostInfo(rr).ip4}, cluster ${LAB_RR_CLUSTER_ID}`);
  }
  for (const h of plan.hosts) await d.lab.addHost(h);
  for (const h of plan.agents ?? plan.hosts) {
    await d.cluster.startNode(h);
    say(`host ${h}: namespace ${d.lab.hostInfo(h).netns}, ${d.lab.hostInfo(h).ip4} on the fabric, brindle node and BIRD running`);
  }
  if (plan.border === true) {
    const border = await d.lab.addBorder({ asNumber: LAB_AS.border, birdSocket: join(d.cluster.birdDir('border'), 'bird.ctl') });
    await startBorderBird({ exec: d.exec, fs: d.fs, clock }, border);
    if (plan.borderPeers !== false) await configureLabBgp(d.datastore, { mesh: reflectors.length === 0, border });
    say(`border router: namespace ${border.netns}, ${border.ip4} (AS ${border.asNumber}); outside host ${border.outside.ip4} in ${border.outside.netns}`);
  }
}
