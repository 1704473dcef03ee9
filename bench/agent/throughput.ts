// TCP throughput between two VMs on one host (iperf3), each VM a namespace plugged into the host
// through a veth tap the way the lab plugs one (src/lab/lab-topology.ts): the VM side `eth0` with
// the port's MAC and address (/24) and a default route onlink via the gateway address.
import { realExec } from '../../src/lib/index.js';
import { checkStop, progress, sleep } from '../datastore/workload.js';
import { machineBusyMs, procStat } from './agent-process.js';
import type { Ns, World } from './world.js';

export interface Vm {
  readonly ns: Ns;
  readonly tap: string;
  readonly ip: string;
  readonly mac: string;
}

/** A VM namespace plugged into `host` through `tap`; its eth0 is up with `ip`/24, default via `gw` onlink. */
export async function plugVm(world: World, host: Ns, spec: { tag: string; tap: string; ip: string; mac: string; gw: string }): Promise<Vm> {
  const ns = await world.netns(spec.tag);
  await host.must('ip', ['link', 'add', spec.tap, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.name]);
  await host.must('ip', ['link', 'set', spec.tap, 'address', 'fe:ff:ff:ff:ff:ff']);
  await ns.ipBatch([
    `link set eth0 address ${spec.mac}`,
    'link set eth0 up',
    `addr add ${spec.ip}/24 dev eth0`,
    `route add default via ${spec.gw} dev eth0 onlink`,
  ]);
  await host.must('ip', ['link', 'set', spec.tap, 'up']);
  return { ns, tap: spec.tap, ip: spec.ip, mac: spec.mac };
}

/**
 * What the agent would do for two VMs, by hand and without any iptables rule: forwarding on,
 * proxy ARP (no delay) on the taps, a /32 route to each VM and a static ARP entry for its MAC.
 */
export async function plumbByHand(host: Ns, vms: readonly Vm[]): Promise<void> {
  await host.must('sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
  for (const vm of vms) {
    await host.must('sysctl', [
      '-q',
      '-w',
      `net.ipv4.conf.${vm.tap}.proxy_arp=1`,
      `net.ipv4.neigh.${vm.tap}.proxy_delay=0`,
      `net.ipv4.conf.${vm.tap}.forwarding=1`,
    ]);
    await host.ipBatch([`route replace ${vm.ip}/32 dev ${vm.tap} scope link`, `neigh replace ${vm.ip} lladdr ${vm.mac} dev ${vm.tap} nud permanent`]);
  }
}

export interface IperfRun {
  readonly gbitPerSecond: number;
  readonly retransmits: number;
  /** Cores busy on the whole machine during the run (both VMs' traffic is kernel time). */
  readonly machineCores: number;
  /** Cores the host's agent used during the run (undefined: no agent). */
  readonly agentCores: number | undefined;
}

export interface IperfFigures {
  readonly runs: readonly IperfRun[];
  /** The best run (least disturbed by other work on the machine). */
  readonly bestGbitPerSecond: number;
  readonly error?: string;
}

/** iperf3 -s in `server`, then `runs` times `iperf3 -c -t seconds -J` from `client`. */
export async function iperf(
  world: World,
  client: Vm,
  server: Vm,
  o: { seconds: number; runs: number; port: number; tag: string; agentPid?: number },
): Promise<IperfFigures> {
  const srv = world.track(realExec().spawn('ip', ['netns', 'exec', server.ns.name, 'iperf3', '-s', '-p', String(o.port)]));
  srv.stdin.end();
  srv.stdout.resume();
  srv.stderr.resume();
  const runs: IperfRun[] = [];
  try {
    for (let i = 0; i < 50; i++) {
      const ss = await server.ns.run('ss', ['-ltnH', `sport = :${o.port}`]);
      if (ss.stdout.trim() !== '') break;
      await sleep(100);
    }
    // ARP and the first connection, unmeasured.
    await client.ns.run('ping', ['-c', '1', '-W', '2', '-n', server.ip]);
    for (let i = 0; i < o.runs; i++) {
      checkStop();
      const agent0 = o.agentPid === undefined ? undefined : await procStat(o.agentPid);
      const busy0 = await machineBusyMs();
      const t0 = performance.now();
      const r = await client.ns.run('iperf3', ['-c', server.ip, '-p', String(o.port), '-t', String(o.seconds), '-J'], { timeoutMs: (o.seconds + 20) * 1000 });
      const wall = performance.now() - t0;
      const busy1 = await machineBusyMs();
      const agent1 = o.agentPid === undefined ? undefined : await procStat(o.agentPid);
      let j: { end?: { sum_received?: { bits_per_second?: number }; sum_sent?: { retransmits?: number } }; error?: string };
      try {
        j = JSON.parse(r.stdout) as typeof j;
      } catch {
        throw new Error(`iperf3 -c ${server.ip}: exit ${r.code ?? r.signal}: ${r.stderr.trim() || r.stdout.slice(0, 500)}`);
      }
      if (j.error !== undefined || j.end?.sum_received?.bits_per_second === undefined) throw new Error(`iperf3 -c ${server.ip}: ${j.error ?? 'no result'}`);
      const run: IperfRun = {
        gbitPerSecond: Math.round((j.end.sum_received.bits_per_second / 1e9) * 100) / 100,
        retransmits: j.end.sum_sent?.retransmits ?? 0,
        machineCores: Math.round(((busy1 - busy0) / wall) * 100) / 100,
        agentCores:
          agent0 === undefined || agent1 === undefined
            ? undefined
            : Math.round(((agent1.selfMs + agent1.childrenMs - agent0.selfMs - agent0.childrenMs) / wall) * 100) / 100,
      };
      runs.push(run);
      progress(
        o.tag,
        `  iperf3 run ${i + 1}/${o.runs}: ${run.gbitPerSecond} Gbit/s (${run.retransmits} retransmits, machine ${run.machineCores} cores busy${run.agentCores === undefined ? '' : `, agent ${run.agentCores}`})`,
      );
    }
    return { runs, bestGbitPerSecond: Math.max(...runs.map((r) => r.gbitPerSecond)) };
  } catch (err) {
    return {
      runs,
      bestGbitPerSecond: runs.length === 0 ? NaN : Math.max(...runs.map((r) => r.gbitPerSecond)),
      error: err instanceof Error ? err.message : String(err),
    };
  } finally {
    srv.kill('SIGTERM');
    await Promise.race([srv.exited, sleep(3_000)]);
    srv.kill('SIGKILL');
  }
}
