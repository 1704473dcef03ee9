import { z } from 'zod';
import { clusterResourceSchema } from './common.js';

const action = z.enum(['Drop', 'Accept', 'Return']);
const protoPort = z.strictObject({ protocol: z.enum(['tcp', 'udp']), port: z.number().int().min(0).max(65535), net: z.string().optional() });

/**
 * FelixConfiguration: the fields Brindle's agent honours are typed; Felix has many more, which
 * are kept as they are (so a configuration written for a real Felix round-trips untouched).
 */
export const felixConfigurationSpecSchema = z.looseObject({
  endpointReportingEnabled: z.boolean().optional(),
  endpointReportingDelay: z.string().optional(),
  interfacePrefix: z.string().optional(),
  defaultEndpointToHostAction: action.optional(),
  iptablesFilterAllowAction: z.enum(['Accept', 'Return']).optional(),
  iptablesMangleAllowAction: z.enum(['Accept', 'Return']).optional(),
  iptablesMarkMask: z.number().int().optional(),
  iptablesRefreshInterval: z.string().optional(),
  iptablesBackend: z.enum(['Auto', 'Legacy', 'NFT', 'auto', 'legacy', 'nft']).optional(),
  ipsetsRefreshInterval: z.string().optional(),
  routeRefreshInterval: z.string().optional(),
  reportingInterval: z.string().optional(),
  reportingTTL: z.string().optional(),
  failsafeInboundHostPorts: z.array(protoPort).optional(),
  failsafeOutboundHostPorts: z.array(protoPort).optional(),
  metadataAddr: z.string().optional(),
  metadataPort: z.number().int().min(0).max(65535).optional(),
  openstackRegion: z.string().optional(),
  logSeverityScreen: z.string().optional(),
  prometheusMetricsEnabled: z.boolean().optional(),
  prometheusMetricsPort: z.number().int().min(1).max(65535).optional(),
  healthEnabled: z.boolean().optional(),
  healthPort: z.number().int().min(1).max(65535).optional(),
  ipv6Support: z.boolean().optional(),
  chainInsertMode: z.enum(['Insert', 'Append']).optional(),
  routeTableRange: z.strictObject({ min: z.number().int(), max: z.number().int() }).optional(),
});
export const felixConfigurationSchema = clusterResourceSchema('FelixConfiguration', felixConfigurationSpecSchema);
export type FelixConfiguration = z.infer<typeof felixConfigurationSchema>;
