import { z } from 'zod';
import { cidrSchema, ipSchema } from './resources/common.js';

/**
 * The private (non-v3) records networking-calico and Felix exchange through the datastore.
 * Field names are snake_case exactly as they appear in etcd.
 */

/** `/calico/dhcp/v2/<region>/subnet/<subnet-id>`: a DHCP-enabled subnet for the DHCP agent. */
export const dhcpSubnetSchema = z.strictObject({
  network_id: z.string(),
  cidr: cidrSchema,
  host_routes: z.array(z.strictObject({ destination: cidrSchema, nexthop: ipSchema })),
  gateway_ip: ipSchema.nullable(),
  dns_servers: z.array(ipSchema).optional(),
  ipv6_ra_mode: z.string().optional(),
  ipv6_address_mode: z.string().optional(),
});
export type DhcpSubnet = z.infer<typeof dhcpSubnetSchema>;

/** `/calico/felix/v2/<region>/host/<host>/status`: written by the agent on a lease. */
export const felixHostStatusSchema = z.looseObject({
  time: z.string(),
  uptime: z.number(),
  first_update: z.boolean(),
});
export type FelixHostStatus = z.infer<typeof felixHostStatusSchema>;

/** `.../host/<host>/workload/openstack/<workload>/endpoint/<port-id>`: per-endpoint state. */
export const felixEndpointStatusSchema = z.looseObject({
  status: z.enum(['up', 'down', 'error']),
});
export type FelixEndpointStatus = z.infer<typeof felixEndpointStatusSchema>;

/** The election key's value: `<elector name>:<pid>`. */
export interface ElectionValue {
  readonly name: string;
  readonly pid: number;
}

export function formatElectionValue(v: ElectionValue): string {
  return `${v.name}:${v.pid}`;
}

export function parseElectionValue(text: string): ElectionValue | undefined {
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const pid = Number(text.slice(colon + 1));
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return { name: text.slice(0, colon), pid };
}
