// The kernel side: veth taps in bulk, what a namespace's dataplane holds (counted), the final
// state dumped into the inputs the kernel tools load (`ipset restore`, `iptables-restore`,
// `ip6tables-restore`, `ip -batch`, `sysctl -p`), and those loads timed in a fresh namespace.
import type { Ns } from './world.js';
import { checkStop, progress } from '../datastore/workload.js';

export const TABLES = ['raw', 'mangle', 'filter', 'nat'] as const;
export type Table = (typeof TABLES)[number];

/** Creates `tap`/peer veth pairs, both ends in `ns` and up, with `ip -batch` (2,000 pairs a call). */
export async function addVethPairs(ns: Ns, pairs: readonly { tap: string; peer: string }[], tag: string): Promise<number> {
  const t0 = performance.now();
  const chunk = 2_000;
  for (let i = 0; i < pairs.length; i += chunk) {
    checkStop();
    const part = pairs.slice(i, i + chunk);
    const lines = part.map((p) => `link add ${p.tap} type veth peer name ${p.peer}`);
    for (const p of part) lines.push(`link set ${p.peer} up`, `link set ${p.tap} up`);
    await ns.ipBatch(lines);
    if (pairs.length > chunk)
      progress(tag, `  ${Math.min(pairs.length, i + chunk).toLocaleString('en-US')} / ${pairs.length.toLocaleString('en-US')} veth pairs in ${ns.name}`);
  }
  return performance.now() - t0;
}

export interface TableCount {
  readonly chains: number;
  readonly rules: number;
  /** Chains and rules in chains named cali-* (ours). */
  readonly caliChains: number;
  readonly caliRules: number;
}

/** Chains and rules per table of `iptables-save` output. */
export function countSave(text: string): Record<string, TableCount> {
  const out: Record<string, TableCount> = {};
  let table = '';
  let c = { chains: 0, rules: 0, caliChains: 0, caliRules: 0 };
  const flush = (): void => {
    if (table !== '') out[table] = c;
  };
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) {
      flush();
      table = line.slice(1).trim();
      c = { chains: 0, rules: 0, caliChains: 0, caliRules: 0 };
    } else if (line.startsWith(':')) {
      c.chains++;
      if (line.startsWith(':cali-')) c.caliChains++;
    } else if (line.startsWith('-A ')) {
      c.rules++;
      if (line.startsWith('-A cali-')) c.caliRules++;
    }
  }
  flush();
  return out;
}

export interface DispatchBin {
  readonly chain: string;
  readonly members: readonly string[];
}

/** The child chains of `cali-from-wl-dispatch` (or `to`) and the interfaces each lists, in order. */
export function dispatchBins(filterSave: string, root: 'cali-from-wl-dispatch' | 'cali-to-wl-dispatch'): DispatchBin[] {
  const bins = new Map<string, string[]>();
  const re = new RegExp(`^-A (${root}-\\S+) (?:-[io]) (\\S+) `);
  for (const line of filterSave.split('\n')) {
    const m = re.exec(line);
    if (m === null) continue;
    const [, chain = '', iface = ''] = m;
    let list = bins.get(chain);
    if (list === undefined) bins.set(chain, (list = []));
    list.push(iface);
  }
  return [...bins].map(([chain, members]) => ({ chain, members }));
}

/** Chains and rules of our nft table's listing, by the iptables table each chain stands for (`raw.`, `mangle.`, `nat.` prefixes; the rest is filter). */
export function countNft(text: string): Record<string, TableCount> {
  const out: Record<string, { chains: number; rules: number; caliChains: number; caliRules: number }> = {};
  for (const t of TABLES) out[t] = { chains: 0, rules: 0, caliChains: 0, caliRules: 0 };
  let current: { chains: number; rules: number; caliChains: number; caliRules: number } | undefined;
  for (const line of text.split('\n')) {
    const chain = /^\s*chain (\S+) \{/.exec(line)?.[1];
    if (chain !== undefined) {
      const table = /^(raw|mangle|nat)\./.exec(chain)?.[1] ?? 'filter';
      current = out[table];
      if (current !== undefined) {
        current.chains++;
        current.caliChains++;
      }
    } else if (current !== undefined && line.includes('comment "cali:')) {
      current.rules++;
      current.caliRules++;
    }
  }
  return out;
}

/** The kinds of filter chains the state report counts, in the order a chain is tested. */
const KINDS: readonly [string, RegExp][] = [
  ['cali-tw-* (to endpoint)', /^cali-tw-/],
  ['cali-fw-* (from endpoint)', /^cali-fw-/],
  ['cali-pi-*/po-* (policy)', /^cali-p[io]-/],
  ['cali-*-wl-dispatch*', /^cali-(from|to)-wl-dispatch/],
  ['other cali-*', /^cali-/],
  ['kernel/other', /./],
];

function emptyKinds(): Record<string, { chains: number; rules: number }> {
  const out: Record<string, { chains: number; rules: number }> = {};
  for (const [k] of KINDS) out[k] = { chains: 0, rules: 0 };
  return out;
}

const kindOf = (chain: string): string => KINDS.find(([, re]) => re.test(chain))?.[0] ?? 'kernel/other';

/** Filter chains and rules of our nft listing by kind of chain (as `chainKinds`). */
export function chainKindsNft(text: string): Record<string, { chains: number; rules: number }> {
  const out = emptyKinds();
  let current: { chains: number; rules: number } | undefined;
  for (const line of text.split('\n')) {
    const chain = /^\s*chain (\S+) \{/.exec(line)?.[1];
    if (chain !== undefined) {
      current = /^(raw|mangle|nat)\./.test(chain) ? undefined : out[kindOf(chain)];
      if (current !== undefined) current.chains++;
    } else if (current !== undefined && line.includes('comment "cali:')) current.rules++;
  }
  return out;
}

export interface Dump {
  /** Our nftables tables (both families) as `nft -f` loads them; '' on the iptables dataplane. */
  readonly nft: string;
  readonly iptables: string;
  readonly ip6tables: string;
  readonly ipset: string;
  /** `ip -batch` lines: routes (proto boot) and permanent neighbours. */
  readonly ipBatch: readonly string[];
  /** `sysctl -p` lines for the per-tap settings the agent writes. */
  readonly sysctl: readonly string[];
  readonly counts: {
    readonly v4: Record<string, TableCount>;
    readonly v6: Record<string, TableCount>;
    readonly ipsets: number;
    readonly ipsetMembers: number;
    readonly ipsetMembersPerSet: { readonly max: number; readonly median: number };
    readonly routesV4: number;
    readonly routesV6: number;
    readonly neighbours: number;
    readonly sysctlKeys: number;
  };
}

/** Reads the per-tap sysctls the agent writes (reference §3.2), as `sysctl -p` lines. */
async function tapSysctls(ns: Ns, taps: readonly string[]): Promise<string[]> {
  const keys = (t: string): string[] => [
    `net.ipv6.conf.${t}.accept_ra`,
    `net.ipv4.conf.${t}.route_localnet`,
    `net.ipv4.neigh.${t}.proxy_delay`,
    `net.ipv4.conf.${t}.proxy_arp`,
    `net.ipv4.conf.${t}.forwarding`,
    `net.ipv4.conf.${t}.rp_filter`,
    `net.ipv6.conf.${t}.proxy_ndp`,
    `net.ipv6.conf.${t}.forwarding`,
  ];
  const out: string[] = [];
  const chunk = 500;
  for (let i = 0; i < taps.length; i += chunk) {
    const all = taps.slice(i, i + chunk).flatMap(keys);
    const text = await ns.must('sysctl', all);
    out.push(...text.split('\n').filter((l) => l.includes(' = ')));
  }
  return out;
}

/** Members of our nft sets, per set (the nft dataplane's IP sets). */
async function nftSetSizes(ns: Ns): Promise<number[]> {
  const sizes: number[] = [];
  for (const family of ['ip', 'ip6']) {
    const r = await ns.run('nft', ['-j', 'list', 'table', family, 'brindle']);
    if (r.code !== 0) continue;
    const listing = JSON.parse(r.stdout) as { nftables: { set?: { elem?: unknown[] } }[] };
    for (const x of listing.nftables) if (x.set !== undefined) sizes.push(x.set.elem?.length ?? 0);
  }
  return sizes;
}

/** Everything the agent programmed in `ns`, as the tools would load it, and counted. */
export async function dumpState(ns: Ns, taps: readonly string[], dataplane: 'nft' | 'iptables'): Promise<Dump> {
  const iptables = await ns.must('iptables-save', []);
  const ip6tables = await ns.must('ip6tables-save', []);
  const ipset = await ns.must('ipset', ['save']);
  const nft4 = dataplane === 'nft' ? await ns.must('nft', ['list', 'table', 'ip', 'brindle']) : '';
  const nft6 = dataplane === 'nft' ? (await ns.run('nft', ['list', 'table', 'ip6', 'brindle'])).stdout : '';
  const routes4 = (await ns.must('ip', ['-4', 'route', 'show', 'proto', 'boot'])).split('\n').filter((l) => l.trim() !== '');
  const routes6 = (await ns.must('ip', ['-6', 'route', 'show', 'proto', 'boot'])).split('\n').filter((l) => l.trim() !== '');
  const neigh = (await ns.must('ip', ['-4', 'neigh', 'show', 'nud', 'permanent'])).split('\n').filter((l) => l.trim() !== '');
  const ipBatch = [
    ...routes4.map((l) => `route add ${l.trim()} proto boot`),
    ...routes6.map((l) => `-6 route add ${l.trim()} proto boot`),
    ...neigh.map((l) => `neigh add ${l.trim().replace(/ PERMANENT$/, '')} nud permanent`),
  ];
  const sysctl = await tapSysctls(ns, taps);
  const perSet = new Map<string, number>();
  for (const line of ipset.split('\n')) {
    const m = /^add (\S+) /.exec(line);
    if (m?.[1] !== undefined) perSet.set(m[1], (perSet.get(m[1]) ?? 0) + 1);
  }
  const sizes = (dataplane === 'nft' ? await nftSetSizes(ns) : [...perSet.values()]).sort((a, b) => a - b);
  return {
    nft: `${nft4}\n${nft6}`,
    iptables,
    ip6tables,
    ipset,
    ipBatch,
    sysctl,
    counts: {
      v4: dataplane === 'nft' ? countNft(nft4) : countSave(iptables),
      v6: dataplane === 'nft' ? countNft(nft6) : countSave(ip6tables),
      ipsets: sizes.length,
      ipsetMembers: sizes.reduce((a, b) => a + b, 0),
      ipsetMembersPerSet: { max: sizes[sizes.length - 1] ?? 0, median: sizes[Math.floor(sizes.length / 2)] ?? 0 },
      routesV4: routes4.length,
      routesV6: routes6.length,
      neighbours: neigh.length,
      sysctlKeys: sysctl.length,
    },
  };
}

/** Wall ms of one command in `ns`; throws if it fails. */
export async function timed(ns: Ns, command: string, args: readonly string[], input?: string): Promise<number> {
  const t0 = performance.now();
  const r = await ns.run(command, args, input === undefined ? {} : { input });
  const ms = performance.now() - t0;
  if (r.code !== 0) throw new Error(`${command} ${args.join(' ')} in ${ns.name} exited ${r.code ?? r.signal}: ${r.stderr.trim().slice(0, 1500)}`);
  return ms;
}

export interface ToolsLoad {
  /** The nft dataplane: `nft -f` of both tables (then the ipset/iptables figures are 0). */
  readonly nftMs: number;
  readonly ipsetRestoreMs: number;
  readonly iptablesRestoreMs: number;
  readonly ip6tablesRestoreMs: number;
  readonly ipBatchMs: number;
  /** The brief's "kernel tools alone": the four above, one after another. */
  readonly totalMs: number;
  /** Not in the total: the per-tap sysctls with one `sysctl -p` (the agent writes them too). */
  readonly sysctlMs: number;
}

/** Loads the dump into a fresh namespace (which already has the taps) and times each tool. */
export async function loadWithTools(ns: Ns, dump: Dump): Promise<ToolsLoad> {
  if (dump.nft.trim() !== '') {
    const nftMs = await timed(ns, 'nft', ['-f', '-'], dump.nft);
    const ipBatchMs = await timed(ns, 'ip', ['-batch', '-'], `${dump.ipBatch.join('\n')}\n`);
    const sysctlMs = await timed(ns, 'sysctl', ['-q', '-p', '-'], `${dump.sysctl.join('\n')}\n`);
    return { nftMs, ipsetRestoreMs: 0, iptablesRestoreMs: 0, ip6tablesRestoreMs: 0, ipBatchMs, totalMs: nftMs + ipBatchMs, sysctlMs };
  }
  const ipsetRestoreMs = await timed(ns, 'ipset', ['restore'], dump.ipset);
  const iptablesRestoreMs = await timed(ns, 'iptables-restore', [], dump.iptables);
  const ip6tablesRestoreMs = await timed(ns, 'ip6tables-restore', [], dump.ip6tables);
  const ipBatchMs = await timed(ns, 'ip', ['-batch', '-'], `${dump.ipBatch.join('\n')}\n`);
  const sysctlMs = await timed(ns, 'sysctl', ['-q', '-p', '-'], `${dump.sysctl.join('\n')}\n`);
  return {
    nftMs: 0,
    ipsetRestoreMs,
    iptablesRestoreMs,
    ip6tablesRestoreMs,
    ipBatchMs,
    totalMs: ipsetRestoreMs + iptablesRestoreMs + ip6tablesRestoreMs + ipBatchMs,
    sysctlMs,
  };
}

/** The chain definitions of `chain` in a save text (its `-A` lines). */
function chainRules(save: string, chain: string): string[] {
  const prefix = `-A ${chain} `;
  return save.split('\n').filter((l) => l.startsWith(prefix));
}

export interface OneEndpointInput {
  /** The new endpoint's two chains only (copied from an existing endpoint, renamed). */
  readonly chainsOnly: string;
  /** The chains plus the two dispatch bins rewritten with the new tap, as the agent writes them. */
  readonly withDispatch: string;
  readonly lines: { readonly chainsOnly: number; readonly withDispatch: number };
}

/**
 * One endpoint's worth of `iptables-restore --noflush` input in the filter table, built from the
 * loaded state: `cali-tw-`/`cali-fw-` of a new tap with the rules of `like` (an existing tap),
 * and the from/to dispatch bins that the new tap falls in, rewritten with it added (the agent
 * rewrites a whole bin when a member comes or goes, as Felix does). Rule ids are kept as they
 * are: the kernel does not check them.
 */
export function oneEndpointRestore(filterSave: string, like: string, newTap: string): OneEndpointInput {
  const chains: string[] = [];
  const rules: string[] = [];
  for (const [kind, chain] of [
    ['tw', `cali-tw-${like}`],
    ['fw', `cali-fw-${like}`],
  ] as const) {
    const name = `cali-${kind}-${newTap}`;
    chains.push(`:${name} - -`);
    for (const r of chainRules(filterSave, chain)) rules.push(`-A ${name} ${r.slice(`-A ${chain} `.length)}`);
  }
  const dispatch: string[] = [];
  const dispatchRules: string[] = [];
  for (const [root, flag, kind] of [
    ['cali-from-wl-dispatch', '-i', 'fw'],
    ['cali-to-wl-dispatch', '-o', 'tw'],
  ] as const) {
    const bin = dispatchBins(filterSave, root).find((b) => b.members.includes(like));
    if (bin === undefined) throw new Error(`no ${root} bin lists ${like}`);
    const members = [...bin.members, newTap].sort();
    dispatch.push(`:${bin.chain} - -`);
    for (const m of members) dispatchRules.push(`-A ${bin.chain} ${flag} ${m} -m comment --comment "cali:bench-${kind}" -g cali-${kind}-${m}`);
    dispatchRules.push(`-A ${bin.chain} -m comment --comment "cali:bench-drop" -j DROP`);
  }
  const text = (parts: string[]): string => `*filter\n${parts.join('\n')}\nCOMMIT\n`;
  return {
    chainsOnly: text([...chains, ...rules]),
    withDispatch: text([...chains, ...dispatch, ...rules, ...dispatchRules]),
    lines: { chainsOnly: chains.length + rules.length, withDispatch: chains.length + dispatch.length + rules.length + dispatchRules.length },
  };
}

/** Chains and rules of one table by kind of chain (endpoint, policy, dispatch, other). */
export function chainKinds(save: string, table: Table): Record<string, { chains: number; rules: number }> {
  const out = emptyKinds();
  let inTable = false;
  for (const line of save.split('\n')) {
    if (line.startsWith('*')) inTable = line.slice(1).trim() === table;
    if (!inTable) continue;
    if (line.startsWith(':')) {
      const o = out[kindOf(line.slice(1).split(' ')[0] ?? '')];
      if (o !== undefined) o.chains++;
    } else if (line.startsWith('-A ')) {
      const o = out[kindOf(line.split(' ')[1] ?? '')];
      if (o !== undefined) o.rules++;
    }
  }
  return out;
}

/** The `*table … COMMIT` blocks of a save text, by table. */
export function splitSave(save: string): Map<string, string> {
  const out = new Map<string, string>();
  let table: string | undefined;
  let lines: string[] = [];
  for (const line of save.split('\n')) {
    if (line.startsWith('#')) continue;
    if (line.startsWith('*')) {
      table = line.slice(1).trim();
      lines = [line];
    } else if (table !== undefined) {
      lines.push(line);
      if (line === 'COMMIT') {
        out.set(table, `${lines.join('\n')}\n`);
        table = undefined;
      }
    }
  }
  return out;
}

export interface PerTableRestore {
  /** Wall time of all eight restores (after the ipset restore). */
  readonly wallMs: number;
  /** Each restore's own wall time, `v4 filter` → ms. */
  readonly perTableMs: Record<string, number>;
}

/**
 * Loads the dump into a fresh namespace the way the agent's first apply writes it: ipset restore,
 * then one `iptables-restore --noflush` per table and family (8), all at once (`parallel`, as the
 * agent does) or one after another.
 */
export async function perTableRestore(ns: Ns, dump: Dump, parallel: boolean): Promise<PerTableRestore> {
  await timed(ns, 'ipset', ['restore'], dump.ipset);
  const jobs: { name: string; cmd: string; input: string }[] = [];
  for (const [family, save, cmd] of [
    ['v4', dump.iptables, 'iptables-restore'],
    ['v6', dump.ip6tables, 'ip6tables-restore'],
  ] as const) {
    for (const [table, input] of splitSave(save)) jobs.push({ name: `${family} ${table}`, cmd, input });
  }
  const perTableMs: Record<string, number> = {};
  const run = async (j: { name: string; cmd: string; input: string }): Promise<void> => {
    perTableMs[j.name] = Math.round(await timed(ns, j.cmd, ['--noflush', '--wait', '10'], j.input));
  };
  const t0 = performance.now();
  if (parallel) await Promise.all(jobs.map(run));
  else for (const j of jobs) await run(j);
  return { wallMs: Math.round(performance.now() - t0), perTableMs };
}
