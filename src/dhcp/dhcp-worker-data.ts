import { z } from 'zod';
import { LOG_LEVELS } from '../lib/index.js';

/** What `brindle node` hands its DHCP worker thread (structured-cloned, checked on arrival). */
export const dhcpWorkerDataSchema = z.object({
  datastore: z.union([
    z.object({ kind: z.literal('embedded'), path: z.string(), durability: z.enum(['full', 'normal']).exactOptional() }),
    z.object({
      kind: z.literal('etcd'),
      endpoints: z.array(z.string()).readonly(),
      caFile: z.string().exactOptional(),
      certFile: z.string().exactOptional(),
      keyFile: z.string().exactOptional(),
      username: z.string().exactOptional(),
      password: z.string().exactOptional(),
    }),
  ]),
  netns: z.string().exactOptional(),
  logLevel: z.enum(LOG_LEVELS as [string, ...string[]]),
  hostname: z.string(),
  region: z.string().exactOptional(),
  runDir: z.string(),
  interfacePrefix: z.string(),
  gatewayIface: z.string().exactOptional(),
  leaseSeconds: z.number().int().exactOptional(),
  domain: z.string().exactOptional(),
  defaultDnsServers: z.array(z.string()).readonly(),
  checkIntervalMs: z.number().int().exactOptional(),
});
export type DhcpWorkerData = z.infer<typeof dhcpWorkerDataSchema>;

/** Messages between the thread and its parent. */
export type DhcpWorkerMessage = { type: 'started'; dnsmasqPid: number | undefined } | { type: 'failed'; message: string } | { type: 'stopped' };
