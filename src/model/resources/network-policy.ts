import { z } from 'zod';
import { namespacedResourceSchema, clusterResourceSchema, selectorSchema } from './common.js';
import { ruleSchema } from './rule.js';

export const policyTypeSchema = z.enum(['Ingress', 'Egress']);

const policyCommon = {
  order: z.number().optional(),
  tier: z.string().optional(),
  selector: selectorSchema.optional(),
  types: z.array(policyTypeSchema).optional(),
  ingress: z.array(ruleSchema).optional(),
  egress: z.array(ruleSchema).optional(),
  serviceAccountSelector: selectorSchema.optional(),
  performanceHints: z.array(z.enum(['AssumeNeededOnEveryNode'])).optional(),
};

export const networkPolicySpecSchema = z.strictObject(policyCommon);
export const networkPolicySchema = namespacedResourceSchema('NetworkPolicy', networkPolicySpecSchema);
export type NetworkPolicy = z.infer<typeof networkPolicySchema>;

export const globalNetworkPolicySpecSchema = z
  .strictObject({
    ...policyCommon,
    namespaceSelector: selectorSchema.optional(),
    doNotTrack: z.boolean().optional(),
    preDNAT: z.boolean().optional(),
    applyOnForward: z.boolean().optional(),
  })
  .superRefine((spec, ctx) => {
    if (spec.doNotTrack === true && spec.preDNAT === true) {
      ctx.addIssue({ code: 'custom', message: 'doNotTrack and preDNAT cannot both be true', path: ['preDNAT'] });
    }
    if ((spec.doNotTrack === true || spec.preDNAT === true) && spec.applyOnForward !== true) {
      ctx.addIssue({ code: 'custom', message: 'doNotTrack and preDNAT policies need applyOnForward: true', path: ['applyOnForward'] });
    }
    if (spec.preDNAT === true && (spec.egress?.length ?? 0) > 0) {
      ctx.addIssue({ code: 'custom', message: 'preDNAT policies cannot have egress rules', path: ['egress'] });
    }
  });
export const globalNetworkPolicySchema = clusterResourceSchema('GlobalNetworkPolicy', globalNetworkPolicySpecSchema);
export type GlobalNetworkPolicy = z.infer<typeof globalNetworkPolicySchema>;

/**
 * The policy types Calico infers when `types` is absent: both lists non-empty → both; only
 * egress → Egress; otherwise Ingress.
 */
export function effectivePolicyTypes(spec: {
  types?: readonly ('Ingress' | 'Egress')[] | undefined;
  ingress?: readonly unknown[] | undefined;
  egress?: readonly unknown[] | undefined;
}): ('Ingress' | 'Egress')[] {
  if (spec.types !== undefined && spec.types.length > 0) return [...spec.types];
  const hasIngress = (spec.ingress?.length ?? 0) > 0;
  const hasEgress = (spec.egress?.length ?? 0) > 0;
  if (hasIngress && hasEgress) return ['Ingress', 'Egress'];
  if (hasEgress) return ['Egress'];
  return ['Ingress'];
}
