import { z } from 'zod';
import { asNumberSchema, clusterResourceSchema } from './common.js';

const ipWithPrefix = z.string().regex(/^[0-9A-Fa-f:.]+(\/\d{1,3})?$/, 'must be an address, optionally with /prefix');

export const nodeSpecSchema = z.strictObject({
  bgp: z
    .strictObject({
      asNumber: asNumberSchema.optional(),
      ipv4Address: ipWithPrefix.optional(),
      ipv6Address: ipWithPrefix.optional(),
      ipv4IPIPTunnelAddr: z.string().optional(),
      routeReflectorClusterID: z.string().optional(),
    })
    .optional(),
  ipv4VXLANTunnelAddr: z.string().optional(),
  vxlanTunnelMACAddr: z.string().optional(),
  orchRefs: z.array(z.strictObject({ nodeName: z.string().optional(), orchestrator: z.string() })).optional(),
  addresses: z.array(z.strictObject({ address: z.string(), type: z.string().optional() })).optional(),
});
export const nodeSchema = clusterResourceSchema('Node', nodeSpecSchema);
export type CalicoNode = z.infer<typeof nodeSchema>;
