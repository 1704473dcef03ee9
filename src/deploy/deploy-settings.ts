// The cloud's network settings: what the Fuel plugin's settings page collected, in one file.
import { z } from 'zod';
import { parseCidr, parseIp } from '../model/index.js';
import { ipAddressSchema } from './inventory.js';

/** AS numbers a private or public BGP speaker may use (0 and 4294967295 are reserved). */
export const AS_MIN = 1;
export const AS_MAX = 4_294_967_294;
const asNumber = z.number().int('must be a whole number').min(AS_MIN, `must be at least ${AS_MIN}`).max(AS_MAX, `must be at most ${AS_MAX}`);

const ipv4 = z.string().refine((s) => parseIp(s)?.family === 4, 'must be an IPv4 address (a cluster id has the IPv4 form)');

const peerNameSchema = z.string().regex(/^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/, 'must be lower-case letters, digits, dots and hyphens');

export const deploySettingsSchema = z
  .strictObject({
    /** The cloud's AS number, every Brindle BGP speaker's. */
    asNumber: asNumber.default(64512),
    bgp: z
      .strictObject({
        /** mesh: every host peers with every other; route-reflectors: hosts peer only with the reflectors. */
        topology: z.enum(['mesh', 'route-reflectors']).default('mesh'),
        /** The reflectors' cluster id (IPv4 form), shared by all of them. */
        clusterId: ipv4.default('224.0.0.1'),
      })
      .default({ topology: 'mesh', clusterId: '224.0.0.1' }),
    /** Routers outside the cloud that learn the VMs' routes (the reflectors peer with them, or every host in a mesh). */
    externalPeers: z
      .array(
        z.strictObject({
          name: peerNameSchema,
          address: ipAddressSchema,
          asNumber,
        }),
      )
      .default([]),
    /** Where VM addresses come from; natOutgoing masquerades their traffic leaving the pools. */
    ipPools: z
      .array(
        z.strictObject({
          cidr: z.string().refine((s) => parseCidr(s) !== undefined, 'must be a CIDR, e.g. 198.18.64.0/18'),
          natOutgoing: z.boolean().default(false),
        }),
      )
      .default([]),
    ipv6: z.boolean().default(false),
    etcd: z
      .strictObject({
        /** The machines that run etcd members (default: every controller). */
        members: z.array(z.string().min(1)).min(1, 'must name at least one machine').optional(),
        clientPort: z.number().int().min(1).max(65535).default(2379),
        peerPort: z.number().int().min(1).max(65535).default(2380),
        /**
         * TLS for clients and peers: PEM files on the deploying machine (relative to the settings
         * file). The certificate must be valid for every member's address and 127.0.0.1, for
         * server and client use; Brindle's processes present it to etcd, and etcd requires one.
         */
        tls: z
          .strictObject({
            caFile: z.string().min(1),
            certFile: z.string().min(1),
            keyFile: z.string().min(1),
            /** A client-only pair for Brindle's processes: then the members' key stays on the members. */
            clientCertFile: z.string().min(1).optional(),
            clientKeyFile: z.string().min(1).optional(),
          })
          .refine((t) => (t.clientCertFile === undefined) === (t.clientKeyFile === undefined), {
            message: 'clientCertFile and clientKeyFile go together',
            path: ['clientCertFile'],
          })
          .optional(),
      })
      .default({ clientPort: 2379, peerPort: 2380 }),
    api: z
      .strictObject({
        port: z.number().int().min(1).max(65535).default(9696),
        workers: z.number().int().min(1).max(64).default(1),
      })
      .default({ port: 9696, workers: 1 }),
    /** The web console on each controller, on its loopback (reach it with an ssh tunnel); port 0 leaves it off. */
    console: z.strictObject({ port: z.number().int().min(0).max(65535).default(9797) }).default({ port: 9797 }),
    keystone: z
      .strictObject({
        url: z.url(),
        username: z.string().min(1),
        password: z.string().min(1),
        project: z.string().min(1).default('service'),
      })
      .optional(),
    nova: z.strictObject({ url: z.url() }).optional(),
    /** Where the machines get Brindle and what it needs: a directory of .debs on the deploying machine, or their own apt sources. */
    packages: z.union([z.strictObject({ directory: z.string().min(1) }), z.strictObject({ apt: z.literal(true) })]).default({ apt: true }),
  })
  .superRefine((s, ctx) => {
    const seen = new Set<string>();
    for (const [i, p] of s.externalPeers.entries()) {
      if (seen.has(p.name)) ctx.addIssue({ code: 'custom', message: `duplicate peer name ${p.name}`, path: ['externalPeers', i, 'name'] });
      seen.add(p.name);
    }
  });

export type DeploySettings = z.infer<typeof deploySettingsSchema>;
