// The measurement: a real lab (src/lab) with brindle api and one compute host running brindle
// node (its dnsmasq, BIRD) and brindle metadata, already carrying N endpoints (bound ports with
// their taps), then VMs booted one at a time as bootVm with `dhcp: true` does, each timed from its
// tap appearing (t0) to its DHCP lease (t1) and to its own metadata answered (t2). Next to each,
// the reference: the same plugging and udhcpc on a second lab host without an agent, against a
// dnsmasq started by hand with brindle's command line and files, the VM's MAC added to its hosts
// file (and loaded) before the VM is plugged.
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import {
  Lab,
  LabCluster,
  NeutronClient,
  bootVm,
  buildDataCenter,
  createNetns,
  tapName,
  VIF,
  type CreatePortBody,
  type Port,
  type UpdatePortBody,
} from '../../src/lab/index.js';
import { realClock, realExec, realFs } from '../../src/lib/index.js';
import { checkStop, progress, sleep } from '../datastore/workload.js';
import { stats, type Stats } from '../api/measure.js';
import type { World } from '../agent/world.js';
import { RouteMonitor, inNetns, wallNow } from '../bgp/kernel-watch.js';
import { LinkMonitor, LogTail, MetadataPoller, parseTimes, timedUdhcpcScript, type LogLine, type MetadataSeen } from './watch.js';
import { exitGuard } from '../lab-exit-guard.js';

export interface BootParams {
  /** Endpoints the host carries before the first VM (bound ports, taps up). */
  readonly endpoints: number;
  readonly rounds: number;
  /** Rounds run first and not counted. */
  readonly warmup: number;
  /** Concurrent bound-port creates while filling. */
  readonly fillInFlight: number;
  /** The in-VM metadata poller starts a GET this often. */
  readonly metadataPollMs: number;
  /** Per VM: lease and metadata must come within this. */
  readonly roundTimeoutMs: number;
  /** Pause after each VM, so the next starts on a quiet host. */
  readonly settleMs: number;
  /** How long the agent and dnsmasq may take to carry the endpoints. */
  readonly fillTimeoutMs: number;
  /**
   * Diagnostics, not for the record: during the rounds, `strace -f -ttt -e trace=execve` on
   * brindle node writes every command it (and its children) runs to `<dir>/strace.txt`.
   */
  readonly diagnoseDir?: string;
}

/** One VM booted against brindle node. Times in ms relative to t0 (the tap appearing). */
export interface BrindleRound {
  readonly round: number;
  readonly tap: string;
  readonly mac: string;
  readonly ip: string;
  /** t0, wall-clock ms since the epoch. */
  readonly t0At: number | undefined;
  /** The bind PUT returned (the API has written the WorkloadEndpoint before it answers): < 0. */
  readonly wepWrittenMs: number | undefined;
  readonly leaseMs: number | undefined;
  readonly metadataMs: number | undefined;
  /** udhcpc's first hook call (deconfig) began / ended: its first DISCOVER goes out right after. */
  readonly udhcpcStartMs: number | undefined;
  readonly firstDiscoverSentMs: number | undefined;
  /** The `bound` hook finished (address, route configured): from here metadata can answer. */
  readonly boundConfiguredMs: number | undefined;
  /** brindle's hosts file with this MAC written (its mtime). */
  readonly hostsWrittenMs: number | undefined;
  /** dnsmasq logged re-reading that hosts file (SIGHUP). */
  readonly dnsmasqReloadMs: number | undefined;
  /** The agent logged that apply (after signalling dnsmasq; pino's time, whole ms), and its result. */
  readonly appliedMs: number | undefined;
  readonly appliedResult: string | undefined;
  /** DHCPDISCOVERs from this MAC dnsmasq logged; how many it could not answer (MAC unknown). */
  readonly discovers: number;
  readonly discoversUnanswered: number;
  readonly firstDiscoverSeenMs: number | undefined;
  /** udhcpc sent a second DISCOVER (waited its -T 1 s). */
  readonly retransmitted: boolean;
  /** The agent's /32 route to the VM in the host's kernel. */
  readonly agentRouteMs: number | undefined;
  readonly metadataPollerStartMs: number | undefined;
  readonly metadataFirstAnswerMs: number | undefined;
  readonly metadataFirstStatus: number | undefined;
  readonly metadataAttempts: number | undefined;
  readonly metadataFailure?: string;
  /** dnsmasq log lines of this round (this MAC, and reloads), relative to t0. */
  readonly log: readonly string[];
}

/** One VM booted against the dnsmasq started by hand (MAC known before plugging). */
export interface ReferenceRound {
  readonly round: number;
  readonly tap: string;
  readonly mac: string;
  readonly leaseMs: number | undefined;
  readonly udhcpcStartMs: number | undefined;
  readonly firstDiscoverSentMs: number | undefined;
  readonly discovers: number;
  readonly discoversUnanswered: number;
  readonly firstDiscoverSeenMs: number | undefined;
  readonly retransmitted: boolean;
  /** SIGHUP with the MAC in the file -> dnsmasq logged the re-read (before t0, not in the figure). */
  readonly preloadMs: number | undefined;
}

export interface Summary extends Stats {
  readonly n: number;
  readonly failed: number;
}

export interface BootFigures {
  readonly setup: Record<string, number>;
  readonly endpointsOnHost: number;
  readonly networkMtu: number;
  readonly brindle: { readonly rounds: readonly BrindleRound[]; readonly warmup: readonly BrindleRound[] };
  readonly reference: { readonly rounds: readonly ReferenceRound[]; readonly warmup: readonly ReferenceRound[] };
  readonly lease: Summary;
  readonly metadata: Summary;
  readonly refLease: Summary;
  readonly leaseNoRetransmit: Summary;
  readonly retransmits: number;
  readonly refRetransmits: number;
  /** Rounds whose first DISCOVER dnsmasq logged as unanswerable (the MAC not loaded yet). */
  readonly firstDiscoverUnknown: number;
  readonly steps: Record<string, Stats & { n: number }>;
  readonly dnsmasq: { readonly pid: number; readonly pidAtEnd: number | undefined; readonly refPid: number; readonly args: readonly string[] };
  readonly lab: { readonly prefix: string; readonly host: string; readonly reference: string };
}

const HOST = 'compute-1';
const REF = 'ref-1';
const SUBNET = { cidr: '198.18.96.0/20', gateway: '198.18.96.1', prefixLen: 20 } as const;
const MONITOR_PROBE = '198.18.255.254';

const randomMac = (): string => `fa:16:3e:${[...randomBytes(3)].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
const rel = (at: number | undefined, t0: number | undefined): number | undefined =>
  at === undefined || t0 === undefined ? undefined : Math.round((at - t0) * 10) / 10;
const defined = (xs: readonly (number | undefined)[]): number[] => xs.filter((x): x is number => x !== undefined && Number.isFinite(x));

/** Remembers when each bind PUT returned and the instance uuid it carried (bootVm is unchanged). */
class TimedClient extends NeutronClient {
  boundAt = 0;
  deviceId = '';
  override async updatePort(id: string, body: UpdatePortBody): Promise<Port> {
    const port = await super.updatePort(id, body);
    if (body['binding:host_id'] !== undefined) {
      this.boundAt = wallNow();
      this.deviceId = body.device_id ?? '';
    }
    return port;
  }
}

function writeAtomic(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text, { mode: 0o644 });
  renameSync(`${path}.tmp`, path);
}

/** DHCPDISCOVER lines of this MAC, and those dnsmasq could not answer (MAC not in its hosts file). */
function discoversOf(lines: readonly LogLine[], mac: string): { all: LogLine[]; unanswered: LogLine[] } {
  const all = lines.filter((l) => l.line.includes('DHCPDISCOVER') && l.line.toLowerCase().includes(mac));
  return { all, unanswered: all.filter((l) => /no address available|ignored/.test(l.line)) };
}

async function until<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined> | T | undefined, everyMs = 20): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    checkStop();
    const v = await fn();
    if (v !== undefined) return v;
    if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

export async function measureBoot(world: World, p: BootParams): Promise<BootFigures> {
  const exec = realExec();
  const fs = realFs();
  const clock = realClock();
  const dir = await world.tempDir('brindle-bench-boot-');
  const setup: Record<string, number> = {};
  let mark = performance.now();
  const lap = (name: string): void => {
    const t = performance.now();
    setup[name] = Math.round(t - mark);
    mark = t;
  };
  const lab = await Lab.create({ exec, fs, clock, stateDir: join(dir, 'lab'), prefix: Lab.randomPrefix() });
  const unguard = exitGuard(lab);
  let cluster: LabCluster | undefined;
  const stoppers: (() => void)[] = [];
  /** The agent's log lines `dnsmasq configuration applied` (logged once dnsmasq was signalled). */
  const applies: { at: number; result: string }[] = [];
  try {
    const datastore = `embedded:${join(dir, 'datastore')}`;
    const workDir = join(dir, 'run');
    progress(
      'boot',
      `lab ${lab.prefix}: brindle api, host ${HOST} with brindle node (dnsmasq, BIRD) and brindle metadata; host ${REF} without an agent for the reference`,
    );
    // Log level info: the agent then also logs each dnsmasq apply (with its result and time).
    cluster = await LabCluster.start({
      lab,
      exec,
      fs,
      clock,
      datastore,
      workDir,
      logLevel: 'info',
      onOutput: (name, line) => {
        if (name !== `node/${HOST}` || !line.includes('dnsmasq configuration applied')) return;
        try {
          const j = JSON.parse(line) as { time?: number; result?: string };
          if (typeof j.time === 'number') applies.push({ at: j.time, result: j.result ?? '?' });
        } catch {
          // not JSON
        }
      },
    });
    await buildDataCenter({ lab, cluster, datastore, exec, fs, clock }, { hosts: [HOST, REF], agents: [HOST], progress: (l) => progress('boot', `  ${l}`) });
    lap('labMs');
    const hostNs = lab.hostInfo(HOST).netns;
    const refNs = lab.hostInfo(REF).netns;
    // The peers of the existing endpoints' taps: one namespace with the lab's prefix (so the lab's
    // teardown removes it too), IPv6 off so 2,000 peers send no router solicitations into the taps.
    const sinkName = `${lab.prefix}sk`;
    const sink = await createNetns({ exec, fs }, sinkName);
    await sink.must('sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);

    // Our udhcpc hook, in place before any VM boots (the lab writes its own only if none is there).
    await fs.ensureDir(lab.leaseDir);
    writeFileSync(join(lab.leaseDir, 'udhcpc.sh'), timedUdhcpcScript(), { mode: 0o755 });

    const api = new TimedClient({ url: cluster.apiUrl, projectId: 'lab-project' });
    const net = await api.createNetwork({ name: 'bench-boot' });
    const subnet = await api.createSubnet({ network_id: net.id, ip_version: 4, cidr: SUBNET.cidr, gateway_ip: SUBNET.gateway });
    const sg = await api.createSecurityGroup({ name: 'bench-boot' });
    await api.createSecurityGroupRule({ security_group_id: sg.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp' });
    const mtu = (await api.showNetwork(net.id)).mtu ?? 1500;

    // 1. The existing endpoints: bound ports (the API writes each WorkloadEndpoint), then their taps.
    progress('boot', `filling ${HOST} with ${p.endpoints} endpoints: bound port creates, ${p.fillInFlight} in flight`);
    const ports: Port[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      for (;;) {
        checkStop();
        const i = next++;
        if (i >= p.endpoints) return;
        const body = {
          network_id: net.id,
          name: `ep-${i}`,
          security_groups: [sg.id],
          fixed_ips: [{ subnet_id: subnet.id }],
          'binding:host_id': HOST,
          device_id: randomUUID(),
          device_owner: 'compute:nova',
        } as CreatePortBody;
        const port = await api.createPort(body);
        if (port['binding:vif_type'] !== 'tap') throw new Error(`port ${port.id} bound with vif_type ${port['binding:vif_type'] ?? '(none)'}`);
        ports.push(port);
        if (ports.length % 250 === 0) progress('boot', `  ${ports.length}/${p.endpoints} ports bound`);
      }
    };
    await Promise.all(Array.from({ length: p.fillInFlight }, worker));
    lap('portsMs');
    progress(
      'boot',
      `  ${ports.length} ports in ${(setup['portsMs'] ?? 0) / 1000} s; now their taps on ${HOST} and the same number on ${REF} (veths, peers in ${sinkName})`,
    );
    const host = inNetns(hostNs);
    const ref = inNetns(refNs);
    const batch = async (netns: ReturnType<typeof inNetns>, lines: string[]): Promise<void> => {
      const r = await netns.run('ip', ['-batch', '-'], { input: `${lines.join('\n')}\n`, timeoutMs: 120_000 });
      if (r.code !== 0) throw new Error(`ip -batch: ${r.stderr.trim().slice(0, 500)}`);
    };
    const CHUNK = 250;
    for (let i = 0; i < ports.length; i += CHUNK) {
      checkStop();
      const chunk = ports.slice(i, i + CHUNK).map((x) => ({ tap: tapName(x.id), id: x.id.replaceAll('-', '').slice(0, 11) }));
      const add = (peer: string) =>
        chunk.flatMap((c) => [
          `link add ${c.tap} mtu ${mtu} address ${VIF.tapMac} type veth peer name ${peer}${c.id} netns ${sinkName}`,
          `link set ${c.tap} up`,
        ]);
      await batch(host, add('p'));
      await batch(ref, add('r'));
      await batch(
        inNetns(sinkName),
        chunk.flatMap((c) => [`link set p${c.id} up`, `link set r${c.id} up`]),
      );
      progress('boot', `  ${Math.min(i + CHUNK, ports.length)}/${ports.length} taps on each host`);
    }
    lap('tapsMs');

    // 2. Wait until the agent routes every endpoint and dnsmasq carries every MAC.
    const dhcpDir = cluster.dhcpDir(HOST);
    const hostsPath = join(dhcpDir, 'hosts');
    const lines = (text: string): number => text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')).length;
    const routes = async (): Promise<number> =>
      (await host.run('ip', ['-4', 'route', 'show', 'root', SUBNET.cidr])).stdout.split('\n').filter((l) => l.includes(' dev tap')).length;
    let lastSay = 0;
    await until(
      `the agent and dnsmasq carrying ${ports.length} endpoints`,
      p.fillTimeoutMs,
      async () => {
        const r = await routes();
        const h = existsSync(hostsPath) ? lines(readFileSync(hostsPath, 'utf8')) : 0;
        if (performance.now() - lastSay > 5_000) {
          lastSay = performance.now();
          progress('boot', `  agent routes ${r}/${ports.length}, dnsmasq hosts ${h}/${ports.length}`);
        }
        return r >= ports.length && h >= ports.length ? true : undefined;
      },
      250,
    );
    lap('agentCarriesMs');
    progress(
      'boot',
      `  the agent routes all ${ports.length} and dnsmasq knows all ${ports.length} MACs (${((setup['agentCarriesMs'] ?? 0) / 1000).toFixed(1)} s after the last tap)`,
    );

    // 3. The reference dnsmasq: brindle's command line and files, in REF's namespace.
    const dnsmasqPid = Number(readFileSync(join(dhcpDir, 'dnsmasq.pid'), 'utf8').trim());
    const argv = readFileSync(`/proc/${dnsmasqPid}/cmdline`, 'utf8')
      .split('\0')
      .filter((a) => a !== '');
    const refDir = join(workDir, 'ref-dhcp');
    mkdirSync(refDir, { recursive: true });
    chmodSync(refDir, 0o755);
    const refArgs = argv.slice(1).map((a) => a.replaceAll(dhcpDir, refDir));
    const refHostsPath = join(refDir, 'hosts');
    let refHosts = readFileSync(hostsPath, 'utf8');
    // The reference VMs' addresses: free ones of the /20 from 198.18.104.2 on (an address another
    // MAC holds in the hosts file would get "no address available").
    const taken = new Set(refHosts.split('\n').map((l) => l.split(',')[2] ?? ''));
    const freeIps: string[] = [];
    for (let k = 104 * 256 + 2; freeIps.length < p.warmup + p.rounds && k < 112 * 256 - 1; k++) {
      const candidate = `198.18.${Math.floor(k / 256)}.${k % 256}`;
      if (k % 256 !== 0 && k % 256 !== 255 && !taken.has(candidate)) freeIps.push(candidate);
    }
    const refIp = (i: number): string => {
      const ip = freeIps[i];
      if (ip === undefined) throw new Error(`no free address left for reference VM ${i}`);
      return ip;
    };
    writeAtomic(refHostsPath, refHosts);
    writeAtomic(join(refDir, 'opts'), readFileSync(join(dhcpDir, 'opts'), 'utf8'));
    const gw = JSON.parse((await host.run('ip', ['-j', '-4', 'addr', 'show', 'dev', 'ns-dhcp'])).stdout || '[]') as {
      addr_info?: { local: string; prefixlen: number }[];
    }[];
    const gwAddrs = (gw[0]?.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`);
    if (gwAddrs.length === 0) throw new Error(`no gateway address on ns-dhcp in ${hostNs}`);
    await batch(ref, [
      'link add ns-dhcp type veth peer name ns-dhcp-peer',
      ...gwAddrs.map((a) => `addr add ${a} dev ns-dhcp noprefixroute`),
      'link set ns-dhcp up',
      'link set ns-dhcp-peer up',
    ]);
    await ref.run('sysctl', ['-qw', 'net.ipv6.conf.ns-dhcp-peer.disable_ipv6=1']);
    writeFileSync(join(refDir, 'dnsmasq.log'), '', { mode: 0o644 });
    const started = await ref.run('dnsmasq', refArgs);
    if (started.code !== 0) throw new Error(`the reference dnsmasq did not start: ${started.stderr.trim()}`);
    const refPid = await until('the reference dnsmasq pid file', 5_000, () =>
      existsSync(join(refDir, 'dnsmasq.pid')) ? Number(readFileSync(join(refDir, 'dnsmasq.pid'), 'utf8').trim()) || undefined : undefined,
    );
    progress(
      'boot',
      `reference dnsmasq (pid ${refPid}) in ${refNs}: ${refArgs.length} arguments as brindle's (pid ${dnsmasqPid}), the same hosts and opts files`,
    );

    // 4. Watchers.
    const tail = new LogTail(join(dhcpDir, 'dnsmasq.log'));
    const refTail = new LogTail(join(refDir, 'dnsmasq.log'));
    stoppers.push(
      () => tail.stop(),
      () => refTail.stop(),
    );
    const links = await LinkMonitor.start(world, hostNs);
    const refLinks = await LinkMonitor.start(world, refNs);
    const routeMon = await RouteMonitor.start(world, hostNs, MONITOR_PROBE);
    stoppers.push(
      () => links.stop(),
      () => refLinks.stop(),
      () => routeMon.stop(),
    );
    const routeAt = new Map<string, number>();
    routeMon.on((e) => {
      if (!e.deleted && !routeAt.has(e.dst)) routeAt.set(e.dst, e.at);
    });
    lap('watchersMs');

    const readTimes = (netns: string): ReturnType<typeof parseTimes> => {
      const path = join(lab.leaseDir, `${netns}.times`);
      return existsSync(path) ? parseTimes(readFileSync(path, 'utf8')) : {};
    };

    const brindleRound = async (i: number): Promise<BrindleRound> => {
      const name = `b${i}`;
      const roundStart = wallNow();
      let settled = false;
      let poller: MetadataPoller | undefined;
      // Starts the poller the moment the VM's namespace exists (before it has an address).
      const startPoller = (async (): Promise<void> => {
        while (!settled) {
          const vm = lab.vms().find((v) => v.name === name);
          if (vm !== undefined && existsSync(`/run/netns/${vm.netns}`)) {
            poller = new MetadataPoller(world, vm.netns, api.deviceId, p.metadataPollMs, p.roundTimeoutMs);
            return;
          }
          await sleep(2);
        }
      })();
      let failure: string | undefined;
      try {
        await bootVm(lab, api, {
          host: HOST,
          name,
          networkId: net.id,
          fixedIps: [{ subnet_id: subnet.id }],
          securityGroups: [sg.id],
          dhcp: true,
          dhcpTimeoutMs: p.roundTimeoutMs,
        });
      } catch (err) {
        failure = err instanceof Error ? err.message : String(err);
      } finally {
        settled = true;
        await startPoller;
      }
      const vm = lab.vms().find((v) => v.name === name);
      if (vm === undefined) throw new Error(`VM ${name} was not plugged: ${failure ?? ''}`);
      let seen: MetadataSeen = {};
      if (poller !== undefined) {
        const timeout = sleep(p.roundTimeoutMs + 2_000).then(() => undefined);
        seen = (await Promise.race([poller.done, timeout])) ?? { timeout: 'no answer from the poller' };
        poller.stop();
      }
      const ip = vm.ips[0]?.ip ?? '';
      const t0 = await links.waitFor(vm.tap, 1_000);
      const times = readTimes(vm.netns);
      tail.flush();
      const lines = tail.since(roundStart - 1);
      const d = discoversOf(lines, vm.mac);
      const hostsText = readFileSync(hostsPath, 'utf8');
      const hostsAt = hostsText.includes(vm.mac) ? statSync(hostsPath).mtimeMs : undefined;
      const reload = lines.find((l) => /read \S*hosts/.test(l.line) && hostsAt !== undefined && l.at >= hostsAt);
      const applied = applies.find((a) => hostsAt !== undefined && a.at >= Math.floor(hostsAt));
      const udhcpcStart = times['deconfig']?.start;
      const bound = times['bound']?.start;
      const retransmitted = d.all.length > 1 || (bound !== undefined && udhcpcStart !== undefined && bound - udhcpcStart > 800);
      const r: BrindleRound = {
        round: i - p.warmup + 1,
        tap: vm.tap,
        mac: vm.mac,
        ip,
        t0At: t0,
        wepWrittenMs: rel(api.boundAt, t0),
        leaseMs: rel(bound, t0),
        metadataMs: rel(seen.okAt, t0),
        udhcpcStartMs: rel(udhcpcStart, t0),
        firstDiscoverSentMs: rel(times['deconfig']?.end, t0),
        boundConfiguredMs: rel(times['bound']?.end, t0),
        hostsWrittenMs: rel(hostsAt, t0),
        dnsmasqReloadMs: rel(reload?.at, t0),
        appliedMs: rel(applied?.at, t0),
        appliedResult: applied?.result,
        discovers: d.all.length,
        discoversUnanswered: d.unanswered.length,
        firstDiscoverSeenMs: rel(d.all[0]?.at, t0),
        retransmitted,
        agentRouteMs: rel(routeAt.get(ip), t0),
        metadataPollerStartMs: rel(seen.startedAt, t0),
        metadataFirstAnswerMs: rel(seen.firstAnswerAt, t0),
        metadataFirstStatus: seen.firstStatus,
        metadataAttempts: seen.attempts,
        ...(failure !== undefined || seen.okAt === undefined ? { metadataFailure: failure ?? seen.timeout ?? 'unknown' } : {}),
        log: lines
          .filter((l) => l.line.toLowerCase().includes(vm.mac) || /read \S*hosts/.test(l.line))
          .map((l) => `${rel(l.at, t0)?.toFixed(1) ?? '?'} ${l.line.replace(/^\w+\s+\d+ [\d:]+ /, '')}`),
      };
      if (failure !== undefined || r.leaseMs === undefined || r.metadataMs === undefined) {
        progress(
          'boot',
          `  ${name}: lease ${r.leaseMs ?? 'none'} ms, metadata ${r.metadataMs ?? 'none'} ms${failure === undefined ? '' : `: ${failure}`}${seen.timeout === undefined ? '' : ` (poller: ${seen.timeout})`}`,
        );
      }
      return r;
    };

    const referenceRound = async (i: number): Promise<ReferenceRound> => {
      const name = `r${i}`;
      const portId = randomUUID();
      const mac = randomMac();
      const ip = refIp(i);
      // The MAC first, loaded by dnsmasq before the VM is plugged.
      refTail.flush();
      const before = wallNow();
      refHosts += `${mac},ref-${i},${ip}\n`;
      writeAtomic(refHostsPath, refHosts);
      process.kill(refPid, 'SIGHUP');
      const loaded = await until(
        'the reference dnsmasq re-reading its hosts file',
        5_000,
        () => {
          refTail.flush();
          return refTail.since(before, (l) => /read \S*hosts/.test(l))[0];
        },
        2,
      );
      const roundStart = wallNow();
      let failure: string | undefined;
      try {
        await lab.addVm({
          host: REF,
          name,
          portId,
          mac,
          ips: [{ ip, prefixLen: SUBNET.prefixLen, gateway: SUBNET.gateway }],
          dhcp: true,
          mtu,
          dhcpTimeoutMs: p.roundTimeoutMs,
        });
      } catch (err) {
        failure = err instanceof Error ? err.message : String(err);
      }
      const vm = lab.vms().find((v) => v.name === name);
      if (vm === undefined) throw new Error(`reference VM ${name} was not plugged: ${failure ?? ''}`);
      const t0 = await refLinks.waitFor(vm.tap, 1_000);
      const times = readTimes(vm.netns);
      refTail.flush();
      const d = discoversOf(refTail.since(roundStart - 1), mac);
      const udhcpcStart = times['deconfig']?.start;
      const bound = times['bound']?.start;
      const r: ReferenceRound = {
        round: i - p.warmup + 1,
        tap: vm.tap,
        mac,
        leaseMs: rel(bound, t0),
        udhcpcStartMs: rel(udhcpcStart, t0),
        firstDiscoverSentMs: rel(times['deconfig']?.end, t0),
        discovers: d.all.length,
        discoversUnanswered: d.unanswered.length,
        firstDiscoverSeenMs: rel(d.all[0]?.at, t0),
        retransmitted: d.all.length > 1 || (bound !== undefined && udhcpcStart !== undefined && bound - udhcpcStart > 800),
        preloadMs: rel(loaded.at, before),
      };
      if (failure !== undefined) progress('boot', `  reference ${name}: ${failure}`);
      return r;
    };

    if (p.diagnoseDir !== undefined) {
      const out = join(p.diagnoseDir, 'strace.txt');
      const tracer = world.track(
        exec.spawn('strace', [
          '-f',
          '-ttt',
          '-qq',
          '-e',
          'trace=execve',
          '-e',
          'signal=none',
          '-s',
          '120',
          '-o',
          out,
          '-p',
          String(cluster.nodePid(HOST) ?? 0),
        ]),
      );
      tracer.stdin.end();
      stoppers.push(() => tracer.kill('SIGTERM'));
      await sleep(500);
      progress('boot', `diagnostics: strace of brindle node (pid ${cluster.nodePid(HOST) ?? '?'}) -> ${out}`);
    }

    // 5. The rounds: one VM on brindle's host, then one on the reference, alternating.
    progress('boot', `${p.warmup} warm-up rounds, then ${p.rounds} measured (each: a VM on ${HOST}, then one on ${REF})`);
    const rounds: BrindleRound[] = [];
    const warm: BrindleRound[] = [];
    const refRounds: ReferenceRound[] = [];
    const refWarm: ReferenceRound[] = [];
    for (let i = 0; i < p.warmup + p.rounds; i++) {
      checkStop();
      const b = await brindleRound(i);
      (i < p.warmup ? warm : rounds).push(b);
      await sleep(p.settleMs);
      const r = await referenceRound(i);
      (i < p.warmup ? refWarm : refRounds).push(r);
      await sleep(p.settleMs);
      if (i >= p.warmup && (i + 1 - p.warmup) % 10 === 0) {
        const l = stats(defined(rounds.map((x) => x.leaseMs)));
        progress(
          'boot',
          `  ${i + 1 - p.warmup}/${p.rounds}: lease p50 ${l.p50Ms} ms, max ${l.maxMs} ms; ${rounds.filter((x) => x.retransmitted).length} retransmits so far; reference lease p50 ${stats(defined(refRounds.map((x) => x.leaseMs))).p50Ms} ms`,
        );
      }
    }
    lap('roundsMs');
    const pidAtEnd = Number(readFileSync(join(dhcpDir, 'dnsmasq.pid'), 'utf8').trim());

    const summary = (xs: readonly (number | undefined)[]): Summary => {
      const d = defined(xs);
      return { n: d.length, failed: xs.length - d.length, ...stats(d) };
    };
    const step = (pick: (r: BrindleRound) => number | undefined): Stats & { n: number } => {
      const d = defined(rounds.map(pick));
      return { n: d.length, ...stats(d) };
    };
    const diff = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined ? undefined : a - b);
    return {
      setup,
      endpointsOnHost: ports.length,
      networkMtu: mtu,
      brindle: { rounds, warmup: warm },
      reference: { rounds: refRounds, warmup: refWarm },
      lease: summary(rounds.map((r) => r.leaseMs)),
      metadata: summary(rounds.map((r) => r.metadataMs)),
      refLease: summary(refRounds.map((r) => r.leaseMs)),
      leaseNoRetransmit: summary(rounds.filter((r) => !r.retransmitted).map((r) => r.leaseMs)),
      retransmits: rounds.filter((r) => r.retransmitted).length,
      refRetransmits: refRounds.filter((r) => r.retransmitted).length,
      firstDiscoverUnknown: rounds.filter((r) => r.discoversUnanswered > 0).length,
      steps: {
        wepWritten: step((r) => r.wepWrittenMs),
        udhcpcStart: step((r) => r.udhcpcStartMs),
        firstDiscoverSent: step((r) => r.firstDiscoverSentMs),
        firstDiscoverSeen: step((r) => r.firstDiscoverSeenMs),
        hostsWritten: step((r) => r.hostsWrittenMs),
        dnsmasqReload: step((r) => r.dnsmasqReloadMs),
        applied: step((r) => r.appliedMs),
        reloadMinusFirstDiscover: step((r) => diff(r.dnsmasqReloadMs, r.firstDiscoverSeenMs)),
        leaseAfterReload: step((r) => (r.retransmitted ? undefined : diff(r.leaseMs, r.dnsmasqReloadMs))),
        boundConfigured: step((r) => r.boundConfiguredMs),
        agentRoute: step((r) => r.agentRouteMs),
        metadataPollerStart: step((r) => r.metadataPollerStartMs),
        metadataAfterLease: step((r) => diff(r.metadataMs, r.leaseMs)),
        metadataAfterRoute: step((r) => diff(r.metadataMs, r.agentRouteMs)),
        refUdhcpcStart: ((): Stats & { n: number } => {
          const d = defined(refRounds.map((r) => r.udhcpcStartMs));
          return { n: d.length, ...stats(d) };
        })(),
        refLeaseAfterUdhcpcStart: ((): Stats & { n: number } => {
          const d = defined(refRounds.map((r) => diff(r.leaseMs, r.udhcpcStartMs)));
          return { n: d.length, ...stats(d) };
        })(),
        leaseAfterUdhcpcStart: step((r) => (r.retransmitted ? undefined : diff(r.leaseMs, r.udhcpcStartMs))),
      },
      dnsmasq: { pid: dnsmasqPid, pidAtEnd: Number.isInteger(pidAtEnd) ? pidAtEnd : undefined, refPid, args: argv.slice(1) },
      lab: { prefix: lab.prefix, host: hostNs, reference: refNs },
    };
  } finally {
    progress(
      'cleanup',
      `lab ${lab.prefix}: stopping the watchers, brindle api, the agent and metadata, then dnsmasq, udhcpc and everything else in its namespaces; removing them`,
    );
    for (const s of stoppers) s();
    await cluster?.stop().catch((err: unknown) => progress('cleanup', `stopping the lab's processes: ${String(err)}`));
    await lab.destroy().catch((err: unknown) => progress('cleanup', `removing the lab: ${String(err)}`));
    unguard();
  }
}
