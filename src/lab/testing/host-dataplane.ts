/**
 * What a lab host's agent programmed, read the same way whichever dataplane it runs
 * (`BRINDLE_DATAPLANE`, default nft as in `brindle node`): tests assert on rule counters, set
 * members and the ruleset text through these, so one test proves both dataplanes.
 */
import type { Netns } from '../netns.js';

export type LabDataplane = 'nft' | 'iptables';

/** The dataplane the lab's agents run in this test process. */
export function labDataplane(): LabDataplane {
  return process.env['BRINDLE_DATAPLANE'] === 'iptables' ? 'iptables' : 'nft';
}

/** Every rule and chain of ours, both families, without counters (comparable over time). */
export async function rulesetText(host: Netns): Promise<string[]> {
  if (labDataplane() === 'nft') {
    const out: string[] = [];
    for (const family of ['ip', 'ip6']) {
      // Terse: without set elements (setMembers reads those).
      const r = await host.run('nft', ['-t', 'list', 'table', family, 'brindle']);
      out.push(...r.stdout.split('\n').map((l) => l.replace(/counter packets \d+ bytes \d+ /, '')));
    }
    return out;
  }
  const out: string[] = [];
  for (const cmd of ['iptables-save', 'ip6tables-save'])
    out.push(...(await host.must(cmd, [])).split('\n').filter((l) => l.startsWith('-A ') || l.startsWith(':cali')));
  return out;
}

/** IP set name (`cali40s:…` as the ipset tools name it) → its members as printed. */
export async function setMembers(host: Netns): Promise<Map<string, string[]>> {
  const sets = new Map<string, string[]>();
  if (labDataplane() === 'nft') {
    for (const family of ['ip', 'ip6']) {
      const r = await host.run('nft', ['-j', 'list', 'sets', family]);
      if (r.code !== 0) continue;
      const listing = JSON.parse(r.stdout) as { nftables: { set?: { name: string; table: string; elem?: unknown[] } }[] };
      for (const item of listing.nftables) {
        const s = item.set;
        if (s === undefined || s.table !== 'brindle') continue;
        const members = (s.elem ?? []).map((e) => (typeof e === 'string' ? e : JSON.stringify(e)));
        sets.set(s.name.replace('.', ':'), members);
      }
    }
    return sets;
  }
  for (const line of (await host.must('ipset', ['save'])).split('\n')) {
    const m = /^add (\S+) (\S+)/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) sets.set(m[1], [...(sets.get(m[1]) ?? []), m[2]]);
  }
  return sets;
}

/** Packet counts of the rules of filter chain `chain`, in order. */
export async function ruleCounters(host: Netns, chain: string, table: 'filter' | 'raw' = 'filter'): Promise<{ text: string; packets: number }[]> {
  if (labDataplane() === 'nft') {
    const name = table === 'filter' ? chain : `${table}.${chain}`;
    const r = await host.run('nft', ['list', 'chain', 'ip', 'brindle', name]);
    return r.stdout
      .split('\n')
      .filter((l) => l.includes('counter packets'))
      .map((l) => ({ text: l.trim(), packets: Number(/counter packets (\d+)/.exec(l)?.[1] ?? 'NaN') }));
  }
  const save = await host.must('iptables-save', ['-c', '-t', table]);
  return save
    .split('\n')
    .filter((l) => l.includes(`-A ${chain} `))
    .map((l) => ({ text: l, packets: Number(/^\[(\d+):/.exec(l)?.[1] ?? 'NaN') }));
}

/** Packets the from-workload dispatch dropped as coming from an unknown interface. */
export async function unknownIfaceDrops(host: Netns): Promise<number> {
  if (labDataplane() === 'nft') {
    const rules = await ruleCounters(host, 'cali-from-wl-dispatch');
    return rules.filter((r) => /counter packets \d+ bytes \d+ drop/.test(r.text)).reduce((n, r) => n + r.packets, 0);
  }
  const save = await host.must('iptables-save', ['-c', '-t', 'filter']);
  return save
    .split('\n')
    .filter((l) => /-A cali-from-wl-dispatch\S* /.test(l) && l.includes('Unknown interface'))
    .reduce((sum, l) => sum + Number(/^\[(\d+):/.exec(l)?.[1] ?? '0'), 0);
}

/** The reverse-path check's rule in the raw table (its text and packet count), if present. */
export async function reversePathRule(host: Netns): Promise<{ text: string; packets: number } | undefined> {
  const rules = await ruleCounters(host, 'cali-PREROUTING', 'raw');
  return rules.find((r) => (labDataplane() === 'nft' ? r.text.includes('fib saddr') : r.text.includes('rpfilter')));
}
