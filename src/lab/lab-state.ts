import { join } from 'node:path';
import { z } from 'zod';
import type { Fs } from '../lib/index.js';
import { LabStateError } from './errors.js';

/**
 * What a lab made, kept in `<stateDir>/lab-<prefix>.json` so another process (`brindle lab
 * down`) can remove it; `<stateDir>/labs.json` lists the prefixes of the labs in that directory.
 */
const vmIpSchema = z.object({ ip: z.string(), prefixLen: z.number().int(), gateway: z.string().nullable() });

const hostSchema = z.object({
  name: z.string(),
  netns: z.string(),
  index: z.number().int(),
  ip4: z.string(),
  ip6: z.string(),
  /** `compute` runs VMs and the agent; `reflector` is a dedicated BGP route reflector. */
  role: z.enum(['compute', 'reflector']).default('compute'),
  /** BIRD's control socket, once the host's `brindle node` runs BGP. */
  birdSocket: z.string().optional(),
});

const borderSchema = z.object({
  netns: z.string(),
  ip4: z.string(),
  ip6: z.string(),
  asNumber: z.number().int(),
  birdSocket: z.string(),
  /** The network behind the border: one more host, the way out of the data center. */
  outside: z.object({ netns: z.string(), ip4: z.string(), ip6: z.string(), cidr4: z.string(), cidr6: z.string() }),
});

/** What `brindle lab up` serves, so other commands (`lab vm add`, `lab status`) can reach it. */
const cloudSchema = z.object({
  api: z.string(),
  datastore: z.string(),
  /** The lab's default network and its subnets (VMs added with `lab vm add` go there). */
  networkId: z.string().optional(),
  subnetIds: z.array(z.string()).default([]),
  /** The external network floating IPs come from (`lab fip add`). */
  externalNetworkId: z.string().optional(),
});

const vmSchema = z.object({
  name: z.string(),
  host: z.string(),
  netns: z.string(),
  portId: z.string(),
  tap: z.string(),
  mac: z.string(),
  ips: z.array(vmIpSchema),
  plugged: z.boolean(),
  /** The VM asks DHCP (a real udhcpc) and takes IPv6 by SLAAC, instead of static addresses. */
  dhcp: z.boolean().default(false),
  /** The tap's MTU (Nova sets the network's), when not the default. */
  mtu: z.number().int().optional(),
  /** Floating IPs associated with the VM's port through `lab fip add`. */
  floatingIps: z.array(z.object({ id: z.string(), address: z.string() })).default([]),
});

export const labStateSchema = z.object({
  version: z.literal(1),
  prefix: z.string(),
  fabric: z.string(),
  nextHost: z.number().int(),
  nextVm: z.number().int(),
  hosts: z.array(hostSchema),
  vms: z.array(vmSchema),
  /** Brindle processes serving the lab (API, agents), stopped by PID when the lab goes. */
  processes: z.array(z.object({ role: z.string(), name: z.string(), pid: z.number().int() })).default([]),
  border: borderSchema.optional(),
  cloud: cloudSchema.optional(),
});

const indexSchema = z.object({ labs: z.array(z.string()) });

export type LabState = z.infer<typeof labStateSchema>;
export type LabHostState = z.infer<typeof hostSchema>;
export type LabVmState = z.infer<typeof vmSchema>;
export type LabBorderState = z.infer<typeof borderSchema>;
export type LabCloudState = z.infer<typeof cloudSchema>;

export function labStatePath(stateDir: string, prefix: string): string {
  return join(stateDir, `lab-${prefix.replace(/-$/, '')}.json`);
}

function indexPath(stateDir: string): string {
  return join(stateDir, 'labs.json');
}

export async function readLabState(fs: Fs, stateDir: string, prefix: string): Promise<LabState> {
  const path = labStatePath(stateDir, prefix);
  let text: string;
  try {
    text = await fs.readText(path);
  } catch (err) {
    throw new LabStateError(path, 'cannot read it', err);
  }
  try {
    return labStateSchema.parse(JSON.parse(text));
  } catch (err) {
    throw new LabStateError(path, 'not a lab state file', err);
  }
}

export async function writeLabState(fs: Fs, stateDir: string, state: LabState): Promise<void> {
  await fs.writeTextAtomic(labStatePath(stateDir, state.prefix), `${JSON.stringify(state, null, 2)}\n`);
}

/** The prefixes listed in the state directory (an absent or unreadable index lists none). */
export async function readLabIndex(fs: Fs, stateDir: string): Promise<string[]> {
  const path = indexPath(stateDir);
  if (!fs.exists(path)) return [];
  try {
    return indexSchema.parse(JSON.parse(await fs.readText(path))).labs;
  } catch {
    return [];
  }
}

/**
 * Adds or removes a prefix in the index. A read-modify-write: labs in one state directory are
 * created and removed by one process at a time (the CLI, or one test file with its own directory).
 */
export async function updateLabIndex(fs: Fs, stateDir: string, change: { add?: string; remove?: string }): Promise<void> {
  const labs = new Set(await readLabIndex(fs, stateDir));
  if (change.add !== undefined) labs.add(change.add);
  if (change.remove !== undefined) labs.delete(change.remove);
  await fs.writeTextAtomic(indexPath(stateDir), `${JSON.stringify({ labs: [...labs].sort() }, null, 2)}\n`);
}
