// The measured phases of the agent benchmark (run.ts puts them in order): an agent start (cold,
// or a restart on a programmed dataplane), the kernel tools' read-back and one-endpoint costs,
// and the throughput scenarios.
import type { KvStore, Watch } from '../../src/datastore/index.js';
import { openDatastore } from '../../src/datastore/index.js';
import { felixEndpointStatusKey, felixHostPrefix } from '../../src/model/index.js';
import { stats, type Stats } from '../api/measure.js';
import { checkStop, progress, sleep } from '../datastore/workload.js';
import { AgentProcess, metricSum, type AgentSpec } from './agent-process.js';
import { between, snapshot, type CpuUse } from './cpu.js';
import { dispatchBins, oneEndpointRestore, timed, type Dump } from './kernel.js';
import { int } from './int.js';
import { endpointValue, policyKey, policyValue } from './scenario.js';
import { iperf, plugVm, plumbByHand, type IperfFigures, type Vm } from './throughput.js';
import type { Ns, World } from './world.js';

/** Follows every status key of `hostname` from `fromRevision`: when the first and the `want`-th say up. */
function followStatuses(
  kv: KvStore,
  hostname: string,
  fromRevision: number,
  want: number,
): { firstUpAt: () => number | undefined; allUpAt: () => number | undefined; upCount: () => number; close: () => void } {
  const up = new Set<string>();
  let firstUpAt: number | undefined;
  let allUpAt: number | undefined;
  const watch: Watch = kv.watch(`${felixHostPrefix('no-region')}${hostname}/workload/`, { fromRevision });
  void (async () => {
    try {
      for await (const batch of watch) {
        const at = performance.now();
        for (const e of batch.events) {
          if (e.type === 'put' && e.kv.value.includes('"up"')) up.add(e.kv.key);
          else up.delete(e.type === 'put' ? e.kv.key : e.key);
        }
        if (firstUpAt === undefined && up.size > 0) firstUpAt = at;
        if (allUpAt === undefined && up.size >= want) allUpAt = at;
      }
    } catch (err) {
      progress('agent', `status watch ended: ${err instanceof Error ? err.message : String(err)}`);
    }
  })();
  return { firstUpAt: () => firstUpAt, allUpAt: () => allUpAt, upCount: () => up.size, close: () => watch.close() };
}

export interface StartFigures {
  /** Spawn to the first `GET /readiness` 200 (polled every `pollMs`). */
  readonly readyMs: number;
  readonly firstStatusUpMs?: number;
  /** Spawn to the last endpoint status key written up (cold start only). */
  readonly allStatusUpMs?: number;
  readonly statusUpCount?: number;
  /** From the agent's log (info level), ms after spawn, and the first apply's own figures. */
  readonly log: { inSyncMs?: number; dataplaneStartingMs?: number; firstApplyMs?: number; firstApplyIptablesLines?: number };
  readonly cpuToReady: CpuUse;
  readonly cpuToAllUp?: CpuUse;
  /** felix_* metrics (not the histogram buckets) once ready. */
  readonly metrics: Record<string, number>;
}

/**
 * Starts `brindle node`, polls readiness, and with `wantStatuses` also waits until that many
 * endpoint status keys say up (followed through a watch started before the spawn).
 */
export async function startAgent(
  world: World,
  kv: KvStore,
  spec: AgentSpec,
  o: { pollMs: number; timeoutMs: number; wantStatuses?: number; statusTimeoutMs: number },
): Promise<{ agent: AgentProcess; figures: StartFigures }> {
  const follow = o.wantStatuses === undefined ? undefined : followStatuses(kv, spec.hostname, (await kv.revision()) + 1, o.wantStatuses);
  try {
    const agent = await AgentProcess.start(world, spec);
    const c0 = await snapshot(agent.pid, { fresh: true, at: agent.startedAt });
    const readyAt = await agent.waitReady(o.pollMs, o.timeoutMs);
    const cReady = await snapshot(agent.pid);
    progress(spec.tag, `ready (GET /readiness 200) ${((readyAt - agent.startedAt) / 1000).toFixed(2)} s after spawn`);
    let allUpAt: number | undefined;
    let cAll;
    if (follow !== undefined && o.wantStatuses !== undefined) {
      const deadline = performance.now() + o.statusTimeoutMs;
      let lastLog = performance.now();
      while (follow.allUpAt() === undefined && performance.now() < deadline) {
        checkStop();
        const why = agent.exitedEarly();
        if (why !== undefined) throw new Error(why);
        if (performance.now() - lastLog > 5_000) {
          lastLog = performance.now();
          progress(spec.tag, `  ${int(follow.upCount())} / ${int(o.wantStatuses)} endpoint status keys up`);
        }
        await sleep(50);
      }
      allUpAt = follow.allUpAt();
      cAll = allUpAt === undefined ? undefined : await snapshot(agent.pid);
      if (allUpAt === undefined) progress(spec.tag, `only ${follow.upCount()} of ${o.wantStatuses} status keys up after ${o.statusTimeoutMs / 1000} s`);
      else progress(spec.tag, `all ${int(o.wantStatuses)} endpoint status keys up ${((allUpAt - agent.startedAt) / 1000).toFixed(2)} s after spawn`);
    }
    const since = (at: number | undefined): number | undefined => (at === undefined ? undefined : Math.round(at - agent.startedAt));
    const logAt = (msg: string, pred: (raw: string) => boolean = () => true): number | undefined =>
      since(agent.log.find((l) => l.msg === msg && pred(l.raw))?.at);
    const applied = agent.log.find((l) => l.msg === 'Dataplane programmed after start');
    const appliedJson = applied === undefined ? {} : (JSON.parse(applied.raw) as { ms?: number; lines?: number });
    const log: StartFigures['log'] = {};
    const inSync = logAt('Datastore sync status', (r) => r.includes('"in-sync"'));
    if (inSync !== undefined) log.inSyncMs = inSync;
    const starting = logAt('Dataplane starting');
    if (starting !== undefined) log.dataplaneStartingMs = starting;
    if (appliedJson.ms !== undefined) log.firstApplyMs = appliedJson.ms;
    if (appliedJson.lines !== undefined) log.firstApplyIptablesLines = appliedJson.lines;
    const metrics: Record<string, number> = {};
    for (const [k, v] of await agent.metrics()) if (k.startsWith('felix_') && !k.includes('_bucket')) metrics[k] = v;
    const firstUp = since(follow?.firstUpAt());
    const allUp = since(allUpAt);
    return {
      agent,
      figures: {
        readyMs: Math.round(readyAt - agent.startedAt),
        ...(firstUp === undefined ? {} : { firstStatusUpMs: firstUp }),
        ...(allUp === undefined ? {} : { allStatusUpMs: allUp }),
        ...(follow === undefined ? {} : { statusUpCount: follow.upCount() }),
        log,
        cpuToReady: between(c0, cReady),
        ...(cAll === undefined ? {} : { cpuToAllUp: between(c0, cAll) }),
        metrics,
      },
    };
  } finally {
    follow?.close();
  }
}

export interface RepFigures extends Stats {
  readonly n: number;
  readonly minMs: number;
}

async function reps(count: number, f: () => Promise<number>): Promise<RepFigures> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    checkStop();
    out.push(await f());
  }
  return { n: count, minMs: Math.round(Math.min(...out) * 100) / 100, ...stats(out) };
}

/** Read-back costs in a loaded namespace: what the agent's refresh and every route apply read. */
export async function readBack(ns: Ns, count: number, dataplane: 'nft' | 'iptables'): Promise<Record<string, RepFigures>> {
  if (dataplane === 'nft') {
    return {
      'nft -j list table ip brindle': await reps(count, () => timed(ns, 'nft', ['-j', 'list', 'table', 'ip', 'brindle'])),
      'nft -j list table ip6 brindle': await reps(count, () => timed(ns, 'nft', ['-j', 'list', 'table', 'ip6', 'brindle'])),
      'ip -4 -d -j route show table main': await reps(count, () => timed(ns, 'ip', ['-4', '-d', '-j', 'route', 'show', 'table', 'main'])),
      'ip -j link show': await reps(count, () => timed(ns, 'ip', ['-j', 'link', 'show'])),
    };
  }
  return {
    'iptables-save (all v4 tables)': await reps(count, () => timed(ns, 'iptables-save', [])),
    'iptables-save -t filter': await reps(count, () => timed(ns, 'iptables-save', ['-t', 'filter'])),
    'iptables-save -t raw (8 rules)': await reps(count, () => timed(ns, 'iptables-save', ['-t', 'raw'])),
    'ip6tables-save (all v6 tables)': await reps(count, () => timed(ns, 'ip6tables-save', [])),
    'ipset save': await reps(count, () => timed(ns, 'ipset', ['save'])),
    'ip -4 -d -j route show table main': await reps(count, () => timed(ns, 'ip', ['-4', '-d', '-j', 'route', 'show', 'table', 'main'])),
    'ip -6 -d -j route show table main': await reps(count, () => timed(ns, 'ip', ['-6', '-d', '-j', 'route', 'show', 'table', 'main'])),
    'ip -4 -j neigh show': await reps(count, () => timed(ns, 'ip', ['-4', '-j', 'neigh', 'show'])),
    'ip -j link show': await reps(count, () => timed(ns, 'ip', ['-j', 'link', 'show'])),
  };
}

/**
 * One endpoint's rules with nft alone, in the loaded tools namespace: the two chains of `like`
 * copied under a new tap's name and its two dispatch map entries, in one `nft -f` (what the
 * agent's transaction for a new tap holds besides set members); removed again after each rep.
 */
export async function oneEndpointToolsNft(
  ns: Ns,
  like: string,
  count: number,
): Promise<{ lines: { chainsOnly: number; withDispatch: number }; figures: Record<string, RepFigures> }> {
  const newTap = `tap${like.charAt(3)}fffffffffe`;
  const lines: string[] = [];
  for (const kind of ['tw', 'fw']) {
    const listed = await ns.must('nft', ['list', 'chain', 'ip', 'brindle', `cali-${kind}-${like}`]);
    lines.push(`add chain ip brindle cali-${kind}-${newTap}`);
    for (const l of listed.split('\n').filter((x) => x.includes('comment "cali:')))
      lines.push(`add rule ip brindle cali-${kind}-${newTap} ${l.trim().replace(/counter packets \d+ bytes \d+/, 'counter')}`);
  }
  const entries = [
    `add element ip brindle cali-from-wl-dispatch-map { "${newTap}" : goto cali-fw-${newTap} }`,
    `add element ip brindle cali-to-wl-dispatch-map { "${newTap}" : goto cali-tw-${newTap} }`,
  ];
  const undo = [
    `delete element ip brindle cali-from-wl-dispatch-map { "${newTap}" }`,
    `delete element ip brindle cali-to-wl-dispatch-map { "${newTap}" }`,
    ...['tw', 'fw'].flatMap((k) => [`flush chain ip brindle cali-${k}-${newTap}`, `delete chain ip brindle cali-${k}-${newTap}`]),
  ];
  const once = async (input: string[]): Promise<number> => {
    const t = await timed(ns, 'nft', ['-f', '-'], `${input.join('\n')}\n`);
    await ns.run('nft', ['-f', '-'], { input: `${(input.length > lines.length ? undo : undo.slice(2)).join('\n')}\n` });
    return t;
  };
  const figures: Record<string, RepFigures> = {
    'nft -f: 2 endpoint chains': await reps(count, () => once(lines)),
    'nft -f: 2 endpoint chains + 2 map entries': await reps(count, () => once([...lines, ...entries])),
    'nft add element (one set member)': await reps(count, async () => {
      const set = /set (cali40\S+) \{/.exec(await ns.must('nft', ['-t', 'list', 'sets', 'ip']))?.[1] ?? 'none';
      const t = await timed(ns, 'nft', ['add', 'element', 'ip', 'brindle', set, '{ 198.18.199.1 }']);
      await ns.run('nft', ['delete', 'element', 'ip', 'brindle', set, '{ 198.18.199.1 }']);
      return t;
    }),
  };
  return { lines: { chainsOnly: lines.length, withDispatch: lines.length + entries.length }, figures };
}

/** One endpoint's worth of each kernel write, alone, in the loaded tools namespace. */
export async function oneEndpointTools(
  ns: Ns,
  dump: Dump,
  like: string,
  count: number,
): Promise<{ lines: { chainsOnly: number; withDispatch: number }; figures: Record<string, RepFigures> }> {
  const newTap = `tap${like.charAt(3)}fffffffffe`;
  const input = oneEndpointRestore(dump.iptables, like, newTap);
  const set = /^create (cali40\S+)/m.exec(dump.ipset)?.[1];
  const figures: Record<string, RepFigures> = {
    'iptables-restore --noflush: 2 endpoint chains': await reps(count, () => timed(ns, 'iptables-restore', ['--noflush', '--wait', '10'], input.chainsOnly)),
    'iptables-restore --noflush: + 2 dispatch bins rewritten': await reps(count, () =>
      timed(ns, 'iptables-restore', ['--noflush', '--wait', '10'], input.withDispatch),
    ),
  };
  if (set !== undefined) {
    figures['ipset add (one member)'] = await reps(count, async () => {
      const t = await timed(ns, 'ipset', ['add', set, '198.18.199.1']);
      await ns.run('ipset', ['del', set, '198.18.199.1']);
      return t;
    });
  }
  figures['ip -batch: route + static ARP'] = await reps(count, async () => {
    const t = await timed(
      ns,
      'ip',
      ['-batch', '-'],
      `route replace 198.18.199.1/32 dev ${like} proto boot scope link metric 1024\nneigh replace 198.18.199.1 lladdr fa:16:3e:00:99:01 dev ${like} nud permanent\n`,
    );
    await ns.run('ip', ['-batch', '-'], { input: `route del 198.18.199.1/32 dev ${like} proto boot metric 1024\nneigh del 198.18.199.1 dev ${like}\n` });
    return t;
  });
  figures['sysctl -w: one tap (8 keys)'] = await reps(count, () =>
    timed(ns, 'sysctl', [
      '-q',
      '-w',
      ...['accept_ra=0', 'proxy_ndp=1', 'forwarding=1'].map((k) => `net/ipv6/conf/${like}/${k}`),
      ...['route_localnet=1', 'proxy_arp=1', 'forwarding=1', 'rp_filter=0'].map((k) => `net/ipv4/conf/${like}/${k}`),
      `net/ipv4/neigh/${like}/proxy_delay=0`,
    ]),
  );
  return { lines: input.lines, figures };
}

export function metricsDelta(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const pick = (m: Map<string, number>): Record<string, number> => ({
    applies: metricSum(m, 'felix_int_dataplane_apply_time_seconds_count'),
    applySeconds: metricSum(m, 'felix_int_dataplane_apply_time_seconds_sum'),
    restoreCalls: metricSum(m, 'felix_iptables_restore_calls{'),
    restoreLines: metricSum(m, 'felix_iptables_lines_executed{'),
    saveCalls: metricSum(m, 'felix_iptables_save_calls{'),
  });
  const a = pick(before);
  const b = pick(after);
  const out: Record<string, number> = {};
  for (const k of Object.keys(b)) out[k] = Math.round(((b[k] ?? 0) - (a[k] ?? 0)) * 1000) / 1000;
  return out;
}

export interface Position {
  readonly tap: string;
  readonly from: string;
  readonly to: string;
}

/** Where `tap` sits in the dispatch chains: `index/size in chain`. */
function positions(filterSave: string, taps: readonly string[]): Position[] {
  const where = (root: 'cali-from-wl-dispatch' | 'cali-to-wl-dispatch', tap: string): string => {
    const bin = dispatchBins(filterSave, root).find((b) => b.members.includes(tap));
    return bin === undefined ? 'direct in root (bin of one)' : `${bin.members.indexOf(tap) + 1}/${bin.members.length} in ${bin.chain}`;
  };
  return taps.map((tap) => ({ tap, from: where('cali-from-wl-dispatch', tap), to: where('cali-to-wl-dispatch', tap) }));
}

async function waitStatusUp(kv: KvStore, hostname: string, ids: readonly { workload: string; endpoint: string }[], timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    checkStop();
    let all = true;
    for (const id of ids) {
      const v = await kv.get(felixEndpointStatusKey('no-region', { host: hostname, orchestrator: 'openstack', ...id }));
      if (v?.value.includes('"up"') !== true) all = false;
    }
    if (all) return;
    if (performance.now() > deadline) throw new Error(`endpoint status not up within ${timeoutMs} ms on ${hostname}`);
    await sleep(50);
  }
}

interface VmSpec {
  readonly tap: string;
  readonly ip: string;
  readonly mac: string;
}

function vmPair(third: number, taps: readonly [string, string]): [VmSpec, VmSpec] {
  const m = third.toString(16).padStart(2, '0');
  return [
    { tap: taps[0], ip: `198.18.${third}.1`, mac: `fa:16:3e:${m}:00:01` },
    { tap: taps[1], ip: `198.18.${third}.2`, mac: `fa:16:3e:${m}:00:02` },
  ];
}

async function plugPair(world: World, host: Ns, tag: string, specs: readonly [VmSpec, VmSpec]): Promise<[Vm, Vm]> {
  const gw = specs[0].ip.replace(/\.\d+$/, '.254');
  const a = await plugVm(world, host, { tag: `${tag}a`, ...specs[0], gw });
  const b = await plugVm(world, host, { tag: `${tag}b`, ...specs[1], gw });
  return [a, b];
}

const IPERF_SG = 'iperf000-0000-4000-8000-000000005201';
const IPERF_RULES = [
  { action: 'Allow', ipVersion: 4, protocol: 'TCP', destination: { ports: [5201] } },
  { action: 'Allow', ipVersion: 4, protocol: 'ICMP' },
];

/** The iperf security group (TCP 5201 and ICMP in) and endpoints in it for two VMs, written to `kv`. */
async function writeVmEndpoints(kv: KvStore, hostname: string, specs: readonly VmSpec[]): Promise<{ workload: string; endpoint: string }[]> {
  await kv.put(policyKey(IPERF_SG), policyValue(IPERF_SG, IPERF_RULES));
  const ids: { workload: string; endpoint: string }[] = [];
  for (const [i, s] of specs.entries()) {
    const portId = `b0000000-0000-4000-8000-00000000520${i}`;
    const workload = `iperf-vm-${i}`;
    const wep = endpointValue({ host: hostname, portId, workload, tap: s.tap, mac: s.mac, ip: s.ip, sgs: [IPERF_SG] });
    await kv.put(wep.key, wep.value);
    ids.push({ workload, endpoint: portId });
  }
  return ids;
}

export interface Throughput {
  bare?: IperfFigures;
  agentTwoEndpoints?: IperfFigures;
  full?: IperfFigures & { readonly positions: readonly Position[]; readonly largestBin: string };
}

/**
 * iperf3 between two VMs: (c) on the full host with the VM taps at the end of the largest
 * dispatch bin, (a) on an empty host plumbed by hand (no iptables rules at all), (b) on a host
 * whose own agent knows only the two endpoints. The full host's agent runs during (c) and is
 * stopped before (a) and (b).
 */
export async function throughput(
  world: World,
  kv: KvStore,
  o: { host: Ns; hostname: string; agent: AgentProcess; smallStorePath: string; pollMs: number; iperf: { seconds: number; runs: number; port: number } },
): Promise<Throughput> {
  const out: Throughput = {};
  const io = { ...o.iperf, agentPid: o.agent.pid };
  const others = { ...o.iperf };
  {
    const save = await o.host.must('iptables-save', ['-t', 'filter']);
    const bins = dispatchBins(save, 'cali-from-wl-dispatch').sort((a, b) => b.members.length - a.members.length);
    const largest = bins[0];
    const c = largest?.chain.slice(-1) ?? 'f';
    const specs = vmPair(250, [`tap${c}fffffffff0`, `tap${c}fffffffff1`]);
    progress(
      'iperf',
      `full host: VM taps ${specs[0].tap}, ${specs[1].tap} at the end of the largest bin ${largest?.chain ?? '?'} (${largest?.members.length ?? 0} members)`,
    );
    const vms = await plugPair(world, o.host, 'c', specs);
    const ids = await writeVmEndpoints(kv, o.hostname, specs);
    await waitStatusUp(kv, o.hostname, ids, 60_000);
    const pos = positions(
      await o.host.must('iptables-save', ['-t', 'filter']),
      specs.map((s) => s.tap),
    );
    for (const p of pos) progress('iperf', `  ${p.tap}: from-dispatch ${p.from}; to-dispatch ${p.to}`);
    out.full = {
      ...(await iperf(world, vms[0], vms[1], { ...io, tag: 'iperf full' })),
      positions: pos,
      largestBin: `${largest?.chain ?? '?'} (${largest?.members.length ?? 0} before the two VMs)`,
    };
  }
  // The other two hosts would be other machines: the full host's agent (its periodic refresh
  // takes about a core for several seconds) must not share their CPU.
  progress('iperf', "stopping the full host's agent (its dataplane stays) before the other two hosts");
  await o.agent.stop();
  {
    const bare = await world.hostNetns('e');
    const specs = vmPair(251, ['tapeeeeeeeee01', 'tapeeeeeeeee02']);
    const vms = await plugPair(world, bare, 'e', specs);
    await plumbByHand(bare, vms);
    progress('iperf', `empty host ${bare.name}: routes, static ARP and proxy ARP by hand, no iptables rules`);
    out.bare = await iperf(world, vms[0], vms[1], { ...others, tag: 'iperf empty' });
  }
  {
    const small = await world.hostNetns('s');
    const specs = vmPair(252, ['tap55555555501', 'tap55555555502']);
    const vms = await plugPair(world, small, 's', specs);
    const kv2 = await openDatastore({ kind: 'embedded', path: o.smallStorePath });
    let agent2: AgentProcess | undefined;
    try {
      const ids = await writeVmEndpoints(kv2, 'bench-small', specs);
      agent2 = await AgentProcess.start(world, { tag: 'iperf', storePath: o.smallStorePath, hostname: 'bench-small', netns: small.name });
      await agent2.waitReady(o.pollMs, 60_000);
      await waitStatusUp(kv2, 'bench-small', ids, 30_000);
      progress('iperf', `host ${small.name} with its own agent and only the two VM endpoints`);
      out.agentTwoEndpoints = await iperf(world, vms[0], vms[1], { ...others, agentPid: agent2.pid, tag: 'iperf 2 endpoints' });
    } finally {
      await agent2?.stop();
      await kv2.close();
    }
  }
  return out;
}
