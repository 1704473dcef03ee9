import { z } from 'zod';
import { parseIp } from '../ip.js';
import { asNumberSchema, ipSchema, clusterResourceSchema, selectorSchema } from './common.js';

/** The address part of a BGPPeer `peerIP` (`IP`, `IPv4:port` or `[IPv6]:port`), if valid. */
export function peerAddress(peerIP: string): string | undefined {
  const bracketed = /^\[([^\]]+)\]:(\d{1,5})$/.exec(peerIP);
  if (bracketed !== null) return parseIp(bracketed[1] ?? '')?.address;
  const v4port = /^([\d.]+):(\d{1,5})$/.exec(peerIP);
  if (v4port !== null) return parseIp(v4port[1] ?? '')?.address;
  return parseIp(peerIP)?.address;
}

export const bgpPeerSpecSchema = z
  .strictObject({
    node: z.string().optional(),
    peerIP: z.string().optional(),
    asNumber: asNumberSchema.optional(),
    nodeSelector: selectorSchema.optional(),
    peerSelector: selectorSchema.optional(),
    password: z.strictObject({ secretKeyRef: z.strictObject({ name: z.string(), key: z.string() }) }).optional(),
    sourceAddress: z.enum(['UseNodeIP', 'None']).optional(),
    keepOriginalNextHop: z.boolean().optional(),
    maxRestartTime: z.string().optional(),
    numAllowedLocalASNumbers: z.number().int().min(0).optional(),
    ttlSecurity: z.number().int().min(0).max(255).optional(),
    reachableBy: ipSchema.optional(),
    filters: z.array(z.string()).optional(),
  })
  .superRefine((spec, ctx) => {
    if (spec.peerSelector !== undefined && (spec.peerIP !== undefined || spec.asNumber !== undefined)) {
      ctx.addIssue({ code: 'custom', message: 'peerSelector cannot be combined with peerIP or asNumber', path: ['peerSelector'] });
    }
    if (spec.node !== undefined && spec.nodeSelector !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'node and nodeSelector cannot both be set', path: ['nodeSelector'] });
    }
    if (spec.peerSelector === undefined && (spec.peerIP === undefined || spec.asNumber === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'a peer needs peerIP and asNumber, or a peerSelector', path: ['peerIP'] });
    }
    if (spec.peerIP !== undefined && peerAddress(spec.peerIP) === undefined) {
      ctx.addIssue({ code: 'custom', message: 'must be an IP, "IPv4:port" or "[IPv6]:port"', path: ['peerIP'] });
    }
  });
export const bgpPeerSchema = clusterResourceSchema('BGPPeer', bgpPeerSpecSchema);
export type BGPPeer = z.infer<typeof bgpPeerSchema>;
