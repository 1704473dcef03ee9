// Figure 1: a port bound to host 1 -> its VM answers pings from a VM on host 2 (over BGP), with
// the same figure from a VM on host 1 as the reference. A real lab from src/lab: two compute
// hosts in a full BGP mesh, `brindle api` and one `brindle node` (with its BIRD) per host.
//
// Each round: create a port with a fixed IP, start two fast pings towards that IP (from the
// long-lived VM on host 2 and the one on host 1), bind the port to host 1 (t0 = just after the
// bind PUT returns), read it back and plug VM A as bootVm does; each ping's first echo reply
// (ping's own -D timestamp) is t1. `ip -ts monitor route` on both hosts times the steps between:
// the agent's route on host 1, BIRD's route on host 2. Then the VM is deleted as deleteVm does
// and the next round waits until host 2's kernel has dropped the route.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Lab, LabCluster, buildDataCenter, deleteVm, bootVm, type NeutronClient } from '../../src/lab/index.js';
import { realClock, realExec, realFs } from '../../src/lib/index.js';
import { checkStop, progress, sleep, stopping } from '../datastore/workload.js';
import { stats, type Stats } from '../api/measure.js';
import type { World } from '../agent/world.js';
import { Pinger, RouteMonitor, inNetns, wallNow, type RouteEvent } from './kernel-watch.js';
import { exitGuard } from '../lab-exit-guard.js';

export interface ReachParams {
  readonly rounds: number;
  /** Rounds run first and not counted. */
  readonly warmup: number;
  readonly pingIntervalSeconds: number;
  readonly roundTimeoutMs: number;
  readonly withdrawTimeoutMs: number;
  /**
   * Diagnostics (`--vm-arp-retrans-ms N`): right after plugging VM A, set its
   * net.ipv4.neigh.eth0.retrans_time_ms to N (Linux default 1000): how long it waits before
   * asking again for a neighbour nobody answered for.
   */
  readonly vmArpRetransMs?: number;
}

export interface Round {
  readonly round: number;
  readonly ip: string;
  /** The bind PUT (sent -> reply read). */
  readonly bindPutMs: number;
  /** t0 -> the VM plugged (port read back, namespace, veth, addresses: what the lab does for Nova). */
  readonly plugMs: number;
  /** t0 -> first echo reply seen by the VM on host 2 / on host 1 (undefined: none within the timeout). */
  readonly crossHostMs: number | undefined;
  readonly sameHostMs: number | undefined;
  /** t0 -> the agent's route to the VM appeared in host 1's kernel. */
  readonly host1RouteMs: number | undefined;
  /** t0 -> BIRD's route to the VM appeared in host 2's kernel. */
  readonly host2RouteMs: number | undefined;
  /** Just before deleteVm -> host 2's kernel dropped the route. */
  readonly withdrawMs: number | undefined;
}

export interface ReachFigures {
  readonly rounds: readonly Round[];
  readonly warmupRounds: readonly Round[];
  readonly crossHost: Stats & { n: number; timedOut: number };
  readonly sameHost: Stats & { n: number; timedOut: number };
  readonly bindPut: Stats;
  readonly plug: Stats;
  readonly host1Route: Stats;
  /** host 1's route -> host 2's route: what BGP adds in the kernels' eyes. */
  readonly bgpHop: Stats;
  /** host 2's route -> the first reply on host 2. */
  readonly afterHost2Route: Stats;
  /** Per round, cross-host minus same-host. */
  readonly crossMinusSame: Stats;
  readonly withdraw: Stats & { n: number; timedOut: number };
  readonly setupMs: number;
  readonly lab: { readonly prefix: string; readonly hosts: Record<string, string> };
}

const HOSTS = ['compute-1', 'compute-2'] as const;
const SUBNET = { cidr: '198.18.70.0/24', gateway: '198.18.70.1', prefixLen: 24 } as const;
const PROBE_IP = { 'compute-1': '198.18.70.11', 'compute-2': '198.18.70.10' } as const;
/** A /32 the route monitors use to check they listen (never a VM address). */
const MONITOR_PROBE = '198.18.255.254';

const round1 = (n: number | undefined): number | undefined => (n === undefined ? undefined : Math.round(n * 10) / 10);
const defined = (xs: readonly (number | undefined)[]): number[] => xs.filter((x): x is number => x !== undefined);

/** Resolves with the promise's value, or undefined after `ms` (sooner on Ctrl-C, which then throws). */
async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let onAbort = (): void => {};
  let timer: NodeJS.Timeout | undefined;
  const stop = new Promise<undefined>((r) => {
    onAbort = () => r(undefined);
    stopping.signal.addEventListener('abort', onAbort, { once: true });
    timer = setTimeout(() => r(undefined), ms);
  });
  try {
    return await Promise.race([p, stop]);
  } finally {
    clearTimeout(timer);
    stopping.signal.removeEventListener('abort', onAbort);
    checkStop();
  }
}

/** Nova's order for one VM, timed: port made before, bind, read back, plug (as bootVm). */
async function boot(
  lab: Lab,
  api: NeutronClient,
  portId: string,
  mac: string,
  name: string,
  ip: string,
  arpRetransMs: number | undefined,
): Promise<{ bindPutMs: number; t0: number; pluggedAt: number }> {
  const sent = wallNow();
  const bound = await api.updatePort(portId, { 'binding:host_id': HOSTS[0], device_id: randomUUID(), device_owner: 'compute:nova' });
  const t0 = wallNow();
  if (bound['binding:vif_type'] !== 'tap') throw new Error(`port ${portId} bound with vif_type ${bound['binding:vif_type'] ?? '(none)'}`);
  await api.showPort(portId);
  await lab.addVm({ host: HOSTS[0], name, portId, mac, ips: [{ ip, prefixLen: SUBNET.prefixLen, gateway: SUBNET.gateway }] });
  if (arpRetransMs !== undefined) await lab.vm(name).must('sysctl', ['-q', '-w', `net.ipv4.neigh.eth0.retrans_time_ms=${arpRetransMs}`]);
  return { bindPutMs: t0 - sent, t0, pluggedAt: wallNow() };
}

async function hasRoute(netns: string, ip: string): Promise<boolean> {
  const r = await inNetns(netns).run('ip', ['-4', 'route', 'show', `${ip}/32`]);
  return r.stdout.trim() !== '';
}

export async function measureReachability(world: World, p: ReachParams): Promise<ReachFigures> {
  const exec = realExec();
  const fs = realFs();
  const clock = realClock();
  const dir = await world.tempDir('brindle-bench-bgp-lab-');
  const setupStart = performance.now();
  const lab = await Lab.create({ exec, fs, clock, stateDir: join(dir, 'lab'), prefix: Lab.randomPrefix() });
  const unguard = exitGuard(lab);
  let cluster: LabCluster | undefined;
  const monitors: RouteMonitor[] = [];
  try {
    const datastore = `embedded:${join(dir, 'datastore')}`;
    progress('reach', `lab ${lab.prefix}: brindle api, then 2 compute hosts in a full mesh, each with brindle node and its BIRD (production defaults)`);
    cluster = await LabCluster.start({ lab, exec, fs, clock, datastore, workDir: join(dir, 'run') });
    await buildDataCenter({ lab, cluster, datastore, exec, fs, clock }, { hosts: HOSTS, progress: (l) => progress('reach', `  ${l}`) });
    const api = cluster.client();
    const net = await api.createNetwork({ name: 'bench-bgp' });
    const subnet = await api.createSubnet({ network_id: net.id, ip_version: 4, cidr: SUBNET.cidr, gateway_ip: SUBNET.gateway });
    const sg = await api.createSecurityGroup({ name: 'bench-icmp' });
    await api.createSecurityGroupRule({ security_group_id: sg.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp' });
    for (const host of HOSTS) {
      await bootVm(lab, api, {
        host,
        name: `probe-${host}`,
        networkId: net.id,
        fixedIps: [{ subnet_id: subnet.id, ip_address: PROBE_IP[host] }],
        securityGroups: [sg.id],
      });
    }
    const probeNs = (host: (typeof HOSTS)[number]): string => lab.vmInfo(`probe-${host}`).netns;
    progress('reach', 'probe VMs booted on both hosts; waiting until they reach each other across hosts (BGP up)');
    const warm = new Pinger(world, probeNs(HOSTS[1]), PROBE_IP[HOSTS[0]], 0.05);
    const answered = await within(warm.firstReply, 60_000);
    await warm.stop();
    if (answered === undefined)
      throw new Error(
        `the probe VM on ${HOSTS[1]} does not reach the one on ${HOSTS[0]} after 60 s:\n${warm.output}\n${await cluster.birdc(HOSTS[1], 'show', 'protocols')}`,
      );
    for (const host of HOSTS) monitors.push(await RouteMonitor.start(world, lab.hostInfo(host).netns, MONITOR_PROBE));
    const [mon1, mon2] = monitors as [RouteMonitor, RouteMonitor];
    const setupMs = performance.now() - setupStart;
    progress('reach', `lab ready in ${(setupMs / 1000).toFixed(1)} s; ${p.warmup} warm-up rounds, then ${p.rounds} measured`);

    const rounds: Round[] = [];
    const warmupRounds: Round[] = [];
    const h2ns = lab.hostInfo(HOSTS[1]).netns;
    for (let i = 0; i < p.warmup + p.rounds; i++) {
      checkStop();
      const ip = `198.18.70.${100 + i}`;
      const name = `a${i}`;
      const port = await api.createPort({ network_id: net.id, name, security_groups: [sg.id], fixed_ips: [{ subnet_id: subnet.id, ip_address: ip }] });
      const cross = new Pinger(world, probeNs(HOSTS[1]), ip, p.pingIntervalSeconds);
      const same = new Pinger(world, probeNs(HOSTS[0]), ip, p.pingIntervalSeconds);
      let r: Round;
      try {
        await Promise.all([cross.ready(5_000), same.ready(5_000)]);
        const added = (e: RouteEvent): boolean => e.dst === ip && !e.deleted;
        const h1 = mon1.next(added, p.roundTimeoutMs + 5_000);
        const h2 = mon2.next(added, p.roundTimeoutMs + 5_000);
        const b = await boot(lab, api, port.id, port.mac_address, name, ip, p.vmArpRetransMs);
        const [crossAt, sameAt] = await Promise.all([within(cross.firstReply, p.roundTimeoutMs), within(same.firstReply, p.roundTimeoutMs)]);
        const [e1, e2] = await Promise.all([within(h1, 1_000), within(h2, 1_000)]);
        const since = (at: number | undefined): number | undefined => round1(at === undefined ? undefined : at - b.t0);
        r = {
          round: i - p.warmup + 1,
          ip,
          bindPutMs: round1(b.bindPutMs) ?? NaN,
          plugMs: round1(b.pluggedAt - b.t0) ?? NaN,
          crossHostMs: since(crossAt),
          sameHostMs: since(sameAt),
          host1RouteMs: since(e1?.at),
          host2RouteMs: since(e2?.at),
          withdrawMs: undefined,
        };
        if (crossAt === undefined || sameAt === undefined) {
          progress(
            'reach',
            `  round ${i + 1}: no reply within ${p.roundTimeoutMs} ms (host 2 ${crossAt === undefined ? 'none' : 'ok'}, host 1 ${sameAt === undefined ? 'none' : 'ok'}); host 1 route ${r.host1RouteMs ?? 'not seen'}, host 2 route ${r.host2RouteMs ?? 'not seen'}`,
          );
        }
      } finally {
        await Promise.all([cross.stop(), same.stop()]);
      }
      // Delete as Nova does; the next round starts once host 2's kernel has dropped the route.
      const gone = mon2.next((e) => e.dst === ip && e.deleted, p.withdrawTimeoutMs);
      const del = wallNow();
      await deleteVm(lab, api, name);
      const g = await within(gone, p.withdrawTimeoutMs);
      const deadline = performance.now() + p.withdrawTimeoutMs;
      while (await hasRoute(h2ns, ip)) {
        if (performance.now() > deadline) throw new Error(`host 2 still routes ${ip} ${p.withdrawTimeoutMs} ms after the VM was deleted`);
        await sleep(20);
        checkStop();
      }
      r = { ...r, withdrawMs: round1(g === undefined ? undefined : g.at - del) };
      (i < p.warmup ? warmupRounds : rounds).push(r);
      if ((i + 1 - p.warmup) % 10 === 0 && i >= p.warmup) {
        const c = defined(rounds.map((x) => x.crossHostMs));
        progress(
          'reach',
          `  ${i + 1 - p.warmup}/${p.rounds} rounds; last: host 2 ${r.crossHostMs ?? '-'} ms, host 1 ${r.sameHostMs ?? '-'} ms; p50 so far ${stats(c).p50Ms} ms`,
        );
      }
    }

    const cross = defined(rounds.map((r) => r.crossHostMs));
    const same = defined(rounds.map((r) => r.sameHostMs));
    const diff = (a: (r: Round) => number | undefined, b: (r: Round) => number | undefined): number[] =>
      defined(
        rounds.map((r) => {
          const x = a(r);
          const y = b(r);
          return x === undefined || y === undefined ? undefined : x - y;
        }),
      );
    const withdraw = defined(rounds.map((r) => r.withdrawMs));
    return {
      rounds,
      warmupRounds,
      crossHost: { n: cross.length, timedOut: rounds.length - cross.length, ...stats(cross) },
      sameHost: { n: same.length, timedOut: rounds.length - same.length, ...stats(same) },
      bindPut: stats(rounds.map((r) => r.bindPutMs)),
      plug: stats(rounds.map((r) => r.plugMs)),
      host1Route: stats(defined(rounds.map((r) => r.host1RouteMs))),
      bgpHop: stats(
        diff(
          (r) => r.host2RouteMs,
          (r) => r.host1RouteMs,
        ),
      ),
      afterHost2Route: stats(
        diff(
          (r) => r.crossHostMs,
          (r) => r.host2RouteMs,
        ),
      ),
      crossMinusSame: stats(
        diff(
          (r) => r.crossHostMs,
          (r) => r.sameHostMs,
        ),
      ),
      withdraw: { n: withdraw.length, timedOut: rounds.length - withdraw.length, ...stats(withdraw) },
      setupMs: Math.round(setupMs),
      lab: { prefix: lab.prefix, hosts: Object.fromEntries(HOSTS.map((h) => [h, lab.hostInfo(h).netns])) },
    };
  } finally {
    progress('cleanup', `lab ${lab.prefix}: stopping brindle api and the agents, then BIRD and everything else in its namespaces; removing them`);
    for (const m of monitors) m.stop();
    await cluster?.stop().catch((err: unknown) => progress('cleanup', `stopping the lab's processes: ${String(err)}`));
    await lab.destroy().catch((err: unknown) => progress('cleanup', `removing the lab: ${String(err)}`));
    unguard();
  }
}
