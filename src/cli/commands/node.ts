import { Command, Option } from 'commander';
import type { Registry } from 'prom-client';
import { parseDurationMs, startNodeAgent, type AgentIntervals } from '../../agent/index.js';
import { isClusterId, startBgpService, type BgpService } from '../../bgp/index.js';
import { startDhcpWorker, type DhcpWorker } from '../../dhcp/index.js';
import { describeDatastore, openDatastore } from '../../datastore/index.js';
import { collectGarbage, createLogger, limitHeapGrowth, netnsExec, realClock, realExec, realFs, spawnerExec } from '../../lib/index.js';
import { parseIp } from '../../model/index.js';
import { UsageError } from '../errors.js';
import type { CliIo } from '../io.js';
import { waitForStop } from '../wait-for-stop.js';
import { addSettingsOptions, optionsWithGlobals, parseListen, resolveSettings, type Env } from '../settings.js';

/**
 * How far V8's heap may grow over its live size between full collections: 2x while the cold
 * start builds everything (its peak counts too), 1.2x once the first apply is done.
 */
const HEAP_GROWTH_PERCENT = { coldStart: 100, steady: 20 } as const;

const SCOPE = { perHost: true } as const;

function seconds(opts: Record<string, unknown>, name: string, flag: string): number | undefined {
  const v = opts[name] as string | undefined;
  if (v === undefined) return undefined;
  try {
    return parseDurationMs(v, flag);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

/** DNS servers for VMs: the flag's list, else this machine's non-loopback nameservers. */
async function dnsServers(flag: string | undefined): Promise<string[]> {
  if (flag !== undefined) {
    const list = flag
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const bad = list.find((ip) => parseIp(ip) === undefined);
    if (bad !== undefined) throw new UsageError(`--dhcp-dns-servers: not an IP address: ${bad}`);
    return list;
  }
  const text = await realFs()
    .readText('/etc/resolv.conf')
    .catch(() => '');
  return text
    .split('\n')
    .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
    .filter((ip): ip is string => ip !== undefined && parseIp(ip) !== undefined && !/^(127\.|::1$)/.test(ip));
}

/** `brindle node`: the per-host agent (Felix), until stopped. */
export function nodeCommand(deps: { io: CliIo; env: Env; signal?: AbortSignal }): Command {
  const cmd = new Command('node')
    .description('Run the per-host agent: routes, proxy ARP, iptables and ipsets for the VMs on this host, and their status')
    .addOption(new Option('--region <name>', 'OpenStack region (status keys under region-<name>) [env: BRINDLE_REGION]'))
    .addOption(
      new Option(
        '--dataplane <kind>',
        "where rules and IP sets go: Brindle's own nftables table, or iptables and ipset (Felix's layout) [env: BRINDLE_DATAPLANE] (default: nft)",
      ).choices(['nft', 'iptables']),
    )
    .addOption(new Option('--iptables-backend <backend>', 'iptables backend (with --dataplane iptables)').choices(['auto', 'nft', 'legacy']).default('auto'))
    .option('--netns <name>', 'program the dataplane of this network namespace (the lab runs one agent per simulated host)')
    .option('--health-listen <host:port>', 'serve /liveness, /readiness and /metrics here')
    .option('--refresh-interval <duration>', 'read the kernel back and repair drift this often (default: FelixConfiguration iptablesRefreshInterval, else 90s)')
    .option('--report-interval <duration>', 'write the host status this often (default 30s)')
    .option('--report-ttl <duration>', 'lease of the host status key (default 90s)')
    .option('--interface-prefix <prefixes>', 'workload interface prefixes, comma separated (default: FelixConfiguration, else tap)')
    .option('--no-bgp', 'do not run BIRD (an operator runs their own BGP daemon); the Calico Node is still registered')
    .option('--bgp-only', 'run only BGP (Node registration and BIRD), no policy dataplane: a dedicated route reflector')
    .option('--bgp-address <ip[/len]>', 'IPv4 address this host peers and announces its VMs from (default: detected)')
    .option('--bgp-address6 <ip[/len]>', 'IPv6 address for BGP (default: detected)')
    .option('--bgp-interface <name>', 'detect the BGP addresses on this interface (default: the one holding the default route)')
    .option('--bgp-as <number>', "this node's AS number (default: BGPConfiguration asNumber, else 64512)")
    .option('--route-reflector-cluster-id <id>', 'make this node a route reflector with this cluster id (an IPv4-form id, e.g. 224.0.0.1)')
    .option('--bgp-run-dir <dir>', "BIRD's config, control socket, pid file and log", '/run/brindle/bird')
    .option('--no-dhcp', 'do not run dnsmasq for the VMs of this host')
    .option('--dhcp-run-dir <dir>', "dnsmasq's hosts, opts, leases, pid file and log", '/run/brindle/dhcp')
    .option(
      '--dhcp-dns-servers <ips>',
      "DNS servers for subnets that name none, comma separated (default: this machine's /etc/resolv.conf nameservers, loopback ones left out)",
    )
    .option('--dhcp-domain <domain>', 'DNS domain handed to the VMs')
    .option('--dhcp-lease-time <duration>', 'DHCP lease time (default 24h)');
  addSettingsOptions(cmd, SCOPE);
  cmd.action(async (opts: Record<string, unknown>) => {
    const settings = await resolveSettings(optionsWithGlobals(cmd), deps.env, deps.io, SCOPE);
    const logger = createLogger({ level: settings.logLevel, name: 'brindle-node' });
    const health = opts['healthListen'] === undefined ? undefined : parseListen(opts['healthListen'] as string, '--health-listen');
    const region = (opts['region'] as string | undefined) ?? deps.env['BRINDLE_REGION'];
    const dataplaneKind = (opts['dataplane'] as string | undefined) ?? deps.env['BRINDLE_DATAPLANE'] ?? 'nft';
    if (dataplaneKind !== 'nft' && dataplaneKind !== 'iptables') throw new UsageError(`BRINDLE_DATAPLANE: expected nft or iptables, got ${dataplaneKind}`);
    const refreshMs = seconds(opts, 'refreshInterval', '--refresh-interval');
    const reportMs = seconds(opts, 'reportInterval', '--report-interval');
    const ttlMs = seconds(opts, 'reportTtl', '--report-ttl');
    const intervals: Partial<AgentIntervals> = {
      ...(refreshMs === undefined ? {} : { refreshMs }),
      ...(reportMs === undefined ? {} : { reportMs }),
      ...(ttlMs === undefined ? {} : { reportTtlSeconds: Math.max(1, Math.ceil(ttlMs / 1000)) }),
    };
    const prefixes = (opts['interfacePrefix'] as string | undefined)?.split(',').filter((p) => p !== '');
    const netns = opts['netns'] as string | undefined;
    const bgpOnly = opts['bgpOnly'] === true;
    const runBird = opts['bgp'] !== false;
    if (bgpOnly && !runBird) throw new UsageError('--bgp-only and --no-bgp leave nothing to run');
    const asText = opts['bgpAs'] as string | undefined;
    const asNumber = asText === undefined ? undefined : Number(asText);
    if (asNumber !== undefined && (!Number.isInteger(asNumber) || asNumber < 1 || asNumber > 4294967294))
      throw new UsageError(`--bgp-as must be an AS number (1-4294967294), not ${String(asText)}`);
    const clusterId = opts['routeReflectorClusterId'] as string | undefined;
    if (clusterId !== undefined && !isClusterId(clusterId))
      throw new UsageError(`--route-reflector-cluster-id must be an IPv4 address or a 32-bit number, not ${clusterId}`);
    const leaseMs = seconds(opts, 'dhcpLeaseTime', '--dhcp-lease-time');
    const vmDns = opts['dhcp'] === false || bgpOnly ? [] : await dnsServers(opts['dhcpDnsServers'] as string | undefined);
    const exec = netnsExec(realExec(), netns);
    // The policy dataplane's commands go through a small spawner process: forking this one, which
    // holds the whole calculation at scale, costs several ms of its main thread per command.
    const spawner = spawnerExec({ onStderr: (text) => logger.warn({ stderr: text.trim() }, 'spawner stderr') });
    const agentExec = netnsExec(spawner, netns);
    const kv = await openDatastore(settings.datastore);
    let bgp: BgpService | undefined;
    let dhcp: DhcpWorker | undefined;
    try {
      const startBgp = async (registry?: Registry): Promise<BgpService> =>
        startBgpService({
          kv,
          exec,
          fs: realFs(),
          clock: realClock(),
          logger: logger.child({ component: 'bgp' }),
          hostname: settings.hostname,
          runDir: opts['bgpRunDir'] as string,
          addresses: {
            ...(opts['bgpAddress'] === undefined ? {} : { ipv4: opts['bgpAddress'] as string }),
            ...(opts['bgpAddress6'] === undefined ? {} : { ipv6: opts['bgpAddress6'] as string }),
            ...(opts['bgpInterface'] === undefined ? {} : { iface: opts['bgpInterface'] as string }),
          },
          ...(asNumber === undefined ? {} : { asNumber }),
          ...(opts['routeReflectorClusterId'] === undefined ? {} : { routeReflectorClusterID: opts['routeReflectorClusterId'] as string }),
          interfacePrefixes: prefixes ?? ['tap'],
          runBird,
          ...(registry === undefined ? {} : { registry }),
        });
      if (bgpOnly) {
        bgp = await startBgp();
        deps.io.err(
          `brindle node: host ${settings.hostname}${netns === undefined ? '' : ` (namespace ${netns})`}, BGP only, BIRD socket ${bgp.bird?.socketPath ?? ''}, datastore ${describeDatastore(settings.datastore)}\n`,
        );
        await waitForStop(deps.signal);
        await bgp.stop();
        return;
      }
      // Tuning only: a Node whose V8 refuses the flags runs on with its defaults.
      const tuneHeap = (when: string, tune: () => void): void => {
        try {
          tune();
        } catch (err) {
          logger.warn({ err: String(err) }, `Could not tune the heap ${when}`);
        }
      };
      tuneHeap('for the cold start', () => limitHeapGrowth(HEAP_GROWTH_PERCENT.coldStart));
      const agent = await startNodeAgent({
        kv,
        exec: agentExec,
        clock: realClock(),
        hostname: settings.hostname,
        logger,
        dataplane: dataplaneKind,
        iptablesBackend: opts['iptablesBackend'] as 'auto' | 'nft' | 'legacy',
        intervalOverrides: intervals,
        ...(prefixes === undefined ? {} : { configOverrides: { interfacePrefixes: prefixes } }),
        ...(region === undefined || region === '' ? {} : { region }),
        ...(health === undefined ? {} : { health }),
      });
      // The cold start's bulk work done: its garbage goes at once, in one collection (not in
      // the middle of the first endpoint adds), and V8 keeps the heap near what is live.
      void agent.firstApply.then(() =>
        tuneHeap('after the first apply', () => {
          limitHeapGrowth(HEAP_GROWTH_PERCENT.steady);
          collectGarbage();
        }),
      );
      try {
        bgp = await startBgp(agent.metrics.registry);
        if (opts['dhcp'] !== false) {
          // Its own thread, as networking-calico's DHCP agent is its own process: leases never
          // wait behind the dataplane's work on this thread.
          dhcp = await startDhcpWorker({
            clock: realClock(),
            logger: logger.child({ component: 'dhcp' }),
            data: {
              datastore: settings.datastore,
              logLevel: settings.logLevel,
              ...(netns === undefined ? {} : { netns }),
              hostname: settings.hostname,
              ...(region === undefined || region === '' ? {} : { region }),
              runDir: opts['dhcpRunDir'] as string,
              interfacePrefix: prefixes?.[0] ?? 'tap',
              defaultDnsServers: vmDns,
              ...(opts['dhcpDomain'] === undefined ? {} : { domain: opts['dhcpDomain'] as string }),
              ...(leaseMs === undefined ? {} : { leaseSeconds: Math.max(120, Math.round(leaseMs / 1000)) }),
            },
          });
        }
      } catch (err) {
        await bgp?.stop();
        await agent.stop();
        throw err;
      }
      deps.io.err(
        `brindle node: host ${settings.hostname}${netns === undefined ? '' : ` (namespace ${netns})`}, datastore ${describeDatastore(settings.datastore)}${agent.healthUrl === undefined ? '' : `, health ${agent.healthUrl}`}${runBird ? `, BIRD socket ${bgp.bird?.socketPath ?? ''}` : ', BGP off'}\n`,
      );
      await waitForStop(deps.signal);
      await dhcp?.stop();
      await bgp.stop();
      await agent.stop();
    } finally {
      await spawner.close();
      await kv.close();
    }
  });
  return cmd;
}
