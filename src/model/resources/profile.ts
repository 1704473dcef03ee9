import { z } from 'zod';
import { labelsSchema, resourceSchema } from './common.js';
import { ruleSchema } from './rule.js';

export const profileSpecSchema = z.strictObject({
  ingress: z.array(ruleSchema).optional(),
  egress: z.array(ruleSchema).optional(),
  labelsToApply: labelsSchema.optional(),
});
export const profileSchema = resourceSchema('Profile', profileSpecSchema, false);
export type Profile = z.infer<typeof profileSchema>;
