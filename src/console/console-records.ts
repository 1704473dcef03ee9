import { z } from 'zod';

/**
 * What the console keeps of each thing it follows, decoded at the edge with schemas that take
 * only the fields it shows (so a newer writer's extra fields never break the page).
 */

/** A host agent's status report (the Felix host status key, on a lease). */
export const hostReportSchema = z.object({ time: z.string(), uptime: z.number().optional() });
export type HostReport = z.infer<typeof hostReportSchema>;

const ipNat = z.object({ internalIP: z.string(), externalIP: z.string() });

export const endpointSchema = z.object({
  metadata: z.object({ name: z.string(), namespace: z.string(), labels: z.record(z.string(), z.string()).optional() }),
  spec: z.object({
    node: z.string().optional(),
    workload: z.string().optional(),
    endpoint: z.string().optional(),
    interfaceName: z.string().optional(),
    mac: z.string().optional(),
    ipNetworks: z.array(z.string()).optional(),
    ipNATs: z.array(ipNat).optional(),
    profiles: z.array(z.string()).optional(),
  }),
});

/** A workload endpoint (one VM port), as lists and pages show it. */
export interface EndpointEntry {
  /** `namespace/name`: the console's id for it. */
  readonly id: string;
  readonly namespace: string;
  readonly name: string;
  readonly host: string;
  /** The VM (Nova instance) it belongs to. */
  readonly workload: string;
  /** The Neutron port it was made from. */
  readonly portId: string;
  readonly iface: string;
  readonly mac: string;
  readonly ips: readonly string[];
  readonly floatingIps: readonly { readonly internal: string; readonly external: string }[];
  readonly profiles: readonly string[];
}

export const networkSchema = z.object({
  id: z.string(),
  name: z.string(),
  project_id: z.string(),
  shared: z.boolean(),
  'router:external': z.boolean(),
  subnets: z.array(z.string()),
});
export type NetworkEntry = z.infer<typeof networkSchema>;

export const subnetSchema = z.object({
  id: z.string(),
  name: z.string(),
  network_id: z.string(),
  ip_version: z.union([z.literal(4), z.literal(6)]),
  cidr: z.string(),
  gateway_ip: z.string().nullable(),
  allocation_pools: z.array(z.object({ start: z.string(), end: z.string() })),
});
export type SubnetEntry = z.infer<typeof subnetSchema>;

export const portSchema = z.object({
  id: z.string(),
  name: z.string(),
  network_id: z.string(),
  device_id: z.string(),
  device_owner: z.string(),
  status: z.string(),
  fixed_ips: z.array(z.object({ subnet_id: z.string(), ip_address: z.string() })),
  security_groups: z.array(z.string()),
  'binding:host_id': z.string(),
});
export type PortEntry = z.infer<typeof portSchema>;

export const securityGroupSchema = z.object({ id: z.string(), name: z.string(), description: z.string() });
export type SecurityGroupEntry = z.infer<typeof securityGroupSchema>;

export const floatingIpSchema = z.object({
  id: z.string(),
  floating_ip_address: z.string(),
  floating_network_id: z.string(),
  port_id: z.string().nullable(),
  fixed_ip_address: z.string().nullable(),
  status: z.string(),
});
export type FloatingIpEntry = z.infer<typeof floatingIpSchema>;
