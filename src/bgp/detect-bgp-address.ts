import { z } from 'zod';
import type { Exec } from '../lib/index.js';
import { BgpAddressNotFoundError } from './errors.js';

/** The addresses a node announces itself with, as Calico stores them (`ip/prefix-length`). */
export interface BgpAddresses {
  readonly ipv4?: string;
  readonly ipv6?: string;
  /** The interface they were found on. */
  readonly iface?: string;
}

const routesSchema = z.array(z.object({ dev: z.string().optional() }).loose());
const addrsSchema = z.array(
  z
    .object({
      addr_info: z.array(
        z
          .object({
            family: z.string(),
            local: z.string(),
            prefixlen: z.number(),
            scope: z.string().optional(),
            tentative: z.boolean().optional(),
            deprecated: z.boolean().optional(),
            dadfailed: z.boolean().optional(),
            temporary: z.boolean().optional(),
          })
          .loose(),
      ),
    })
    .loose(),
);

async function ipJson(exec: Exec, args: readonly string[]): Promise<unknown> {
  const r = await exec.run('ip', ['-j', ...args]);
  if (r.code !== 0) return [];
  try {
    return JSON.parse(r.stdout === '' ? '[]' : r.stdout);
  } catch {
    return [];
  }
}

async function defaultRouteDevice(exec: Exec, family: '-4' | '-6'): Promise<string | undefined> {
  const routes = routesSchema.safeParse(await ipJson(exec, [family, 'route', 'show', 'default']));
  return routes.success ? routes.data.find((r) => r.dev !== undefined)?.dev : undefined;
}

/** The first usable global address of each family on `iface`. */
async function globalAddresses(exec: Exec, iface: string): Promise<{ ipv4?: string; ipv6?: string }> {
  const parsed = addrsSchema.safeParse(await ipJson(exec, ['addr', 'show', 'dev', iface]));
  if (!parsed.success) return {};
  const infos = parsed.data
    .flatMap((l) => l.addr_info)
    .filter((a) => (a.scope ?? 'global') === 'global' && a.tentative !== true && a.dadfailed !== true && a.deprecated !== true && a.temporary !== true);
  const pick = (family: string): string | undefined => {
    const a = infos.find((i) => i.family === family);
    return a === undefined ? undefined : `${a.local}/${a.prefixlen}`;
  };
  const v4 = pick('inet');
  const v6 = pick('inet6');
  return { ...(v4 === undefined ? {} : { ipv4: v4 }), ...(v6 === undefined ? {} : { ipv6: v6 }) };
}

/**
 * Finds the host's BGP addresses: the global addresses of `iface` if given, else of the
 * interface holding the default route, per family (like calico-node's `can-reach` method
 * aimed at the default gateway; its default `first-found` would pick any interface). Tentative,
 * deprecated and temporary (privacy) IPv6 addresses are never picked: the address must be stable. Runs `ip` through `exec`, so under `--netns` it looks inside the host's namespace.
 */
export async function detectBgpAddresses(exec: Exec, iface?: string): Promise<BgpAddresses> {
  if (iface !== undefined) {
    const found = await globalAddresses(exec, iface);
    if (found.ipv4 === undefined && found.ipv6 === undefined) throw new BgpAddressNotFoundError(`interface ${iface} has no global address`);
    return { ...found, iface };
  }
  const dev4 = await defaultRouteDevice(exec, '-4');
  const dev6 = await defaultRouteDevice(exec, '-6');
  const v4 = dev4 === undefined ? undefined : (await globalAddresses(exec, dev4)).ipv4;
  const v6 = dev6 === undefined ? undefined : (await globalAddresses(exec, dev6)).ipv6;
  if (v4 === undefined && v6 === undefined) throw new BgpAddressNotFoundError('no default route with a global address on its interface');
  const dev = v4 !== undefined ? dev4 : dev6;
  return { ...(v4 === undefined ? {} : { ipv4: v4 }), ...(v6 === undefined ? {} : { ipv6: v6 }), ...(dev === undefined ? {} : { iface: dev }) };
}
