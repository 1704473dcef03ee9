// The inventory: which machines make up the cloud, how to reach them and what each one is.
import { z } from 'zod';
import { parseIp } from '../model/index.js';

export const ROLES = ['controller', 'compute', 'route-reflector'] as const;
export type Role = (typeof ROLES)[number];

const hostnameSchema = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a host name: lower-case letters, digits and inner hyphens, at most 63 characters');

export const ipAddressSchema = z.string().refine((s) => parseIp(s) !== undefined, 'must be an IPv4 or IPv6 address');

const machineSchema = z.strictObject({
  /** The machine's host name: what its agent registers as, and what Nova binds ports to. */
  name: hostnameSchema,
  /** Where ssh reaches it (the management network). */
  address: ipAddressSchema,
  roles: z
    .array(z.enum(ROLES))
    .min(1, 'must name at least one role')
    .refine((r) => new Set(r).size === r.length, 'must not repeat a role'),
  ssh: z
    .strictObject({
      user: z.string().min(1).default('root'),
      port: z.number().int().min(1).max(65535).default(22),
    })
    .default({ user: 'root', port: 22 }),
  /** Taken out of the cloud: its Brindle services are stopped and disabled and its Node deleted; nothing else is done there. */
  retire: z.boolean().default(false),
  /** Per-machine settings over the cloud's. */
  bgpInterface: z.string().min(1).optional(),
  bgpAddress: ipAddressSchema.optional(),
});

export const inventorySchema = z
  .strictObject({
    machines: z.array(machineSchema).min(1, 'must list at least one machine'),
  })
  .superRefine((inv, ctx) => {
    const names = new Set<string>();
    const addresses = new Set<string>();
    for (const [i, m] of inv.machines.entries()) {
      if (names.has(m.name)) ctx.addIssue({ code: 'custom', message: `duplicate machine name ${m.name}`, path: ['machines', i, 'name'] });
      if (addresses.has(m.address)) ctx.addIssue({ code: 'custom', message: `duplicate address ${m.address}`, path: ['machines', i, 'address'] });
      names.add(m.name);
      addresses.add(m.address);
    }
    if (!inv.machines.some((m) => m.roles.includes('controller') && !m.retire)) {
      ctx.addIssue({ code: 'custom', message: 'at least one machine (not retired) must have the controller role', path: ['machines'] });
    }
  });

export type Inventory = z.infer<typeof inventorySchema>;
export type Machine = Inventory['machines'][number];

export function hasRole(m: Machine, role: Role): boolean {
  return m.roles.includes(role);
}

/** Computes and route reflectors run `brindle node` (and so BIRD). */
export function runsNode(m: Machine): boolean {
  return hasRole(m, 'compute') || hasRole(m, 'route-reflector');
}
