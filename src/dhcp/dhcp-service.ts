import { z } from 'zod';
import { decodeSyncedResource, Syncer, type KvStore } from '../datastore/index.js';
import {
  dhcpSubnetPrefix,
  dhcpSubnetSchema,
  LEGACY_DHCP_SUBNET_PREFIX,
  openstackNamespace,
  regionString,
  resourcePrefix,
  type WorkloadEndpoint,
} from '../model/index.js';
import { describeError, ReconcileLoop, type ChildHandle, type Clock, type Exec, type Fs, type Logger } from '../lib/index.js';
import { DnsmasqDaemon } from './dnsmasq-daemon.js';
import { renderDnsmasq, type DhcpEndpoint, type DhcpSubnetInput } from './render-dnsmasq.js';

const COALESCE_MS = 50;
/** An `ip -o monitor link` line: `[Deleted ]<index>: <name>[@peer]: <flags> mtu <n> …`. */
const LINK_LINE = /^(Deleted )?\d+: ([^:@\s]+)(?:@\S+)?: .*? mtu (\d+)/;

/** What an `ip -o monitor link` line says of a link: its name, MTU, and whether it went. */
export function parseLinkLine(line: string): { name: string; mtu: number; deleted: boolean } | undefined {
  const m = LINK_LINE.exec(line);
  if (m === null) return undefined;
  return { name: m[2] ?? '', mtu: Number(m[3]), deleted: m[1] !== undefined };
}
const NETWORK_ID_ANNOTATION = 'openstack.projectcalico.org/network-id';
const FQDN_ANNOTATION = 'openstack.projectcalico.org/fqdn';

export interface DhcpServiceOptions {
  readonly kv: KvStore;
  /** Bound to the host's namespace under `--netns`: dnsmasq and `ip` run there. */
  readonly exec: Exec;
  readonly fs: Fs;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly hostname: string;
  readonly region?: string;
  /** dnsmasq's files: hosts, opts, leases, pid, log. */
  readonly runDir: string;
  /** Workload interface prefix (`tap`). */
  readonly interfacePrefix: string;
  /** The veth end that holds the subnets' gateway addresses (default `ns-dhcp`). */
  readonly gatewayIface?: string;
  readonly leaseSeconds?: number;
  readonly domain?: string;
  /** DNS servers for subnets that name none. */
  readonly defaultDnsServers: readonly string[];
  /** How often dnsmasq is checked (restarted if it died) and taps' MTUs re-read; default 2 s. */
  readonly checkIntervalMs?: number;
}

export interface DhcpService {
  readonly daemon: DnsmasqDaemon;
  /** Stops following the datastore; dnsmasq keeps running (leases and answers stay). */
  stop(options?: { stopDnsmasq?: boolean }): Promise<void>;
}

const linksSchema = z.array(z.object({ ifname: z.string(), mtu: z.number().optional() }).loose());

/** The endpoint as the renderer needs it, or undefined when it lacks what DHCP needs. */
export function dhcpEndpointOf(wep: WorkloadEndpoint, mtu: number | undefined): DhcpEndpoint | undefined {
  const { spec } = wep;
  const networkId = wep.metadata.annotations?.[NETWORK_ID_ANNOTATION];
  if (spec.interfaceName === undefined || spec.mac === undefined || spec.ipNetworks === undefined || networkId === undefined) return undefined;
  const allowed = new Set(((spec as { allowedIps?: string[] }).allowedIps ?? []).map((a) => a.split('/')[0]));
  const ips = spec.ipNetworks.map((n) => n.split('/')[0] ?? '').filter((ip) => ip !== '' && !allowed.has(ip));
  if (ips.length === 0) return undefined;
  const fqdn = wep.metadata.annotations?.[FQDN_ANNOTATION];
  return { tap: spec.interfaceName, mac: spec.mac, ips, networkId, ...(fqdn === undefined ? {} : { fqdn }), ...(mtu === undefined ? {} : { mtu }) };
}

/** A DHCP subnet record as the renderer needs it (records without a gateway are not served). */
export function dhcpSubnetOf(id: string, value: string): DhcpSubnetInput | undefined {
  let parsed;
  try {
    parsed = dhcpSubnetSchema.safeParse(JSON.parse(value));
  } catch {
    return undefined;
  }
  if (!parsed.success || parsed.data.gateway_ip === null) return undefined;
  const s = parsed.data;
  return {
    id,
    networkId: s.network_id,
    cidr: s.cidr,
    gatewayIp: s.gateway_ip,
    dnsServers: s.dns_servers ?? [],
    hostRoutes: s.host_routes,
    ...(s.ipv6_ra_mode === undefined ? {} : { ipv6RaMode: s.ipv6_ra_mode }),
    ...(s.ipv6_address_mode === undefined ? {} : { ipv6AddressMode: s.ipv6_address_mode }),
  };
}

/**
 * DHCP for one host, as networking-calico's DHCP agent does it: follows this host's
 * WorkloadEndpoints and the DHCP subnet records, reads the taps' MTUs (Nova sets the network's
 * MTU on the tap), renders dnsmasq's configuration and hands it to the DnsmasqDaemon (SIGHUP
 * when only VMs changed, restart only when its command line must change). Keeps dnsmasq alive.
 */
export async function startDhcpService(o: DhcpServiceOptions): Promise<DhcpService> {
  const log = o.logger;
  const gatewayIface = o.gatewayIface ?? 'ns-dhcp';
  await o.fs.ensureDir(o.runDir);
  const daemon = new DnsmasqDaemon({ exec: o.exec, fs: o.fs, clock: o.clock, logger: log, runDir: o.runDir, gatewayIface });
  const wepPrefix = resourcePrefix('WorkloadEndpoint', openstackNamespace(o.region));
  // Only this host's endpoints: their names start with the escaped host name and orchestrator.
  const myWepPrefix = `${wepPrefix}${o.hostname.replaceAll('-', '--')}-openstack-`;
  const subnetPrefixes = [dhcpSubnetPrefix(regionString(o.region)), LEGACY_DHCP_SUBNET_PREFIX];
  const endpoints = new Map<string, WorkloadEndpoint>();
  const subnets = new Map<string, DhcpSubnetInput>();
  const legacy = new Map<string, DhcpSubnetInput>();
  let stopped = false;
  let mtus = new Map<string, number>();

  const readMtus = async (): Promise<Map<string, number>> => {
    const r = await o.exec.run('ip', ['-j', 'link', 'show']);
    const parsed = linksSchema.safeParse(r.code === 0 ? JSON.parse(r.stdout || '[]') : []);
    const out = new Map<string, number>();
    if (parsed.success) for (const l of parsed.data) if (l.ifname.startsWith(o.interfacePrefix) && l.mtu !== undefined) out.set(l.ifname, l.mtu);
    return out;
  };

  let mtusRead = false;
  const render = async (): Promise<void> => {
    // The taps' MTUs: a full `ip link` listing once, then kept current by the link monitor
    // (and re-read by the periodic check), so a VM coming or going costs no listing of every link.
    if (!mtusRead) {
      mtus = await readMtus();
      mtusRead = true;
    }
    // An endpoint whose tap exists is served with the tap's MTU (Nova sets the network's). One
    // whose tap is not there yet (Nova binds before it plugs) is served at once when another
    // local tap of its network already tells the network's MTU, so its first DISCOVER is
    // answered; the first VM of a network on this host waits for its tap, as Calico's agent
    // does, rather than hand out a lease without the MTU.
    const mine = [...endpoints.values()].filter((w) => w.spec.node === o.hostname);
    const networkMtu = new Map<string, number>();
    for (const w of mine) {
      const net = w.metadata.annotations?.['openstack.projectcalico.org/network-id'];
      const mtu = mtus.get(w.spec.interfaceName ?? '');
      if (net !== undefined && mtu !== undefined) networkMtu.set(net, Math.min(mtu, networkMtu.get(net) ?? mtu));
    }
    const eps = mine.flatMap((w) => {
      const tapMtu = mtus.get(w.spec.interfaceName ?? '');
      const mtu = tapMtu ?? networkMtu.get(w.metadata.annotations?.['openstack.projectcalico.org/network-id'] ?? '');
      if (mtu === undefined) return [];
      return dhcpEndpointOf(w, mtu) ?? [];
    });
    // The v2 (regional) record wins over a legacy one for the same subnet.
    const all = new Map([...legacy, ...subnets]);
    const rendered = renderDnsmasq({
      hostname: o.hostname,
      interfacePrefix: o.interfacePrefix,
      gatewayIface,
      endpoints: eps,
      subnets: [...all.values()],
      leaseSeconds: o.leaseSeconds ?? 86_400,
      ...(o.domain === undefined ? {} : { domain: o.domain }),
      defaultDnsServers: o.defaultDnsServers,
      paths: { dir: o.runDir },
    });
    const result = await daemon.apply(rendered);
    if (result !== 'unchanged') log.info({ result, endpoints: eps.length, subnets: all.size }, 'dnsmasq configuration applied');
  };

  const check = async (): Promise<void> => {
    watchLinks();
    await daemon.ensureRunning();
    const now = await readMtus();
    const changed = now.size !== mtus.size || [...now].some(([tap, mtu]) => mtus.get(tap) !== mtu);
    mtus = now;
    if (changed) scheduleRender();
  };

  // `ip monitor link` (in the host's namespace): a tap appearing or changing re-renders at once.
  let monitor: ChildHandle | undefined;
  const watchLinks = (): void => {
    if (stopped || monitor !== undefined) return;
    const child = o.exec.spawn('ip', ['-o', 'monitor', 'link']);
    monitor = child;
    child.stdin.end();
    child.stderr.resume();
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      let relevant = false;
      for (const line of chunk.split('\n')) {
        const link = parseLinkLine(line);
        if (link === undefined || !link.name.startsWith(o.interfacePrefix)) continue;
        relevant = true;
        if (link.deleted) mtus.delete(link.name);
        else mtus.set(link.name, link.mtu);
      }
      if (relevant) scheduleRender();
    });
    void child.exited.then(() => {
      if (monitor === child) monitor = undefined;
    });
  };

  const loop = new ReconcileLoop({
    clock: o.clock,
    logger: log,
    apply: render,
    check,
    checkIntervalMs: o.checkIntervalMs ?? 2_000,
    coalesceMs: COALESCE_MS,
    what: 'dnsmasq',
  });
  const scheduleRender = (): void => loop.schedule();

  const syncer = new Syncer({
    kv: o.kv,
    prefixes: [myWepPrefix, ...subnetPrefixes],
    clock: o.clock,
    logger: log,
    onUpdates: (updates) => {
      for (const u of updates) {
        if (u.key.startsWith(myWepPrefix)) {
          const name = u.key.slice(wepPrefix.length);
          if (u.value === undefined) endpoints.delete(name);
          else {
            try {
              endpoints.set(name, decodeSyncedResource({ key: u.key, value: u.value, revision: u.revision }) as WorkloadEndpoint);
            } catch (err) {
              log.warn({ key: u.key, err: describeError(err) }, 'ignoring an invalid WorkloadEndpoint');
              endpoints.delete(name);
            }
          }
          continue;
        }
        const isLegacy = u.key.startsWith(LEGACY_DHCP_SUBNET_PREFIX);
        const map = isLegacy ? legacy : subnets;
        const id = u.key.slice((isLegacy ? LEGACY_DHCP_SUBNET_PREFIX : (subnetPrefixes[0] ?? '')).length);
        const s = u.value === undefined ? undefined : dhcpSubnetOf(id, u.value);
        if (s === undefined) map.delete(id);
        else map.set(id, s);
      }
      scheduleRender();
    },
    onStatus: (s) => {
      // The loop runs (and checks) only from the first in-sync; later ones change nothing.
      if (s === 'in-sync') loop.start();
    },
  });
  syncer.start();
  watchLinks();

  return {
    daemon,
    stop: async (opts = {}) => {
      stopped = true;
      monitor?.kill();
      await syncer.stop();
      await loop.stop();
      if (opts.stopDnsmasq === true) await daemon.stop();
    },
  };
}
