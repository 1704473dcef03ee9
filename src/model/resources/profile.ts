import { z } from 'zod';
import { labelsSchema, clusterResourceSchema } from './common.js';
import { ruleSchema } from './rule.js';

export const profileSpecSchema = z.strictObject({
  ingress: z.array(ruleSchema).optional(),
  egress: z.array(ruleSchema).optional(),
  labelsToApply: labelsSchema.optional(),
});
export const profileSchema = clusterResourceSchema('Profile', profileSpecSchema);
export type Profile = z.infer<typeof profileSchema>;
