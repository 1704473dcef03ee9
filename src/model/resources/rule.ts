import { z } from 'zod';
import { parseCidrOrIp } from '../ip.js';
import { cidrSchema, selectorSchema } from './common.js';

/** Protocol names Calico accepts; numbers 0-255 are accepted too. */
export const PROTOCOL_NAMES = ['TCP', 'UDP', 'ICMP', 'ICMPv6', 'SCTP', 'UDPLite'] as const;

export const protocolSchema = z.union([
  z.number().int().min(0).max(255),
  z.string().refine((s) => PROTOCOL_NAMES.some((p) => p.toLowerCase() === s.toLowerCase()), `must be one of ${PROTOCOL_NAMES.join(', ')} or a number 0-255`),
]);
export type Protocol = z.infer<typeof protocolSchema>;

/** The protocol's canonical name, or its number as a string when it has no name. */
export function protocolKey(p: Protocol): string {
  if (typeof p === 'number') {
    const named: Record<number, string> = { 6: 'TCP', 17: 'UDP', 1: 'ICMP', 58: 'ICMPv6', 132: 'SCTP', 136: 'UDPLite' };
    return named[p] ?? String(p);
  }
  return PROTOCOL_NAMES.find((n) => n.toLowerCase() === p.toLowerCase()) ?? p;
}

const PORT_RANGE_RE = /^(\d{1,5}):(\d{1,5})$/;
const PORT_NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A port: a number, `"min:max"`, or a named port. */
export const portSchema = z.union([
  z.number().int().min(0).max(65535),
  z.string().superRefine((s, ctx) => {
    const range = PORT_RANGE_RE.exec(s);
    if (range !== null) {
      const lo = Number(range[1]);
      const hi = Number(range[2]);
      if (hi > 65535 || lo > hi) ctx.addIssue({ code: 'custom', message: `port range ${s} must be min:max within 0-65535` });
      return;
    }
    if (/^\d+$/.test(s)) {
      if (Number(s) > 65535) ctx.addIssue({ code: 'custom', message: `port ${s} is above 65535` });
      return;
    }
    if (!PORT_NAME_RE.test(s) || s.length > 15) {
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(s)} is not a port, a min:max range or a port name` });
    }
  }),
]);
export type Port = z.infer<typeof portSchema>;

export const entityRuleSchema = z.strictObject({
  nets: z.array(cidrSchema).optional(),
  notNets: z.array(cidrSchema).optional(),
  selector: selectorSchema.optional(),
  notSelector: selectorSchema.optional(),
  namespaceSelector: selectorSchema.optional(),
  ports: z.array(portSchema).optional(),
  notPorts: z.array(portSchema).optional(),
  serviceAccounts: z.strictObject({ names: z.array(z.string()).optional(), selector: selectorSchema.optional() }).optional(),
  services: z.strictObject({ name: z.string(), namespace: z.string().optional() }).optional(),
});
export type EntityRule = z.infer<typeof entityRuleSchema>;

export const icmpSchema = z
  .strictObject({ type: z.number().int().min(0).max(254).optional(), code: z.number().int().min(0).max(255).optional() })
  .refine((i) => i.code === undefined || i.type !== undefined, { message: 'ICMP code requires a type', path: ['code'] });

const PORT_PROTOCOLS = new Set(['TCP', 'UDP', 'SCTP', 'UDPLite']);
const ICMP_PROTOCOLS = new Set(['ICMP', 'ICMPv6']);

/** A policy rule (Calico v3 `Rule`), with Calico's cross-field checks. */
export const ruleSchema = z
  .strictObject({
    action: z.enum(['Allow', 'Deny', 'Log', 'Pass']),
    ipVersion: z.union([z.literal(4), z.literal(6)]).optional(),
    protocol: protocolSchema.optional(),
    notProtocol: protocolSchema.optional(),
    icmp: icmpSchema.optional(),
    notICMP: icmpSchema.optional(),
    source: entityRuleSchema.optional(),
    destination: entityRuleSchema.optional(),
    http: z.strictObject({ methods: z.array(z.string()).optional(), paths: z.array(z.record(z.string(), z.string())).optional() }).optional(),
    metadata: z.strictObject({ annotations: z.record(z.string(), z.string()).optional() }).optional(),
  })
  .superRefine((rule, ctx) => {
    const proto = rule.protocol === undefined ? undefined : protocolKey(rule.protocol);
    if ((rule.icmp !== undefined || rule.notICMP !== undefined) && (proto === undefined || !ICMP_PROTOCOLS.has(proto))) {
      ctx.addIssue({ code: 'custom', message: 'ICMP fields require protocol ICMP or ICMPv6', path: [rule.icmp ? 'icmp' : 'notICMP'] });
    }
    if (proto === 'ICMP' && rule.ipVersion === 6) {
      ctx.addIssue({ code: 'custom', message: 'protocol ICMP does not match ipVersion 6 (use ICMPv6)', path: ['protocol'] });
    }
    if (proto === 'ICMPv6' && rule.ipVersion === 4) {
      ctx.addIssue({ code: 'custom', message: 'protocol ICMPv6 does not match ipVersion 4 (use ICMP)', path: ['protocol'] });
    }
    for (const side of ['source', 'destination'] as const) {
      const entity = rule[side];
      if (entity === undefined) continue;
      for (const field of ['ports', 'notPorts'] as const) {
        const ports = entity[field];
        if (ports !== undefined && ports.length > 0 && (proto === undefined || !PORT_PROTOCOLS.has(proto))) {
          ctx.addIssue({ code: 'custom', message: 'ports require protocol TCP, UDP, SCTP or UDPLite', path: [side, field] });
        }
      }
      if (rule.ipVersion === undefined) continue;
      for (const field of ['nets', 'notNets'] as const) {
        (entity[field] ?? []).forEach((net, i) => {
          const parsed = parseCidrOrIp(net);
          if (parsed !== undefined && parsed.family !== rule.ipVersion) {
            ctx.addIssue({ code: 'custom', message: `${net} is not an IPv${rule.ipVersion} network`, path: [side, field, i] });
          }
        });
      }
    }
  });
export type Rule = z.infer<typeof ruleSchema>;
