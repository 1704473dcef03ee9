import { z } from 'zod';
import { parseCidrOrIp, parseIp } from '../ip.js';
import { parseSelector } from '../selector/parse-selector.js';
import { SelectorSyntaxError } from '../errors.js';

/** The apiVersion of every Calico resource Brindle reads and writes. */
export const API_VERSION = 'projectcalico.org/v3';

const NAME_RE = /^[A-Za-z0-9]([-A-Za-z0-9._]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME_RE = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/**
 * Resource names. Calico asks for lower case, but networking-calico's own examples carry upper
 * case (port and SG ids in WorkloadEndpoint and policy names), so both are accepted.
 */
export const nameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(253, 'must be at most 253 characters')
  .regex(NAME_RE, 'must be alphanumerics, "-", "." or "_", starting and ending with an alphanumeric');

export const namespaceSchema = z
  .string()
  .max(63, 'must be at most 63 characters')
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS label');

/** A label key is `[prefix/]name`: prefix a DNS subdomain (≤253), name ≤63 characters. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN_RE.test(prefix))) {
    return `label key prefix ${JSON.stringify(prefix)} must be a DNS subdomain`;
  }
  if (name.length === 0 || name.length > 63 || !LABEL_NAME_RE.test(name)) {
    return `label key name ${JSON.stringify(name)} must be 1-63 alphanumerics, "-", "_" or "."`;
  }
  return undefined;
}

export const labelsSchema = z.record(z.string(), z.string()).superRefine((labels, ctx) => {
  for (const [key, value] of Object.entries(labels)) {
    const problem = labelKeyProblem(key);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, path: [key] });
    if (value !== '' && (value.length > 63 || !LABEL_NAME_RE.test(value))) {
      ctx.addIssue({ code: 'custom', message: 'label value must be empty or 1-63 alphanumerics, "-", "_" or "."', path: [key] });
    }
  }
});

const baseMetadata = {
  name: nameSchema,
  uid: z.string().optional(),
  creationTimestamp: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().int().optional(),
  labels: labelsSchema.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
};

export const clusterMetadataSchema = z.strictObject(baseMetadata);
const { name: _name, ...restMetadata } = baseMetadata;
export const namespacedMetadataSchema = z.strictObject({ name: nameSchema, namespace: namespaceSchema, ...restMetadata });

export type ObjectMeta = z.infer<typeof namespacedMetadataSchema> & { namespace?: string };

export const ipSchema = z.string().refine((s) => parseIp(s) !== undefined, 'must be an IPv4 or IPv6 address');
export const cidrSchema = z.string().refine((s) => parseCidrOrIp(s) !== undefined, 'must be a CIDR (address/prefix) or an address');

export const macSchema = z.string().regex(/^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$/, 'must be a MAC address like 00:11:22:33:44:55');

/** A selector expression; parsed here so a syntax error is reported with its position. */
export const selectorSchema = z.string().superRefine((text, ctx) => {
  try {
    parseSelector(text);
  } catch (err) {
    if (err instanceof SelectorSyntaxError) ctx.addIssue({ code: 'custom', message: err.message });
    else throw err;
  }
});

/** A dotted AS number (`high.low`, RFC 5396), each half 0-65535, not both 0. */
function dottedAsOk(text: string): boolean {
  const [high, low] = text.split('.').map(Number);
  if (low === undefined) return Number(text) >= 1 && Number(text) <= 4294967294;
  return high !== undefined && high <= 65535 && low <= 65535 && high + low > 0;
}

/** 1-4294967294, plain or dotted (0 and 4294967295 are reserved, RFC 7607 and 7300). */
export const asNumberSchema = z.union([
  z.number().int('must be a whole number').min(1, 'must be between 1 and 4294967294').max(4294967294, 'must be between 1 and 4294967294'),
  z.string().superRefine((text, ctx) => {
    if (!/^\d+(\.\d+)?$/.test(text)) ctx.addIssue({ code: 'custom', message: 'must be an AS number (plain or dotted)' });
    else if (!dottedAsOk(text)) ctx.addIssue({ code: 'custom', message: 'must be between 1 and 4294967294 (each half of a dotted AS 0-65535)' });
  }),
]);

/** Builds the full resource schema (envelope + spec) of a namespaced kind. */
export function namespacedResourceSchema<K extends string, S extends z.ZodType<object>>(kind: K, spec: S) {
  return z.strictObject({ apiVersion: z.literal(API_VERSION), kind: z.literal(kind), metadata: namespacedMetadataSchema, spec });
}

/** Builds the full resource schema (envelope + spec) of a cluster-wide kind. */
export function clusterResourceSchema<K extends string, S extends z.ZodType<object>>(kind: K, spec: S) {
  return z.strictObject({ apiVersion: z.literal(API_VERSION), kind: z.literal(kind), metadata: clusterMetadataSchema, spec });
}

/**
 * Builds the full resource schema of a cluster-wide kind that also carries a `status` (written by
 * the component that owns the resource, such as CalicoNodeStatus by the node agent). The status
 * is optional: a user creates the resource with a spec only.
 */
export function clusterResourceWithStatusSchema<K extends string, S extends z.ZodType<object>, T extends z.ZodType<object>>(kind: K, spec: S, status: T) {
  return z.strictObject({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal(kind),
    metadata: clusterMetadataSchema,
    spec,
    status: status.optional(),
  });
}
