import { z } from 'zod';
import { cidrSchema, ipSchema, macSchema, nameSchema, namespacedResourceSchema } from './common.js';

const endpointPortSchema = z.strictObject({
  name: z.string().min(1),
  protocol: z.enum(['TCP', 'UDP', 'SCTP']),
  port: z.number().int().min(1).max(65535),
  hostPort: z.number().int().min(0).max(65535).optional(),
  hostIP: ipSchema.optional(),
});

const ipNatSchema = z.strictObject({ internalIP: ipSchema, externalIP: ipSchema });

const qosControlsSchema = z.strictObject({
  ingressBandwidth: z.number().int().optional(),
  egressBandwidth: z.number().int().optional(),
  ingressBurst: z.number().int().optional(),
  egressBurst: z.number().int().optional(),
  ingressPeakrate: z.number().int().optional(),
  egressPeakrate: z.number().int().optional(),
  ingressMinburst: z.number().int().optional(),
  egressMinburst: z.number().int().optional(),
  ingressPacketRate: z.number().int().optional(),
  egressPacketRate: z.number().int().optional(),
  ingressPacketBurst: z.number().int().optional(),
  egressPacketBurst: z.number().int().optional(),
  ingressMaxConnections: z.number().int().optional(),
  egressMaxConnections: z.number().int().optional(),
});

export const workloadEndpointSpecSchema = z.strictObject({
  orchestrator: z.string().optional(),
  workload: z.string().optional(),
  node: z.string().optional(),
  containerID: z.string().optional(),
  pod: z.string().optional(),
  endpoint: z.string().optional(),
  serviceAccountName: z.string().optional(),
  ipNetworks: z.array(cidrSchema).optional(),
  ipv4Gateway: ipSchema.optional(),
  ipv6Gateway: ipSchema.optional(),
  profiles: z.array(nameSchema).optional(),
  interfaceName: z
    .string()
    .max(15, 'must be at most 15 characters (a Linux interface name)')
    .regex(/^[^\s/]+$/, 'must not contain spaces or "/"')
    .optional(),
  mac: macSchema.optional(),
  ports: z.array(endpointPortSchema).optional(),
  ipNATs: z.array(ipNatSchema).optional(),
  allowSpoofedSourcePrefixes: z.array(cidrSchema).optional(),
  qosControls: qosControlsSchema.optional(),
  /** networking-calico's private hint: allowed-address-pair IPs (no DHCP host entries). */
  allowedIps: z.array(cidrSchema).optional(),
});

export const workloadEndpointSchema = namespacedResourceSchema('WorkloadEndpoint', workloadEndpointSpecSchema);
export type WorkloadEndpoint = z.infer<typeof workloadEndpointSchema>;
export type WorkloadEndpointSpec = z.infer<typeof workloadEndpointSpecSchema>;
