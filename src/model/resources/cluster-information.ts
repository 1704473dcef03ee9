import { z } from 'zod';
import { clusterResourceSchema } from './common.js';

export const clusterInformationSpecSchema = z.strictObject({
  clusterGUID: z.string().optional(),
  clusterType: z.string().optional(),
  calicoVersion: z.string().optional(),
  datastoreReady: z.boolean().optional(),
  variant: z.string().optional(),
});
export const clusterInformationSchema = clusterResourceSchema('ClusterInformation', clusterInformationSpecSchema);
export type ClusterInformation = z.infer<typeof clusterInformationSchema>;
