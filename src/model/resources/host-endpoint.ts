import { z } from 'zod';
import { ipSchema, nameSchema, clusterResourceSchema } from './common.js';

export const hostEndpointSpecSchema = z
  .strictObject({
    node: z.string().optional(),
    interfaceName: z.string().max(15).optional(),
    expectedIPs: z.array(ipSchema).optional(),
    profiles: z.array(nameSchema).optional(),
    ports: z.array(z.strictObject({ name: z.string().min(1), protocol: z.enum(['TCP', 'UDP', 'SCTP']), port: z.number().int().min(1).max(65535) })).optional(),
  })
  .refine((s) => s.interfaceName !== undefined || (s.expectedIPs?.length ?? 0) > 0, {
    message: 'a host endpoint needs an interfaceName or expectedIPs',
    path: ['interfaceName'],
  });
export const hostEndpointSchema = clusterResourceSchema('HostEndpoint', hostEndpointSpecSchema);
export type HostEndpoint = z.infer<typeof hostEndpointSchema>;
