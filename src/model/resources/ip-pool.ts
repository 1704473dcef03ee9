import { z } from 'zod';
import { parseCidr } from '../ip.js';
import { clusterResourceSchema, selectorSchema } from './common.js';

const encapMode = z.enum(['Never', 'Always', 'CrossSubnet']);

export const ipPoolSpecSchema = z
  .strictObject({
    cidr: z.string().refine((s) => parseCidr(s) !== undefined, 'must be a CIDR'),
    vxlanMode: encapMode.optional(),
    ipipMode: encapMode.optional(),
    natOutgoing: z.boolean().optional(),
    disabled: z.boolean().optional(),
    disableBGPExport: z.boolean().optional(),
    blockSize: z.number().int().min(0).max(128).optional(),
    nodeSelector: selectorSchema.optional(),
    allowedUses: z.array(z.enum(['Workload', 'Tunnel', 'LoadBalancer'])).optional(),
    assignmentMode: z.enum(['Automatic', 'Manual']).optional(),
  })
  .superRefine((spec, ctx) => {
    const cidr = parseCidr(spec.cidr);
    if (cidr === undefined) return;
    if (cidr.network !== cidr.address) {
      ctx.addIssue({ code: 'custom', message: `host bits set; did you mean ${cidr.network}/${cidr.prefixLength}?`, path: ['cidr'] });
    }
    if (spec.blockSize !== undefined) {
      const [lo, hi] = cidr.family === 4 ? [20, 32] : [116, 128];
      if (spec.blockSize < lo || spec.blockSize > hi) {
        ctx.addIssue({ code: 'custom', message: `blockSize must be ${lo}-${hi} for IPv${cidr.family}`, path: ['blockSize'] });
      }
    }
    if (cidr.family === 6 && (spec.ipipMode ?? 'Never') !== 'Never') {
      ctx.addIssue({ code: 'custom', message: 'IPIP is IPv4 only', path: ['ipipMode'] });
    }
  });
export const ipPoolSchema = clusterResourceSchema('IPPool', ipPoolSpecSchema);
export type IPPool = z.infer<typeof ipPoolSchema>;
