// Figure 2: 5,000 routes from one host's kernel to its peer's kernel over Brindle's BGP, against
// BIRD alone putting the same 5,000 routes into a kernel.
//
// - Ours, the primary figure ("announced by one host -> installed on its peer"): A already holds
//   the 5,000 `proto boot` routes on its tap and A's BIRD has learned them all (`show route
//   protocol kernel4 count`), while B's session protocol is disabled (`disable` on B's control
//   socket). Then `enable` on B; a persistent control connection to B asks `show protocols <it>`
//   every ~2 ms until it says Established. t0 = when the reply of the last poll that did not yet
//   say Established arrived (the session came up after BIRD wrote that reply and before it wrote
//   the next one: t0 is the early end of that window, so the figure errs long, by at most the
//   window, recorded). Timed: t0 -> B's kernel holds all 5,000. enable -> Established (B's
//   `connect delay time 2`, TCP, OPEN/KEEPALIVE) is recorded apart. Then `disable` on B, timed
//   until B's kernel holds none (informative), and A's routes are deleted.
// - Ours end to end, secondary (includes the agent's ip -batch): namespaces A and B joined by a veth (198.18.250.1/30 - .2/30); each runs BIRD with the
//   configuration `renderBirdConfig` gives nodes bench-a and bench-b in a full mesh, started by
//   `BirdDaemon` as `brindle node` starts it. A gets a workload interface `tapbench0` (a veth end).
//   Timed: from just before one `ip -force -batch` of 5,000 `route replace … dev tapbench0 proto
//   boot scope link metric 1024 table main` lines (the agent's lines) in A, until B's kernel holds
//   all 5,000 (`proto bird`). The batch's own time is recorded too. Withdrawal: one batch of the
//   5,000 `route del`, until B's kernel holds none.
// - BIRD alone: namespace S (peer T at 198.18.251.1/30, the next hop) runs a BIRD with the same
//   device and kernel protocols; timed from just before `configure` on a file that adds a
//   `protocol static` of the same 5,000 /32s (`via 198.18.251.1`), until S's kernel holds all
//   5,000; withdrawal: `configure` on the file without it, until none.
// - The tools alone: the same batch of 5,000 lines into namespace T (a tap there, no BIRD), then
//   the batch of deletions.
// "Holds all": a long-lived process in the receiving namespace reads the main table's prefix
// count from /proc/net/fib_triestat every 2 ms (fib-poll-main.ts); the time is when the read that
// first saw the full count started. Then `ip route show proto bird` checks the routes are BIRD's.
import { join } from 'node:path';
import { BirdControl, BirdDaemon, renderBirdConfig } from '../../src/bgp/index.js';
import type { BGPConfiguration, CalicoNode } from '../../src/model/index.js';
import { realClock, realFs, silentLogger } from '../../src/lib/index.js';
import { checkStop, progress, sleep } from '../datastore/workload.js';
import type { Ns, World } from '../agent/world.js';
import { FibPoller, countBirdRoutes, inNetns, wallNow } from './kernel-watch.js';
import { machineBusyMs, procStat } from '../agent/agent-process.js';

export interface ConvParams {
  readonly routes: number;
  readonly reps: number;
  /** How often the fib poller reads the receiving kernel's prefix count. */
  readonly fibPollMs: number;
  readonly timeoutMs: number;
  /** Pause between measurements (BIRD's kernel scans run every 2 s either way). */
  readonly settleMs: number;
}

/** One direction (load or withdrawal) of one measurement. */
export interface Leg {
  /** t0 -> the receiving kernel's main table holds all the routes (or none of them). */
  readonly allMs: number;
  /** t0 -> its first change. */
  readonly firstMs: number;
  /** Reads of /proc/net/fib_triestat until all were there. */
  readonly polls: number;
  /** Ours: the ip -batch in A (start -> exit); BIRD alone: the configure request (sent -> reply). */
  readonly commandMs: number;
  /** CPU (user + system) each BIRD used from just before t0 until all were there. */
  readonly birdCpuMs: Record<string, number>;
  /** CPU the whole machine used over the same time, in cores (2 = both cores busy). */
  readonly machineCores: number;
}

/** The primary figure: A's BIRD already holds the routes; B's session comes up. */
export interface SessionRep {
  /** t0 = B's session Established -> B's kernel; commandMs = `enable` sent -> Established seen. */
  readonly load: Leg;
  /** The window Established happened in (last "not yet" reply -> first "Established" reply). */
  readonly establishedWindowMs: number;
  /** `show protocols` polls from enable until Established. */
  readonly establishedPolls: number;
  /** t0 = `disable` sent on B -> B's kernel holds none; commandMs = the disable request. */
  readonly drop: Leg;
  /** Before: A's ip -batch of the 5,000 (session down), and batch start -> A's BIRD has all. */
  readonly aBatchMs: number;
  readonly aLearnedMs: number;
}

export interface Rep {
  readonly rep: number;
  readonly session: SessionRep;
  readonly ours: { readonly load: Leg; readonly withdraw: Leg };
  readonly birdAlone: { readonly load: Leg; readonly withdraw: Leg };
  readonly toolsAlone: { readonly addMs: number; readonly delMs: number };
}

export interface ConvFigures {
  readonly warmup: Rep;
  readonly reps: readonly Rep[];
  /**
   * Diagnostics, after the repetitions: B's BIRD stopped, the same batches in A (its BIRD still
   * learning every route from the kernel, with no session to send them on), each repetition.
   */
  readonly batchWithOnlyA: readonly { readonly addMs: number; readonly delMs: number; readonly birdACpuMs: number }[];
  /** Lines of the BIRD logs that say the kernel dropped netlink messages (async notifications lost). */
  readonly netlinkOverflows: Record<string, number>;
  readonly birdLogTails: Record<string, string[]>;
  readonly namespaces: Record<string, string>;
  readonly renderedConfigA: string;
}

const AS = 64512;
const A_IP = '198.18.250.1';
const B_IP = '198.18.250.2';
const S_IP = '198.18.251.2';
const T_IP = '198.18.251.1';
const TAP = 'tapbench0';

/** The i-th of the routes: 198.18.100.0 upwards (198.18.100.0 - 198.18.119.135 for 5,000). */
export function routeDst(i: number): string {
  return `198.18.${100 + (i >> 8)}.${i & 255}`;
}

function node(name: string, ip: string): CalicoNode {
  return { apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name }, spec: { bgp: { ipv4Address: `${ip}/30` } } };
}

/** What `brindle node` renders for `self` in a two-node mesh (the lab's BGPConfiguration: AS 64512, Info). */
function renderOurs(self: 'bench-a' | 'bench-b', logFile: string): string {
  const conf: BGPConfiguration = {
    apiVersion: 'projectcalico.org/v3',
    kind: 'BGPConfiguration',
    metadata: { name: 'default' },
    spec: { asNumber: AS, logSeverityScreen: 'Info' },
  };
  const r = renderBirdConfig({
    nodeName: self,
    nodes: [node('bench-a', A_IP), node('bench-b', B_IP)],
    bgpConfigurations: [conf],
    peers: [],
    interfacePrefixes: ['tap'],
    logFile,
  });
  if (r.warnings.length > 0) progress('conv', `renderBirdConfig warnings: ${r.warnings.join('; ')}`);
  return r.config;
}

/** BIRD alone: the same device and kernel protocols as ours, and optionally the static routes. */
function soloConfig(logFile: string, routes: number): string {
  const lines = [
    '# bench/bgp: BIRD alone, loading static routes into the kernel.',
    `router id ${S_IP};`,
    'timeformat protocol iso long;',
    `log "${logFile}" { info, remote, warning, error, auth, fatal, bug };`,
    'debug protocols { states };',
    '',
    'protocol device {',
    '  scan time 2;',
    '}',
    '',
    'protocol kernel kernel4 {',
    '  ipv4 { import all; export filter { if source = RTS_STATIC then accept; reject; }; };',
    '  learn;',
    '  persist;',
    '  scan time 2;',
    '  graceful restart;',
    '  merge paths on;',
    '}',
    '',
  ];
  if (routes > 0) {
    lines.push('protocol static bench_static {', '  ipv4;');
    for (let i = 0; i < routes; i++) lines.push(`  route ${routeDst(i)}/32 via ${T_IP};`);
    lines.push('}', '');
  }
  return lines.join('\n');
}

/**
 * One load or withdrawal: arms the poller of the receiving namespace (all routes there, or gone;
 * and its first change), runs `act` (which returns its t0), waits, and checks with
 * `ip route show proto bird` that the kernel holds exactly the routes BIRD should have put there.
 */
async function leg(
  o: { poller: FibPoller; ns: string; routes: number; withdraw: boolean; p: ConvParams; birds: Record<string, number> },
  act: () => Promise<{ t0: number; commandMs: number }>,
): Promise<Leg> {
  const c0 = (await o.poller.now()).count;
  const first = o.poller.when('ne', c0);
  const all = o.withdraw ? o.poller.when('le', c0 - o.routes) : o.poller.when('ge', c0 + o.routes);
  await o.poller.now();
  const cpu0 = await Promise.all(Object.values(o.birds).map((pid) => procStat(pid)));
  const busy0 = await machineBusyMs();
  const w0 = wallNow();
  const { t0, commandMs } = await act();
  let timer: NodeJS.Timeout | undefined;
  const done = await Promise.race([Promise.all([first, all]), new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), o.p.timeoutMs)))]);
  clearTimeout(timer);
  const busy1 = await machineBusyMs();
  const w1 = wallNow();
  const cpu1 = await Promise.all(Object.values(o.birds).map((pid) => procStat(pid)));
  checkStop();
  const birdCpuMs = Object.fromEntries(Object.keys(o.birds).map((k, i) => [k, Math.round((cpu1[i]?.selfMs ?? NaN) - (cpu0[i]?.selfMs ?? NaN))]));
  const machineCores = Math.round(((busy1 - busy0) / (w1 - w0)) * 100) / 100;
  const want = o.withdraw ? 0 : o.routes;
  const have = await countBirdRoutes(o.ns);
  if (done === undefined) throw new Error(`${o.ns}: ${have} proto bird routes after ${o.p.timeoutMs} ms, want ${want}`);
  if (have !== want) throw new Error(`${o.ns}: the main table changed by ${o.routes} prefixes but holds ${have} proto bird routes, want ${want}`);
  const round1 = (n: number): number => Math.round(n * 10) / 10;
  return { allMs: round1(done[1].at - t0), firstMs: round1(done[0].at - t0), polls: done[1].polls, commandMs: round1(commandMs), birdCpuMs, machineCores };
}

async function ipBatch(ns: string, lines: readonly string[]): Promise<{ t0: number; commandMs: number }> {
  const input = `${lines.join('\n')}\n`;
  const t0 = wallNow();
  const r = await inNetns(ns).run('ip', ['-force', '-batch', '-'], { input, timeoutMs: 120_000 });
  const commandMs = wallNow() - t0;
  if (r.code !== 0) throw new Error(`ip -force -batch in ${ns} exited ${r.code ?? r.signal}: ${r.stderr.trim().slice(0, 1000)}`);
  return { t0, commandMs };
}

async function waitEstablished(socket: string, what: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last: string | undefined;
  for (;;) {
    checkStop();
    try {
      const c = await BirdControl.connect(socket);
      try {
        const protos = await c.showProtocols();
        const status = (await c.request('show status')).lines.map((l) => l.text).join('\n');
        const bgp = protos.filter((x) => x.proto === 'BGP');
        last = `${bgp.map((x) => `${x.name} ${x.state} ${x.info}`).join(', ')}; ${status.includes('Graceful restart recovery') ? 'graceful restart recovery in progress' : 'no recovery'}`;
        if (bgp.length > 0 && bgp.every((x) => x.info === 'Established') && !status.includes('Graceful restart recovery')) return;
      } finally {
        c.close();
      }
    } catch (err) {
      last = String(err);
    }
    if (performance.now() > deadline) throw new Error(`${what}: BGP not Established (or still recovering) after ${timeoutMs} ms: ${last ?? 'no answer'}`);
    await sleep(100);
  }
}

const BLOCK = '198.18.96.0/19';

/** How many routes of BLOCK A's BIRD has in its table (learned from A's kernel). */
async function birdRouteCount(c: BirdControl): Promise<number> {
  const r = await c.request(`show route where net ~ [ ${BLOCK}+ ] count`);
  const text = r.lines.map((l) => l.text).join('\n');
  const m = /(\d+) of (\d+) routes/.exec(text);
  if (m === null) throw new Error(`show route … count: unexpected reply ${JSON.stringify(text.slice(0, 300))}`);
  return Number(m[1]);
}

async function waitBirdCount(c: BirdControl, want: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    checkStop();
    const n = await birdRouteCount(c);
    if (n === want) return;
    if (performance.now() > deadline) throw new Error(`A's BIRD holds ${n} routes of ${BLOCK}, want ${want}, after ${timeoutMs} ms`);
    await sleep(5);
  }
}

/**
 * Sends `enable <proto>` on `c` and polls `show protocols <proto>` about every `everyMs` until
 * the session is Established. Returns t0 (wall ms) = arrival of the last reply that was not
 * Established, the window to the first that was, and enable -> t0.
 */
async function enableUntilEstablished(
  c: BirdControl,
  proto: string,
  everyMs: number,
  timeoutMs: number,
): Promise<{ t0: number; commandMs: number; windowMs: number; polls: number }> {
  const sent = wallNow();
  await c.request(`enable ${proto}`);
  let prev = wallNow();
  let polls = 0;
  for (;;) {
    const r = await c.request(`show protocols ${proto}`);
    const got = wallNow();
    polls++;
    const line = r.lines.map((l) => l.text).find((t) => t.startsWith(`${proto} `)) ?? '';
    if (/\bEstablished\b/.test(line)) return { t0: prev, commandMs: prev - sent, windowMs: got - prev, polls };
    if (got - sent > timeoutMs) throw new Error(`B's ${proto} not Established ${timeoutMs} ms after enable: ${line}`);
    prev = got;
    await new Promise((res) => setTimeout(res, everyMs));
  }
}

export async function measureConvergence(world: World, p: ConvParams): Promise<ConvFigures> {
  const fs = realFs();
  const clock = realClock();
  const dir = await world.tempDir('brindle-bench-bgp-conv-');
  const [a, b, s, t] = [await world.netns('bgpa'), await world.netns('bgpb'), await world.netns('bgps'), await world.netns('bgpt')] as [Ns, Ns, Ns, Ns];
  progress('conv', `namespaces ${a.name} (node A), ${b.name} (node B), ${s.name} (BIRD alone), ${t.name} (its next hop; the tools alone)`);
  await a.must('ip', ['link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb', 'netns', b.name]);
  await a.ipBatch([
    `addr add ${A_IP}/30 dev va`,
    'link set va up',
    `link add ${TAP} type veth peer name wlbench0`,
    `link set ${TAP} up`,
    'link set wlbench0 up',
  ]);
  await b.ipBatch([`addr add ${B_IP}/30 dev vb`, 'link set vb up']);
  await s.must('ip', ['link', 'add', 'vs', 'type', 'veth', 'peer', 'name', 'vt', 'netns', t.name]);
  await s.ipBatch([`addr add ${S_IP}/30 dev vs`, 'link set vs up']);
  await t.ipBatch([
    `addr add ${T_IP}/30 dev vt`,
    'link set vt up',
    `link add ${TAP} type veth peer name wlbench0`,
    `link set ${TAP} up`,
    'link set wlbench0 up',
  ]);

  // Ours: BIRD started through BirdDaemon, exactly as brindle node starts it (bird -p, then bird -R …).
  const daemons: Record<string, BirdDaemon> = {};
  const configA = renderOurs('bench-a', join(dir, 'a', 'bird.log'));
  for (const [ns, self] of [
    [a, 'bench-a'],
    [b, 'bench-b'],
  ] as const) {
    const runDir = join(dir, self === 'bench-a' ? 'a' : 'b');
    const d = new BirdDaemon({ exec: inNetns(ns.name), fs, clock, logger: silentLogger(), runDir });
    daemons[self] = d;
    const out = await d.apply(self === 'bench-a' ? configA : renderOurs(self, join(runDir, 'bird.log')));
    if (out.result !== 'started') throw new Error(`BIRD of ${self}: ${JSON.stringify(out)}`);
  }
  // BIRD alone: started plainly on the file without static routes.
  const soloDir = join(dir, 's');
  await fs.ensureDir(soloDir);
  const soloConf = join(soloDir, 'bird.conf');
  const soloSock = join(soloDir, 'bird.ctl');
  await fs.writeTextAtomic(soloConf, soloConfig(join(soloDir, 'bird.log'), 0));
  const started = await inNetns(s.name).run('bird', ['-c', soloConf, '-s', soloSock, '-P', join(soloDir, 'bird.pid')]);
  if (started.code !== 0) throw new Error(`bird in ${s.name}: ${started.stderr.trim()}`);
  const logs = { 'bench-a': join(dir, 'a', 'bird.log'), 'bench-b': join(dir, 'b', 'bird.log'), alone: join(soloDir, 'bird.log') };

  try {
    progress('conv', 'waiting for the A-B session to be Established (and graceful-restart recovery to end)');
    await waitEstablished(daemons['bench-b']?.socketPath ?? '', 'node B', 60_000);
    await waitEstablished(daemons['bench-a']?.socketPath ?? '', 'node A', 10_000);
    const soloPid = Number((await fs.readText(join(soloDir, 'bird.pid'))).trim());
    const birdsOurs = { 'bench-a': (await daemons['bench-a']?.pid()) ?? NaN, 'bench-b': (await daemons['bench-b']?.pid()) ?? NaN };
    const birdsAlone = { alone: soloPid };
    const pollB = new FibPoller(world, b.name, p.fibPollMs);
    const pollS = new FibPoller(world, s.name, p.fibPollMs);
    await Promise.all([pollB.now(), pollS.now()]);

    const dsts = new Set(Array.from({ length: p.routes }, (_, i) => routeDst(i)));
    const addLines = [...dsts].map((d) => `route replace ${d}/32 dev ${TAP} proto boot scope link metric 1024 table main`);
    const delLines = [...dsts].map((d) => `route del ${d}/32 dev ${TAP} proto boot metric 1024 table main`);
    const withRoutes = soloConfig(join(soloDir, 'bird.log'), p.routes);
    const without = soloConfig(join(soloDir, 'bird.log'), 0);
    const configure = async (text: string): Promise<{ t0: number; commandMs: number }> => {
      await fs.writeTextAtomic(soloConf, text);
      const c = await BirdControl.connect(soloSock, { timeoutMs: 60_000 });
      try {
        const t0 = wallNow();
        const r = await c.configure();
        const commandMs = wallNow() - t0;
        if (!r.ok) throw new Error(`BIRD alone refused its configuration: ${r.message}`);
        return { t0, commandMs };
      } finally {
        c.close();
      }
    };

    // The session legs: B's protocol towards A, and persistent control connections.
    const ctlB = await BirdControl.connect(daemons['bench-b']?.socketPath ?? '', { timeoutMs: 60_000 });
    const ctlA = await BirdControl.connect(daemons['bench-a']?.socketPath ?? '', { timeoutMs: 60_000 });
    const protoB = (await ctlB.showProtocols()).find((x) => x.proto === 'BGP')?.name;
    if (protoB === undefined) throw new Error('no BGP protocol in B');
    const sessionLeg = async (): Promise<SessionRep> => {
      const c0 = (await pollB.now()).count;
      const d = await ctlB.request(`disable ${protoB}`);
      if (!/disabled/i.test(d.lines.map((l) => l.text).join(' '))) throw new Error(`disable ${protoB}: ${JSON.stringify(d.lines)}`);
      await pollB.when('le', c0);
      await sleep(p.settleMs);
      const batch = await ipBatch(a.name, addLines);
      await waitBirdCount(ctlA, p.routes, 30_000);
      const aLearnedMs = wallNow() - batch.t0;
      await sleep(p.settleMs);
      let windowMs = NaN;
      let polls = 0;
      const load = await leg({ poller: pollB, ns: b.name, routes: p.routes, withdraw: false, p, birds: birdsOurs }, async () => {
        const e = await enableUntilEstablished(ctlB, protoB, p.fibPollMs, 30_000);
        windowMs = e.windowMs;
        polls = e.polls;
        return { t0: e.t0, commandMs: e.commandMs };
      });
      await sleep(p.settleMs);
      const drop = await leg({ poller: pollB, ns: b.name, routes: p.routes, withdraw: true, p, birds: birdsOurs }, async () => {
        const t0 = wallNow();
        await ctlB.request(`disable ${protoB}`);
        return { t0, commandMs: wallNow() - t0 };
      });
      await ipBatch(a.name, delLines);
      await waitBirdCount(ctlA, 0, 30_000);
      await ctlB.request(`enable ${protoB}`);
      await waitEstablished(daemons['bench-b']?.socketPath ?? '', 'node B', 30_000);
      const round1 = (n: number): number => Math.round(n * 10) / 10;
      return { load, establishedWindowMs: round1(windowMs), establishedPolls: polls, drop, aBatchMs: round1(batch.commandMs), aLearnedMs: round1(aLearnedMs) };
    };

    const reps: Rep[] = [];
    let warmup: Rep | undefined;
    for (let rep = 0; rep <= p.reps; rep++) {
      checkStop();
      const label = rep === 0 ? 'warm-up' : `repetition ${rep}/${p.reps}`;
      const alone = {
        load: await leg({ poller: pollS, ns: s.name, routes: p.routes, withdraw: false, p, birds: birdsAlone }, () => configure(withRoutes)),
        withdraw: undefined as Leg | undefined,
      };
      await sleep(p.settleMs);
      alone.withdraw = await leg({ poller: pollS, ns: s.name, routes: p.routes, withdraw: true, p, birds: birdsAlone }, () => configure(without));
      progress(
        'conv',
        `  ${label}: BIRD alone ${alone.load.allMs} ms (configure ${alone.load.commandMs} ms; BIRD CPU ${alone.load.birdCpuMs['alone']} ms; machine ${alone.load.machineCores} cores), withdrawn in ${alone.withdraw.allMs} ms`,
      );
      await sleep(p.settleMs);
      checkStop();
      const session = await sessionLeg();
      progress(
        'conv',
        `  ${label}: ours, session up -> all in B ${session.load.allMs} ms (first ${session.load.firstMs} ms; enable -> Established ${session.load.commandMs.toFixed(1)} ms, window ${session.establishedWindowMs} ms; BIRD CPU A ${session.load.birdCpuMs['bench-a']} ms, B ${session.load.birdCpuMs['bench-b']} ms); session down -> none in B ${session.drop.allMs} ms`,
      );
      await sleep(p.settleMs);
      checkStop();
      const load = await leg({ poller: pollB, ns: b.name, routes: p.routes, withdraw: false, p, birds: birdsOurs }, () => ipBatch(a.name, addLines));
      await sleep(p.settleMs);
      const withdraw = await leg({ poller: pollB, ns: b.name, routes: p.routes, withdraw: true, p, birds: birdsOurs }, () => ipBatch(a.name, delLines));
      progress(
        'conv',
        `  ${label}: ours ${load.allMs} ms (the batch ${load.commandMs} ms; BIRD CPU A ${load.birdCpuMs['bench-a']} ms, B ${load.birdCpuMs['bench-b']} ms; machine ${load.machineCores} cores), withdrawn in ${withdraw.allMs} ms (the batch ${withdraw.commandMs} ms)`,
      );
      await sleep(p.settleMs);
      checkStop();
      const add = await ipBatch(t.name, addLines);
      const del = await ipBatch(t.name, delLines);
      const r: Rep = {
        rep,
        session,
        ours: { load, withdraw },
        birdAlone: { load: alone.load, withdraw: alone.withdraw },
        toolsAlone: { addMs: Math.round(add.commandMs * 10) / 10, delMs: Math.round(del.commandMs * 10) / 10 },
      };
      progress('conv', `  ${label}: the batch alone (no BIRD) ${r.toolsAlone.addMs} ms, deletions ${r.toolsAlone.delMs} ms`);
      if (rep === 0) warmup = r;
      else reps.push(r);
      await sleep(p.settleMs);
    }
    pollB.stop();
    pollS.stop();
    ctlA.close();
    ctlB.close();
    checkStop();
    progress('conv', "diagnostics: B's BIRD stopped, the same batches in A with only A's BIRD listening");
    await daemons['bench-b']?.stop();
    const batchWithOnlyA: { addMs: number; delMs: number; birdACpuMs: number }[] = [];
    for (let rep = 1; rep <= p.reps; rep++) {
      checkStop();
      await sleep(p.settleMs);
      const c0 = await procStat(birdsOurs['bench-a']);
      const add = await ipBatch(a.name, addLines);
      await sleep(p.settleMs);
      const del = await ipBatch(a.name, delLines);
      const c1 = await procStat(birdsOurs['bench-a']);
      batchWithOnlyA.push({
        addMs: Math.round(add.commandMs * 10) / 10,
        delMs: Math.round(del.commandMs * 10) / 10,
        birdACpuMs: Math.round(c1.selfMs - c0.selfMs),
      });
      progress(
        'conv',
        `  ${rep}/${p.reps}: batch ${batchWithOnlyA.at(-1)?.addMs} ms, deletions ${batchWithOnlyA.at(-1)?.delMs} ms (BIRD A CPU over both ${batchWithOnlyA.at(-1)?.birdACpuMs} ms)`,
      );
    }

    const netlinkOverflows: Record<string, number> = {};
    const birdLogTails: Record<string, string[]> = {};
    for (const [k, path] of Object.entries(logs)) {
      const text = await fs.readText(path).catch(() => '');
      const lines = text.split('\n').filter((l) => l.trim() !== '');
      netlinkOverflows[k] = lines.filter((l) => /netlink/i.test(l) && /drop|overflow|lost/i.test(l)).length;
      birdLogTails[k] = lines.slice(-15);
    }
    if (warmup === undefined) throw new Error('no warm-up');
    return {
      warmup,
      reps,
      batchWithOnlyA,
      netlinkOverflows,
      birdLogTails,
      namespaces: { a: a.name, b: b.name, alone: s.name, peer: t.name },
      renderedConfigA: configA,
    };
  } finally {
    // BIRD is stopped by PID (BirdDaemon.stop, and the pid file of BIRD alone); World.destroy
    // then kills whatever is left in the namespaces and deletes them.
    for (const d of Object.values(daemons)) await d.stop().catch(() => undefined);
    const pid = Number((await fs.readText(join(soloDir, 'bird.pid')).catch(() => '')).trim());
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // gone
      }
    }
  }
}
