import { z } from 'zod';
import type { Exec } from '../../../lib/index.js';
import { kernelCidr } from '../ipsets/kernel-cidr.js';
import { RouteReadError } from './errors.js';

/** A main-table unicast route through a device, as `ip -d -j route show` reports it. */
export interface KernelRoute {
  readonly family: 4 | 6;
  /** Printed form (host prefixes without `/32`, `/128`). */
  readonly dst: string;
  /** Always with the prefix, for commands. */
  readonly cidr: string;
  readonly dev: string;
  /** Protocol number when known (`boot` → 3), else the text `ip` printed. */
  readonly protocol: number | string;
  readonly scope: string | undefined;
  readonly metric: number;
}

/** An IPv4 neighbour entry. */
export interface KernelNeigh {
  readonly ip: string;
  readonly dev: string;
  readonly lladdr: string | undefined;
  readonly permanent: boolean;
}

const routeSchema = z.array(
  z.object({
    type: z.string().optional(),
    dst: z.string(),
    dev: z.string().optional(),
    protocol: z.union([z.string(), z.number()]).optional(),
    scope: z.string().optional(),
    metric: z.number().optional(),
  }),
);

const neighSchema = z.array(
  z.object({
    dst: z.string(),
    dev: z.string().optional(),
    lladdr: z.string().optional(),
    state: z.array(z.string()).optional(),
  }),
);

/** The names in iproute2's default rt_protos, so `boot` and `3` compare equal. */
const PROTOCOLS: Readonly<Record<string, number>> = {
  unspec: 0,
  redirect: 1,
  kernel: 2,
  boot: 3,
  static: 4,
  gated: 8,
  ra: 9,
  mrt: 10,
  zebra: 11,
  bird: 12,
  dnrouted: 13,
  xorp: 14,
  ntk: 15,
  dhcp: 16,
  keepalived: 18,
  babel: 42,
  openr: 99,
  bgp: 186,
  isis: 187,
  ospf: 188,
  rip: 189,
  eigrp: 192,
};

/** `boot`, `3` and 3 all become 3; an unknown name stays as it is. */
export function protocolNumber(protocol: string | number | undefined): number | string {
  if (protocol === undefined) return PROTOCOLS.boot ?? 3; // ip omits "proto boot" without -d
  if (typeof protocol === 'number') return protocol;
  if (/^\d+$/.test(protocol)) return Number(protocol);
  return PROTOCOLS[protocol] ?? protocol;
}

async function readJson(exec: Exec, args: readonly string[], timeoutMs: number): Promise<unknown> {
  const what = args.join(' ');
  const result = await exec.run('ip', args, { timeoutMs });
  if (result.code !== 0) throw new RouteReadError(what, result);
  try {
    return JSON.parse(result.stdout === '' ? '[]' : result.stdout) as unknown;
  } catch (err) {
    throw new RouteReadError(what, `unparsable JSON: ${(err as Error).message}`);
  }
}

/**
 * Reads main-table routes (both families) and IPv4 neighbours on devices `isOurDev` accepts: three
 * `ip -j` calls run concurrently. Entries on other devices are dropped here.
 */
export async function readRouteState(
  exec: Exec,
  options: { isOurDev: (dev: string) => boolean; timeoutMs: number },
): Promise<{ routes: KernelRoute[]; neighs: KernelNeigh[] }> {
  const { isOurDev, timeoutMs } = options;
  const [v4, v6, neigh] = await Promise.all([
    readJson(exec, ['-4', '-d', '-j', 'route', 'show', 'table', 'main'], timeoutMs),
    readJson(exec, ['-6', '-d', '-j', 'route', 'show', 'table', 'main'], timeoutMs),
    readJson(exec, ['-4', '-j', 'neigh', 'show'], timeoutMs),
  ]);
  const routes: KernelRoute[] = [];
  for (const [family, raw] of [
    [4, v4],
    [6, v6],
  ] as const) {
    const parsed = routeSchema.safeParse(raw);
    if (!parsed.success) throw new RouteReadError(`IPv${family} routes`, parsed.error.message);
    for (const r of parsed.data) {
      if (r.dev === undefined || !isOurDev(r.dev) || (r.type !== undefined && r.type !== 'unicast')) continue;
      const cidr = kernelCidr(r.dst === 'default' ? (family === 4 ? '0.0.0.0/0' : '::/0') : r.dst);
      if (cidr === undefined) continue;
      routes.push({
        family,
        dst: cidr.printed,
        cidr: cidr.full,
        dev: r.dev,
        protocol: protocolNumber(r.protocol),
        scope: r.scope,
        metric: r.metric ?? 0,
      });
    }
  }
  const parsedNeigh = neighSchema.safeParse(neigh);
  if (!parsedNeigh.success) throw new RouteReadError('neighbours', parsedNeigh.error.message);
  const neighs: KernelNeigh[] = [];
  for (const n of parsedNeigh.data) {
    if (n.dev === undefined || !isOurDev(n.dev)) continue;
    const ip = kernelCidr(n.dst);
    if (ip?.family !== 4) continue;
    neighs.push({ ip: ip.address, dev: n.dev, lladdr: n.lladdr?.toLowerCase(), permanent: n.state?.includes('PERMANENT') === true });
  }
  return { routes, neighs };
}
