import { z } from 'zod';
import { asNumberSchema, cidrSchema, clusterResourceSchema } from './common.js';

const cidrList = z.array(z.strictObject({ cidr: cidrSchema })).optional();

export const bgpConfigurationSpecSchema = z.strictObject({
  logSeverityScreen: z.enum(['Debug', 'Info', 'Warning', 'Error', 'Fatal']).optional(),
  nodeToNodeMeshEnabled: z.boolean().optional(),
  asNumber: asNumberSchema.optional(),
  listenPort: z.number().int().min(1).max(65535).optional(),
  bindMode: z.enum(['None', 'NodeIP']).optional(),
  serviceClusterIPs: cidrList,
  serviceExternalIPs: cidrList,
  serviceLoadBalancerIPs: cidrList,
  communities: z.array(z.strictObject({ name: z.string(), value: z.string() })).optional(),
  prefixAdvertisements: z.array(z.strictObject({ cidr: cidrSchema, communities: z.array(z.string()).optional() })).optional(),
  nodeMeshMaxRestartTime: z.string().optional(),
  ignoredInterfaces: z.array(z.string()).optional(),
});
export const bgpConfigurationSchema = clusterResourceSchema('BGPConfiguration', bgpConfigurationSpecSchema);
export type BGPConfiguration = z.infer<typeof bgpConfigurationSchema>;
